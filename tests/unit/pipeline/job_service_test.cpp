// JobService: validation of job definitions (rules, events, actions, templates), sealing of
// HTTP header values, org scoping of jobs and runs, paging, cancel and re-run; and the runner
// re-queueing a run it interrupts on shutdown when the job asks for it.

#include "pipeline/job_service.hpp"

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/job_runner.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

using ::testing::HasSubstr;

class JobServiceTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "NWA";
    r.slug = "flight-planner";
    r.clone_url = "/srv/none.git";
    auto repo = store_->create_repository(r);
    ASSERT_TRUE(repo.has_value());
    repo_ = *repo;
    service_ = std::make_unique<JobService>(*store_, box_, clock_);
  }

  JobInput command_job(std::string name) {
    JobInput in;
    in.name = std::move(name);
    in.repository = "nwa/Flight-Planner";  // case-insensitive
    in.branches = "main";
    in.argv = std::vector<std::string>{"/bin/true"};
    return in;
  }

  store::RepositoryRecord repo_;
  std::unique_ptr<JobService> service_;
};

TEST_F(JobServiceTest, CreatesACommandJobWithDefaultsAndAudits) {
  auto job = service_->create_job("northwind", command_job("build"), JobActor{"cli:test", ""});
  ASSERT_TRUE(job.has_value()) << job.error().message;
  EXPECT_EQ(job->repository_id, repo_.id);
  EXPECT_EQ(job->events, std::vector<std::string>{"push"});
  EXPECT_EQ(job->max_concurrent, 1);
  EXPECT_TRUE(job->skip_marker);
  auto audit = store_->list_audit(org_.id, std::nullopt, 10);
  ASSERT_TRUE(audit.has_value());
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->front().action, "job.create");
  EXPECT_EQ(audit->front().actor, "cli:test");
}

TEST_F(JobServiceTest, RefusesWhatCannotWorkNamingTheField) {
  auto error_of = [&](const std::function<void(JobInput&)>& edit) {
    JobInput in = command_job("x");
    edit(in);
    auto r = service_->create_job("northwind", in);
    return r ? std::string("created") : r.error().message;
  };
  EXPECT_THAT(error_of([](JobInput& in) { in.branches = "refs/heads/main"; }),
              HasSubstr("branches: rules match short names"));
  EXPECT_THAT(error_of([](JobInput& in) { in.branches = "main,,dev"; }), HasSubstr("branches: "));
  EXPECT_THAT(error_of([](JobInput& in) { in.events = std::vector<std::string>{"pr:reopened"}; }),
              HasSubstr("events: unknown event 'pr:reopened'"));
  EXPECT_THAT(error_of([](JobInput& in) { in.repository = "NWA/other"; }),
              HasSubstr("repository NWA/other is not registered"));
  EXPECT_THAT(error_of([](JobInput& in) { in.argv.reset(); }), HasSubstr("the job has no action"));
  EXPECT_THAT(error_of([](JobInput& in) { in.max_concurrent = 0; }),
              HasSubstr("max_concurrent: must be from 1 to 100"));
  EXPECT_THAT(error_of([](JobInput& in) { in.source_branches = "!"; }),
              HasSubstr("source_branches: "));
  EXPECT_THAT(error_of([](JobInput& in) {
                in.argv.reset();
                in.http = HttpActionInput{};
                in.http->url_template = "https://ci.example/{{branch}}/{{commit}}";
              }),
              HasSubstr("unknown placeholder {{commit}}"));
  EXPECT_THAT(error_of([](JobInput& in) {
                in.argv.reset();
                in.http = HttpActionInput{};
                in.http->url_template = "ftp://ci.example/x";
              }),
              HasSubstr("http.url: must start with http:// or https://"));
  EXPECT_THAT(error_of([](JobInput& in) { in.name = "42"; }), HasSubstr("name: must not be only"));
}

TEST_F(JobServiceTest, HeaderValuesAreSealedBoundToTheirNameAndKeptOnUpdate) {
  JobInput in = command_job("jenkins");
  in.argv.reset();
  in.http = HttpActionInput{};
  in.http->url_template = "https://ci.example/job/{{job}}?b={{branch}}";
  in.http->headers =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Basic c2VjcmV0"}};
  auto job = service_->create_job("northwind", in);
  ASSERT_TRUE(job.has_value()) << job.error().message;
  const auto& sealed = job->http->headers.at(0).value_sealed;
  EXPECT_EQ(sealed.find("c2VjcmV0"), std::string::npos);
  EXPECT_EQ(box_.open(sealed, store::job_header_aad("Authorization")).value_or(""),
            "Basic c2VjcmV0");
  EXPECT_FALSE(box_.open(sealed, store::job_header_aad("X-Other")).has_value());

  JobInput change;
  HttpActionInput http;
  http.url_template = "https://ci.example/v2/{{to_hash}}";
  change.http = http;  // no headers: the sealed ones stay
  auto updated = service_->update_job("northwind", "jenkins", change);
  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_EQ(updated->http->url_template, "https://ci.example/v2/{{to_hash}}");
  ASSERT_EQ(updated->http->headers.size(), 1u);
  EXPECT_EQ(updated->http->headers[0].value_sealed, sealed);
}

TEST_F(JobServiceTest, UpdateOfTheUrlKeepsTheOtherHttpFields) {
  JobInput in = command_job("hb");
  in.argv.reset();
  in.http = HttpActionInput{};
  in.http->method = "PUT";
  in.http->url_template = "http://127.0.0.1:18432/ok";
  in.http->body_template = "BODY {{branch}}";
  in.http->timeout_ms = 5000;
  in.http->max_attempts = 3;
  in.http->base_backoff_ms = 250;
  in.http->max_backoff_ms = 9000;
  in.http->headers =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer s"}};
  auto job = service_->create_job("northwind", in);
  ASSERT_TRUE(job.has_value()) << job.error().message;
  const std::string sealed = job->http->headers.at(0).value_sealed;

  JobInput change;
  change.http = HttpActionInput{};
  change.http->url_template = "http://127.0.0.1:18432/ok?v=2";
  auto updated = service_->update_job("northwind", "hb", change);
  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  ASSERT_EQ(updated->action, store::JobActionType::http);
  ASSERT_TRUE(updated->http.has_value());
  EXPECT_EQ(updated->http->url_template, "http://127.0.0.1:18432/ok?v=2");
  EXPECT_EQ(updated->http->method, "PUT");
  EXPECT_EQ(updated->http->body_template, "BODY {{branch}}");
  EXPECT_EQ(updated->http->timeout_ms, 5000);
  EXPECT_EQ(updated->http->max_attempts, 3);
  EXPECT_EQ(updated->http->base_backoff_ms, 250);
  EXPECT_EQ(updated->http->max_backoff_ms, 9000);
  ASSERT_EQ(updated->http->headers.size(), 1u);
  EXPECT_EQ(updated->http->headers[0].name, "Authorization");
  EXPECT_EQ(updated->http->headers[0].value_sealed, sealed);

  // One field without the url; the stored job (read back) has every other field unchanged.
  JobInput body_only;
  body_only.http = HttpActionInput{};
  body_only.http->body_template = "v2 {{to_hash}}";
  ASSERT_TRUE(service_->update_job("northwind", "hb", body_only).has_value());
  auto stored = service_->get_job("northwind", "hb");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->http->body_template, "v2 {{to_hash}}");
  EXPECT_EQ(stored->http->url_template, "http://127.0.0.1:18432/ok?v=2");
  EXPECT_EQ(stored->http->method, "PUT");
  EXPECT_EQ(stored->http->timeout_ms, 5000);
  EXPECT_EQ(stored->http->max_attempts, 3);
  EXPECT_EQ(stored->http->base_backoff_ms, 250);
  EXPECT_EQ(stored->http->max_backoff_ms, 9000);
  ASSERT_EQ(stored->http->headers.size(), 1u);
  EXPECT_EQ(stored->http->headers[0].value_sealed, sealed);

  // Headers given replace the stored ones; an empty list removes them.
  JobInput no_headers;
  no_headers.http = HttpActionInput{};
  no_headers.http->headers = std::vector<std::pair<std::string, std::string>>{};
  auto cleared = service_->update_job("northwind", "hb", no_headers);
  ASSERT_TRUE(cleared.has_value()) << cleared.error().message;
  EXPECT_TRUE(cleared->http->headers.empty());
  EXPECT_EQ(cleared->http->method, "PUT");
  EXPECT_EQ(cleared->http->body_template, "v2 {{to_hash}}");

  // The merged action is checked as a whole.
  JobInput bad_backoff;
  bad_backoff.http = HttpActionInput{};
  bad_backoff.http->base_backoff_ms = 10'000;  // above the stored max_backoff_ms 9000
  auto refused = service_->update_job("northwind", "hb", bad_backoff);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(refused.error().message, "http.max_backoff_ms: must be from 10000 to 86400000");
}

TEST_F(JobServiceTest, HttpFieldsWithoutUrlAreRefusedForAJobWithoutHttpAction) {
  ASSERT_TRUE(service_->create_job("northwind", command_job("build")).has_value());
  JobInput change;
  change.http = HttpActionInput{};
  change.http->body_template = "x";
  auto refused = service_->update_job("northwind", "build", change);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(refused.error().message,
            "http.url: is required: job 'build' has no HTTP action (it runs a command); give "
            "the url to make it an HTTP job");
  auto unchanged = service_->get_job("northwind", "build");
  ASSERT_TRUE(unchanged.has_value());
  EXPECT_EQ(unchanged->action, store::JobActionType::command);
  EXPECT_EQ(unchanged->argv, std::vector<std::string>{"/bin/true"});

  // With the url the command job becomes an HTTP job: the fields given, defaults for the rest.
  change.http->url_template = "https://ci.example/{{branch}}";
  auto switched = service_->update_job("northwind", "build", change);
  ASSERT_TRUE(switched.has_value()) << switched.error().message;
  EXPECT_EQ(switched->action, store::JobActionType::http);
  EXPECT_TRUE(switched->argv.empty());
  EXPECT_EQ(switched->http->url_template, "https://ci.example/{{branch}}");
  EXPECT_EQ(switched->http->body_template, "x");
  EXPECT_EQ(switched->http->method, "POST");
  EXPECT_EQ(switched->http->timeout_ms, 30'000);
  EXPECT_EQ(switched->http->max_attempts, 5);
  EXPECT_TRUE(switched->http->headers.empty());

  // And back: a command replaces the HTTP action; then an HTTP field alone is refused again.
  JobInput back;
  back.argv = std::vector<std::string>{"/bin/echo", "hi"};
  auto command = service_->update_job("northwind", "build", back);
  ASSERT_TRUE(command.has_value()) << command.error().message;
  EXPECT_EQ(command->action, store::JobActionType::command);
  EXPECT_FALSE(command->http.has_value());
  JobInput method_only;
  method_only.http = HttpActionInput{};
  method_only.http->method = "PUT";
  EXPECT_EQ(service_->update_job("northwind", "build", method_only).error().code,
            ErrorCode::invalid_argument);

  // Creating an HTTP job needs the url too.
  JobInput create = command_job("hook");
  create.argv.reset();
  create.http = HttpActionInput{};
  create.http->method = "PUT";
  auto no_url = service_->create_job("northwind", create);
  ASSERT_FALSE(no_url.has_value());
  EXPECT_EQ(no_url.error().message, "http.url: is required");
}

TEST_F(JobServiceTest, ClearingTheTimeoutFallsBackToTheWorkerDefault) {
  JobInput in = command_job("build");
  in.timeout_ms = 120'000;
  auto job = service_->create_job("northwind", in);
  ASSERT_TRUE(job.has_value()) << job.error().message;
  EXPECT_EQ(job->timeout_ms, std::optional<std::int64_t>(120'000));
  JobInput clear;
  clear.clear_timeout_ms = true;
  auto cleared = service_->update_job("northwind", "build", clear);
  ASSERT_TRUE(cleared.has_value()) << cleared.error().message;
  EXPECT_EQ(cleared->timeout_ms, std::nullopt);
}

TEST_F(JobServiceTest, JobsAndRunsOfAnotherOrgAreNotFound) {
  ASSERT_TRUE(store_->create_org("Globex", kStart).has_value());
  auto job = service_->create_job("northwind", command_job("build"));
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(service_->get_job("globex", std::to_string(job->id)).error().code,
            ErrorCode::not_found);
  store::JobRunRecord run;
  run.job_id = job->id;
  run.delivery_id = "d-1";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  auto created = store_->create_job_run(run);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(service_->get_run("globex", created->first.id).error().code, ErrorCode::not_found);
  EXPECT_EQ(service_->cancel_run("globex", created->first.id).error().code, ErrorCode::not_found);
  auto cancelled = service_->cancel_run("northwind", created->first.id, JobActor{"token:ab", ""});
  ASSERT_TRUE(cancelled.has_value());
  EXPECT_EQ(cancelled->status, "cancelled");
  EXPECT_EQ(cancelled->status_reason, "cancelled by token:ab");
  EXPECT_EQ(service_->cancel_run("northwind", created->first.id).error().code, ErrorCode::conflict);
  auto again = service_->rerun("northwind", created->first.id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->attempt, 1);
  EXPECT_EQ(service_->list_runs("northwind", RunFilter{}, 0, "").error().code,
            ErrorCode::invalid_argument);
  RunFilter bad;
  bad.status = "done";
  EXPECT_EQ(service_->list_runs("northwind", bad, 10, "").error().code,
            ErrorCode::invalid_argument);
  auto page = service_->list_runs("northwind", RunFilter{}, 1, "");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->items.at(0).id, again->id);
  EXPECT_EQ(page->next_cursor, std::to_string(again->id));
}

TEST_F(JobServiceTest, RunJobFilterIsResolvedLikeGetJob) {
  store::RepositoryRecord other;
  other.org_id = org_.id;
  other.provider = "bitbucket_server";
  other.project_key = "NWA";
  other.slug = "charts";
  other.clone_url = "/srv/charts.git";
  ASSERT_TRUE(store_->create_repository(other).has_value());
  auto build = service_->create_job("northwind", command_job("build"));
  ASSERT_TRUE(build.has_value()) << build.error().message;
  ASSERT_TRUE(service_->create_job("northwind", command_job("dup")).has_value());
  JobInput second = command_job("dup");
  second.repository = "NWA/charts";
  auto dup2 = service_->create_job("northwind", second);
  ASSERT_TRUE(dup2.has_value()) << dup2.error().message;
  store::JobRunRecord run;
  run.job_id = build->id;
  run.delivery_id = "d-1";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  ASSERT_TRUE(store_->create_job_run(run).has_value());

  auto runs_of = [&](const std::string& job) {
    RunFilter f;
    f.job = job;
    return service_->list_runs("northwind", f, 10, "");
  };
  auto unknown = runs_of("nojob");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
  EXPECT_EQ(unknown.error().message, "no job named 'nojob' in org Northwind");
  auto missing_id = runs_of("9999");
  ASSERT_FALSE(missing_id.has_value());
  EXPECT_EQ(missing_id.error().code, ErrorCode::not_found);
  EXPECT_EQ(missing_id.error().message, "no job 9999 in org Northwind");
  auto ambiguous = runs_of("dup");
  ASSERT_FALSE(ambiguous.has_value());
  EXPECT_EQ(ambiguous.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(ambiguous.error().message,
            "job: several repositories have a job named 'dup'; give its id");
  auto by_id = runs_of(std::to_string(dup2->id));
  ASSERT_TRUE(by_id.has_value()) << by_id.error().message;
  EXPECT_TRUE(by_id->items.empty());
  auto by_name = runs_of("build");
  ASSERT_TRUE(by_name.has_value()) << by_name.error().message;
  ASSERT_EQ(by_name->items.size(), 1u);
  EXPECT_EQ(by_name->items[0].job_id, build->id);

  ASSERT_TRUE(store_->create_org("Globex", kStart).has_value());
  RunFilter f;
  f.job = std::to_string(build->id);
  EXPECT_EQ(service_->list_runs("globex", f, 10, "").error().code, ErrorCode::not_found);
}

TEST_F(JobServiceTest, TimeFiltersTakeIsoUtcOrEpochMilliseconds) {
  EXPECT_EQ(parse_time_filter("since", "2026-03-02T09:00:00Z").value_or(0), 1772442000000);
  EXPECT_EQ(parse_time_filter("since", "2026-03-02T09:00:00.250Z").value_or(0), 1772442000250);
  EXPECT_EQ(parse_time_filter("since", "1772442000000").value_or(0), 1772442000000);
  EXPECT_THAT(parse_time_filter("until", "yesterday").error().message, HasSubstr("until: "));
}

TEST_F(JobServiceTest, RunStoppedByShutdownIsInterruptedAndRequeuedWhenTheJobAsks) {
  JobInput in = command_job("slow");
  in.argv = std::vector<std::string>{"/bin/sh", "-c", "sleep 30"};
  in.requeue_interrupted = true;
  auto job = service_->create_job("northwind", in);
  ASSERT_TRUE(job.has_value());
  store::JobRunRecord run;
  run.job_id = job->id;
  run.delivery_id = "d-1";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  ASSERT_TRUE(store_->create_job_run(run).has_value());
  const auto paths = PipelinePaths::under(dir_.path() / "data");
  JobRunner runner(*store_, clock_, paths, &box_, HttpActionExecutor{},
                   JobRunnerOptions{2, std::chrono::seconds(60), std::chrono::milliseconds(20),
                                    std::chrono::milliseconds(20)});
  runner.start();
  auto status_of = [&](std::int64_t id) {
    auto r = store_->get_run(id);
    return r && *r ? (*r)->status : std::string();
  };
  const auto deadline = std::chrono::steady_clock::now() + testing::kWaitLimit;
  while (status_of(1) != "running" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling interval
  }
  ASSERT_EQ(status_of(1), "running");
  runner.stop();
  EXPECT_EQ(status_of(1), "interrupted");
  auto requeued = store_->get_run(2);
  ASSERT_TRUE(requeued && *requeued);
  EXPECT_EQ((*requeued)->status, "queued");
  EXPECT_EQ((*requeued)->rerun_of, std::optional<std::int64_t>(1));
}

}  // namespace
}  // namespace cb::pipeline
