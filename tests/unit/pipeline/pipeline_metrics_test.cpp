// PipelineMetrics: what the worker and the job dispatcher count.

#include <chrono>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/metrics.hpp"
#include "pipeline/commit_sync.hpp"
#include "pipeline/delivery_processor.hpp"
#include "pipeline/job_dispatch.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "pipeline/worker.hpp"
#include "pipeline_test_util.hpp"
#include "smartcommit/story_key_pattern.hpp"

namespace cb::pipeline {
namespace {

using testing::bitbucket_fixture;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::parse_headers;
using testing::read_file;

TEST(PipelineMetricsTest, CountsRefusalsAndAuthFailuresByCode) {
  metrics::Registry registry;
  const auto m = PipelineMetrics::register_in(registry);
  m.count_refusal("invalid_signature");
  m.count_refusal("invalid_signature");
  m.count_refusal("unknown_org");
  m.count_refusal("rate_limited");  // refused, but not an authentication failure
  EXPECT_EQ(m.auth_failures->with({"invalid_signature"}).value(), 2u);
  EXPECT_EQ(m.auth_failures->with({"unknown_org"}).value(), 1u);
  EXPECT_EQ(m.refused->with({"rate_limited"}).value(), 1u);
  EXPECT_EQ(m.refused->with({"invalid_signature"}).value(), 2u);
  const std::string text = registry.render();
  EXPECT_THAT(text, Not(HasSubstr("auth_failures_total{reason=\"rate_limited\"}")));
  EXPECT_THAT(text, HasSubstr("commitbridge_outbox_backlog 0\n"));
}

TEST(PipelineMetricsTest, OrgLabelIsLowerCase) {
  metrics::Registry registry;
  const auto m = PipelineMetrics::register_in(registry);
  m.count_delivery("NorthWind", "bitbucket_server", "queued");
  m.count_delivery("northwind", "bitbucket_server", "queued");
  EXPECT_EQ(org_label("ÄcMe-1"), "Äcme-1");  // ASCII only, as the store's NOCASE collation
  EXPECT_THAT(registry.render(),
              HasSubstr("commitbridge_deliveries_total{org=\"northwind\",provider=\"bitbucket_"
                        "server\",status=\"queued\"} 2\n"));
}

class WorkerMetricsTest : public testing::StoreFixture {
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
    runner_->set_on_run_finished([this](std::string_view s) { metrics_.count_run(s); });
    sync_ = std::make_unique<CommitSync>(*store_, clock_, paths_, *pattern_);
    processor_ = std::make_unique<DeliveryProcessor>(*store_, *jobs_, *sync_);
  }

  void add_repository_with_jobs() {
    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "NWA";  // as in the branch_update fixture (a push to release/2.1)
    r.slug = "flight-planner";
    r.clone_url = (dir_.path() / "no-such-remote.git").string();
    auto repo = store_->create_repository(r);
    ASSERT_TRUE(repo.has_value());
    for (const auto& [name, command] :
         {std::pair{"build", "/bin/true"}, std::pair{"lint", "/bin/false"}}) {
      store::JobRecord j;
      j.org_id = org_.id;
      j.repository_id = repo->id;
      j.name = name;
      j.branches = "release/*";
      j.argv = {command};
      ASSERT_TRUE(store_->create_job(j).has_value());
    }
  }

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
    ASSERT_TRUE(testing::persist_and_wait(*store_, d).has_value());
  }

  metrics::Registry registry_;
  PipelineMetrics metrics_ = PipelineMetrics::register_in(registry_);
  std::unique_ptr<smartcommit::StoryKeyPattern> pattern_;
  PipelinePaths paths_;
  std::unique_ptr<JobDispatch> jobs_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<CommitSync> sync_;
  std::unique_ptr<DeliveryProcessor> processor_;
};

TEST_F(WorkerMetricsTest, WorkerCountsOutcomesAndJobRunsByStatus) {
  add_repository_with_jobs();
  persist_fixture("d-1", "trigger-scm-push-request");            // done: two runs
  persist_fixture("d-2", "trigger-scm-push-request", "github");  // ignored: unsupported
  persist_fixture("d-3", "sync-alm-commits");                    // fetch fails: retried, failed
  WorkerOptions options{2, 1000, 500};
  options.metrics = &metrics_;
  Worker worker(*store_, *processor_, clock_, options);
  EXPECT_EQ(worker.drain(), 3u);
  clock_.advance(1000);
  EXPECT_EQ(worker.drain(), 1u);
  EXPECT_EQ(runner_->drain(), 2u);  // the runner executes the queued runs

  auto count = [&](const char* provider, const char* status) {
    return metrics_.deliveries->with({"northwind", provider, status}).value();
  };
  EXPECT_EQ(count("bitbucket_server", "done"), 1u);
  EXPECT_EQ(count("github", "ignored"), 1u);
  EXPECT_EQ(count("bitbucket_server", "retrying"), 1u);
  EXPECT_EQ(count("bitbucket_server", "failed"), 1u);
  EXPECT_EQ(metrics_.job_runs->with({"succeeded"}).value(), 1u);
  EXPECT_EQ(metrics_.job_runs->with({"failed"}).value(), 1u);
  const std::string text = registry_.render();
  EXPECT_THAT(text, HasSubstr("commitbridge_job_runs_total{status=\"failed\"} 1\n"
                              "commitbridge_job_runs_total{status=\"succeeded\"} 1\n"));
}

}  // namespace
}  // namespace cb::pipeline
