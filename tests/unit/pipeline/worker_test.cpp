// DeliveryProcessor and Worker: a stored Bitbucket delivery goes through parse → repository →
// dispatch, and transient failures are retried with backoff.

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/commit_sync.hpp"
#include "pipeline/delivery_processor.hpp"
#include "pipeline/job_dispatch.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/worker.hpp"
#include "pipeline_test_util.hpp"
#include "smartcommit/story_key_pattern.hpp"

namespace cb::pipeline {
namespace {

using testing::bitbucket_fixture;
using ::testing::HasSubstr;
using testing::parse_headers;
using testing::read_file;
using ::testing::StartsWith;

class WorkerTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    auto pattern = smartcommit::StoryKeyPattern::jira_default();
    ASSERT_TRUE(pattern.has_value());
    pattern_ = std::make_unique<smartcommit::StoryKeyPattern>(std::move(*pattern));
    paths_ = PipelinePaths::under(dir_.path() / "data");
    jobs_ = std::make_unique<JobDispatch>(*store_, clock_, paths_);
    runner_ = std::make_unique<JobRunner>(*store_, clock_, paths_, nullptr, HttpActionExecutor{});
    sync_ = std::make_unique<CommitSync>(*store_, clock_, paths_, *pattern_);
    processor_ = std::make_unique<DeliveryProcessor>(*store_, *jobs_, *sync_);
  }

  store::RepositoryRecord add_repository(const std::string& clone_url) {
    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "NWA";  // as in the branch_update fixture
    r.slug = "flight-planner";
    r.clone_url = clone_url;
    auto repo = store_->create_repository(r);
    EXPECT_TRUE(repo.has_value());
    return repo.value_or(store::RepositoryRecord{});
  }

  void add_job(const store::RepositoryRecord& repo, std::string branches) {
    store::JobRecord j;
    j.org_id = org_.id;
    j.repository_id = repo.id;
    j.name = "build";
    j.branches = std::move(branches);
    j.argv = {"/bin/sh", "-c", "echo built $COMMITBRIDGE_BRANCH"};
    ASSERT_TRUE(store_->create_job(j).has_value());
  }

  /// Stores the branch_update fixture (a push to release/2.1) as the ingest path would.
  void persist_fixture(const std::string& id, const std::string& endpoint,
                       const std::string& provider = "bitbucket_server") {
    store::NewDelivery d;
    d.delivery_id = id;
    d.org_id = org_.id;
    d.endpoint = endpoint;
    d.provider = provider;
    d.event_key = "repo:refs_changed";
    d.external_id = "ext-" + id;
    d.headers = parse_headers(read_file(bitbucket_fixture("branch_update.headers")));
    d.body = read_file(bitbucket_fixture("branch_update.json"));
    d.received_at_ms = clock_.now_ms();
    auto r = testing::persist_and_wait(*store_, d);
    ASSERT_TRUE(r.has_value()) << r.error().detail;
  }

  store::DeliveryRecord delivery(const std::string& id) {
    auto d = store_->get_delivery(id);
    EXPECT_TRUE(d.has_value() && d->has_value());
    if (!d || !*d) return store::DeliveryRecord{};
    return **d;
  }

  std::unique_ptr<smartcommit::StoryKeyPattern> pattern_;
  PipelinePaths paths_;
  std::unique_ptr<JobDispatch> jobs_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<CommitSync> sync_;
  std::unique_ptr<DeliveryProcessor> processor_;
};

TEST_F(WorkerTest, DrainRunsTheMatchingJobAndMarksTheDeliveryDone) {
  add_job(add_repository("/srv/none.git"), "release/*");
  persist_fixture("d-1", "trigger-scm-push-request");
  Worker worker(*store_, *processor_, clock_);
  EXPECT_EQ(worker.drain(), 1u);
  EXPECT_EQ(worker.drain(), 0u);
  EXPECT_EQ(runner_->drain(), 1u);

  const auto d = delivery("d-1");
  EXPECT_EQ(d.status, "done");
  EXPECT_EQ(d.reason, "1 job run queued: build@release/2.1 (run 1)");
  EXPECT_EQ(d.attempts, 1);
  store::RunQuery q;
  q.delivery_id = "d-1";
  auto runs = store_->list_runs(q);
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->front().output_tail, "built release/2.1\n");
  EXPECT_EQ(runs->front().to_hash, "77cdab5fede3ae1fd195198a789f79f19608a760");
}

TEST_F(WorkerTest, UnregisteredRepositoryIsIgnoredWithTheReason) {
  persist_fixture("d-1", "trigger-scm-push-request");
  Worker worker(*store_, *processor_, clock_);
  EXPECT_EQ(worker.drain(), 1u);
  const auto d = delivery("d-1");
  EXPECT_EQ(d.status, "ignored");
  EXPECT_EQ(d.reason,
            "repository NWA/flight-planner (bitbucket_server) is not registered in org Northwind");
}

TEST_F(WorkerTest, UnsupportedProviderIsIgnored) {
  persist_fixture("d-1", "trigger-scm-push-request", "github");
  Worker worker(*store_, *processor_, clock_);
  EXPECT_EQ(worker.drain(), 1u);
  const auto d = delivery("d-1");
  EXPECT_EQ(d.status, "ignored");
  EXPECT_EQ(d.reason, "provider 'github' is not supported yet");
}

TEST_F(WorkerTest, UnreachableMirrorIsRetriedWithBackoffThenGivenUp) {
  add_repository((dir_.path() / "no-such-remote.git").string());
  persist_fixture("d-1", "sync-alm-commits");
  Worker worker(*store_, *processor_, clock_, WorkerOptions{2, 1000, 500});

  EXPECT_EQ(worker.drain(), 1u);
  auto d = delivery("d-1");
  EXPECT_EQ(d.status, "queued");
  EXPECT_EQ(d.attempts, 1);
  EXPECT_THAT(d.reason, StartsWith("attempt 1 failed, will retry: git fetch of "));

  EXPECT_EQ(worker.drain(), 0u);  // not due yet
  clock_.advance(999);
  EXPECT_EQ(worker.drain(), 0u);
  clock_.advance(1);  // base backoff reached
  EXPECT_EQ(worker.drain(), 1u);

  d = delivery("d-1");
  EXPECT_EQ(d.status, "failed");
  EXPECT_EQ(d.attempts, 2);
  EXPECT_THAT(d.reason, StartsWith("gave up after 2 attempts: git fetch of "));
  EXPECT_EQ(worker.drain(), 0u);
}

TEST_F(WorkerTest, BackoffOfALateAttemptDoesNotOverflow) {
  // worker.max_attempts may be up to 100 and worker.retry_backoff_ms up to 24 h: base * 2^(n-1)
  // must not overflow into "due now" (or the past) for a late attempt.
  add_repository((dir_.path() / "no-such-remote.git").string());
  persist_fixture("d-1", "sync-alm-commits");
  for (int i = 0; i < 60; ++i) {  // 60 earlier attempts
    auto c = store_->claim_next_delivery(clock_.now_ms());
    ASSERT_TRUE(c.has_value() && c->has_value());
    ASSERT_TRUE(store_->finish_delivery("d-1", "queued", "earlier attempt", clock_.now_ms(), 0));
  }
  Worker worker(*store_, *processor_, clock_, WorkerOptions{100, 86'400'000, 500});
  EXPECT_EQ(worker.drain(), 1u);  // attempt 61 fails and is put off, not retried at once
  const auto d = delivery("d-1");
  EXPECT_EQ(d.status, "queued");
  EXPECT_EQ(d.attempts, 61);
  EXPECT_THAT(d.reason, StartsWith("attempt 61 failed, will retry: "));
  // The wait is capped at kMaxRetryDelayMs (24 h).
  clock_.advance(kMaxRetryDelayMs - 1);
  EXPECT_EQ(worker.drain(), 0u);
  clock_.advance(1);
  EXPECT_EQ(worker.drain(), 1u);
  EXPECT_EQ(delivery("d-1").attempts, 62);
}

TEST_F(WorkerTest, BackoffDoublesPerAttempt) {
  add_repository((dir_.path() / "no-such-remote.git").string());
  persist_fixture("d-1", "sync-alm-commits");
  Worker worker(*store_, *processor_, clock_, WorkerOptions{4, 1000, 500});
  for (const std::int64_t wait : {1000, 2000, 4000}) {
    ASSERT_EQ(worker.drain(), 1u);
    clock_.advance(wait - 1);
    EXPECT_EQ(worker.drain(), 0u) << wait;
    clock_.advance(1);
  }
  EXPECT_EQ(worker.drain(), 1u);
  const auto d = delivery("d-1");
  EXPECT_EQ(d.status, "failed");
  EXPECT_EQ(d.attempts, 4);
}

TEST_F(WorkerTest, StartedWorkerProcessesANotifiedDeliveryAndStops) {
  add_job(add_repository("/srv/none.git"), "**");
  Worker worker(*store_, *processor_, clock_, WorkerOptions{5, 1000, 50});
  worker.start();
  persist_fixture("d-1", "trigger-scm-push-request");
  worker.notify();

  const auto deadline = std::chrono::steady_clock::now() + testing::kWaitLimit;
  std::string status;
  while (std::chrono::steady_clock::now() < deadline) {
    status = delivery("d-1").status;
    if (status == "done") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval, not a wait
  }
  worker.stop();
  worker.stop();  // idempotent
  EXPECT_EQ(status, "done");
  EXPECT_EQ(delivery("d-1").reason, "1 job run queued: build@release/2.1 (run 1)");
}

}  // namespace
}  // namespace cb::pipeline
