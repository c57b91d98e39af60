// JobDispatch with a real SQLite store and real commands (/bin/sh).

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/job_dispatch.hpp"
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
    dispatch_ = std::make_unique<JobDispatch>(*store_, clock_, paths_, std::chrono::seconds(60));
  }

  store::JobRecord add_job(std::string name, std::string branches, std::vector<std::string> argv,
                           bool enabled = true) {
    store::JobRecord j;
    j.org_id = org_.id;
    j.repository_id = repo_.id;
    j.name = std::move(name);
    j.branches = std::move(branches);
    j.argv = std::move(argv);
    j.enabled = enabled;
    j.created_at_ms = kStart;
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
};

TEST_F(JobDispatchTest, MatchingBranchRunsTheJobOnceAndRecordsItsOutput) {
  const auto job =
      add_job("build", "main,release/*",
              {"/bin/sh", "-c", "echo built $COMMITBRIDGE_BRANCH of $COMMITBRIDGE_REPOSITORY"});
  const auto delivery = claimed_delivery("d-1");
  clock_.advance(10);

  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason, "1 job run: build@main succeeded");
  EXPECT_FALSE(outcome.retry);

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
  EXPECT_EQ(outcome.reason, "tag v1.0: jobs run on branches only");
}

TEST_F(JobDispatchTest, RepositoryWithoutJobsIsIgnored) {
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "repository NWA/flight-planner has no jobs");
}

TEST_F(JobDispatchTest, DisabledJobDoesNotRun) {
  add_job("build", "main", {"/bin/sh", "-c", "echo never"}, false);
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "ignored");
  EXPECT_EQ(outcome.reason, "no job matches branch main");
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
  EXPECT_EQ(first.reason, "1 job run: build@main succeeded");

  const auto second = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(second.status, "done");
  EXPECT_EQ(second.reason, "1 job run: build@main succeeded (not started again)");

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
  EXPECT_EQ(outcome.reason, "1 job run: build@main succeeded");
  EXPECT_EQ(read_file(marker), "ran\n");
  EXPECT_EQ(runs_of("d-1").size(), 1u);
}

TEST_F(JobDispatchTest, FailingCommandFailsTheRunButTheDeliveryIsDone) {
  add_job("test", "main", {"/bin/sh", "-c", "echo 'tests failed' >&2; exit 3"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason, "1 job run: test@main failed");
  EXPECT_FALSE(outcome.retry);

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
  EXPECT_EQ((*stored)->reason, "1 job run: test@main failed");
}

TEST_F(JobDispatchTest, MissingProgramIsAFailedRunWithExit127) {
  add_job("ghost", "main", {"/nonexistent/bin/build"});
  const auto delivery = claimed_delivery("d-1");
  const auto outcome = dispatch_->dispatch(delivery, repo_, push("main"), std::string(kPayload));
  EXPECT_EQ(outcome.status, "done");
  EXPECT_EQ(outcome.reason, "1 job run: ghost@main failed");
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
            "2 job runs: a-build@main succeeded, b-lint@main failed; branch old was deleted");
  EXPECT_EQ(runs_of("d-1").size(), 2u);
}

}  // namespace
}  // namespace cb::pipeline
