// Build on commit: a Bitbucket DC push on the trigger URL runs the matching jobs, once per
// matching ref change, with the documented environment.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kTrigger = "trigger-scm-push-request";

/// KEY=VALUE lines of an `env` dump.
std::map<std::string, std::string> parse_env(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

class JobTriggerTest : public IntegrationTest {
 protected:
  void SetUp() override {
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    // Jobs never read the repository: a clone URL that does not exist is fine here.
    add_repo("acme", "ORB", "orbit-tools", (tmp_ / "no-such-repo.git").string());
  }

  /// Sends `body` signed, expects 202 queued and returns the delivery id.
  std::string accept(const std::string& body, const std::string& request_id = new_request_id()) {
    const auto r = send_push("acme", token_, body, request_id);
    EXPECT_EQ(r.status, 202) << r.describe();
    EXPECT_EQ(str(r.json(), "status"), "queued") << r.describe();
    return str(r.json(), "delivery_id");
  }

  std::string token_;
};

TEST_F(JobTriggerTest, RunsOncePerMatchingRefChangeWithTheDocumentedEnvironment) {
  const fs::path out_dir = tmp_ / "job-out";
  fs::create_directories(out_dir);
  add_job("acme", "ORB/orbit-tools", "build", "main",
          {"/bin/sh", "-c",
           "env > \"$1/env-$COMMITBRIDGE_RUN_ID.txt\"; "
           "echo \"built $COMMITBRIDGE_BRANCH at $COMMITBRIDGE_TO_HASH\"",
           "sh", out_dir.string()});
  ASSERT_TRUE(start_server());

  const std::string from = fake_hash("main@1");
  const std::string to = fake_hash("main@2");
  const std::string body = bitbucket_push_body(
      "ORB", "orbit-tools",
      {branch_change("main", "UPDATE", from, to),
       branch_change("hotfix/oxygen", "UPDATE", fake_hash("hotfix@1"), fake_hash("hotfix@2"))});
  const std::string id = accept(body);
  ASSERT_FALSE(id.empty());

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(str(d, "reason"),
            "1 job run queued: build@main (run 1); no job matches branch hotfix/oxygen");
  wait_runs_settled(id);

  const auto list = runs(id);
  ASSERT_EQ(list.size(), 1u) << json::serialize(list);
  const auto& run = list[0];
  EXPECT_EQ(str(run, "org"), "acme");
  EXPECT_EQ(str(run, "job"), "build");
  EXPECT_EQ(str(run, "repository"), "ORB/orbit-tools");
  EXPECT_EQ(str(run, "delivery_id"), id);
  EXPECT_EQ(str(run, "ref"), "refs/heads/main");
  EXPECT_EQ(str(run, "branch"), "main");
  EXPECT_EQ(str(run, "from_hash"), from);
  EXPECT_EQ(str(run, "to_hash"), to);
  EXPECT_EQ(str(run, "status"), "succeeded");
  ASSERT_TRUE(run.as_object().at("exit_code").is_int64());
  EXPECT_EQ(run.as_object().at("exit_code").as_int64(), 0);
  EXPECT_FALSE(str(run, "started_at").empty());
  EXPECT_FALSE(str(run, "finished_at").empty());
  EXPECT_TRUE(Contains(str(run, "output_tail"), "built main at " + to));
  const std::string run_id = std::to_string(run.as_object().at("id").as_int64());

  // Exactly one command ran, and it saw the documented environment.
  std::vector<fs::path> dumps;
  for (const auto& e : fs::directory_iterator(out_dir)) dumps.push_back(e.path());
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_EQ(dumps[0].filename(), "env-" + run_id + ".txt");
  const auto env = parse_env(read_file(dumps[0]));
  EXPECT_EQ(env.at("COMMITBRIDGE_ORG"), "acme");
  EXPECT_EQ(env.at("COMMITBRIDGE_REPOSITORY"), "ORB/orbit-tools");
  EXPECT_EQ(env.at("COMMITBRIDGE_PROJECT_KEY"), "ORB");
  EXPECT_EQ(env.at("COMMITBRIDGE_REPOSITORY_SLUG"), "orbit-tools");
  EXPECT_EQ(env.at("COMMITBRIDGE_EVENT_KEY"), "repo:refs_changed");
  EXPECT_EQ(env.at("COMMITBRIDGE_REF"), "refs/heads/main");
  EXPECT_EQ(env.at("COMMITBRIDGE_BRANCH"), "main");
  EXPECT_EQ(env.at("COMMITBRIDGE_FROM_HASH"), from);
  EXPECT_EQ(env.at("COMMITBRIDGE_TO_HASH"), to);
  EXPECT_EQ(env.at("COMMITBRIDGE_DELIVERY_ID"), id);
  EXPECT_EQ(env.at("COMMITBRIDGE_JOB"), "build");
  EXPECT_EQ(env.at("COMMITBRIDGE_RUN_ID"), run_id);
  const fs::path payload = env.at("COMMITBRIDGE_PAYLOAD_FILE");
  ASSERT_TRUE(fs::is_regular_file(payload)) << payload;
  EXPECT_EQ(read_file(payload), body);
}

TEST_F(JobTriggerTest, PushChangingSeveralRefsRunsOncePerMatchingBranch) {
  add_job("acme", "ORB/orbit-tools", "build", "main,release/*", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string main_to = fake_hash("main@8");
  const std::string release_to = fake_hash("release@1");
  const std::string body = bitbucket_push_body(
      "ORB", "orbit-tools",
      {branch_change("main", "UPDATE", fake_hash("main@7"), main_to),
       branch_change("release/1.0", "ADD", kZeroHash, release_to),
       branch_change("feature/x", "UPDATE", fake_hash("x@1"), fake_hash("x@2"))});
  const std::string id = accept(body);

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_TRUE(StartsWith(str(d, "reason"), "2 job runs queued: "));
  EXPECT_TRUE(Contains(str(d, "reason"), "build@main (run "));
  EXPECT_TRUE(Contains(str(d, "reason"), "build@release/1.0 (run "));
  EXPECT_TRUE(Contains(str(d, "reason"), "no job matches branch feature/x"));

  const auto list = wait_runs_settled(id);
  ASSERT_EQ(list.size(), 2u) << json::serialize(list);
  std::map<std::string, json::value> by_branch;
  for (const auto& r : list) by_branch[str(r, "branch")] = r;
  ASSERT_EQ(by_branch.count("main"), 1u);
  ASSERT_EQ(by_branch.count("release/1.0"), 1u);
  EXPECT_EQ(str(by_branch["main"], "to_hash"), main_to);
  EXPECT_EQ(str(by_branch["release/1.0"], "from_hash"), kZeroHash);
  EXPECT_EQ(str(by_branch["release/1.0"], "to_hash"), release_to);
  EXPECT_EQ(str(by_branch["release/1.0"], "ref"), "refs/heads/release/1.0");
  for (const auto& r : list) EXPECT_EQ(str(r, "status"), "succeeded");
  EXPECT_EQ(runs().size(), 2u);
}

TEST_F(JobTriggerTest, DeletedBranchTriggersNothingAndSaysSo) {
  add_job("acme", "ORB/orbit-tools", "build", "main,feature/*", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string id = accept(bitbucket_push_body(
      "ORB", "orbit-tools",
      {branch_change("feature/retired", "DELETE", fake_hash("retired@3"), kZeroHash)}));

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "ignored");
  EXPECT_EQ(str(d, "reason"), "branch feature/retired was deleted");
  EXPECT_TRUE(runs().empty());
}

TEST_F(JobTriggerTest, TagPushTriggersNothingEvenWhenTheNameMatchesARule) {
  add_job("acme", "ORB/orbit-tools", "build", "main,v*", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string id = accept(bitbucket_push_body(
      "ORB", "orbit-tools", {tag_change("v1.0", "ADD", kZeroHash, fake_hash("tag v1.0"))}));

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "ignored");
  EXPECT_EQ(str(d, "reason"), "tag v1.0: job build runs on branch pushes only");
  EXPECT_TRUE(runs().empty());
}

TEST_F(JobTriggerTest, BranchWithoutMatchingJobIsIgnoredWithTheBranchName) {
  add_job("acme", "ORB/orbit-tools", "build", "main,release/*", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string id = accept(bitbucket_push_body(
      "ORB", "orbit-tools",
      {branch_change("feature/heat-shield", "ADD", kZeroHash, fake_hash("heat@1"))}));

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "ignored");
  EXPECT_EQ(str(d, "reason"), "no job matches branch feature/heat-shield");
  EXPECT_TRUE(runs().empty());
}

TEST_F(JobTriggerTest, UnregisteredRepositoryIsStoredAsIgnoredWithItsReason) {
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string request_id = new_request_id();
  const std::string id = accept(
      bitbucket_push_body("ZED", "lunar-lander",
                          {branch_change("main", "UPDATE", fake_hash("ll@1"), fake_hash("ll@2"))}),
      request_id);

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "ignored");
  EXPECT_EQ(str(d, "reason"),
            "repository ZED/lunar-lander (bitbucket_server) is not registered in org acme");
  EXPECT_EQ(str(d, "org"), "acme");
  EXPECT_EQ(str(d, "endpoint"), kTrigger);
  EXPECT_EQ(str(d, "provider"), "bitbucket_server");
  EXPECT_EQ(str(d, "event_key"), "repo:refs_changed");
  EXPECT_EQ(str(d, "external_id"), request_id);
  EXPECT_TRUE(runs().empty());
}

TEST_F(JobTriggerTest, OrgAndRepositoryMatchCaseInsensitively) {
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string body = bitbucket_push_body(
      "orb", "Orbit-Tools", {branch_change("main", "UPDATE", fake_hash("c@1"), fake_hash("c@2"))});
  const auto r = post(server_->webhook_url("ACME", kTrigger),
                      signed_push_headers(token_, body, new_request_id()), body);
  ASSERT_EQ(r.status, 202) << r.describe();
  const std::string id = str(r.json(), "delivery_id");

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "org"), "acme");
  EXPECT_EQ(str(d, "status"), "done");
  const auto list = wait_runs_settled(id);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(str(list[0], "repository"), "ORB/orbit-tools");
}

TEST_F(JobTriggerTest, SameRequestIdTwiceIsOneDeliveryAndOneRun) {
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string request_id = new_request_id();
  const std::string body = bitbucket_push_body(
      "ORB", "orbit-tools", {branch_change("main", "UPDATE", fake_hash("d@1"), fake_hash("d@2"))});
  const std::string first = accept(body, request_id);
  ASSERT_FALSE(first.empty());

  // Redelivered at once (Bitbucket retried), and again after processing finished.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const auto again = send_push("acme", token_, body, request_id);
    EXPECT_EQ(again.status, 200) << again.describe();
    EXPECT_EQ(str(again.json(), "status"), "duplicate");
    EXPECT_EQ(str(again.json(), "delivery_id"), first);
    if (attempt == 0) {
      EXPECT_EQ(str(wait_processed(first), "status"), "done");
    }
  }

  const auto all = deliveries();
  ASSERT_EQ(all.size(), 1u) << json::serialize(all);
  EXPECT_EQ(str(all[0], "delivery_id"), first);
  EXPECT_EQ(str(all[0], "external_id"), request_id);
  const auto list = runs();
  ASSERT_EQ(list.size(), 1u) << json::serialize(list);
  EXPECT_EQ(str(list[0], "delivery_id"), first);

  // The delivery id is unique per org and endpoint: the sync URL is a different endpoint.
  const auto other = send_push("acme", token_, body, request_id, "sync-alm-commits");
  EXPECT_EQ(other.status, 202) << other.describe();
  EXPECT_EQ(str(other.json(), "status"), "queued");
  EXPECT_NE(str(other.json(), "delivery_id"), first);
  EXPECT_EQ(runs().size(), 1u);
}

TEST_F(JobTriggerTest, ConcurrentRedeliveriesOfOneRequestIdStoreOneDelivery) {
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string request_id = new_request_id();
  const std::string body = bitbucket_push_body(
      "ORB", "orbit-tools", {branch_change("main", "UPDATE", fake_hash("r@1"), fake_hash("r@2"))});
  constexpr int kSenders = 8;
  std::vector<HttpResponse> answers(kSenders);
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] { answers[i] = send_push("acme", token_, body, request_id); });
  }
  for (auto& t : senders) t.join();

  int queued = 0;
  std::set<std::string> ids;
  for (const auto& a : answers) {
    ids.insert(str(a.json(), "delivery_id"));
    if (a.status == 202) {
      ++queued;
      EXPECT_EQ(str(a.json(), "status"), "queued");
    } else {
      EXPECT_EQ(a.status, 200) << a.describe();
      EXPECT_EQ(str(a.json(), "status"), "duplicate");
    }
  }
  EXPECT_EQ(queued, 1);
  ASSERT_EQ(ids.size(), 1u);
  const std::string id = *ids.begin();
  EXPECT_EQ(str(wait_processed(id), "status"), "done");
  EXPECT_EQ(deliveries().size(), 1u);
  EXPECT_EQ(runs().size(), 1u);
}

TEST_F(JobTriggerTest, DeliveriesWithoutRequestIdAreNeverDuplicates) {
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string body = bitbucket_push_body(
      "ORB", "orbit-tools", {branch_change("main", "UPDATE", fake_hash("n@1"), fake_hash("n@2"))});
  std::set<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    const auto r = post(server_->webhook_url("acme", kTrigger),
                        {{"Content-Type", "application/json"},
                         {"X-Event-Key", "repo:refs_changed"},
                         {"X-Hub-Signature", sign(token_, body)}},
                        body);
    ASSERT_EQ(r.status, 202) << r.describe();
    ids.insert(str(r.json(), "delivery_id"));
  }
  ASSERT_EQ(ids.size(), 2u);
  for (const auto& id : ids) {
    const auto d = wait_processed(id);
    EXPECT_EQ(str(d, "status"), "done");
    EXPECT_EQ(str(d, "external_id"), "");
    EXPECT_EQ(runs(id).size(), 1u);
  }
}

TEST_F(JobTriggerTest, FailingCommandIsAFailedRunAndIsNotRetried) {
  add_job("acme", "ORB/orbit-tools", "build", "main",
          {"/bin/sh", "-c", "echo \"compiler exploded on $COMMITBRIDGE_BRANCH\" >&2; exit 3"});
  ASSERT_TRUE(start_server());

  const std::string id = accept(bitbucket_push_body(
      "ORB", "orbit-tools", {branch_change("main", "UPDATE", fake_hash("f@1"), fake_hash("f@2"))}));
  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(str(d, "reason"), "1 job run queued: build@main (run 1)");
  EXPECT_EQ(d.as_object().at("attempts").as_int64(), 1);

  const auto list = wait_runs_settled(id);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(str(list[0], "status"), "failed");
  ASSERT_TRUE(list[0].as_object().at("exit_code").is_int64());
  EXPECT_EQ(list[0].as_object().at("exit_code").as_int64(), 3);
  EXPECT_TRUE(Contains(str(list[0], "output_tail"), "compiler exploded on main"));
  const std::string log_path = str(list[0], "log_path");
  ASSERT_FALSE(log_path.empty());
  EXPECT_TRUE(Contains(read_file(log_path), "compiler exploded on main"));
}

}  // namespace
}  // namespace cbtest
