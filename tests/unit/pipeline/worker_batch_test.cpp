// Worker batches: outcomes of a batch are recorded with the next claim, but a slow delivery
// does not hold back the outcome of the ones finished before it.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "pipeline/commit_sync.hpp"
#include "pipeline/delivery_processor.hpp"
#include "pipeline/job_dispatch.hpp"
#include "pipeline/worker.hpp"
#include "pipeline_test_util.hpp"
#include "smartcommit/story_key_pattern.hpp"

namespace cb::pipeline {
namespace {

using testing::bitbucket_fixture;
using testing::parse_headers;
using testing::read_file;

class WorkerBatchTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    auto pattern = smartcommit::StoryKeyPattern::jira_default();
    ASSERT_TRUE(pattern.has_value());
    pattern_ = std::make_unique<smartcommit::StoryKeyPattern>(std::move(*pattern));
    paths_ = PipelinePaths::under(dir_.path() / "data");
    jobs_ = std::make_unique<JobDispatch>(*store_, clock_, paths_);
    sync_ = std::make_unique<CommitSync>(*store_, clock_, paths_, *pattern_);
    processor_ = std::make_unique<DeliveryProcessor>(*store_, *jobs_, *sync_);
  }

  void persist_fixture(const std::string& id,
                       const std::string& endpoint = "trigger-scm-push-request") {
    store::NewDelivery d;
    d.delivery_id = id;
    d.org_id = org_.id;
    d.endpoint = endpoint;
    d.provider = "bitbucket_server";
    d.event_key = "repo:refs_changed";
    d.external_id = "ext-" + id;
    d.headers = parse_headers(read_file(bitbucket_fixture("branch_update.headers")));
    d.body = read_file(bitbucket_fixture("branch_update.json"));
    d.received_at_ms = clock_.now_ms();
    auto r = testing::persist_and_wait(*store_, d);
    ASSERT_TRUE(r.has_value()) << r.error().detail;
  }

  std::string status(const std::string& id) {
    auto d = store_->get_delivery(id);
    return d && *d ? (*d)->status : std::string("(none)");
  }

  /// Polls (5 ms interval, kWaitLimit) until the delivery has `want`.
  bool wait_status(const std::string& id, const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + testing::kWaitLimit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (status(id) == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval, not a wait
    }
    return false;
  }

  std::unique_ptr<smartcommit::StoryKeyPattern> pattern_;
  PipelinePaths paths_;
  std::unique_ptr<JobDispatch> jobs_;
  std::unique_ptr<CommitSync> sync_;
  std::unique_ptr<DeliveryProcessor> processor_;
};

TEST_F(WorkerBatchTest, AFinishedDeliveryIsRecordedWhileASlowOneOfItsBatchStillRuns) {
  // The first delivery queues a job run (quick); the second is an ALM sync whose fetch waits
  // for `release`, which the test creates only after it saw the first delivery done.
  const auto release = dir_.path() / "release";
  sync_->set_fetch_hook([release](const std::filesystem::path&, bool started) {
    if (!started) return;
    while (!std::filesystem::exists(release)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll interval, not a wait
    }
  });
  store::RepositoryRecord r;
  r.org_id = org_.id;
  r.provider = "bitbucket_server";
  r.project_key = "NWA";
  r.slug = "flight-planner";
  r.clone_url = (dir_.path() / "no-such-remote.git").string();
  auto repo = store_->create_repository(r);
  ASSERT_TRUE(repo.has_value());
  store::JobRecord j;
  j.org_id = org_.id;
  j.repository_id = repo->id;
  j.name = "build";
  j.branches = "**";
  j.argv = {"/bin/true"};
  ASSERT_TRUE(store_->create_job(j).has_value());
  persist_fixture("d-1");
  persist_fixture("d-2", "sync-alm-commits");

  Worker worker(*store_, *processor_, clock_, WorkerOptions{5, 1000, 50});
  worker.start();
  const bool first_done = wait_status("d-1", "done");
  const std::string second_meanwhile = status("d-2");
  std::ofstream(release.string()).put('x');
  EXPECT_TRUE(first_done) << status("d-1");
  EXPECT_EQ(second_meanwhile, "processing");
  // The fetch of a remote that does not exist fails: the delivery leaves processing for a retry.
  EXPECT_TRUE(wait_status("d-2", "queued")) << status("d-2");
  worker.stop();
}

}  // namespace
}  // namespace cb::pipeline
