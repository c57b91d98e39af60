// Nothing acknowledged is lost: kill -9 right after the 202s, graceful SIGTERM/SIGINT, and the
// clear token never written to the database or the log.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class DurabilityTest : public IntegrationTest {
 protected:
  void SetUp() override {
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    add_repo("acme", "ORB", "orbit-tools", (tmp_ / "no-such-repo.git").string());
    add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  }

  /// The i-th push of a chain of main updates.
  static std::string nth_push(int i) {
    return bitbucket_push_body(
        "ORB", "orbit-tools",
        {branch_change("main", "UPDATE", fake_hash("main#" + std::to_string(i)),
                       fake_hash("main#" + std::to_string(i + 1)))});
  }

  /// Waits until `count` deliveries exist and none is queued or processing; returns them.
  json::array wait_all_processed(std::size_t count, std::chrono::milliseconds deadline = 20s) {
    json::array last;
    const bool ok = wait_until(
        [&] {
          last = deliveries();
          if (last.size() != count) return false;
          for (const auto& d : last) {
            const auto s = str(d, "status");
            if (s == "queued" || s == "processing") return false;
          }
          return true;
        },
        deadline, 50ms);
    EXPECT_TRUE(ok) << "last seen: " << json::serialize(last) << "\nserver stderr:\n"
                    << server_->all_stderr_text();
    return last;
  }

  std::string token_;
};

TEST_F(DurabilityTest, KillNineAfterThe202sLosesNothingAndRunsEachJobOnce) {
  ASSERT_TRUE(start_server());
  constexpr int kCount = 20;
  std::map<std::string, std::string> to_hash_by_delivery;
  std::vector<std::string> request_ids;
  for (int i = 0; i < kCount; ++i) {
    request_ids.push_back(new_request_id());
    const auto r = send_push("acme", token_, nth_push(i), request_ids.back());
    ASSERT_EQ(r.status, 202) << "delivery " << i << ": " << r.describe();
    to_hash_by_delivery[str(r.json(), "delivery_id")] = fake_hash("main#" + std::to_string(i + 1));
  }
  server_->kill9();
  ASSERT_EQ(to_hash_by_delivery.size(), static_cast<std::size_t>(kCount));

  ASSERT_TRUE(server_->start());
  const auto all = wait_all_processed(kCount);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kCount));
  std::set<std::string> stored;
  for (const auto& d : all) {
    stored.insert(str(d, "delivery_id"));
    EXPECT_EQ(str(d, "status"), "done") << json::serialize(d);
    EXPECT_TRUE(StartsWith(str(d, "reason"), "1 job run")) << json::serialize(d);
  }
  std::set<std::string> sent;
  for (const auto& [id, hash] : to_hash_by_delivery) sent.insert(id);
  EXPECT_EQ(stored, sent);

  // One run per delivery. A run cut off by the kill is marked interrupted, never started again;
  // the job runs one at a time (max_concurrent 1), so at most one run was in progress.
  const auto list = wait_runs_settled();
  ASSERT_EQ(list.size(), static_cast<std::size_t>(kCount)) << json::serialize(list);
  std::map<std::string, int> runs_per_delivery;
  int interrupted = 0;
  for (const auto& r : list) {
    const std::string id = str(r, "delivery_id");
    ++runs_per_delivery[id];
    EXPECT_EQ(str(r, "to_hash"), to_hash_by_delivery[id]);
    const std::string status = str(r, "status");
    if (status == "interrupted") {
      ++interrupted;
    } else {
      EXPECT_EQ(status, "succeeded") << json::serialize(r);
    }
  }
  EXPECT_LE(interrupted, 1);
  for (const auto& id : sent) EXPECT_EQ(runs_per_delivery[id], 1) << id;

  // The delivery ids survived too: a redelivery after the crash is still a duplicate.
  const auto again = send_push("acme", token_, nth_push(0), request_ids.front());
  EXPECT_EQ(again.status, 200) << again.describe();
  EXPECT_EQ(str(again.json(), "status"), "duplicate");
  EXPECT_EQ(sent.count(str(again.json(), "delivery_id")), 1u);
}

TEST_F(DurabilityTest, RunCutOffByKillNineIsInterruptedAndNeverStartedAgain) {
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  // The job records its start, then waits until the test releases it (or the test directory
  // is gone, so that it never outlives the test).
  add_job("acme", "ORB/orbit-tools", "slow-build", "release/*",
          {"/bin/sh", "-c",
           "echo \"$COMMITBRIDGE_RUN_ID\" >> \"$1/started\"; "
           "while [ -d \"$1\" ] && [ ! -e \"$1/release\" ]; do sleep 0.02; done",
           "sh", marks.string()});
  ASSERT_TRUE(start_server());
  const auto r = send_push(
      "acme", token_,
      bitbucket_push_body("ORB", "orbit-tools",
                          {branch_change("release/7.1", "ADD", kZeroHash, fake_hash("r7.1"))}));
  ASSERT_EQ(r.status, 202) << r.describe();
  const std::string id = str(r.json(), "delivery_id");
  ASSERT_TRUE(wait_until([&] { return !read_file(marks / "started").empty(); }))
      << server_->stderr_text();
  server_->kill9();
  write_file(marks / "release", "");  // let the orphaned command finish

  ASSERT_TRUE(server_->start());
  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_TRUE(StartsWith(str(d, "reason"), "1 job run")) << str(d, "reason");
  const auto list = runs(id);
  ASSERT_EQ(list.size(), 1u) << json::serialize(list);
  EXPECT_EQ(str(list[0], "status"), "interrupted");
  EXPECT_FALSE(str(list[0], "finished_at").empty());
  const std::string run_id = std::to_string(list[0].as_object().at("id").as_int64());
  EXPECT_EQ(read_file(marks / "started"), run_id + "\n");
}

TEST_F(DurabilityTest, SigtermExitsZeroAndKeepsEverything) {
  ASSERT_TRUE(start_server());
  const std::string request_id = new_request_id();
  const auto first = send_push("acme", token_, nth_push(0), request_id);
  ASSERT_EQ(first.status, 202) << first.describe();
  const std::string first_id = str(first.json(), "delivery_id");
  EXPECT_EQ(str(wait_processed(first_id), "status"), "done");
  EXPECT_EQ(wait_runs_settled(first_id).size(), 1u);

  // Five more, then SIGTERM at once: whatever the worker did not reach stays queued.
  std::set<std::string> accepted{first_id};
  for (int i = 1; i <= 5; ++i) {
    const auto r = send_push("acme", token_, nth_push(i));
    ASSERT_EQ(r.status, 202) << r.describe();
    accepted.insert(str(r.json(), "delivery_id"));
  }
  EXPECT_EQ(server_->stop(SIGTERM), 0) << server_->stderr_text();

  // Readable by the CLI with the server gone.
  auto all = deliveries();
  ASSERT_EQ(all.size(), 6u);
  for (const auto& d : all) {
    EXPECT_EQ(accepted.count(str(d, "delivery_id")), 1u);
    EXPECT_NE(str(d, "status"), "processing") << json::serialize(d);
  }
  const auto first_runs = runs(first_id);
  ASSERT_EQ(first_runs.size(), 1u);
  EXPECT_EQ(str(first_runs[0], "status"), "succeeded");

  // A restart finishes the rest, and remembers the delivery ids.
  ASSERT_TRUE(server_->start());
  all = wait_all_processed(6);
  for (const auto& d : all) EXPECT_EQ(str(d, "status"), "done") << json::serialize(d);
  const auto list = wait_runs_settled();
  ASSERT_EQ(list.size(), 6u) << json::serialize(list);
  // The SIGTERM may have caught one /bin/true in flight: that run is interrupted (and never
  // started again); every other one succeeded.
  int interrupted = 0;
  std::set<std::string> run_deliveries;
  for (const auto& r : list) {
    run_deliveries.insert(str(r, "delivery_id"));
    if (str(r, "status") == "interrupted") {
      ++interrupted;
    } else {
      EXPECT_EQ(str(r, "status"), "succeeded") << json::serialize(r);
    }
  }
  EXPECT_LE(interrupted, 1);
  EXPECT_EQ(run_deliveries, accepted);  // one run per delivery
  const auto dup = send_push("acme", token_, nth_push(0), request_id);
  EXPECT_EQ(dup.status, 200) << dup.describe();
  EXPECT_EQ(str(dup.json(), "delivery_id"), first_id);
  EXPECT_EQ(server_->stop(SIGTERM), 0) << server_->stderr_text();
}

// On SIGTERM a running job command is stopped (its run becomes interrupted) instead of holding
// the shutdown for up to worker.job_timeout_ms; after a restart it is not started again.
TEST_F(DurabilityTest, SigtermWhileAJobRunsStillStopsWithinTheDeadline) {
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  add_job("acme", "ORB/orbit-tools", "slow-build", "release/*",
          {"/bin/sh", "-c",
           "echo \"$COMMITBRIDGE_RUN_ID\" >> \"$1/started\"; "
           "while [ -d \"$1\" ] && [ ! -e \"$1/release\" ]; do sleep 0.02; done",
           "sh", marks.string()});
  ASSERT_TRUE(start_server());
  const auto r = send_push(
      "acme", token_,
      bitbucket_push_body("ORB", "orbit-tools",
                          {branch_change("release/7.2", "ADD", kZeroHash, fake_hash("r7.2"))}));
  ASSERT_EQ(r.status, 202) << r.describe();
  const std::string id = str(r.json(), "delivery_id");
  ASSERT_TRUE(wait_until([&] { return !read_file(marks / "started").empty(); }));

  // A graceful stop must not wait for the job (up to worker.job_timeout_ms, 1 h by default).
  const int code = server_->stop(SIGTERM);
  write_file(marks / "release", "");
  EXPECT_EQ(code, 0) << "-1 means the server was still running 10 s after SIGTERM; stderr:\n"
                     << server_->stderr_text();

  ASSERT_TRUE(server_->start());
  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "done");
  const auto list = runs(id);
  ASSERT_EQ(list.size(), 1u) << json::serialize(list);
  EXPECT_EQ(str(list[0], "status"), "interrupted");
  EXPECT_EQ(read_file(marks / "started"),
            std::to_string(list[0].as_object().at("id").as_int64()) + "\n");  // started once
}

TEST_F(DurabilityTest, SigintAlsoStopsWithExitZero) {
  ASSERT_TRUE(start_server());
  EXPECT_EQ(server_->stop(SIGINT), 0) << server_->stderr_text();
}

TEST_F(DurabilityTest, ClearTokenNeverReachesTheDatabaseOrTheLog) {
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_LOG_LEVEL", "trace"}}));
  const std::string secret = token_.substr(token_.rfind('_') + 1);
  const std::string basic = basic_auth("bitbucket-service", token_);

  // A signed delivery, a Bearer one, a Basic one, a ping, and a refused one with a wrong token.
  const std::string body = nth_push(0);
  const auto signed_r = send_push("acme", token_, body);
  ASSERT_EQ(signed_r.status, 202) << signed_r.describe();
  Headers h = signed_push_headers(token_, nth_push(1), new_request_id());
  h.back() = {"Authorization", "Bearer " + token_};
  ASSERT_EQ(post(server_->webhook_url("acme", "trigger-scm-push-request"), h, nth_push(1)).status,
            202);
  h = signed_push_headers(token_, nth_push(2), new_request_id());
  h.back() = {"Authorization", basic};
  ASSERT_EQ(post(server_->webhook_url("acme", "trigger-scm-push-request"), h, nth_push(2)).status,
            202);
  const auto ping = post(server_->webhook_url("acme", "trigger-scm-push-request"),
                         {{"Content-Type", "application/json"},
                          {"X-Event-Key", "diagnostics:ping"},
                          {"Authorization", "Bearer " + token_}},
                         "{}");
  ASSERT_EQ(ping.status, 200) << ping.describe();
  std::string wrong = token_;
  wrong.back() = wrong.back() == 'f' ? 'e' : 'f';
  h = signed_push_headers(token_, nth_push(3), new_request_id());
  h.back() = {"Authorization", "Bearer " + wrong};
  ASSERT_EQ(post(server_->webhook_url("acme", "trigger-scm-push-request"), h, nth_push(3)).status,
            401);
  wait_all_processed(3);

  const auto check_files = [&](const char* when) {
    for (const char* name : {"commitbridge.db", "commitbridge.db-wal", "commitbridge.db-shm"}) {
      const std::string bytes = read_file(data_dir_ / name);
      SCOPED_TRACE(std::string(when) + ": " + name);
      EXPECT_TRUE(LacksSecret(bytes, token_));
      EXPECT_TRUE(LacksSecret(bytes, secret));
      EXPECT_TRUE(LacksSecret(bytes, basic.substr(6)));
    }
  };
  ASSERT_FALSE(read_file(data_dir_ / "commitbridge.db").empty());
  check_files("while running");
  EXPECT_EQ(server_->stop(SIGTERM), 0);
  check_files("after stop");

  const std::string log = server_->all_stderr_text();
  ASSERT_TRUE(Contains(log, "stored"));  // the log is there and has the request lines
  EXPECT_TRUE(LacksSecret(log, token_));
  EXPECT_TRUE(LacksSecret(log, secret));
  EXPECT_TRUE(LacksSecret(log, wrong.substr(wrong.rfind('_') + 1)));
  EXPECT_TRUE(LacksSecret(log, basic.substr(6)));

  // Nor does the CLI show it again.
  const std::string listed = cli_ok({"token", "list", "--org", "acme", "--json"});
  EXPECT_TRUE(Contains(listed, "bitbucket"));
  EXPECT_TRUE(LacksSecret(listed, secret));
}

}  // namespace
}  // namespace cbtest
