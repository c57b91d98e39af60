// Crash safety under load: thousands of signed deliveries sent concurrently while the server is
// killed with SIGKILL at random moments and restarted. Senders retry what failed with a
// connection error using the same X-Request-Id, as a real sender's redelivery would. In the end
// every delivery that was answered 2xx exists exactly once, is processed, and its effects (one
// job run per delivery, one story link per story × commit) are not duplicated. Job runs are
// executed by the runner after their delivery is done; the test waits for both.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kTrigger = "trigger-scm-push-request";
constexpr const char* kSync = "sync-alm-commits";
constexpr int kTriggerDeliveries = 3000;
constexpr int kClientThreads = 6;
constexpr int kKillsUnderLoad = 4;  // plus one more while the worker catches up
constexpr auto kSendDeadline = 90s;

/// One delivery to send, and what the sender finally got.
struct Work {
  std::string endpoint{};
  std::string request_id{};
  std::string body{};
  std::string to_hash{};  ///< trigger deliveries: the pushed main head
  long status = 0;        ///< the 2xx status finally received
  std::string delivery_id{};
  int attempts = 0;
  std::string problem{};  ///< an answer other than 2xx / connection error / 503
};

/// Where the server listens now; port 0 while it is down. Senders wait on `changed`.
struct ServerAddress {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint16_t port = 0;
  int generation = 0;
};

class CrashSafetyTest : public IntegrationTest {
 protected:
  CrashSafetyTest() : git_(tmp_ / "git") {}

  /// Every row of a paged CLI list (`deliveries list` by seq, `runs list` by id), newest first.
  json::array all_pages(const std::string& what, const std::string& cursor) {
    json::array out;
    std::optional<std::int64_t> before;
    while (true) {
      std::vector<std::string> args{what, "list", "--limit", "1000"};
      if (before) {
        args.push_back("--before");
        args.push_back(std::to_string(*before));
      }
      const auto page = cli_json(args);
      for (const auto& row : page) out.push_back(row);
      if (page.size() < 1000) break;
      before = page.back().as_object().at(cursor).as_int64();
    }
    return out;
  }

  GitRepo git_;
};

TEST_F(CrashSafetyTest, KillNineUnderLoadLosesNothingAndDuplicatesNothing) {
  // A real repository for the ALM sync deliveries: stories named in six commits.
  const std::string base = git_.commit("Initial import of orbit tools");
  std::vector<std::string> commits{base};
  for (const char* message :
       {"ORB-1 add waypoint parser", "ORB-2 ORB-3 route solver input", "ORB-4 solver output",
        "Tidy build scripts", "ORB-5 export routes", "ORB-1 follow-up: parser edge cases"}) {
    commits.push_back(git_.commit(message));
  }
  git_.push("main");
  const std::map<std::string, std::set<std::string>> expected_links{
      {"ORB-1", {commits[1], commits[6]}},
      {"ORB-2", {commits[2]}},
      {"ORB-3", {commits[2]}},
      {"ORB-4", {commits[3]}},
      {"ORB-5", {commits[5]}}};

  create_org("acme");
  const std::string token = create_token("acme", "bitbucket");
  add_repo("acme", "ORB", "orbit-tools", git_.bare_path().string(), /*auto_update_alm=*/true);
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});

  // The work: trigger pushes of distinct main updates, with sync pushes of the real commits
  // mixed in (each consecutive pair, the whole range three times, and an overlapping range).
  std::vector<std::pair<std::string, std::string>> sync_ranges;
  for (std::size_t i = 1; i < commits.size(); ++i) {
    sync_ranges.emplace_back(commits[i - 1], commits[i]);
  }
  for (int i = 0; i < 3; ++i) sync_ranges.emplace_back(commits[0], commits[6]);
  sync_ranges.emplace_back(commits[2], commits[6]);
  std::vector<Work> work;
  const int spacing = kTriggerDeliveries / static_cast<int>(sync_ranges.size());
  for (int i = 0; i < kTriggerDeliveries; ++i) {
    if (i % spacing == spacing / 2 && static_cast<std::size_t>(i / spacing) < sync_ranges.size()) {
      const auto& [from, to] = sync_ranges[static_cast<std::size_t>(i / spacing)];
      work.push_back(Work{
          kSync, new_request_id(),
          bitbucket_push_body("ORB", "orbit-tools", {branch_change("main", "UPDATE", from, to)})});
    }
    const std::string from = fake_hash("main#" + std::to_string(i));
    const std::string to = fake_hash("main#" + std::to_string(i + 1));
    work.push_back(
        Work{kTrigger, new_request_id(),
             bitbucket_push_body("ORB", "orbit-tools", {branch_change("main", "UPDATE", from, to)}),
             to});
  }
  const std::size_t total = work.size();
  ASSERT_EQ(total, static_cast<std::size_t>(kTriggerDeliveries) + sync_ranges.size());

  // The load is far above the default per-org rate limit, which is not what is tested here.
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_LIMITS_ORG_REQUESTS_PER_SECOND", "0"}}));
  ServerAddress address;
  address.port = server_->port();
  std::atomic<std::size_t> answered{0};
  std::atomic<int> finished_threads{0};
  const auto send_deadline = SteadyClock::now() + kSendDeadline;

  auto sender = [&](int thread) {
    for (std::size_t i = static_cast<std::size_t>(thread); i < total; i += kClientThreads) {
      Work& w = work[i];
      const Headers headers = signed_push_headers(token, w.body, w.request_id);
      while (true) {
        if (SteadyClock::now() > send_deadline) {
          w.problem = "no 2xx answer before the deadline";
          break;
        }
        std::uint16_t port = 0;
        int generation = 0;
        {
          std::unique_lock lock(address.mutex);
          address.changed.wait_for(lock, 100ms, [&] { return address.port != 0; });
          port = address.port;
          generation = address.generation;
        }
        if (port == 0) continue;
        const auto r = post("http://127.0.0.1:" + std::to_string(port) + "/api/webhook/v2/acme/" +
                                "enterprise/" + w.endpoint,
                            headers, w.body);
        ++w.attempts;
        if (r.status == 200 || r.status == 202) {
          w.status = r.status;
          w.delivery_id = str(r.json(), "delivery_id");
          answered.fetch_add(1);
          break;
        }
        if (r.status != 0 && r.status != 503) {
          w.problem = r.describe();
          answered.fetch_add(1);
          break;
        }
        // Killed (connection refused or cut) or shutting down: wait for the next server, but
        // not forever (a connection error can also be a one-off).
        std::unique_lock lock(address.mutex);
        address.changed.wait_for(lock, 50ms, [&] { return address.generation != generation; });
      }
    }
    finished_threads.fetch_add(1);
  };

  int kills = 0;
  auto kill_and_restart = [&]() -> ::testing::AssertionResult {
    {
      std::lock_guard lock(address.mutex);
      address.port = 0;
    }
    server_->kill9();
    ++kills;
    auto started = server_->start();
    {
      std::lock_guard lock(address.mutex);
      address.port = server_->port();
      ++address.generation;
    }
    address.changed.notify_all();
    return started;
  };

  std::random_device device;
  const unsigned seed = device();
  SCOPED_TRACE("random seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::vector<std::thread> threads;
  for (int t = 0; t < kClientThreads; ++t) threads.emplace_back(sender, t);

  // Kill at random points of the load: around each k/(kills+1) of the answers.
  const auto jitter = static_cast<int>(total / 20);
  std::uniform_int_distribution<int> offset(-jitter, jitter);
  for (int k = 1; k <= kKillsUnderLoad; ++k) {
    const auto target =
        static_cast<std::size_t>(static_cast<int>(total * k / (kKillsUnderLoad + 1)) + offset(rng));
    wait_until(
        [&] { return answered.load() >= target || finished_threads.load() == kClientThreads; }, 60s,
        1ms);
    if (finished_threads.load() == kClientThreads) break;
    const auto restarted = kill_and_restart();
    if (!restarted) {
      address.changed.notify_all();
      for (auto& t : threads) t.join();
      FAIL() << "restart " << kills << " failed: " << restarted.message();
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(kills, kKillsUnderLoad) << "the load ended before every kill";

  // Once more while the worker is still catching up (if it is).
  auto ready = get(server_->base_url() + "/readyz");
  ASSERT_EQ(ready.status, 200) << ready.describe();
  if (ready.json().at("pending_deliveries").as_int64() > 0) {
    ASSERT_TRUE(kill_and_restart());
  }

  // Every delivery got a 2xx in the end (retries included), and nothing else.
  std::map<std::string, const Work*> by_request_id;
  for (const auto& w : work) {
    EXPECT_TRUE(w.problem.empty()) << w.request_id << ": " << w.problem;
    EXPECT_TRUE(w.status == 200 || w.status == 202) << w.request_id;
    EXPECT_EQ(w.delivery_id.size(), 36u) << w.request_id;
    by_request_id[w.request_id] = &w;
  }
  ASSERT_EQ(by_request_id.size(), total);

  // Wait (bounded) until the worker has processed everything.
  ASSERT_TRUE(wait_until(
      [&] {
        ready = get(server_->base_url() + "/readyz");
        return ready.status == 200 && ready.json().at("pending_deliveries").as_int64() == 0;
      },
      60s, 100ms))
      << ready.describe() << "\n"
      << server_->stderr_text();

  // Runs are executed by the job runner after their delivery is done: wait (bounded) until none
  // is queued or running any more.
  json::array runs;
  ASSERT_TRUE(wait_until(
      [&] {
        runs = all_pages("runs", "id");
        for (const auto& r : runs) {
          const std::string status = str(r, "status");
          if (status == "queued" || status == "running") return false;
        }
        return true;
      },
      120s, 500ms))
      << server_->stderr_text();

  // Each answered delivery exists exactly once, under the id it was answered with, and done.
  const auto deliveries = all_pages("deliveries", "seq");
  ASSERT_EQ(deliveries.size(), total);
  std::map<std::string, int> stored_per_request_id;
  std::map<std::string, std::string> request_id_of_delivery;
  for (const auto& d : deliveries) {
    const std::string request_id = str(d, "external_id");
    ++stored_per_request_id[request_id];
    request_id_of_delivery[str(d, "delivery_id")] = request_id;
    const auto it = by_request_id.find(request_id);
    ASSERT_NE(it, by_request_id.end()) << "stored but never sent: " << json::serialize(d);
    EXPECT_EQ(str(d, "delivery_id"), it->second->delivery_id) << request_id;
    EXPECT_EQ(str(d, "endpoint"), it->second->endpoint) << request_id;
    EXPECT_EQ(str(d, "status"), "done") << json::serialize(d);
  }
  for (const auto& [request_id, count] : stored_per_request_id) {
    EXPECT_EQ(count, 1) << request_id;
  }

  // One job run per trigger delivery, for its ref change; a run cut off by a kill is
  // interrupted (never started again), so at most one per kill.
  std::map<std::string, int> runs_per_delivery;
  int interrupted = 0;
  for (const auto& r : runs) {
    const std::string delivery_id = str(r, "delivery_id");
    ++runs_per_delivery[delivery_id];
    const auto it = request_id_of_delivery.find(delivery_id);
    ASSERT_NE(it, request_id_of_delivery.end()) << json::serialize(r);
    const Work& w = *by_request_id.at(it->second);
    EXPECT_EQ(w.endpoint, kTrigger) << json::serialize(r);
    EXPECT_EQ(str(r, "to_hash"), w.to_hash);
    const std::string status = str(r, "status");
    if (status == "interrupted") {
      ++interrupted;
    } else {
      EXPECT_EQ(status, "succeeded") << json::serialize(r);
    }
  }
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(kTriggerDeliveries));
  for (const auto& [delivery_id, count] : runs_per_delivery) EXPECT_EQ(count, 1) << delivery_id;
  EXPECT_LE(interrupted, kills);

  // One story link per story × commit, seen once on main, whatever the overlapping and
  // re-processed sync deliveries did.
  for (const auto& [story, expected] : expected_links) {
    const auto links = cli_json({"stories", "show", story, "--org", "acme"});
    std::multiset<std::string> linked;
    for (const auto& l : links) {
      linked.insert(str(l, "commit"));
      EXPECT_EQ(l.at("seen").as_array().size(), 1u) << json::serialize(l);
    }
    EXPECT_EQ(linked, std::multiset<std::string>(expected.begin(), expected.end())) << story;
  }

  int retried = 0;
  int duplicates = 0;  // retries of a delivery that was stored but whose answer was lost
  for (const auto& w : work) {
    retried += w.attempts > 1 ? 1 : 0;
    duplicates += w.status == 200 ? 1 : 0;
  }
  RecordProperty("kills", kills);
  RecordProperty("retried_deliveries", retried);
  RecordProperty("answered_duplicate", duplicates);
  RecordProperty("interrupted_runs", interrupted);
  EXPECT_EQ(server_->stop(SIGTERM), 0) << server_->stderr_text();
}

}  // namespace
}  // namespace cbtest
