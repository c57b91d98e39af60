// SqliteStore: job fields of migration 0006 (events, rules, concurrency, HTTP action with
// sealed header values), job updates and deletion, re-sealing of header values on key
// rotation, and the upgrade of job runs stored before 0006.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_test_util.hpp"

namespace cb::store {
namespace {

class SqliteStoreJobsTest : public testing::SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    if (HasFatalFailure()) return;
    RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "NWA";
    r.slug = "flight-planner";
    r.clone_url = "/srv/git/x.git";
    auto created = store_->create_repository(r);
    ASSERT_TRUE(created.has_value());
    repo_ = *created;
  }

  JobRecord http_job() const {
    JobRecord j;
    j.org_id = org_.id;
    j.repository_id = repo_.id;
    j.name = "jenkins";
    j.branches = "main,release/*";
    j.events = {"push", "tag", "pr:opened"};
    j.tags = "v*";
    j.target_branches = "main";
    j.source_branches = "feature/**";
    j.skip_marker = false;
    j.max_concurrent = 3;
    j.supersede = true;
    j.requeue_interrupted = true;
    j.action = JobActionType::http;
    JobHttpAction h;
    h.method = "PUT";
    h.url_template = "https://ci.example/job/{{job}}?b={{branch}}";
    h.headers = {{"Authorization", std::string("\x01sealed-a", 9)}, {"X-Token", "sealed-b"}};
    h.body_template = R"({"ref":"{{ref}}"})";
    h.timeout_ms = 5000;
    h.max_attempts = 3;
    h.base_backoff_ms = 200;
    h.max_backoff_ms = 4000;
    j.http = h;
    j.timeout_ms = 60'000;
    j.created_at_ms = 10;
    j.updated_at_ms = 10;
    return j;
  }

  RepositoryRecord repo_;
};

TEST_F(SqliteStoreJobsTest, EveryJobFieldRoundTrips) {
  auto created = store_->create_job(http_job());
  ASSERT_TRUE(created.has_value()) << created.error().detail;
  auto got = store_->get_job(created->id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  const JobRecord& j = **got;
  EXPECT_EQ(j.repository, "NWA/flight-planner");
  EXPECT_EQ(j.events, (std::vector<std::string>{"push", "tag", "pr:opened"}));
  EXPECT_EQ(j.tags, "v*");
  EXPECT_EQ(j.target_branches, "main");
  EXPECT_EQ(j.source_branches, "feature/**");
  EXPECT_FALSE(j.skip_marker);
  EXPECT_EQ(j.max_concurrent, 3);
  EXPECT_TRUE(j.supersede);
  EXPECT_TRUE(j.requeue_interrupted);
  EXPECT_EQ(j.timeout_ms, std::optional<std::int64_t>(60'000));
  ASSERT_EQ(j.action, JobActionType::http);
  ASSERT_TRUE(j.http.has_value());
  EXPECT_EQ(j.http->method, "PUT");
  EXPECT_EQ(j.http->url_template, "https://ci.example/job/{{job}}?b={{branch}}");
  EXPECT_EQ(j.http->body_template, R"({"ref":"{{ref}}"})");
  EXPECT_EQ(j.http->timeout_ms, 5000);
  EXPECT_EQ(j.http->max_attempts, 3);
  EXPECT_EQ(j.http->base_backoff_ms, 200);
  EXPECT_EQ(j.http->max_backoff_ms, 4000);
  ASSERT_EQ(j.http->headers.size(), 2u);
  EXPECT_EQ(j.http->headers[0].name, "Authorization");
  EXPECT_EQ(j.http->headers[0].value_sealed, std::string("\x01sealed-a", 9));
  EXPECT_EQ(j.http->headers[1].value_sealed, "sealed-b");
}

TEST_F(SqliteStoreJobsTest, UpdateReplacesFieldsAndHeadersAndDeleteRemovesRuns) {
  auto created = store_->create_job(http_job());
  ASSERT_TRUE(created.has_value());
  JobRecord changed = *created;
  changed.name = "jenkins-2";
  changed.http->headers = {{"X-Other", "sealed-c"}};
  changed.enabled = false;
  ASSERT_TRUE(store_->update_job(changed).has_value());
  auto got = store_->get_job(created->id);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->name, "jenkins-2");
  EXPECT_FALSE((*got)->enabled);
  ASSERT_EQ((*got)->http->headers.size(), 1u);
  EXPECT_EQ((*got)->http->headers[0].name, "X-Other");

  JobRecord other = http_job();
  other.name = "jenkins-2";
  EXPECT_EQ(store_->create_job(other).error().code, ErrorCode::conflict);

  JobRunRecord run;
  run.job_id = created->id;
  run.delivery_id = "d-1";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  run.created_at_ms = 20;
  ASSERT_TRUE(store_->create_job_run(run).has_value());
  ASSERT_TRUE(store_->delete_job(created->id).has_value());
  EXPECT_FALSE(store_->get_job(created->id)->has_value());
  EXPECT_TRUE(store_->list_runs(RunQuery{})->empty());
  EXPECT_EQ(store_->delete_job(created->id).error().code, ErrorCode::not_found);
  JobRecord missing = *created;
  EXPECT_EQ(store_->update_job(missing).error().code, ErrorCode::not_found);
}

TEST_F(SqliteStoreJobsTest, AJobWithARunningRunIsNotDeletedAndIdsAreNeverGivenTwice) {
  auto job = store_->create_job(http_job());
  ASSERT_TRUE(job.has_value());
  JobRunRecord run;
  run.job_id = job->id;
  run.delivery_id = "d-1";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  run.created_at_ms = 20;
  auto queued = store_->create_job_run(run);
  ASSERT_TRUE(queued.has_value());
  auto claimed = store_->claim_next_run(30, {});
  ASSERT_TRUE(claimed && *claimed);
  ASSERT_EQ((*claimed)->id, queued->first.id);

  auto refused = store_->delete_job(job->id);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_EQ(refused.error().message,
            "the job has runs in progress: " + std::to_string(queued->first.id));
  EXPECT_TRUE(store_->get_job(job->id)->has_value());
  auto kept = store_->get_run(queued->first.id);
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->status, "running");

  ASSERT_TRUE(store_->finish_run(queued->first.id, "succeeded", 0, 40, "ok").has_value());
  ASSERT_TRUE(store_->delete_job(job->id).has_value());
  // The deleted job and run had the highest ids: the next ones are still new.
  auto next_job = store_->create_job(http_job());
  ASSERT_TRUE(next_job.has_value());
  EXPECT_GT(next_job->id, job->id);
  run.job_id = next_job->id;
  auto next_run = store_->create_job_run(run);
  ASSERT_TRUE(next_run.has_value());
  EXPECT_GT(next_run->first.id, queued->first.id);
}

TEST_F(SqliteStoreJobsTest, OrgJobsArePagedByIdAndRunsFilteredByStatusBranchAndTime) {
  std::vector<std::int64_t> ids;
  for (const char* name : {"a", "b", "c"}) {
    JobRecord j = http_job();
    j.name = name;
    auto created = store_->create_job(j);
    ASSERT_TRUE(created.has_value());
    ids.push_back(created->id);
  }
  auto first = store_->list_org_jobs(org_.id, PageQuery{0, 2});
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 2u);
  auto rest = store_->list_org_jobs(org_.id, PageQuery{first->back().id, 2});
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->front().id, ids[2]);

  for (int i = 0; i < 4; ++i) {
    JobRunRecord run;
    run.job_id = ids[static_cast<std::size_t>(i % 2)];
    run.delivery_id = "d-" + std::to_string(i);
    run.ref_id = i < 2 ? "refs/heads/main" : "refs/heads/dev";
    run.branch = i < 2 ? "main" : "dev";
    run.created_at_ms = 100 * (i + 1);
    ASSERT_TRUE(store_->create_job_run(run).has_value());
  }
  ASSERT_TRUE(store_->cancel_run(1, 500, "cancelled by test").has_value());
  RunQuery q;
  q.status = "cancelled";
  EXPECT_EQ(store_->list_runs(q)->size(), 1u);
  q = RunQuery{};
  q.branch = "dev";
  EXPECT_EQ(store_->list_runs(q)->size(), 2u);
  q = RunQuery{};
  q.since = 200;
  q.until = 400;
  auto window = store_->list_runs(q);
  ASSERT_EQ(window->size(), 2u);
  EXPECT_EQ(window->front().created_at_ms, 300);
  q = RunQuery{};
  q.job_name = "b";
  EXPECT_EQ(store_->list_runs(q)->size(), 2u);
  q = RunQuery{};
  q.job_id = ids[0];
  q.status = "queued";
  EXPECT_EQ(store_->list_runs(q)->size(), 1u);
}

TEST_F(SqliteStoreJobsTest, KeyRotationReSealsHeaderValuesWithTheirHeaderName) {
  ASSERT_TRUE(store_->create_job(http_job()).has_value());
  std::vector<std::string> aads;
  auto count = store_->rewrap_secrets(
      [&](const std::string& sealed, const std::string& aad) -> Result<std::string> {
        aads.push_back(aad);
        return "re:" + sealed;
      },
      "feedbeef");
  ASSERT_TRUE(count.has_value());
  EXPECT_EQ(*count, 2u);
  EXPECT_THAT(aads, ::testing::UnorderedElementsAre("job-http-header:Authorization",
                                                    "job-http-header:X-Token"));
  auto jobs = store_->list_jobs(repo_.id);
  ASSERT_TRUE(jobs.has_value());
  EXPECT_EQ(jobs->front().http->headers[1].value_sealed, "re:sealed-b");
}

TEST(SqliteStoreUpgradeTest, RunsStoredBeforeMigration6KeepTheirDataAndUniqueness) {
  testing::TempDir dir;
  const auto file = dir.path() / "old.db";
  {
    auto db = sqlite::Connection::open(file);
    ASSERT_TRUE(db.has_value());
    ASSERT_NO_FATAL_FAILURE(testing::migrate_up_to(*db, 4));
    ASSERT_TRUE(db->exec("INSERT INTO orgs (id, name, created_at_ms) VALUES (1, 'acme', 1);"
                         "INSERT INTO repositories (id, org_id, provider, project_key, slug, "
                         "clone_url, created_at_ms) VALUES (1, 1, 'bitbucket_server', 'NWA', "
                         "'fp', '/x.git', 1);"
                         "INSERT INTO jobs (id, org_id, repository_id, name, branches, argv_json, "
                         "created_at_ms) VALUES (1, 1, 1, 'build', 'main', '[\"make\"]', 1);"
                         "INSERT INTO job_runs (id, job_id, delivery_id, ref_id, branch, "
                         "from_hash, to_hash, status, exit_code, created_at_ms, output_tail) "
                         "VALUES (7, 1, 'd-1', 'refs/heads/main', 'main', 'a', 'b', "
                         "'succeeded', 0, 5, 'ok');")
                    .has_value());
  }
  auto store = sqlite::SqliteStore::open(file);
  ASSERT_TRUE(store.has_value()) << store.error().detail;
  auto run = (*store)->get_run(7);
  ASSERT_TRUE(run && *run);
  EXPECT_EQ((*run)->status, "succeeded");
  EXPECT_EQ((*run)->output_tail, "ok");
  EXPECT_EQ((*run)->attempt, 0);
  EXPECT_EQ((*run)->event, "push");
  auto job = (*store)->get_job(1);
  ASSERT_TRUE(job && *job);
  EXPECT_EQ((*job)->events, std::vector<std::string>{"push"});
  EXPECT_EQ((*job)->max_concurrent, 1);
  EXPECT_TRUE((*job)->skip_marker);
  EXPECT_EQ((*job)->action, JobActionType::command);
  // The automatic path still finds the old run: no second run for the same ref change.
  JobRunRecord again;
  again.job_id = 1;
  again.delivery_id = "d-1";
  again.ref_id = "refs/heads/main";
  again.branch = "main";
  auto created = (*store)->create_job_run(again);
  ASSERT_TRUE(created.has_value());
  EXPECT_FALSE(created->second);
  EXPECT_EQ(created->first.id, 7);
}

TEST(SqliteStoreUpgradeTest, JobsRunsAndHeadersKeepTheirRowsAndKeysThroughMigration13) {
  testing::TempDir dir;
  const auto file = dir.path() / "v12.db";
  {
    auto db = sqlite::Connection::open(file);
    ASSERT_TRUE(db.has_value());
    ASSERT_NO_FATAL_FAILURE(testing::migrate_up_to(*db, 12));
    ASSERT_TRUE(
        db->exec("INSERT INTO orgs (id, name, created_at_ms) VALUES (1, 'acme', 1);"
                 "INSERT INTO repositories (id, org_id, provider, project_key, slug, clone_url, "
                 "created_at_ms) VALUES (1, 1, 'bitbucket_server', 'NWA', 'fp', '/x.git', 1);"
                 "INSERT INTO jobs (id, org_id, repository_id, name, branches, argv_json, "
                 "created_at_ms, max_concurrent, action_type, http_json, timeout_ms) VALUES "
                 "(3, 1, 1, 'build', 'main', '[\"make\"]', 1, 2, 'command', '', 9000), "
                 "(5, 1, 1, 'notify', 'release/*', '[]', 2, 1, 'http', "
                 "'{\"url\":\"http://ci.example/x\"}', NULL);"
                 "INSERT INTO job_http_headers (job_id, position, name, value_sealed) VALUES "
                 "(5, 0, 'Authorization', x'0102');"
                 "INSERT INTO job_runs (id, job_id, delivery_id, ref_id, attempt, branch, "
                 "from_hash, to_hash, status, exit_code, created_at_ms, output_tail, "
                 "process_group) VALUES (7, 3, 'd-1', 'refs/heads/main', 0, 'main', 'a', 'b', "
                 "'succeeded', 0, 5, 'ok', NULL), (9, 5, 'd-2', 'refs/heads/release/1', 1, "
                 "'release/1', 'c', 'd', 'queued', NULL, 6, '', 4242);")
            .has_value());
  }
  auto store = sqlite::SqliteStore::open(file);
  ASSERT_TRUE(store.has_value()) << store.error().detail;
  auto build = (*store)->get_job(3);
  ASSERT_TRUE(build && *build);
  EXPECT_EQ((*build)->name, "build");
  EXPECT_EQ((*build)->max_concurrent, 2);
  ASSERT_TRUE((*build)->timeout_ms.has_value());
  EXPECT_EQ(*(*build)->timeout_ms, 9000);
  auto notify = (*store)->get_job(5);
  ASSERT_TRUE(notify && *notify);
  ASSERT_TRUE((*notify)->http.has_value());
  EXPECT_EQ((*notify)->http->url_template, "http://ci.example/x");
  ASSERT_EQ((*notify)->http->headers.size(), 1u);
  EXPECT_EQ((*notify)->http->headers[0].name, "Authorization");
  auto old_run = (*store)->get_run(7);
  ASSERT_TRUE(old_run && *old_run);
  EXPECT_EQ((*old_run)->output_tail, "ok");
  auto queued = (*store)->get_run(9);
  ASSERT_TRUE(queued && *queued);
  EXPECT_EQ((*queued)->attempt, 1);
  EXPECT_EQ((*queued)->status, "queued");

  // The foreign keys still cascade: removing a job removes its runs and headers.
  ASSERT_TRUE((*store)->delete_job(5).has_value());
  EXPECT_FALSE((*store)->get_run(9)->has_value());
  EXPECT_TRUE((*store)->get_run(7)->has_value());
  // The removed job and run had the highest ids: new ones do not take them.
  JobRecord again = **build;
  again.name = "notify-2";
  auto created = (*store)->create_job(again);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->id, 6);
  JobRunRecord run;
  run.job_id = created->id;
  run.delivery_id = "d-3";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  auto new_run = (*store)->create_job_run(run);
  ASSERT_TRUE(new_run.has_value());
  EXPECT_EQ(new_run->first.id, 10);
  {
    auto db = sqlite::Connection::open(file);
    ASSERT_TRUE(db.has_value());
    auto headers = db->prepare("SELECT COUNT(*) FROM job_http_headers");
    ASSERT_TRUE(headers.has_value());
    ASSERT_TRUE(headers->step().value_or(false));
    EXPECT_EQ(headers->int64(0), 0);
  }
}

}  // namespace
}  // namespace cb::store
