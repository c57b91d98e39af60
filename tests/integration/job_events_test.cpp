// Build on commit end to end through the real binary: every Bitbucket Data Center event of the
// provider fixtures (pushes of branches and tags, the pull-request changes, mirror syncs with
// and without their ref list) does what DESIGN says; skip marker from a real git mirror;
// duplicate deliveries; a restart in the middle of a run; concurrency and supersede; the jobs,
// runs and deliveries API and CLI.

#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "harness.hpp"
#include "http_stub.hpp"

namespace cbtest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

const fs::path kFixtures = fs::path(CB_FIXTURES_DIR) / "providers" / "bitbucket_server";

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

/// The fixture's headers (except the request id and signature, which each send sets).
Headers fixture_headers(const std::string& name) {
  Headers out;
  std::istringstream in(read_file(kFixtures / (name + ".headers")));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name_part = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (name_part == "X-Request-Id" || name_part == "X-Hub-Signature") continue;
    out.emplace_back(name_part, value);
  }
  return out;
}

class JobEventsTest : public IntegrationTest {
 protected:
  void SetUp() override {
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    out_ = tmp_ / "job-out";
    fs::create_directories(out_);
  }

  /// Registers NWA/flight-planner (the fixtures' repository) with `clone_url`.
  void add_fixture_repo(const std::string& clone_url) {
    add_repo("acme", "NWA", "flight-planner", clone_url);
  }

  /// A command that dumps its environment to <out>/<run id>.env.
  std::vector<std::string> env_dump() const {
    return {"/bin/sh", "-c", "env > \"$1/$COMMITBRIDGE_RUN_ID.env\"", "sh", out_.string()};
  }

  /// `job add` with extra options before the `--`.
  void add_job_with(const std::string& name, const std::vector<std::string>& options,
                    const std::vector<std::string>& argv) {
    std::vector<std::string> args{"job",    "add", "--org", "acme", "--repo", "NWA/flight-planner",
                                  "--name", name};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
    cli_ok(args);
  }

  /// Sends the fixture `name` signed, with a fresh (or the given) request id; returns the answer.
  HttpResponse send_fixture(const std::string& name,
                            const std::string& request_id = new_request_id()) {
    const std::string body = read_file(kFixtures / (name + ".json"));
    Headers headers = fixture_headers(name);
    headers.emplace_back("X-Request-Id", request_id);
    headers.emplace_back("X-Hub-Signature", sign(token_, body));
    return post(server_->webhook_url("acme", "trigger-scm-push-request"), headers, body);
  }

  std::map<std::string, std::string> env_of(const json::value& run) {
    return parse_env(read_file(out_ / (std::to_string(run.at("id").as_int64()) + ".env")));
  }

  /// GET/POST/PATCH/DELETE on the admin API with the org's api token.
  HttpResponse api(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    if (api_token_.empty()) api_token_ = create_token("acme", "automation", "api");
    Headers headers{{"Authorization", "Bearer " + api_token_}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return http_request(method, server_->base_url() + "/api/v2/orgs/acme" + path, headers, body);
  }

  std::string token_;
  std::string api_token_;
  fs::path out_;
};

/// What one fixture must produce.
struct Expected {
  std::string fixture;
  std::string status;          ///< of the delivery
  std::string reason;          ///< exact reason
  std::set<std::string> runs;  ///< "job event branch" of each run
};

TEST_F(JobEventsTest, EveryBitbucketDataCenterEventDoesWhatItSays) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  add_job_with("push", {"--branches", "**"}, env_dump());
  add_job_with("tags", {"--branches", "main", "--events", "tag", "--tags", "v*"}, env_dump());
  add_job_with("pr",
               {"--branches", "**", "--events",
                "pr:opened,pr:source_updated,pr:target_changed,pr:merged,pr:declined,pr:deleted"},
               env_dump());
  add_job_with("pr-main", {"--branches", "main", "--events", "pr:opened"}, env_dump());
  ASSERT_TRUE(start_server());

  const std::vector<Expected> table{
      {"branch_update",
       "done",
       "1 job run queued: push@release/2.1 (run 1)",
       {"push push release/2.1"}},
      {"branch_create",
       "done",
       "1 job run queued: push@feature/NWA-520-terrain-mask (run 2)",
       {"push push feature/NWA-520-terrain-mask"}},
      {"branch_delete", "ignored", "branch feature/NWA-498-legacy-export was deleted", {}},
      {"tag_create", "done", "1 job run queued: tags@v2.1.3 (run 3)", {"tags tag v2.1.3"}},
      {"multi_ref",
       "done",
       "2 job runs queued: push@main (run 4), push@hotfix/2.1.4 (run 5); tag v2.1.4-rc1 was "
       "deleted",
       {"push push main", "push push hotfix/2.1.4"}},
      {"mirror_synchronized",
       "done",
       "2 job runs queued: push@main (run 6), tags@v2.1.4 (run 7)",
       {"push push main", "tags tag v2.1.4"}},
      {"mirror_ref_limit_exceeded",
       "ignored",
       "the mirror synchronization changed more refs than Bitbucket lists (refLimitExceeded): "
       "no ref changes, nothing triggered",
       {}},
      {"pr_opened",
       "done",
       "2 job runs queued: pr@feature/NWA-540-holding-entry (run 8), "
       "pr-main@feature/NWA-540-holding-entry (run 9)",
       {"pr pr:opened feature/NWA-540-holding-entry",
        "pr-main pr:opened feature/NWA-540-holding-entry"}},
      {"pr_opened_iso_dates",
       "done",
       "2 job runs queued: pr@feature/NWA-541-units (run 10), pr-main@feature/NWA-541-units "
       "(run 11)",
       {"pr pr:opened feature/NWA-541-units", "pr-main pr:opened feature/NWA-541-units"}},
      {"pr_from_ref_updated",
       "done",
       "1 job run queued: pr@feature/NWA-540-holding-entry (run 12)",
       {"pr pr:source_updated feature/NWA-540-holding-entry"}},
      {"pr_modified_target",
       "done",
       "1 job run queued: pr@feature/NWA-540-holding-entry (run 13)",
       {"pr pr:target_changed feature/NWA-540-holding-entry"}},
      {"pr_modified_title",
       "ignored",
       "pull request #63 was modified without a target change (modified): no job event",
       {}},
      {"pr_merged",
       "done",
       "1 job run queued: pr@feature/NWA-540-holding-entry (run 14)",
       {"pr pr:merged feature/NWA-540-holding-entry"}},
      {"pr_declined",
       "done",
       "1 job run queued: pr@spike/NWA-545-gc-cache (run 15)",
       {"pr pr:declined spike/NWA-545-gc-cache"}},
      {"pr_deleted",
       "done",
       "1 job run queued: pr@wip/scratch (run 16)",
       {"pr pr:deleted wip/scratch"}},
  };
  std::map<std::string, std::string> delivery_of;
  for (const auto& e : table) {
    SCOPED_TRACE(e.fixture);
    // One at a time: the run ids in the reasons are in this order.
    const auto r = send_fixture(e.fixture);
    ASSERT_EQ(r.status, 202) << r.describe();
    const std::string id = str(r.json(), "delivery_id");
    const auto d = wait_processed(id);
    EXPECT_EQ(str(d, "status"), e.status);
    EXPECT_EQ(str(d, "reason"), e.reason);
    delivery_of[e.fixture] = id;
    std::set<std::string> got;
    for (const auto& run : wait_runs_settled(id)) {
      got.insert(str(run, "job") + " " + str(run, "event") + " " + str(run, "branch"));
      EXPECT_EQ(str(run, "status"), "succeeded") << json::serialize(run);
    }
    EXPECT_EQ(got, e.runs);
  }

  // Pull-request runs carry the pull request in their environment and JSON.
  const auto merged = runs(delivery_of["pr_merged"]);
  ASSERT_EQ(merged.size(), 1u);
  auto env = env_of(merged[0]);
  EXPECT_EQ(env["COMMITBRIDGE_EVENT"], "pr:merged");
  EXPECT_EQ(env["COMMITBRIDGE_EVENT_KEY"], "pr:merged");
  EXPECT_EQ(env["COMMITBRIDGE_PULL_REQUEST_ID"], "63");
  EXPECT_EQ(env["COMMITBRIDGE_PULL_REQUEST_TITLE"],
            "NWA-540 Holding pattern entry and exit calculator");
  EXPECT_EQ(env["COMMITBRIDGE_PULL_REQUEST_SOURCE_BRANCH"], "feature/NWA-540-holding-entry");
  EXPECT_EQ(env["COMMITBRIDGE_PULL_REQUEST_TARGET_BRANCH"], "release/2.1");
  EXPECT_EQ(env["COMMITBRIDGE_REF"], "refs/pull-requests/63/from");
  EXPECT_EQ(env["COMMITBRIDGE_TO_HASH"], "0ccfc377cc485bc24874d5b5d27dafc46feb04a6");  // merge
  EXPECT_EQ(merged[0].at("pull_request").at("id").as_int64(), 63);

  const auto updated = runs(delivery_of["pr_from_ref_updated"]);
  ASSERT_EQ(updated.size(), 1u);
  EXPECT_EQ(str(updated[0], "from_hash"), "d0714c487a4dc00f14c34257aa83bd18123e07d3");
  EXPECT_EQ(str(updated[0], "to_hash"), "409628f6131fad4d0751a13da42f936152e6cb01");

  const auto tag = runs(delivery_of["tag_create"]);
  ASSERT_EQ(tag.size(), 1u);
  env = env_of(tag[0]);
  EXPECT_EQ(env["COMMITBRIDGE_EVENT"], "tag");
  EXPECT_EQ(env["COMMITBRIDGE_REF"], "refs/tags/v2.1.3");
  EXPECT_EQ(env.count("COMMITBRIDGE_PULL_REQUEST_ID"), 0u);

  // A redelivery of an event (same X-Request-Id) is the same delivery and creates no run.
  const std::string again_id = new_request_id();
  const auto first = send_fixture("pr_declined", again_id);
  ASSERT_EQ(first.status, 202);
  const std::string first_id = str(first.json(), "delivery_id");
  EXPECT_EQ(str(wait_processed(first_id), "status"), "done");
  wait_runs_settled(first_id);
  const auto dup = send_fixture("pr_declined", again_id);
  EXPECT_EQ(dup.status, 200) << dup.describe();
  EXPECT_EQ(str(dup.json(), "status"), "duplicate");
  EXPECT_EQ(str(dup.json(), "delivery_id"), first_id);
  EXPECT_EQ(runs(first_id).size(), 1u);
}

TEST_F(JobEventsTest, ReasonsNameTheRuleTheEventOrTheDisabledJob) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  add_job_with("deploy", {"--branches", "**,!release/*"}, {"/bin/true"});
  add_job_with("review", {"--branches", "main", "--events", "pr:opened"}, {"/bin/true"});
  ASSERT_TRUE(start_server());

  auto reason_of = [&](const std::string& fixture) {
    const auto r = send_fixture(fixture);
    EXPECT_EQ(r.status, 202) << r.describe();
    return str(wait_processed(str(r.json(), "delivery_id")), "reason");
  };
  EXPECT_EQ(reason_of("branch_update"),
            "branch release/2.1 excluded by rule !release/* of job deploy; branch release/2.1: "
            "event push not selected by job review");
  EXPECT_EQ(reason_of("pr_declined"),
            "event pr:declined not selected by job deploy; event pr:declined not selected by job "
            "review");
  EXPECT_EQ(reason_of("tag_create"),
            "tag v2.1.3: job deploy runs on branch pushes only; tag v2.1.3: event tag not "
            "selected by job review");
  cli_ok({"job", "disable", "--org", "acme", "deploy"});
  EXPECT_EQ(reason_of("branch_create"),
            "job deploy is disabled; branch feature/NWA-520-terrain-mask: event push not "
            "selected by job review");
  cli_ok({"job", "remove", "--org", "acme", "deploy"});
  cli_ok({"job", "remove", "--org", "acme", "review"});
  EXPECT_EQ(reason_of("branch_create"), "no job for repository NWA/flight-planner");
}

TEST_F(JobEventsTest, SkipMarkerIsReadFromTheRepositoryMirror) {
  GitRepo git(tmp_ / "git");
  git.commit("Initial import");
  git.push("main");
  add_repo("acme", "ORB", "orbit-tools", git.bare_path().string());
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const std::string skipped = git.commit("Update the README [skip ci]");
  git.push("main");
  const auto r1 = send_push(
      "acme", token_,
      bitbucket_push_body("ORB", "orbit-tools",
                          {branch_change("main", "UPDATE", git.rev_parse("HEAD~1"), skipped)}));
  ASSERT_EQ(r1.status, 202);
  const auto d1 = wait_processed(str(r1.json(), "delivery_id"));
  EXPECT_EQ(str(d1, "status"), "ignored");
  EXPECT_EQ(str(d1, "reason"), "skip marker [skip ci] in head commit " + skipped.substr(0, 7) +
                                   " of branch main skipped job build");

  const std::string built = git.commit("Compute the orbit faster");
  git.push("main");
  const auto r2 = send_push(
      "acme", token_,
      bitbucket_push_body("ORB", "orbit-tools", {branch_change("main", "UPDATE", skipped, built)}));
  ASSERT_EQ(r2.status, 202);
  const std::string id2 = str(r2.json(), "delivery_id");
  EXPECT_EQ(str(wait_processed(id2), "status"), "done");
  const auto list = wait_runs_settled(id2);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(str(list[0], "to_hash"), built);
}

TEST_F(JobEventsTest, RestartInTheMiddleOfARunInterruptsItAndRequeuesItWhenAsked) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  add_job_with("slow",
               {"--branches", "**", "--events", "pr:opened", "--requeue-interrupted", "true"},
               {"/bin/sh", "-c",
                "echo \"$COMMITBRIDGE_RUN_ID $COMMITBRIDGE_ATTEMPT\" >> \"$1/started\"; "
                "while [ -d \"$1\" ] && [ ! -e \"$1/release\" ]; do sleep 0.02; done",
                "sh", marks.string()});
  ASSERT_TRUE(start_server());
  const auto r = send_fixture("pr_opened");
  ASSERT_EQ(r.status, 202);
  const std::string id = str(r.json(), "delivery_id");
  ASSERT_TRUE(wait_until([&] { return !read_file(marks / "started").empty(); }))
      << server_->stderr_text();
  server_->kill9();

  ASSERT_TRUE(server_->start());
  // The interrupted run is not started again; a new attempt is, and is running now.
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "started") == "1 0\n2 1\n"; }))
      << read_file(marks / "started");
  write_file(marks / "release", "");
  const auto list = wait_runs_settled(id);  // newest first
  ASSERT_EQ(list.size(), 2u) << json::serialize(list);
  EXPECT_EQ(str(list[1], "status"), "interrupted");
  EXPECT_EQ(str(list[0], "status"), "succeeded");
  EXPECT_EQ(list[0].at("attempt").as_int64(), 1);
  EXPECT_EQ(list[0].at("rerun_of").as_int64(), 1);
  EXPECT_EQ(str(wait_processed(id), "status"), "done");
}

TEST_F(JobEventsTest, RestartKillsTheCommandTheCrashedServerLeftRunningBeforeRequeueing) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  // "started <run id> <pid of the shell = its process group>", then wait for the release file
  // (or the test's end), then "done <run id>".
  add_job_with("slow",
               {"--branches", "**", "--events", "pr:opened", "--requeue-interrupted", "true"},
               {"/bin/sh", "-c",
                "echo \"started $COMMITBRIDGE_RUN_ID $$\" >> \"$1/log\"; "
                "while [ -d \"$1\" ] && [ ! -e \"$1/release\" ]; do sleep 0.02; done; "
                "[ -d \"$1\" ] && echo \"done $COMMITBRIDGE_RUN_ID\" >> \"$1/log\"",
                "sh", marks.string()});
  ASSERT_TRUE(start_server());
  const auto r = send_fixture("pr_opened");
  ASSERT_EQ(r.status, 202);
  const std::string id = str(r.json(), "delivery_id");
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "log").starts_with("started 1 "); }))
      << server_->stderr_text();
  const std::string first_line = read_file(marks / "log");
  const pid_t first_group = std::stoi(first_line.substr(std::string("started 1 ").size()));
  server_->kill9();
  // The server is gone, its command is not: it was re-parented and still waits.
  ASSERT_EQ(::kill(first_group, 0), 0);

  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(wait_until([&] {
    const auto log = read_file(marks / "log");
    return log.starts_with(first_line + "started 2 ") && log.ends_with("\n");
  })) << read_file(marks / "log");
  // Killed before run 2 was queued: no live process is left in the first run's group (a zombie
  // waiting for its new parent to reap it does not count).
  const auto live_in_group = [&] {
    for (const auto& e : fs::directory_iterator("/proc")) {
      const auto name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const std::string stat = read_file(e.path() / "stat");
      const auto close = stat.rfind(')');
      if (close == std::string::npos || ::getpgid(std::stoi(name)) != first_group) continue;
      if (stat.substr(close + 2, 1) != "Z") return true;
    }
    return false;
  };
  EXPECT_FALSE(live_in_group());
  EXPECT_NE(
      server_->stderr_text().find("run 1: killed process group " + std::to_string(first_group)),
      std::string::npos)
      << server_->stderr_text();

  write_file(marks / "release", "");
  const auto list = wait_runs_settled(id);  // newest first
  ASSERT_EQ(list.size(), 2u) << json::serialize(list);
  EXPECT_EQ(str(list[1], "status"), "interrupted");
  EXPECT_EQ(str(list[0], "status"), "succeeded");
  EXPECT_EQ(list[0].at("rerun_of").as_int64(), 1);
  const std::string log = read_file(marks / "log");
  const auto second_start = log.find("started 2 ");
  ASSERT_NE(second_start, std::string::npos) << log;
  const auto second_end = log.find('\n', second_start);
  EXPECT_EQ(log.substr(0, second_start), first_line);
  EXPECT_EQ(log.substr(second_end + 1), "done 2\n") << log;
}

TEST_F(JobEventsTest, AJobIsNotRemovedWhileItsRunExecutesAndIdsAreNotGivenAgain) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  const std::vector<std::string> slow{
      "/bin/sh", "-c",
      "echo \"$COMMITBRIDGE_RUN_ID\" >> \"$1/started\"; "
      "while [ -d \"$1\" ] && [ ! -e \"$1/release\" ]; do sleep 0.02; done",
      "sh", marks.string()};
  add_job_with("slow", {"--branches", "**", "--events", "pr:opened"}, slow);
  ASSERT_TRUE(start_server());
  const auto r = send_fixture("pr_opened");
  ASSERT_EQ(r.status, 202) << r.describe();
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "started") == "1\n"; }))
      << server_->stderr_text();
  const std::string refusal =
      "job 'slow' has runs in progress (1): cancel them (commitbridge runs cancel ID, or POST "
      "/api/v2/orgs/acme/runs/ID/cancel) or wait for them to end, then remove the job";

  const auto by_api = api("DELETE", "/jobs/slow");
  EXPECT_EQ(by_api.status, 409) << by_api.describe();
  EXPECT_EQ(by_api.error_code(), "conflict");
  EXPECT_EQ(by_api.error_message(), refusal);
  const auto by_cli = cli({"job", "remove", "--org", "acme", "slow"});
  EXPECT_EQ(by_cli.exit_code, 1);
  EXPECT_TRUE(Contains(by_cli.err, refusal)) << by_cli.err;
  EXPECT_EQ(str(api("GET", "/runs/1").json(), "status"), "running");
  EXPECT_EQ(api("GET", "/jobs/slow").status, 200);

  write_file(marks / "release", "");
  ASSERT_TRUE(
      wait_until([&] { return str(api("GET", "/runs/1").json(), "status") == "succeeded"; }));
  EXPECT_EQ(api("DELETE", "/jobs/slow").status, 204);
  EXPECT_EQ(api("GET", "/runs/1").status, 404);

  // The removed job and run had the highest ids: the new ones do not take them again (a run's
  // id names its log file and its workspace).
  add_job_with("slow", {"--branches", "**", "--events", "pr:opened"}, slow);
  EXPECT_EQ(api("GET", "/jobs/slow").json().at("id").as_int64(), 2);
  const auto again = send_fixture("pr_opened");
  ASSERT_EQ(again.status, 202) << again.describe();
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "started") == "1\n2\n"; }))
      << read_file(marks / "started");
  ASSERT_TRUE(
      wait_until([&] { return str(api("GET", "/runs/2").json(), "status") == "succeeded"; }));
}

TEST_F(JobEventsTest, OneRunAtATimeAndANewerPushSupersedesTheWaitingOne) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  add_job_with("deploy", {"--branches", "main", "--max-concurrent", "1", "--supersede", "true"},
               {"/bin/sh", "-c",
                "echo \"$COMMITBRIDGE_RUN_ID\" >> \"$1/started\"; "
                "while [ -d \"$1\" ] && [ ! -e \"$1/release-$COMMITBRIDGE_RUN_ID\" ]; do sleep "
                "0.02; done",
                "sh", marks.string()});
  ASSERT_TRUE(start_server());
  auto push = [&](int n) {
    const auto r = send_push(
        "acme", token_,
        bitbucket_push_body("NWA", "flight-planner",
                            {branch_change("main", "UPDATE", fake_hash("m" + std::to_string(n)),
                                           fake_hash("m" + std::to_string(n + 1)))}));
    EXPECT_EQ(r.status, 202);
    return str(wait_processed(str(r.json(), "delivery_id")), "reason");
  };
  EXPECT_EQ(push(1), "1 job run queued: deploy@main (run 1)");
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "started") == "1\n"; }));
  EXPECT_EQ(push(2), "1 job run queued: deploy@main (run 2)");
  EXPECT_EQ(push(3), "1 job run queued: deploy@main (run 3, supersedes run 2)");
  // Run 1 still holds the only slot: nothing else started.
  EXPECT_EQ(read_file(marks / "started"), "1\n");
  write_file(marks / "release-1", "");
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "started") == "1\n3\n"; }))
      << read_file(marks / "started");
  write_file(marks / "release-3", "");
  const auto list = wait_runs_settled();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(str(list[0], "status"), "succeeded");
  EXPECT_EQ(str(list[1], "status"), "superseded");
  EXPECT_EQ(list[1].at("superseded_by").as_int64(), 3);
  EXPECT_EQ(str(list[2], "status"), "succeeded");
}

TEST_F(JobEventsTest, AStoppedRunIsNotRequeuedBehindANewerRunOfItsBranchWithSupersede) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  add_job_with("deploy",
               {"--branches", "sup", "--max-concurrent", "1", "--supersede", "true",
                "--requeue-interrupted", "true"},
               {"/bin/sh", "-c",
                "echo \"$COMMITBRIDGE_RUN_ID $COMMITBRIDGE_ATTEMPT\" >> \"$1/started\"; "
                "while [ -d \"$1\" ] && [ ! -e \"$1/release-$COMMITBRIDGE_RUN_ID\" ]; do sleep "
                "0.02; done",
                "sh", marks.string()});
  ASSERT_TRUE(start_server());
  auto push = [&](int n) {
    const auto r = send_push(
        "acme", token_,
        bitbucket_push_body("NWA", "flight-planner",
                            {branch_change("sup", "UPDATE", fake_hash("s" + std::to_string(n)),
                                           fake_hash("s" + std::to_string(n + 1)))}));
    EXPECT_EQ(r.status, 202);
    return str(wait_processed(str(r.json(), "delivery_id")), "reason");
  };
  EXPECT_EQ(push(1), "1 job run queued: deploy@sup (run 1)");
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "started") == "1 0\n"; }))
      << server_->stderr_text();
  EXPECT_EQ(push(2), "1 job run queued: deploy@sup (run 2)");
  EXPECT_EQ(push(3), "1 job run queued: deploy@sup (run 3, supersedes run 2)");
  EXPECT_EQ(server_->stop(), 0) << server_->stderr_text();

  // Run 1 was stopped, but run 3 builds a newer commit of the branch: only run 3 runs.
  ASSERT_TRUE(server_->start());
  ASSERT_TRUE(wait_until([&] { return read_file(marks / "started") == "1 0\n3 0\n"; }))
      << read_file(marks / "started");
  write_file(marks / "release-3", "");
  const auto list = wait_runs_settled();  // newest first
  ASSERT_EQ(list.size(), 3u) << json::serialize(list);
  EXPECT_EQ(str(list[0], "status"), "succeeded");
  EXPECT_EQ(str(list[1], "status"), "superseded");
  EXPECT_EQ(str(list[2], "status"), "interrupted");
  EXPECT_EQ(str(list[2], "status_reason"),
            "the server stopped while the run was in progress; not re-queued: run 3 is newer");
  EXPECT_EQ(read_file(marks / "started"), "1 0\n3 0\n");
}

TEST_F(JobEventsTest, JobsRunsAndDeliveriesThroughTheApi) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  const fs::path marks = tmp_ / "marks";
  fs::create_directories(marks);
  api_token_ = create_token("acme", "automation", "api");
  ASSERT_TRUE(start_server());

  // Validation: an unknown placeholder is named; a secret header is never shown again.
  auto bad = api("POST", "/jobs",
                 R"({"name":"ci","repository":"NWA/flight-planner","branches":"main",)"
                 R"("http":{"url":"https://ci.example/job?b={{branch_name}}"}})");
  EXPECT_EQ(bad.status, 400) << bad.describe();
  EXPECT_TRUE(Contains(bad.error_message(), "unknown placeholder {{branch_name}}"));
  auto http_job = api("POST", "/jobs",
                      R"({"name":"ci","repository":"NWA/flight-planner","branches":"main",)"
                      R"("http":{"url":"https://ci.example/job?b={{branch}}",)"
                      R"("headers":{"Authorization":"Basic c2VjcmV0LXZhbHVl"}}})");
  ASSERT_EQ(http_job.status, 201) << http_job.describe();
  EXPECT_TRUE(LacksSecret(http_job.body, "c2VjcmV0LXZhbHVl"));
  EXPECT_EQ(str(http_job.json().at("action").at("headers").at(0), "value"), "(sealed)");
  EXPECT_EQ(api("DELETE", "/jobs/ci").status, 204);

  // A command runs on the server: an org api token may not create one, nor point a repository
  // at a local path (another org's mirror) or at an SSH key file of the server.
  const std::string command_job =
      R"({"name":"build","repository":"NWA/flight-planner","branches":"**",)"
      R"("argv":["/bin/sh","-c","id"]})";
  auto refused = api("POST", "/jobs", command_job);
  EXPECT_EQ(refused.status, 403) << refused.describe();
  EXPECT_TRUE(Contains(refused.error_message(), "needs the server admin token"));
  auto local_repo = api("POST", "/repositories",
                        R"({"provider":"bitbucket_server","project_key":"NWA","slug":"other",)"
                        R"("http_clone_url":"/var/lib/commitbridge/mirrors/1.git"})");
  EXPECT_EQ(local_repo.status, 403) << local_repo.describe();
  EXPECT_TRUE(Contains(local_repo.error_message(), "http_clone_url: a local path"));
  auto key_repo = api("POST", "/repositories",
                      R"({"provider":"bitbucket_server","project_key":"NWA","slug":"other",)"
                      R"("ssh_clone_url":"ssh://git@scm.example:7999/nwa/other.git",)"
                      R"("credentials":{"type":"ssh","key_path":"/root/.ssh/id_rsa"}})");
  EXPECT_EQ(key_repo.status, 403) << key_repo.describe();
  // The server admin token may.
  api_token_ =
      str(json::parse(cli_ok({"admin-token", "create", "--name", "ops", "--json"})), "token");

  auto created = api("POST", "/jobs",
                     R"({"name":"build","repository":"NWA/flight-planner","branches":"**",)"
                     R"("argv":["/bin/sh","-c","echo building $COMMITBRIDGE_BRANCH; )"
                     R"(while [ -d \"$1\" ] && [ ! -e \"$1/release\" ]; do sleep 0.02; done",)"
                     R"("sh",")" +
                         marks.string() + R"("]})");
  ASSERT_EQ(created.status, 201) << created.describe();
  const auto job_id = created.json().at("id").as_int64();
  EXPECT_EQ(created.json().at("events").at(0).as_string(), "push");
  auto listed = api("GET", "/jobs?limit=10");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json().at("items").as_array().size(), 1u);
  auto patched = api("PATCH", "/jobs/" + std::to_string(job_id), R"({"max_concurrent":2})");
  ASSERT_EQ(patched.status, 200) << patched.describe();
  EXPECT_EQ(patched.json().at("max_concurrent").as_int64(), 2);

  const auto r = send_fixture("branch_update");
  const std::string id = str(r.json(), "delivery_id");
  EXPECT_EQ(str(wait_processed(id), "status"), "done");
  ASSERT_TRUE(wait_until([&] { return str(api("GET", "/runs/1").json(), "status") == "running"; }));
  // Cancel stops the running command.
  auto cancelled = api("POST", "/runs/1/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.describe();
  ASSERT_TRUE(
      wait_until([&] { return str(api("GET", "/runs/1").json(), "status") == "cancelled"; }));
  EXPECT_EQ(api("POST", "/runs/1/cancel").status, 409);
  // Re-run: a new attempt, which this time finishes.
  write_file(marks / "release", "");
  auto rerun = api("POST", "/runs/1/rerun");
  ASSERT_EQ(rerun.status, 201) << rerun.describe();
  EXPECT_EQ(rerun.json().at("attempt").as_int64(), 1);
  EXPECT_EQ(rerun.json().at("rerun_of").as_int64(), 1);
  ASSERT_TRUE(
      wait_until([&] { return str(api("GET", "/runs/2").json(), "status") == "succeeded"; }));
  const auto run2 = api("GET", "/runs/2");
  EXPECT_EQ(str(run2.json(), "log_excerpt"), "building release/2.1\n");
  const auto log = api("GET", "/runs/2/log");
  EXPECT_EQ(log.status, 200);
  EXPECT_EQ(log.body, "building release/2.1\n");
  EXPECT_TRUE(Contains(log.header("content-type"), "text/plain"));

  // Filters.
  auto by_status = api("GET", "/runs?status=cancelled");
  ASSERT_EQ(by_status.status, 200) << by_status.describe();
  ASSERT_EQ(by_status.json().at("items").as_array().size(), 1u);
  EXPECT_EQ(by_status.json().at("items").at(0).at("id").as_int64(), 1);
  EXPECT_EQ(api("GET", "/runs?branch=main").json().at("items").as_array().size(), 0u);
  EXPECT_EQ(api("GET", "/runs?job=build&branch=release/2.1").json().at("items").as_array().size(),
            2u);
  EXPECT_EQ(api("GET", "/runs?since=2999-01-01T00:00:00Z").json().at("items").as_array().size(),
            0u);
  EXPECT_EQ(api("GET", "/runs?until=yesterday").status, 400);
  auto no_job = api("GET", "/runs?job=nojob");
  EXPECT_EQ(no_job.status, 404) << no_job.describe();
  EXPECT_EQ(no_job.error_code(), "not_found");
  EXPECT_EQ(no_job.error_message(), "no job named 'nojob' in org acme");
  EXPECT_EQ(api("GET", "/runs?job=999").status, 404);
  // A method the path does not have: 405 with the methods it has.
  auto put = api("PUT", "/jobs/build", "{}");
  EXPECT_EQ(put.status, 405) << put.describe();
  EXPECT_EQ(put.error_code(), "method_not_allowed");
  EXPECT_EQ(put.header("allow"), "GET, PATCH, DELETE");
  auto page1 = api("GET", "/runs?limit=1");
  ASSERT_EQ(page1.json().at("items").as_array().size(), 1u);
  const std::string cursor = str(page1.json(), "next_cursor");
  ASSERT_FALSE(cursor.empty());
  auto page2 = api("GET", "/runs?limit=1&cursor=" + cursor);
  EXPECT_EQ(page2.json().at("items").at(0).at("id").as_int64(), 1);

  // The delivery shows its runs.
  auto delivery = api("GET", "/deliveries/" + id);
  ASSERT_EQ(delivery.status, 200) << delivery.describe();
  EXPECT_EQ(str(delivery.json(), "reason"), "1 job run queued: build@release/2.1 (run 1)");
  EXPECT_EQ(delivery.json().at("runs").as_array().size(), 2u);
  EXPECT_EQ(api("GET", "/deliveries?limit=5").json().at("items").as_array().size(), 1u);
  EXPECT_EQ(api("GET", "/deliveries/00000000-0000-4000-8000-000000000000").status, 404);
}

TEST_F(JobEventsTest, CliManagesJobsAndRuns) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  add_job_with("build", {"--branches", "release/*", "--events", "push,pr:opened"},
               {"/bin/sh", "-c", "echo built $COMMITBRIDGE_BRANCH"});
  const auto jobs = cli_json({"job", "list", "--org", "acme"});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(str(jobs[0], "branches"), "release/*");
  EXPECT_EQ(jobs[0].at("events").as_array().size(), 2u);
  cli_ok({"job", "update", "--org", "acme", "build", "--branches", "release/*,main"});
  EXPECT_TRUE(Contains(cli_ok({"job", "get", "--org", "acme", "build"}), "release/*,main"));
  const auto bad = cli({"job", "add", "--org", "acme", "--repo", "NWA/flight-planner", "--name",
                        "x", "--branches", "main", "--events", "push,pr:reopened", "--", "true"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "unknown event 'pr:reopened'"));
  ASSERT_TRUE(start_server());

  const auto r = send_fixture("branch_update");
  const std::string id = str(r.json(), "delivery_id");
  wait_processed(id);
  wait_runs_settled(id);
  const auto list = cli_json({"runs", "list", "--job", "build", "--status", "succeeded"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(Contains(cli_ok({"runs", "get", "1", "--log"}), "built release/2.1"));
  EXPECT_EQ(cli({"runs", "cancel", "1"}).exit_code, 1);  // finished
  EXPECT_TRUE(Contains(cli_ok({"runs", "rerun", "1"}), "queued run 2"));
  const auto settled = wait_runs_settled(id);
  ASSERT_EQ(settled.size(), 2u);
  EXPECT_EQ(str(settled[0], "status"), "succeeded");
  const auto delivery = json::parse(cli_ok({"deliveries", "get", id, "--json"}));
  EXPECT_EQ(delivery.at("runs").as_array().size(), 2u);
  EXPECT_EQ(cli_json({"runs", "list", "--since", "2999-01-01T00:00:00Z"}).size(), 0u);
  const auto bogus = cli({"runs", "list", "--status", "bogus"});
  EXPECT_NE(bogus.exit_code, 0);
  EXPECT_TRUE(Contains(bogus.err,
                       "--status: bogus not in {queued,running,succeeded,failed,"
                       "interrupted,cancelled,superseded}"))
      << bogus.err;
  EXPECT_EQ(bogus.out, "");
}

TEST_F(JobEventsTest, UpdatingSomeHttpFieldsKeepsTheOthers) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  cli_ok({"job",
          "add",
          "--org",
          "acme",
          "--repo",
          "NWA/flight-planner",
          "--name",
          "hb",
          "--branches",
          "hb",
          "--http-url",
          "http://127.0.0.1:18432/ok",
          "--http-method",
          "PUT",
          "--http-body",
          "BODY {{branch}}",
          "--http-timeout-ms",
          "5000",
          "--http-max-attempts",
          "3",
          "--http-header",
          "Authorization: Bearer s3cr3t-cli-value"});
  const auto action_of = [&](const std::string& job) {
    const auto out = cli_ok({"job", "get", "--org", "acme", job, "--json"});
    EXPECT_TRUE(LacksSecret(out, "s3cr3t-cli-value"));
    return json::parse(out).at("action");
  };
  const auto sealed = json::parse(R"j([{"name":"Authorization","value":"(sealed)"}])j");

  // The url alone: method, body, timeout, attempts, backoffs and headers stay.
  cli_ok({"job", "update", "--org", "acme", "hb", "--http-url", "http://127.0.0.1:18432/ok?v=2"});
  json::object expected{
      {"type", "http"},    {"method", "PUT"},           {"url", "http://127.0.0.1:18432/ok?v=2"},
      {"headers", sealed}, {"body", "BODY {{branch}}"}, {"timeout_ms", 5000},
      {"max_attempts", 3}, {"base_backoff_ms", 1000},   {"max_backoff_ms", 60000}};
  EXPECT_EQ(action_of("hb"), json::value(expected));

  // The body alone, without --http-url.
  const auto body_only = cli({"job", "update", "--org", "acme", "hb", "--http-body", "x"});
  ASSERT_EQ(body_only.exit_code, 0) << body_only.describe();
  expected["body"] = "x";
  EXPECT_EQ(action_of("hb"), json::value(expected));

  // HTTP fields for a command job need the url; with it the job becomes an HTTP job.
  add_job_with("cmd", {"--branches", "main"}, {"/bin/true"});
  const auto refused = cli({"job", "update", "--org", "acme", "cmd", "--http-body", "x"});
  EXPECT_EQ(refused.exit_code, 1) << refused.describe();
  EXPECT_EQ(refused.err,
            "error: --http-url is required: job 'cmd' has no HTTP action (it runs a command); "
            "give --http-url to make it an HTTP job\n");
  EXPECT_EQ(action_of("cmd"), json::parse(R"({"type":"command","argv":["/bin/true"]})"));
  cli_ok({"job", "update", "--org", "acme", "cmd", "--http-url", "https://ci.example/{{branch}}",
          "--http-body", "x"});
  EXPECT_EQ(action_of("cmd"),
            json::parse(R"({"type":"http","method":"POST","url":"https://ci.example/{{branch}}",)"
                        R"("headers":[],"body":"x","timeout_ms":30000,"max_attempts":5,)"
                        R"("base_backoff_ms":1000,"max_backoff_ms":60000})"));

  // The admin API: a PATCH merges the same way; a null for a field without null is refused.
  ASSERT_TRUE(start_server());
  const auto patched = api("PATCH", "/jobs/hb", R"({"http":{"method":"POST","timeout_ms":7000}})");
  ASSERT_EQ(patched.status, 200) << patched.describe();
  EXPECT_TRUE(LacksSecret(patched.body, "s3cr3t-cli-value"));
  expected["method"] = "POST";
  expected["timeout_ms"] = 7000;
  EXPECT_EQ(patched.json().at("action"), json::value(expected));
  for (const std::string field : {"enabled", "name"}) {
    const auto r = api("PATCH", "/jobs/hb", "{\"" + field + "\":null}");
    EXPECT_EQ(r.status, 400) << r.describe();
    EXPECT_EQ(r.error_code(), "invalid_argument");
    EXPECT_EQ(r.error_message(),
              field + ": must not be null (leave the field out to keep its value)");
  }
  const auto after = api("GET", "/jobs/hb");
  ASSERT_EQ(after.status, 200) << after.describe();
  EXPECT_EQ(str(after.json(), "name"), "hb");
  EXPECT_TRUE(after.json().at("enabled").as_bool());
  EXPECT_EQ(after.json().at("action"), json::value(expected));
}

TEST_F(JobEventsTest, CliRunsListRefusesJobsItCannotNameAndIdsBelowOne) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  add_repo("acme", "NWA", "charts", (tmp_ / "charts.git").string());
  add_job_with("build", {"--branches", "main"}, {"true"});
  add_job_with("dup", {"--branches", "main"}, {"true"});
  add_job("acme", "NWA/charts", "dup", "main", {"true"});
  create_org("globex");
  add_repo("globex", "GLX", "tools", (tmp_ / "tools.git").string());
  add_job("globex", "GLX/tools", "build", "main", {"true"});
  add_job("globex", "GLX/tools", "solo", "main", {"true"});

  const auto refused = [&](const std::vector<std::string>& args, int exit_code,
                           const std::string& err) {
    const auto r = cli(args);
    EXPECT_EQ(r.exit_code, exit_code) << r.describe();
    EXPECT_EQ(r.err, err) << r.describe();
    EXPECT_EQ(r.out, "") << r.describe();
  };
  refused({"runs", "list", "--job", "nojob"}, 1, "error: no job named 'nojob'\n");
  refused({"runs", "list", "--job", "99"}, 1, "error: no job 99\n");
  refused({"runs", "list", "--org", "acme", "--job", "nojob"}, 1,
          "error: no job named 'nojob' in org acme\n");
  refused({"runs", "list", "--org", "acme", "--job", "solo"}, 1,
          "error: no job named 'solo' in org acme\n");
  refused({"runs", "list", "--org", "acme", "--job", "4"}, 1, "error: no job 4 in org acme\n");
  refused({"runs", "list", "--org", "acme", "--job", "dup"}, 1,
          "error: job: several repositories have a job named 'dup'; give its id\n");
  refused({"runs", "list", "--job", "dup"}, 1,
          "error: job: several repositories have a job named 'dup'; give its id\n");
  refused({"runs", "list", "--job", "build"}, 1,
          "error: job: several orgs have a job named 'build' (acme, globex); give --org or its "
          "id\n");
  for (const std::string before : {"-5", "0", "x"}) {
    const auto r = cli({"runs", "list", "--before", before});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_TRUE(Contains(r.err, "--before: must be a positive run id, not '" + before + "'"))
        << r.describe();
    EXPECT_EQ(r.out, "");
  }
  const auto deliveries = cli({"deliveries", "list", "--before", "0"});
  EXPECT_EQ(deliveries.exit_code, 2) << deliveries.describe();
  EXPECT_TRUE(Contains(deliveries.err, "--before: must be a positive delivery seq, not '0'"))
      << deliveries.describe();

  // What names one job is accepted: a name unique in the org or everywhere, an id.
  EXPECT_EQ(cli_json({"runs", "list", "--org", "acme", "--job", "build"}).size(), 0u);
  EXPECT_EQ(cli_json({"runs", "list", "--job", "solo"}).size(), 0u);
  EXPECT_EQ(cli_json({"runs", "list", "--job", "3"}).size(), 0u);
  EXPECT_EQ(cli_json({"runs", "list", "--org", "acme", "--job", "3", "--before", "1"}).size(), 0u);
}

TEST_F(JobEventsTest, CliJobListPagesLikeTheOtherLists) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  for (const std::string name : {"build", "test", "deploy"}) {
    add_job_with(name, {"--branches", "main"}, {"true"});
  }
  const auto first = cli({"job", "list", "--org", "acme", "--limit", "2"});
  ASSERT_EQ(first.exit_code, 0) << first.describe();
  EXPECT_TRUE(StartsWith(first.out, "ID    NAME")) << first.out;
  EXPECT_TRUE(Contains(first.out, "build"));
  EXPECT_TRUE(Contains(first.out, "test"));
  EXPECT_FALSE(Contains(first.out, "deploy"));
  EXPECT_EQ(first.err, "more: --cursor 2\n");
  const auto last = cli({"job", "list", "--org", "acme", "--limit", "2", "--cursor", "2"});
  ASSERT_EQ(last.exit_code, 0) << last.describe();
  EXPECT_TRUE(Contains(last.out, "deploy"));
  EXPECT_FALSE(Contains(last.out, "build"));
  EXPECT_EQ(last.err, "");

  const auto page = cli_page({"job", "list", "--org", "acme", "--limit", "2"});
  ASSERT_EQ(page.at("items").as_array().size(), 2u);
  EXPECT_EQ(str(page.at("items").at(0), "name"), "build");
  EXPECT_EQ(str(page, "next_cursor"), "2");
  const auto rest = cli_page({"job", "list", "--org", "acme", "--cursor", "2"});
  ASSERT_EQ(rest.at("items").as_array().size(), 1u);
  EXPECT_EQ(str(rest.at("items").at(0), "name"), "deploy");
  EXPECT_TRUE(rest.at("next_cursor").is_null());
  EXPECT_EQ(cli_json({"job", "list", "--org", "acme"}).size(), 3u);
  EXPECT_EQ(cli({"job", "list", "--org", "acme", "--limit", "201"}).exit_code, 2);
  const auto bad_cursor = cli({"job", "list", "--org", "acme", "--cursor", "x"});
  EXPECT_EQ(bad_cursor.exit_code, 1) << bad_cursor.describe();
  EXPECT_EQ(bad_cursor.out, "");
}

TEST_F(JobEventsTest, CliListsPrintNothingOnStdoutWhenTheyFail) {
  const std::vector<std::vector<std::string>> lists = {
      {"job", "list", "--org", "nope"},
      {"runs", "list", "--org", "nope"},
      {"deliveries", "list", "--org", "nope"},
      {"token", "list", "--org", "nope"},
      {"audit", "list", "--org", "nope"},
      {"repo", "list", "--org", "nope"},
      {"alm", "list", "--org", "nope"},
      {"outbox", "list", "--org", "nope"},
      {"stories", "list", "--org", "nope"},
      {"stories", "show", "ABC-1", "--org", "nope"},
      {"commits", "stories", "0123456789abcdef", "--org", "nope"},
      {"smart-commits", "patterns", "list", "--org", "nope"},
  };
  for (const auto& args : lists) {
    for (const bool as_json : {false, true}) {
      auto with = args;
      if (as_json) with.push_back("--json");
      const auto r = cli(with);
      EXPECT_EQ(r.exit_code, 1) << r.describe();
      EXPECT_EQ(r.out, "") << args[0] << " " << args[1] << ": " << r.describe();
      EXPECT_TRUE(Contains(r.err, "error: no org named 'nope'")) << r.describe();
    }
  }
}

TEST_F(JobEventsTest, LogExcerptIsTheLast16KiBInTheApiAndTheCli) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  add_job_with("noisy", {"--branches", "release/*"},
               {"/bin/sh", "-c", "head -c 40000 /dev/zero | tr '\\0' x; echo END"});
  ASSERT_TRUE(start_server());
  const auto r = send_fixture("branch_update");
  const std::string id = str(r.json(), "delivery_id");
  wait_processed(id);
  const auto settled = wait_runs_settled(id);
  ASSERT_EQ(settled.size(), 1u);
  ASSERT_EQ(str(settled[0], "status"), "succeeded") << json::serialize(settled[0]);
  const std::string run = std::to_string(settled[0].at("id").as_int64());

  const auto from_cli = json::parse(cli_ok({"runs", "get", run, "--json"}));
  const std::string cli_excerpt = str(from_cli, "log_excerpt");
  EXPECT_EQ(cli_excerpt.size(), 16u * 1024);
  EXPECT_TRUE(cli_excerpt.ends_with("xxxEND\n"));
  const auto from_api = api("GET", "/runs/" + run);
  ASSERT_EQ(from_api.status, 200) << from_api.describe();
  EXPECT_EQ(str(from_api.json(), "log_excerpt"), cli_excerpt);
  EXPECT_EQ(str(from_api.json(), "output_tail").size(), 4096u);
}

TEST_F(JobEventsTest, CliJobDisableHelpSaysQueuedRunsStillRun) {
  const auto help = cli({"job", "disable", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.describe();
  EXPECT_TRUE(Contains(help.out, "runs already queued or running still run")) << help.out;
}

TEST_F(JobEventsTest, HttpActionCallsTheCiWithTheTemplatesAndRetriesA503) {
  add_fixture_repo((tmp_ / "no-such-repo.git").string());
  api_token_ = create_token("acme", "automation", "api");
  HttpStub jenkins;
  jenkins.enqueue({.status = 503});
  jenkins.enqueue({.status = 201, .body = "queued"});
  ASSERT_TRUE(start_server());
  const std::string secret = "Basic amVua2luczpzM2NyZXQ=";
  json::object job{
      {"name", "jenkins"},
      {"repository", "NWA/flight-planner"},
      {"branches", "main"},
      {"events", json::array{"pr:opened"}},
      {"http",
       json::object{
           {"url", jenkins.url("/job/fp/buildWithParameters?BRANCH={{pull_request.source_branch}}"
                               "&PR={{pull_request.id}}")},
           {"headers",
            json::object{{"Authorization", secret}, {"Content-Type", "application/json"}}},
           {"body", R"({"to":"{{to_hash}}","title":"{{pull_request.title}}"})"},
           {"base_backoff_ms", 10},
           {"max_backoff_ms", 20}}}};
  const auto created = api("POST", "/jobs", json::serialize(job));
  ASSERT_EQ(created.status, 201) << created.describe();
  EXPECT_TRUE(LacksSecret(created.body, "amVua2luczpzM2NyZXQ="));

  const auto r = send_fixture("pr_opened");
  ASSERT_EQ(r.status, 202);
  const std::string id = str(r.json(), "delivery_id");
  EXPECT_EQ(str(wait_processed(id), "status"), "done");
  const auto list = wait_runs_settled(id);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(str(list[0], "status"), "succeeded") << json::serialize(list[0]);
  EXPECT_EQ(list[0].at("exit_code").as_int64(), 201);
  ASSERT_EQ(jenkins.request_count(), 2u);
  const auto sent = jenkins.requests()[1];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target,
            "/job/fp/buildWithParameters?BRANCH=feature%2FNWA-540-holding-entry&PR=63");
  EXPECT_EQ(sent.header("Authorization"), std::optional<std::string>(secret));
  EXPECT_EQ(sent.body,
            R"({"to":"d0714c487a4dc00f14c34257aa83bd18123e07d3","title":"NWA-540 Holding pattern )"
            R"(entry calculator"})");
  const auto log = api("GET", "/runs/" + std::to_string(list[0].at("id").as_int64()) + "/log");
  EXPECT_EQ(log.status, 200);
  EXPECT_TRUE(Contains(log.body, "503"));
  EXPECT_TRUE(LacksSecret(log.body, "amVua2luczpzM2NyZXQ="));
  EXPECT_TRUE(LacksSecret(server_->stderr_text(), "amVua2luczpzM2NyZXQ="));
}

}  // namespace
}  // namespace cbtest
