// ALM write-back through the real binary to a local Jira REST stub that records every request:
// exact paths, methods, JSON bodies and credentials of remote links, comments, worklogs and
// transitions; a 500 retried once; an unknown transition dead-lettered with a clear message; a
// commit pushed again on another branch writing nothing twice; and at-least-once delivery across
// a kill -9 between sending a request and recording its answer.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "harness.hpp"
#include "http_stub.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;

constexpr const char* kSync = "sync-alm-commits";
constexpr const char* kPat = "pat-orbital-5b2e8c1d";
constexpr const char* kTransitions =
    R"({"transitions":[{"id":"11","name":"Start Progress","to":{"name":"In Progress"}},)"
    R"({"id":"31","name":"Done","to":{"name":"Done"}}]})";

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value() : v;
}

/// "2026-03-02T09:01:00.000+0000" for `seconds` since the epoch: Jira's worklog "started".
std::string jira_time(std::int64_t seconds) {
  std::string iso = iso_utc(seconds);  // 2026-03-02T09:01:00.000Z
  return iso.substr(0, iso.size() - 1) + "+0000";
}

/// A Jira that answers like Jira Data Center: remote links 201, comments and worklogs 201 with
/// an id, the two transitions above, 204 for a transition, the project list; `fail_next` answers
/// the next request of a path (exact) with the given status first.
class JiraStub {
 public:
  JiraStub() {
    stub_.set_handler([this](const StubRequest& r) { return answer(r); });
  }

  void fail_next(const std::string& method, const std::string& path, int status) {
    std::lock_guard lock(mutex_);
    failures_[method + " " + path] = status;
  }
  /// Holds the next answer to `method path` for `delay` (the server is killed meanwhile).
  void hold_next(const std::string& method, const std::string& path,
                 std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    holds_[method + " " + path] = delay;
  }

  [[nodiscard]] std::string url() const { return stub_.url(); }
  /// Requests other than the periodic project listing, in arrival order.
  [[nodiscard]] std::vector<StubRequest> writes() const {
    std::vector<StubRequest> out;
    for (auto& r : stub_.requests()) {
      if (r.path() != "/rest/api/2/project") out.push_back(std::move(r));
    }
    return out;
  }
  [[nodiscard]] std::size_t count(const std::string& method, const std::string& path) const {
    std::size_t n = 0;
    for (const auto& r : stub_.requests()) n += r.method == method && r.path() == path ? 1 : 0;
    return n;
  }
  HttpStub& stub() { return stub_; }

 private:
  StubResponse answer(const StubRequest& r) {
    const std::string key = r.method + " " + r.path();
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mutex_);
      if (auto it = failures_.find(key); it != failures_.end()) {
        const int status = it->second;
        failures_.erase(it);
        return StubResponse{.status = status, .body = R"({"errorMessages":["try later"]})"};
      }
      if (auto it = holds_.find(key); it != holds_.end()) {
        delay = it->second;
        holds_.erase(it);
      }
    }
    StubResponse ok{.status = 201,
                    .headers = {{"Content-Type", "application/json"}},
                    .body = R"({"id":"10001"})",
                    .delay = delay};
    if (r.path() == "/rest/api/2/project") {
      ok.status = 200;
      ok.body = R"([{"id":"1","key":"ABC"},{"id":"2","key":"ORB"}])";
    } else if (r.path().ends_with("/transitions")) {
      if (r.method == "GET") {
        ok.status = 200;
        ok.body = kTransitions;
      } else {
        ok.status = 204;
        ok.body.clear();
        ok.headers.clear();
      }
    }
    return ok;
  }

  HttpStub stub_;
  mutable std::mutex mutex_;
  std::map<std::string, int> failures_;
  std::map<std::string, std::chrono::milliseconds> holds_;
};

class AlmWritebackTest : public IntegrationTest {
 protected:
  AlmWritebackTest() : git_(tmp_ / "git") {}

  void SetUp() override {
    base_ = git_.commit("Initial import of orbit tools");
    git_.push("main");
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    add_repo("acme", "ORB", "orbit-tools", git_.bare_path().string(), /*auto_update_alm=*/true);
  }

  /// Adds the Jira DC connection (commands for commits of the last ten years).
  void add_jira(const std::vector<std::string>& extra = {},
                const std::string& max_age_seconds = "315360000") {
    std::vector<std::string> args{"alm",
                                  "add",
                                  "--data-dir",
                                  data_dir_.string(),
                                  "--org",
                                  "acme",
                                  "--name",
                                  "jira",
                                  "--type",
                                  "jira",
                                  "--url",
                                  jira_.url(),
                                  "--deployment",
                                  "data_center",
                                  "--secret-env",
                                  "CB_TEST_PAT",
                                  "--max-commit-age-seconds",
                                  max_age_seconds};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_cli(args, {{"CB_TEST_PAT", kPat}});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
  }

  ::testing::AssertionResult start() {
    return start_server({{"COMMITBRIDGE_ALM_RETRY_BACKOFF_MS", "50"},
                         {"COMMITBRIDGE_ALM_REQUEST_TIMEOUT_MS", "120000"}});
  }

  json::value sync(const std::vector<RefChange>& changes) {
    const auto r = send_push("acme", token_, bitbucket_push_body("ORB", "orbit-tools", changes),
                             new_request_id(), kSync);
    EXPECT_EQ(r.status, 202) << r.describe();
    return wait_processed(str(r.json(), "delivery_id"));
  }

  /// The org's outbox entries (every status), oldest first.
  json::array outbox(const std::string& status = "") {
    std::vector<std::string> args{"outbox", "list", "--org", "acme", "--limit", "200", "--json"};
    if (!status.empty()) {
      args.push_back("--status");
      args.push_back(status);
    }
    return parse(cli_ok(args)).at("items").as_array();
  }

  /// Waits until no entry is pending or sending; returns the entries.
  json::array wait_outbox_settled() {
    json::array last;
    const bool ok = wait_until(
        [&] {
          last = outbox();
          for (const auto& e : last) {
            const auto s = str(e, "status");
            if (s == "pending" || s == "sending") return false;
          }
          return !last.empty();
        },
        20s, 50ms);
    EXPECT_TRUE(ok) << "outbox not settled: " << json::serialize(last);
    return last;
  }

  GitRepo git_;
  JiraStub jira_;
  std::string base_;
  std::string token_;
};

TEST_F(AlmWritebackTest, RemoteLinkCommentWorklogAndTransitionAreTheExactJiraCalls) {
  const auto t = git_.next_commit_time();
  const std::string c = git_.commit(
      "ABC-1 wire the parser #comment parser wired #time 1h 30m #start-progress ready for review");
  git_.push("main");
  add_jira();
  ASSERT_TRUE(start());
  const auto d = sync({branch_change("main", "UPDATE", base_, c)});
  EXPECT_EQ(str(d, "status"), "done");

  const auto entries = wait_outbox_settled();
  ASSERT_EQ(entries.size(), 4u) << json::serialize(entries);
  for (const auto& e : entries) EXPECT_EQ(str(e, "status"), "sent") << json::serialize(e);

  const auto writes = jira_.writes();
  ASSERT_EQ(writes.size(), 5u);
  for (const auto& r : writes) {
    EXPECT_EQ(r.header("Authorization").value_or(""), std::string("Bearer ") + kPat);
    EXPECT_EQ(r.header("Accept").value_or(""), "application/json");
  }
  EXPECT_EQ(writes[0].method, "POST");
  EXPECT_EQ(writes[0].target, "/rest/api/2/issue/ABC-1/remotelink");
  EXPECT_EQ(writes[0].header("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(parse(writes[0].body),
            parse(json::serialize(json::object{
                {"globalId", "commitbridge:bitbucket_server:ORB/orbit-tools:" + c},
                {"application", {{"type", "com.commitbridge"}, {"name", "commitbridge"}}},
                {"relationship", "commit"},
                {"object",
                 {{"url", git_.bare_path().string()},
                  {"title", "ORB/orbit-tools " + c.substr(0, 11)},
                  {"summary",
                   "ABC-1 wire the parser #comment parser wired #time 1h 30m "
                   "#start-progress ready for review"}}}})));

  EXPECT_EQ(writes[1].method, "POST");
  EXPECT_EQ(writes[1].target, "/rest/api/2/issue/ABC-1/comment");
  EXPECT_EQ(parse(writes[1].body), parse(R"({"body":"parser wired"})"));

  EXPECT_EQ(writes[2].method, "POST");
  EXPECT_EQ(writes[2].target, "/rest/api/2/issue/ABC-1/worklog");
  EXPECT_EQ(
      parse(writes[2].body),
      parse(json::serialize(json::object{{"timeSpent", "1h 30m"}, {"started", jira_time(t)}})));

  EXPECT_EQ(writes[3].method, "GET");
  EXPECT_EQ(writes[3].target, "/rest/api/2/issue/ABC-1/transitions");
  EXPECT_TRUE(writes[3].body.empty());
  EXPECT_EQ(writes[4].method, "POST");
  EXPECT_EQ(writes[4].target, "/rest/api/2/issue/ABC-1/transitions");
  EXPECT_EQ(parse(writes[4].body),
            parse(R"({"transition":{"id":"11"},)"
                  R"("update":{"comment":[{"add":{"body":"ready for review"}}]}})"));

  // The project keys Jira lists are stored with the connection.
  ASSERT_TRUE(wait_until([&] {
    const auto c2 = parse(cli_ok({"alm", "get", "jira", "--org", "acme", "--json"}));
    return c2.at("project_keys") == json::array{"ABC", "ORB"};
  }));
  const auto metrics = get(server_->base_url() + "/metrics");
  EXPECT_TRUE(Contains(metrics.body, "commitbridge_outbox_backlog 0\n"));
}

TEST_F(AlmWritebackTest, JiraCloudGetsBasicAuthWithEmailAndApiToken) {
  const std::string c = git_.commit("ABC-2 tidy the solver");
  git_.push("main");
  const auto r = run_cli({"alm", "add", "--data-dir", data_dir_.string(), "--org", "acme", "--name",
                          "cloud", "--type", "jira", "--url", jira_.url(), "--deployment", "cloud",
                          "--email", "release-bot@orbital.example", "--secret-stdin"},
                         {});
  // run_cli gives no stdin: the secret must come from somewhere, so this fails clearly.
  EXPECT_EQ(r.exit_code, 1) << r.describe();
  EXPECT_TRUE(Contains(r.err, "no secret on stdin"));
  const auto ok =
      run_cli({"alm", "add", "--data-dir", data_dir_.string(), "--org", "acme", "--name", "cloud",
               "--type", "jira", "--url", jira_.url(), "--deployment", "cloud", "--email",
               "release-bot@orbital.example", "--secret-env", "CB_TEST_TOKEN"},
              {{"CB_TEST_TOKEN", "cloud-token-42"}});
  ASSERT_EQ(ok.exit_code, 0) << ok.describe();
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  wait_outbox_settled();
  const auto writes = jira_.writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].target, "/rest/api/2/issue/ABC-2/remotelink");
  EXPECT_EQ(writes[0].header("Authorization").value_or(""),
            basic_auth("release-bot@orbital.example", "cloud-token-42"));
}

TEST_F(AlmWritebackTest, AfterKeyRotationTheConnectionSecretStillAuthenticates) {
  const std::string c = git_.commit("ABC-12 star tracker");
  git_.push("main");
  add_jira();
  const auto rotated = cli({"keys", "rotate"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.describe();
  EXPECT_TRUE(Contains(rotated.out, "re-sealed 2 secrets")) << rotated.describe();  // token + PAT
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  const auto entries = wait_outbox_settled();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(str(entries[0], "status"), "sent") << json::serialize(entries);
  const auto writes = jira_.writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].header("Authorization").value_or(""), std::string("Bearer ") + kPat);
}

TEST_F(AlmWritebackTest, AServerErrorIsRetriedOnceThenTheCommentIsSent) {
  const std::string c = git_.commit("ABC-3 calibrate gyros");
  git_.push("main");
  add_jira({"--add-remote-link", "false", "--add-comment", "true"});
  jira_.fail_next("POST", "/rest/api/2/issue/ABC-3/comment", 500);
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  const auto entries = wait_outbox_settled();
  ASSERT_EQ(entries.size(), 1u) << json::serialize(entries);
  EXPECT_EQ(str(entries[0], "action"), "comment");
  EXPECT_EQ(str(entries[0], "status"), "sent");
  EXPECT_EQ(entries[0].at("attempts").as_int64(), 2);
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-3/comment"), 2u);
  const auto writes = jira_.writes();
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0].body, writes[1].body);
  EXPECT_EQ(parse(writes[1].body),
            parse(json::serialize(json::object{
                {"body", "Ilse Vandermeer committed " + c.substr(0, 11) +
                             " to ORB/orbit-tools (main)\n\nABC-3 calibrate gyros\n"}})));
}

TEST_F(AlmWritebackTest, AnUnknownTransitionEndsDeadWithAClearMessageAndCanBeRetried) {
  const std::string c = git_.commit("ABC-4 ship it #deploy to production");
  git_.push("main");
  add_jira({"--add-remote-link", "false"});
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  const auto entries = wait_outbox_settled();
  ASSERT_EQ(entries.size(), 1u) << json::serialize(entries);
  EXPECT_EQ(str(entries[0], "action"), "transition");
  EXPECT_EQ(str(entries[0], "status"), "dead");
  EXPECT_EQ(entries[0].at("attempts").as_int64(), 1);
  EXPECT_EQ(str(entries[0], "last_error"),
            "no transition \"deploy\" on ABC-4; available: Start Progress, Done");
  EXPECT_EQ(jira_.count("GET", "/rest/api/2/issue/ABC-4/transitions"), 1u);
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-4/transitions"), 0u);

  const auto dead = outbox("dead");
  ASSERT_EQ(dead.size(), 1u);
  const std::string id = std::to_string(dead[0].at("id").as_int64());
  const auto retried = parse(cli_ok({"outbox", "retry", id, "--org", "acme", "--json"}));
  EXPECT_EQ(str(retried, "status"), "pending");
  ASSERT_TRUE(
      wait_until([&] { return jira_.count("GET", "/rest/api/2/issue/ABC-4/transitions") == 2; }));
  ASSERT_TRUE(wait_until([&] { return outbox("dead").size() == 1; }));
}

TEST_F(AlmWritebackTest, ACommitPushedAgainOnAnotherBranchAddsNoSecondCommentWorklogOrTransition) {
  git_.create_branch("release/2.1");
  git_.push("release/2.1");
  git_.checkout("main");
  const std::string c = git_.commit("ABC-5 heat shield #comment modelled #time 2h #done");
  git_.push("main");
  add_jira();
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  ASSERT_EQ(wait_outbox_settled().size(), 4u);
  const auto first = jira_.writes().size();
  ASSERT_EQ(first, 5u);

  // The same commit reaches release/2.1 (fast-forward), then the main push is replayed.
  git_.checkout("release/2.1");
  EXPECT_EQ(git_.rev_parse("HEAD"), base_);
  const auto merged =
      run_process({"git", "-C", git_.work_path().string(), "merge", "--ff-only", c});
  ASSERT_EQ(merged.exit_code, 0) << merged.describe();
  git_.push("release/2.1");
  const auto again = sync({branch_change("release/2.1", "UPDATE", base_, c)});
  EXPECT_EQ(str(again, "status"), "done");
  EXPECT_TRUE(Contains(str(again, "reason"), "0 new links"));
  sync({branch_change("main", "UPDATE", base_, c)});

  const auto stories = cli_json({"stories", "show", "ABC-5", "--org", "acme"});
  ASSERT_EQ(stories.size(), 1u);
  EXPECT_EQ(stories[0].at("seen").as_array().size(), 2u);  // main and release/2.1
  EXPECT_EQ(outbox().size(), 4u);
  EXPECT_EQ(jira_.writes().size(), first);
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-5/comment"), 1u);
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-5/worklog"), 1u);
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-5/transitions"), 1u);
}

TEST_F(AlmWritebackTest, ACommitSeenAgainOnAnotherBranchOrInAReplayIsNotCommentedTwice) {
  git_.create_branch("release/2.1");
  git_.push("release/2.1");
  git_.checkout("main");
  const std::string c = git_.commit("ABC-11 thermal model");
  git_.push("main");
  add_jira({"--add-comment", "true"});
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  ASSERT_EQ(wait_outbox_settled().size(), 2u);  // remote link and commit comment
  ASSERT_EQ(jira_.writes().size(), 2u);

  git_.checkout("release/2.1");
  const auto merged =
      run_process({"git", "-C", git_.work_path().string(), "merge", "--ff-only", c});
  ASSERT_EQ(merged.exit_code, 0) << merged.describe();
  git_.push("release/2.1");
  const auto again = sync({branch_change("release/2.1", "UPDATE", base_, c)});
  EXPECT_EQ(str(again, "status"), "done");
  EXPECT_TRUE(Contains(str(again, "reason"), "0 new links"));
  sync({branch_change("main", "UPDATE", base_, c)});  // a replay of the first push

  const auto stories = cli_json({"stories", "show", "ABC-11", "--org", "acme"});
  ASSERT_EQ(stories.size(), 1u);
  EXPECT_EQ(stories[0].at("seen").as_array().size(), 2u);  // main and release/2.1
  EXPECT_EQ(outbox().size(), 2u);
  EXPECT_EQ(jira_.writes().size(), 2u);
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-11/comment"), 1u);
}

TEST_F(AlmWritebackTest, CommandsOfACommitOlderThanTheMaximumAgeAreNotSent) {
  // The harness dates commits in March 2026; one day of maximum age makes them too old.
  const std::string c = git_.commit("ABC-6 fix telemetry #comment fixed #time 1h");
  git_.push("main");
  add_jira({}, "86400");
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  const auto entries = wait_outbox_settled();
  ASSERT_EQ(entries.size(), 1u) << json::serialize(entries);
  EXPECT_EQ(str(entries[0], "action"), "remote_link");
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-6/comment"), 0u);
  EXPECT_EQ(jira_.count("POST", "/rest/api/2/issue/ABC-6/worklog"), 0u);
}

TEST_F(AlmWritebackTest, NothingIsWrittenBackForARepositoryWithoutAutoUpdate) {
  GitRepo other(tmp_ / "other");
  const std::string b = other.commit("Initial import of ground station");
  other.push("main");
  const std::string c = other.commit("ABC-7 ground station #comment wired");
  other.push("main");
  add_repo("acme", "GND", "ground", other.bare_path().string(), /*auto_update_alm=*/false);
  add_jira();
  ASSERT_TRUE(start());
  const auto r = send_push(
      "acme", token_, bitbucket_push_body("GND", "ground", {branch_change("main", "UPDATE", b, c)}),
      new_request_id(), kSync);
  ASSERT_EQ(r.status, 202);
  const auto d = wait_processed(str(r.json(), "delivery_id"));
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(cli_json({"stories", "show", "ABC-7", "--org", "acme"}).size(), 1u);
  EXPECT_TRUE(outbox().empty());
  EXPECT_TRUE(jira_.writes().empty());
}

TEST_F(AlmWritebackTest, AWebhookConnectionGetsOneSignedPostPerStoryAndCommit) {
  HttpStub receiver;
  receiver.set_default(StubResponse{.status = 204});
  const std::string c = git_.commit("ABC-9 ABC-10 antenna aligned");
  git_.push("main");
  const auto added = run_cli({"alm", "add", "--data-dir", data_dir_.string(), "--org", "acme",
                              "--name", "tracker", "--type", "webhook", "--url",
                              receiver.url("/hooks/commits"), "--secret-env", "CB_TEST_HOOK"},
                             {{"CB_TEST_HOOK", "hook-key-8f1e"}});
  ASSERT_EQ(added.exit_code, 0) << added.describe();
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  const auto entries = wait_outbox_settled();
  ASSERT_EQ(entries.size(), 2u) << json::serialize(entries);
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  std::set<std::string> keys;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hooks/commits");
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(r.header("X-Hub-Signature-256").value_or(""), sign("hook-key-8f1e", r.body));
    EXPECT_EQ(r.header("X-Commitbridge-Event").value_or(""), "commit_linked");
    EXPECT_EQ(r.header("X-Commitbridge-Delivery").value_or(""),
              "outbox-" + std::to_string(entries[i].at("id").as_int64()));
    const auto body = parse(r.body);
    EXPECT_EQ(str(body, "action"), "webhook");
    EXPECT_EQ(str(body, "commit"), c);
    EXPECT_EQ(str(body, "repository"), "ORB/orbit-tools");
    EXPECT_EQ(str(body, "branch"), "main");
    EXPECT_TRUE(body.at("commands").as_array().empty());
    keys.insert(str(body, "story_key"));
  }
  EXPECT_EQ(keys, (std::set<std::string>{"ABC-9", "ABC-10"}));
}

TEST_F(AlmWritebackTest, AtLeastOnceARequestInFlightDuringAKillIsSentAgainAfterTheRestart) {
  const std::string c = git_.commit("ABC-8 docking port");
  git_.push("main");
  add_jira();
  const std::string path = "/rest/api/2/issue/ABC-8/remotelink";
  jira_.hold_next("POST", path, 60s);  // the answer never arrives before the kill
  ASSERT_TRUE(start());
  sync({branch_change("main", "UPDATE", base_, c)});
  ASSERT_TRUE(wait_until([&] { return jira_.count("POST", path) == 1; }, 20s));
  const auto sending = outbox("sending");
  ASSERT_EQ(sending.size(), 1u);
  EXPECT_TRUE(wait_until([&] {
    return Contains(get(server_->base_url() + "/metrics").body, "commitbridge_outbox_backlog 1\n");
  }));

  server_->kill9();
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(wait_until([&] { return jira_.count("POST", path) == 2; }, 20s));
  const auto entries = wait_outbox_settled();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(str(entries[0], "status"), "sent");
  EXPECT_EQ(entries[0].at("attempts").as_int64(), 2);
  const auto writes = jira_.writes();
  ASSERT_EQ(writes.size(), 2u);
  // Sent twice with the same globalId: Jira updates the one link instead of adding another.
  EXPECT_EQ(writes[0].body, writes[1].body);
  EXPECT_EQ(str(parse(writes[1].body), "globalId"),
            "commitbridge:bitbucket_server:ORB/orbit-tools:" + c);
}

}  // namespace
}  // namespace cbtest
