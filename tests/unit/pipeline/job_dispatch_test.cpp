// JobDispatch (matching, queuing, reasons) and JobRunner (executing) with a real SQLite store
// and real commands (/bin/sh).

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <fstream>

#include <gtest/gtest.h>

#include "pipeline/job_dispatch.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

using ::testing::HasSubstr;
using testing::read_file;

constexpr std::string_view kPayload = R"({"eventKey":"repo:refs_changed","test":true})";

class JobDispatchTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    paths_ = PipelinePaths::under(dir_.path() / "data");
    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "NWA";
    r.slug = "flight-planner";
    r.clone_url = "/srv/git/flight-planner.git";
    r.created_at_ms = kStart;
    auto repo = store_->create_repository(r);
    ASSERT_TRUE(repo.has_value());
    repo_ = *repo;
    dispatch_ = std::make_unique<JobDispatch>(*store_, clock_, paths_);
    runner_ = std::make_unique<JobRunner>(*store_, clock_, paths_, nullptr, HttpActionExecutor{});
  }

  store::JobRecord add_job(std::string name, std::string branches, std::vector<std::string> argv,
                           bool enabled = true,
                           const std::function<void(store::JobRecord&)>& edit = {}) {
    store::JobRecord j;
    j.org_id = org_.id;
    j.repository_id = repo_.id;
    j.name = std::move(name);
    j.branches = std::move(branches);
    j.argv = std::move(argv);
    j.enabled = enabled;
    j.created_at_ms = kStart;
    if (edit) edit(j);
    auto created = store_->create_job(j);
    EXPECT_TRUE(created.has_value());
    return created.value_or(store::JobRecord{});
  }

  /// A delivery persisted and claimed, as the worker would hand it over.
  store::DeliveryRecord claimed_delivery(const std::string& id) {
    store::NewDelivery d;
    d.delivery_id = id;
    d.org_id = org_.id;
    d.endpoint = "trigger-scm-push-request";
    d.provider = "bitbucket_server";
    d.event_key = "repo:refs_changed";
    d.external_id = "ext-" + id;
    d.headers = {Header{"Content-Type", "application/json"}};
    d.body = std::string(kPayload);
    d.received_at_ms = clock_.now_ms();
    EXPECT_TRUE(testing::persist_and_wait(*store_, d).has_value());
    auto claimed = store_->claim_next_delivery(clock_.now_ms());
    EXPECT_TRUE(claimed.has_value() && claimed->has_value());
    if (!claimed || !*claimed) return store::DeliveryRecord{};
    EXPECT_EQ((*claimed)->delivery_id, id);
    return **claimed;
  }

  static PushEvent push(std::string name, RefChangeType type = RefChangeType::update,
                        RefType ref_type = RefType::branch) {
    PushEvent p;
    p.repository.provider = "bitbucket_server";
    p.repository.project_key = "NWA";
    p.repository.slug = "flight-planner";
    RefChange c;
    c.ref_id = (ref_type == RefType::tag ? "refs/tags/" : "refs/heads/") + name;
    c.display_id = std::move(name);
    c.ref_type = ref_type;
    c.type = type;
    c.from_hash = type == RefChangeType::add ? std::string(kZeroHash) : std::string(40, 'a');
    c.to_hash = type == RefChangeType::remove ? std::string(kZeroHash) : std::string(40, 'b');
    p.changes.push_back(std::move(c));
    return p;
  }

  std::vector<store::JobRunRecord> runs_of(const std::string& delivery_id) {
    store::RunQuery q;
    q.delivery_id = delivery_id;
    auto runs = store_->list_runs(q);
    EXPECT_TRUE(runs.has_value());
    return runs.value_or(std::vector<store::JobRunRecord>{});
  }

  PipelinePaths paths_;
  store::RepositoryRecord repo_;
  std::unique_ptr<JobDispatch> dispatch_;
  std::unique_ptr<JobRunner> runner_;
};

TEST_F(JobDispatchTest, MatchingBranchRunsTheJobOnceAndRecordsItsOutput) {
  const auto job =
      add_job("build", "main,release/*",
              {"/bin/sh", "-c", "echo built $COMMITBRIDGE_BRANCH of $COMMITBRIDGE_REPOSITORY"});
  const auto delivery = claimed_delivery("d-1");
  clock_.advance(10);

  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason, "1 job run queued: build@main (run 1)");
  EXPECT_FALSE(outcome.retry);
  EXPECT_EQ(runs_of("d-1").front().status, "queued");
  EXPECT_EQ(runner_->drain(), 1u);

  const auto runs = runs_of("d-1");
  ASSERT_EQ(runs.size(), 1u);
  const auto& run = runs.front();
  EXPECT_EQ(run.job_id, job.id);
  EXPECT_EQ(run.job_name, "build");
  EXPECT_EQ(run.repository, "NWA/flight-planner");
  EXPECT_EQ(run.ref_id, "refs/heads/main");
  EXPECT_EQ(run.branch, "main");
  EXPECT_EQ(run.from_hash, std::string(40, 'a'));
  EXPECT_EQ(run.to_hash, std::string(40, 'b'));
  EXPECT_EQ(run.status, "succeeded");
  EXPECT_EQ(run.exit_code, std::optional<int>(0));
  EXPECT_EQ(run.output_tail, "built main of NWA/flight-planner\n");
  EXPECT_EQ(run.created_at_ms, kStart + 10);
  EXPECT_TRUE(run.started_at_ms.has_value());
  EXPECT_TRUE(run.finished_at_ms.has_value());
  const auto log = paths_.job_logs / (std::to_string(run.id) + ".log");
  EXPECT_EQ(run.log_path, log.string());
  EXPECT_EQ(read_file(log), "built main of NWA/flight-planner\n");
  EXPECT_TRUE(std::filesystem::is_directory(paths_.workspaces / std::to_string(run.id)));
}

TEST_F(JobDispatchTest, TheCommandReadsThePayloadFileAndTheDeliveryEnvironment) {
  add_job("env", "**",
          {"/bin/sh", "-c",
           "cat \"$COMMITBRIDGE_PAYLOAD_FILE\"; echo; echo $COMMITBRIDGE_ORG "
           "$COMMITBRIDGE_DELIVERY_ID $COMMITBRIDGE_REF $COMMITBRIDGE_EVENT_KEY $COMMITBRIDGE_JOB "
           "$COMMITBRIDGE_PROJECT_KEY $COMMITBRIDGE_REPOSITORY_SLUG; pwd"});
  const auto delivery = claimed_delivery("d-env");
  const auto outcome =
      dispatch_->dispatch(delivery, repo_, push("feature/x"), std::string(kPayload));
  ASSERT_EQ(outcome.status, "done") << outcome.reason;
  EXPECT_EQ(runner_->drain(), 1u);
  const auto runs = runs_of("d-env");
  ASSERT_EQ(runs.size(), 1u);
  const std::string workdir =
      std::filesystem::canonical(paths_.workspaces / std::to_string(runs[0].id)).string();
  EXPECT_EQ(runs[0].output_tail, std::string(kPayload) +
                                     "\nNorthwind d-env refs/heads/feature/x repo:refs_changed "
                                     "env NWA flight-planner\n" +
                                     workdir + "\n");
  EXPECT_EQ(read_file(paths_.payloads / "d-env.json"), kPayload);
}

TEST_F(JobDispatchTest, NonMatchingBranchIsIgnoredWithTheBranchName) {
  add_job("build", "main", {"/bin/sh", "-c", "echo never"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome =
      dispatch_->dispatch(delivery, repo_, push("release/2.1"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "no job matches branch release/2.1");
  EXPECT_FALSE(outcome.retry);
  EXPECT_TRUE(runs_of("d-1").empty());
  EXPECT_FALSE(std::filesystem::exists(paths_.payloads / "d-1.json"));
}

TEST_F(JobDispatchTest, DeletedBranchIsIgnored) {
  add_job("build", "**", {"/bin/sh", "-c", "echo never"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main", RefChangeType::remove),
                                           std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "branch main was deleted");
  EXPECT_TRUE(runs_of("d-1").empty());
}

TEST_F(JobDispatchTest, TagIsIgnored) {
  add_job("build", "**", {"/bin/sh", "-c", "echo never"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(
      delivery, repo_, push("v1.0", RefChangeType::add, RefType::tag), std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "tag v1.0: job build runs on branch pushes only");
}

TEST_F(JobDispatchTest, RepositoryWithoutJobsIsIgnored) {
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "no job for repository NWA/flight-planner");
}

TEST_F(JobDispatchTest, DisabledJobDoesNotRun) {
  add_job("build", "main", {"/bin/sh", "-c", "echo never"}, false);
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "job build is disabled");
  EXPECT_TRUE(runs_of("d-1").empty());
}

TEST_F(JobDispatchTest, PushWithoutChangesIsIgnored) {
  add_job("build", "main", {"/bin/sh", "-c", "echo never"});
  const auto delivery = claimed_delivery("d-1");
  PushEvent empty = push("main");
  empty.changes.clear();
  const auto outcome = dispatch_->dispatch(delivery, repo_, empty, std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "the push lists no ref changes");
}

TEST_F(JobDispatchTest, DispatchingTheSameDeliveryTwiceNeverStartsARunAgain) {
  const auto marker = dir_.path() / "marker";
  add_job("build", "main", {"/bin/sh", "-c", "echo ran >> '" + marker.string() + "'; echo ok"});
  const auto delivery = claimed_delivery("d-1");

  const auto first = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(first.status, "done");
  EXPECT_EQ(first.reason, "1 job run queued: build@main (run 1)");
  EXPECT_EQ(runner_->drain(), 1u);

  const auto second = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(second.status, "done");
  EXPECT_EQ(second.reason,
            "1 job run queued: build@main (run 1, created by an earlier attempt, succeeded)");
  EXPECT_EQ(runner_->drain(), 0u);

  EXPECT_EQ(read_file(marker), "ran\n");
  const auto runs = runs_of("d-1");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "succeeded");
}

TEST_F(JobDispatchTest, ARefListedSeveralTimesInOnePushRunsOnce) {
  const auto marker = dir_.path() / "marker";
  add_job("build", "main", {"/bin/sh", "-c", "echo ran >> '" + marker.string() + "'"});
  const auto delivery = claimed_delivery("d-1");
  PushEvent repeated = push("main");
  repeated.changes.push_back(repeated.changes.front());
  repeated.changes.push_back(repeated.changes.front());

  const auto outcome = dispatch_->dispatch(delivery, repo_, repeated, std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason, "1 job run queued: build@main (run 1)");
  EXPECT_EQ(runner_->drain(), 1u);
  EXPECT_EQ(read_file(marker), "ran\n");
  EXPECT_EQ(runs_of("d-1").size(), 1u);
}

TEST_F(JobDispatchTest, FailingCommandFailsTheRunButTheDeliveryIsDone) {
  add_job("test", "main", {"/bin/sh", "-c", "echo 'tests failed' >&2; exit 3"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason, "1 job run queued: test@main (run 1)");
  EXPECT_FALSE(outcome.retry);
  EXPECT_EQ(runner_->drain(), 1u);

  const auto runs = runs_of("d-1");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "failed");
  EXPECT_EQ(runs[0].exit_code, std::optional<int>(3));
  EXPECT_EQ(runs[0].output_tail, "tests failed\n");

  // Recorded on the delivery as the worker does.
  ASSERT_TRUE(store_->finish_delivery(delivery.delivery_id, outcome.status, outcome.reason,
                                      clock_.now_ms(), 0));
  auto stored = store_->get_delivery("d-1");
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->status, "done");
  EXPECT_EQ((*stored)->reason, "1 job run queued: test@main (run 1)");
}

TEST_F(JobDispatchTest, ATimedOutCommandSaysSoInItsLog) {
  add_job("slow", "main", {"/bin/sh", "-c", "echo started; exec sleep 30"}, true,
          [](store::JobRecord& j) { j.timeout_ms = 200; });
  const auto delivery = claimed_delivery("d-1");
  (void)dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(runner_->drain(), 1u);
  const auto runs = runs_of("d-1");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "failed");
  const std::string marker =
      "[commitbridge: the command timed out after 200 ms; its process group was stopped "
      "(SIGTERM, then SIGKILL)]";
  EXPECT_NE(runs[0].output_tail.find(marker), std::string::npos) << runs[0].output_tail;
  std::ifstream in(runs[0].log_path, std::ios::binary);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(log, "started\n\n" + marker + "\n");
}

TEST_F(JobDispatchTest, MissingProgramIsAFailedRunWithExit127) {
  add_job("ghost", "main", {"/nonexistent/bin/build"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason, "1 job run queued: ghost@main (run 1)");
  EXPECT_EQ(runner_->drain(), 1u);
  const auto runs = runs_of("d-1");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].exit_code, std::optional<int>(127));
  EXPECT_THAT(runs[0].output_tail, HasSubstr("cannot execute /nonexistent/bin/build"));
}

TEST_F(JobDispatchTest, EveryMatchingJobRunsAndReasonsAreCombined) {
  add_job("a-build", "main", {"/bin/sh", "-c", "exit 0"});
  add_job("b-lint", "**", {"/bin/sh", "-c", "exit 1"});
  add_job("c-release", "release/*", {"/bin/sh", "-c", "exit 0"});
  const auto delivery = claimed_delivery("d-1");
  PushEvent p = push("main");
  auto gone = push("old", RefChangeType::remove).changes.front();
  p.changes.push_back(gone);
  const auto outcome = dispatch_->dispatch(delivery, repo_, p, std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason,
            "2 job runs queued: a-build@main (run 1), b-lint@main (run 2); branch old was "
            "deleted");
  EXPECT_EQ(runs_of("d-1").size(), 2u);
}

TEST_F(JobDispatchTest, ExclusionRuleIsNamedWithItsJob) {
  add_job("build", "**", {"/bin/true"});
  add_job("deploy", "**,!release/*", {"/bin/true"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome =
      dispatch_->dispatch(delivery, repo_, push("release/2.1"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason,
            "1 job run queued: build@release/2.1 (run 1); branch release/2.1 excluded by rule "
            "!release/* of job deploy");
}

TEST_F(JobDispatchTest, SkipMarkerInTheHeadCommitOfThePreviewRunsNothing) {
  add_job("build", "main", {"/bin/true"});
  add_job("always", "main", {"/bin/true"}, true,
          [](store::JobRecord& j) { j.skip_marker = false; });
  const auto delivery = claimed_delivery("d-1");
  PushEvent p = push("main");
  p.to_commit = CommitPreview{std::string(40, 'b'), "Fix typo [CI Skip]", {}, 0, {}};
  const auto outcome = dispatch_->dispatch(delivery, repo_, p, std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason,
            "1 job run queued: always@main (run 1); skip marker [ci skip] in head commit bbbbbbb "
            "of branch main skipped job build");
}

TEST_F(JobDispatchTest, SkipMarkerOfAMatchingJobIsTheReasonAndNotNoJobMatches) {
  add_job("build", "main", {"/bin/true"});
  add_job("deploy", "release/*", {"/bin/true"});
  const auto delivery = claimed_delivery("d-1");
  PushEvent p = push("main");
  p.to_commit = CommitPreview{"3844482" + std::string(33, 'b'), "wip [CI SKIP]", {}, 0, {}};
  p.changes.front().to_hash = p.to_commit->hash;
  const auto outcome = dispatch_->dispatch(delivery, repo_, p, std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason,
            "skip marker [ci skip] in head commit 3844482 of branch main skipped job build");
  EXPECT_TRUE(runs_of("d-1").empty());
}

TEST_F(JobDispatchTest, TagPushRunsJobsThatSelectTagsWithTheirTagRules) {
  add_job("release", "main", {"/bin/sh", "-c", "echo $COMMITBRIDGE_EVENT $COMMITBRIDGE_BRANCH"},
          true, [](store::JobRecord& j) {
            j.events = {"push", "tag"};
            j.tags = "v*";
          });
  const auto delivery = claimed_delivery("d-1");
  PushEvent p = push("v1.0", RefChangeType::add, RefType::tag);
  p.changes.push_back(push("nightly-7", RefChangeType::add, RefType::tag).changes.front());
  const auto outcome = dispatch_->dispatch(delivery, repo_, p, std::string(kPayload));
  EXPECT_EQ(outcome.reason, "1 job run queued: release@v1.0 (run 1); no job matches tag nightly-7");
  EXPECT_EQ(runner_->drain(), 1u);
  const auto runs = runs_of("d-1");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].event, "tag");
  EXPECT_EQ(runs[0].ref_id, "refs/tags/v1.0");
  EXPECT_EQ(runs[0].output_tail, "tag v1.0\n");
}

PullRequestEvent pull_request(PullRequestAction action) {
  PullRequestEvent pr;
  pr.repository.project_key = "NWA";
  pr.repository.slug = "flight-planner";
  pr.action = action;
  pr.id = 63;
  pr.title = "NWA-540 Holding pattern";
  pr.source_ref_id = "refs/heads/feature/NWA-540";
  pr.source_branch = "feature/NWA-540";
  pr.source_hash = std::string(40, 'c');
  pr.target_ref_id = "refs/heads/main";
  pr.target_branch = "main";
  pr.target_hash = std::string(40, 'd');
  return pr;
}

TEST_F(JobDispatchTest, PullRequestRunsOnTargetAndSourceRulesWithItsEnvironment) {
  add_job("pr-build", "release/*",
          {"/bin/sh", "-c",
           "echo $COMMITBRIDGE_EVENT $COMMITBRIDGE_PULL_REQUEST_ID $COMMITBRIDGE_PULL_REQUEST_"
           "SOURCE_BRANCH $COMMITBRIDGE_PULL_REQUEST_TARGET_BRANCH $COMMITBRIDGE_TO_HASH"},
          true, [](store::JobRecord& j) {
            j.events = {"pr:opened", "pr:source_updated"};
            j.target_branches = "main";
            j.source_branches = "feature/**";
          });
  add_job("push-only", "**", {"/bin/true"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch_pull_request(
      delivery, repo_, pull_request(PullRequestAction::opened), std::string(kPayload));
  EXPECT_EQ(outcome.reason, "1 job run queued: pr-build@feature/NWA-540 (run 1)");
  EXPECT_EQ(runner_->drain(), 1u);
  const auto runs = runs_of("d-1");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].ref_id, "refs/pull-requests/63/from");
  EXPECT_EQ(runs[0].pull_request_id, std::optional<std::int64_t>(63));
  EXPECT_EQ(runs[0].output_tail,
            "pr:opened 63 feature/NWA-540 main " + std::string(40, 'c') + "\n");

  const auto declined = claimed_delivery("d-2");
  const auto none = dispatch_->dispatch_pull_request(
      declined, repo_, pull_request(PullRequestAction::declined), std::string(kPayload));
  EXPECT_EQ(none.status, "ignored");
  EXPECT_EQ(none.reason,
            "event pr:declined not selected by job pr-build; event pr:declined not selected by "
            "job push-only");
}

TEST_F(JobDispatchTest, MirrorSyncOverTheRefLimitTriggersNothingAndSaysWhy) {
  add_job("build", "**", {"/bin/true"});
  auto delivery = claimed_delivery("d-1");
  delivery.event_key = "mirror:repo_synchronized";
  PushEvent empty = push("main");
  empty.changes.clear();
  const auto outcome = dispatch_->dispatch(delivery, repo_, empty, std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_THAT(outcome.reason, HasSubstr("refLimitExceeded"));
}

TEST_F(JobDispatchTest, MaxConcurrentRunsKeepsFurtherRunsWaiting) {
  add_job("build", "**", {"/bin/true"}, true, [](store::JobRecord& j) { j.max_concurrent = 1; });
  add_job("lint", "**", {"/bin/true"}, true, [](store::JobRecord& j) { j.max_concurrent = 2; });
  for (const char* id : {"d-1", "d-2"}) {
    const auto d = claimed_delivery(id);
    ASSERT_EQ(dispatch_->dispatch(d, repo_, push("main"), std::string(kPayload)).status, "done");
  }
  auto claim = [&] { return store_->claim_next_run(clock_.now_ms(), {}); };
  auto a = claim();  // build, d-1
  auto b = claim();  // lint, d-1 (build has one running)
  auto c = claim();  // lint, d-2
  auto none = claim();
  ASSERT_TRUE(a && *a && b && *b && c && *c && none);
  EXPECT_EQ((*a)->job_name, "build");
  EXPECT_EQ((*b)->job_name, "lint");
  EXPECT_EQ((*c)->job_name, "lint");
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(store_->finish_run((*a)->id, "succeeded", 0, clock_.now_ms(), ""));
  auto next = claim();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ((*next)->job_name, "build");
  EXPECT_EQ((*next)->delivery_id, "d-2");
}

TEST_F(JobDispatchTest, NewerRunSupersedesTheWaitingRunOfTheSameBranch) {
  add_job("build", "**", {"/bin/true"}, true, [](store::JobRecord& j) { j.supersede = true; });
  const auto d1 = claimed_delivery("d-1");
  ASSERT_EQ(dispatch_->dispatch(d1, repo_, push("main"), std::string(kPayload)).status, "done");
  const auto d2 = claimed_delivery("d-2");
  const auto other = dispatch_->dispatch(d2, repo_, push("dev"), std::string(kPayload));
  EXPECT_EQ(other.reason, "1 job run queued: build@dev (run 2)");
  const auto d3 = claimed_delivery("d-3");
  const auto newer = dispatch_->dispatch(d3, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(newer.reason, "1 job run queued: build@main (run 3, supersedes run 1)");
  const auto old = store_->get_run(1);
  ASSERT_TRUE(old && *old);
  EXPECT_EQ((*old)->status, "superseded");
  EXPECT_EQ((*old)->superseded_by, std::optional<std::int64_t>(3));
  EXPECT_EQ((*old)->status_reason, "superseded by run 3");
  EXPECT_EQ(runner_->drain(), 2u);
}

TEST_F(JobDispatchTest, CancelledQueuedRunNeverStartsAndARerunIsANewAttempt) {
  const auto marker = dir_.path() / "marker";
  add_job("build", "main", {"/bin/sh", "-c", "echo ran >> '" + marker.string() + "'"});
  const auto d = claimed_delivery("d-1");
  ASSERT_EQ(dispatch_->dispatch(d, repo_, push("main"), std::string(kPayload)).status, "done");
  auto cancelled = store_->cancel_run(1, clock_.now_ms(), "cancelled by cli:test");
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->status, "cancelled");
  EXPECT_EQ(runner_->drain(), 0u);
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(store_->cancel_run(1, clock_.now_ms(), "again").error().code, ErrorCode::conflict);

  auto again = store_->rerun(1, clock_.now_ms());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->attempt, 1);
  EXPECT_EQ(again->rerun_of, std::optional<std::int64_t>(1));
  EXPECT_EQ(again->status, "queued");
  EXPECT_EQ(runner_->drain(), 1u);
  EXPECT_EQ(read_file(marker), "ran\n");
  // The automatic path still sees its own run (attempt 0) and creates nothing.
  const auto redo = dispatch_->dispatch(d, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(redo.reason,
            "1 job run queued: build@main (run 1, created by an earlier attempt, cancelled)");
  EXPECT_EQ(runs_of("d-1").size(), 2u);
}

TEST_F(JobDispatchTest, CancellingARunningCommandStopsItsProcessGroup) {
  add_job("slow", "main", {"/bin/sh", "-c", "echo started; sleep 30"});
  const auto d = claimed_delivery("d-1");
  ASSERT_EQ(dispatch_->dispatch(d, repo_, push("main"), std::string(kPayload)).status, "done");
  JobRunner runner(*store_, clock_, paths_, nullptr, HttpActionExecutor{},
                   JobRunnerOptions{1, std::chrono::seconds(60), std::chrono::milliseconds(20),
                                    std::chrono::milliseconds(20)});
  runner.start();
  auto status_of = [&] {
    auto r = store_->get_run(1);
    return r && *r ? (*r)->status : std::string();
  };
  const auto deadline = std::chrono::steady_clock::now() + testing::kWaitLimit;
  while (status_of() != "running" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval
  }
  ASSERT_EQ(status_of(), "running");
  ASSERT_TRUE(store_->cancel_run(1, clock_.now_ms(), "cancelled by cli:test").has_value());
  while (status_of() == "running" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval
  }
  runner.stop();
  const auto run = store_->get_run(1);
  ASSERT_TRUE(run && *run);
  EXPECT_EQ((*run)->status, "cancelled");
  EXPECT_EQ((*run)->status_reason, "cancelled by cli:test");
  EXPECT_THAT((*run)->output_tail, HasSubstr("started"));
}

TEST_F(JobDispatchTest, RecoveryInterruptsRunningRunsAndRequeuesWhenTheJobAsks) {
  add_job("plain", "main", {"/bin/true"});
  add_job("requeue", "main", {"/bin/true"}, true,
          [](store::JobRecord& j) { j.requeue_interrupted = true; });
  const auto d = claimed_delivery("d-1");
  ASSERT_EQ(dispatch_->dispatch(d, repo_, push("main"), std::string(kPayload)).status, "done");
  ASSERT_TRUE(store_->mark_run_started(1, clock_.now_ms(), ""));
  ASSERT_TRUE(store_->mark_run_started(2, clock_.now_ms(), ""));
  auto recovered = store_->recover_runs(clock_.now_ms());
  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ(recovered->interrupted, 2);
  EXPECT_EQ(recovered->requeued, 1);
  const auto runs = runs_of("d-1");  // newest first
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].job_name, "requeue");
  EXPECT_EQ(runs[0].status, "queued");
  EXPECT_EQ(runs[0].attempt, 1);
  EXPECT_EQ(runs[0].rerun_of, std::optional<std::int64_t>(2));
  EXPECT_EQ(runs[1].status, "interrupted");
  EXPECT_EQ(runs[2].status, "interrupted");
  EXPECT_EQ(runner_->drain(), 1u);
}

}  // namespace
}  // namespace cb::pipeline
