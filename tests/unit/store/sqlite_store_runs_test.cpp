// SqliteStore job runs and story links.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"
#include "store_test_util.hpp"

namespace cb::store {
namespace {

using ::testing::ElementsAre;
using testing::SqliteStoreTest;

class SqliteStoreRunsTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    if (HasFatalFailure()) return;
    repo_ = add_repository(org_.id, "NWA", "flight-planner");
    repo2_ = add_repository(org_.id, "NWA", "autopilot");
    JobRecord job;
    job.org_id = org_.id;
    job.repository_id = repo_.id;
    job.name = "build";
    job.branches = "main";
    job.argv = {"make"};
    job.created_at_ms = 1;
    auto j = store_->create_job(job);
    ASSERT_TRUE(j.has_value());
    job_ = *j;
  }

  RepositoryRecord add_repository(std::int64_t org_id, std::string project, std::string slug) {
    RepositoryRecord r;
    r.org_id = org_id;
    r.provider = "bitbucket_server";
    r.project_key = std::move(project);
    r.slug = std::move(slug);
    r.clone_url = "/srv/git/x.git";
    auto created = store_->create_repository(r);
    EXPECT_TRUE(created.has_value());
    return created.value_or(RepositoryRecord{});
  }

  JobRunRecord run_of(std::string delivery_id, std::string ref_id, std::string branch) const {
    JobRunRecord run;
    run.job_id = job_.id;
    run.delivery_id = std::move(delivery_id);
    run.ref_id = std::move(ref_id);
    run.branch = std::move(branch);
    run.from_hash = std::string(40, '1');
    run.to_hash = std::string(40, '2');
    run.status = "queued";
    run.created_at_ms = 2'000;
    return run;
  }

  RepositoryRecord repo_;
  RepositoryRecord repo2_;
  JobRecord job_;
};

TEST_F(SqliteStoreRunsTest, CreateJobRunIsIdempotentPerJobDeliveryAndRef) {
  auto first = store_->create_job_run(run_of("d-1", "refs/heads/main", "main"));
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_TRUE(first->second);
  const JobRunRecord& r = first->first;
  EXPECT_GT(r.id, 0);
  EXPECT_EQ(r.job_id, job_.id);
  EXPECT_EQ(r.job_name, "build");
  EXPECT_EQ(r.org_name, "Northwind");
  EXPECT_EQ(r.repository, "NWA/flight-planner");
  EXPECT_EQ(r.delivery_id, "d-1");
  EXPECT_EQ(r.ref_id, "refs/heads/main");
  EXPECT_EQ(r.branch, "main");
  EXPECT_EQ(r.from_hash, std::string(40, '1'));
  EXPECT_EQ(r.to_hash, std::string(40, '2'));
  EXPECT_EQ(r.status, "queued");
  EXPECT_FALSE(r.exit_code.has_value());
  EXPECT_EQ(r.created_at_ms, 2'000);
  EXPECT_FALSE(r.started_at_ms.has_value());
  EXPECT_FALSE(r.finished_at_ms.has_value());

  ASSERT_TRUE(store_->mark_run_started(r.id, 2'100, "/logs/1.log"));

  // The same job × delivery × ref again: not created, the existing run is returned as stored.
  auto again_spec = run_of("d-1", "refs/heads/main", "other-branch-name");
  again_spec.created_at_ms = 9'999;
  auto again = store_->create_job_run(again_spec);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(again->second);
  EXPECT_EQ(again->first.id, r.id);
  EXPECT_EQ(again->first.branch, "main");
  EXPECT_EQ(again->first.status, "running");
  EXPECT_EQ(again->first.created_at_ms, 2'000);

  // Another ref or another delivery is another run.
  auto other_ref = store_->create_job_run(run_of("d-1", "refs/heads/dev", "dev"));
  ASSERT_TRUE(other_ref.has_value());
  EXPECT_TRUE(other_ref->second);
  EXPECT_NE(other_ref->first.id, r.id);
  auto other_delivery = store_->create_job_run(run_of("d-2", "refs/heads/main", "main"));
  ASSERT_TRUE(other_delivery.has_value());
  EXPECT_TRUE(other_delivery->second);

  RunQuery q;
  q.delivery_id = "d-1";
  auto runs = store_->list_runs(q);
  ASSERT_TRUE(runs.has_value());
  EXPECT_EQ(runs->size(), 2u);
}

TEST_F(SqliteStoreRunsTest, StartAndFinishRecordTheRunsLifecycle) {
  auto created = store_->create_job_run(run_of("d-1", "refs/heads/main", "main"));
  ASSERT_TRUE(created.has_value());
  const auto id = created->first.id;
  ASSERT_TRUE(store_->mark_run_started(id, 3'000, "/data/job-logs/7.log"));
  ASSERT_TRUE(store_->finish_run(id, "failed", 3, 4'000, "make: *** [all] Error 3\n"));

  RunQuery q;
  auto runs = store_->list_runs(q);
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 1u);
  const JobRunRecord& r = runs->front();
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.exit_code, std::optional<int>(3));
  EXPECT_EQ(r.started_at_ms, std::optional<UnixMillis>(3'000));
  EXPECT_EQ(r.finished_at_ms, std::optional<UnixMillis>(4'000));
  EXPECT_EQ(r.log_path, "/data/job-logs/7.log");
  EXPECT_EQ(r.output_tail, "make: *** [all] Error 3\n");

  ASSERT_TRUE(store_->finish_run(id, "failed", std::nullopt, 5'000, "could not start"));
  runs = store_->list_runs(q);
  ASSERT_TRUE(runs.has_value());
  EXPECT_FALSE(runs->front().exit_code.has_value());
}

TEST_F(SqliteStoreRunsTest, ProcessGroupsOfRunningRunsAreRecordedAndClearedWhenTheyEnd) {
  auto a = store_->create_job_run(run_of("d-1", "refs/heads/main", "main"));
  auto b = store_->create_job_run(run_of("d-2", "refs/heads/main", "main"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  const auto id_a = a->first.id;
  const auto id_b = b->first.id;
  ASSERT_TRUE(store_->mark_run_started(id_a, 3'000, "/data/job-logs/a.log"));
  ASSERT_TRUE(store_->mark_run_started(id_b, 3'000, "/data/job-logs/b.log"));
  const std::string boot = "6f1c2a9e-0d3b-4c55-9a8e-2b7f1e0c4d11";
  ASSERT_TRUE(store_->set_run_process({id_a, 4242, 987'654, boot}));
  ASSERT_TRUE(store_->set_run_process({id_b, 4343, 987'700, boot}));

  auto listed = store_->running_run_processes();
  ASSERT_TRUE(listed.has_value()) << listed.error().detail;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].run_id, id_a);
  EXPECT_EQ((*listed)[0].process_group, 4242);
  EXPECT_EQ((*listed)[0].start_ticks, 987'654u);
  EXPECT_EQ((*listed)[0].boot_id, boot);
  EXPECT_EQ((*listed)[1].run_id, id_b);

  ASSERT_TRUE(store_->finish_run(id_a, "succeeded", 0, 4'000, ""));
  listed = store_->running_run_processes();
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().run_id, id_b);

  auto recovered = store_->recover_runs(5'000);
  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ(recovered->interrupted, 1);
  listed = store_->running_run_processes();
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(listed->empty());

  const auto missing = store_->set_run_process({id_b + 100, 1, 1, boot});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(SqliteStoreRunsTest, AnInterruptedRunIsNotRequeuedBehindANewerRunOfItsRefWithSupersede) {
  JobRecord spec = job_;
  spec.id = 0;
  spec.name = "deploy";
  spec.supersede = true;
  spec.requeue_interrupted = true;
  auto deploy = store_->create_job(spec);
  ASSERT_TRUE(deploy.has_value()) << deploy.error().detail;
  auto run_for = [&](std::string delivery, std::string ref) {
    JobRunRecord run = run_of(std::move(delivery), std::move(ref), "main");
    run.job_id = deploy->id;
    return run;
  };
  // Run A runs; B and C of later pushes to the same branch wait, and C supersedes B. A run of
  // another branch is queued too.
  auto a = store_->create_job_runs({run_for("d-1", "refs/heads/main")}, 2'000);
  ASSERT_TRUE(a.has_value()) << a.error().detail;
  const auto id_a = a->front().run.id;
  ASSERT_TRUE(store_->mark_run_started(id_a, 2'100, ""));
  auto later = store_->create_job_runs({run_for("d-2", "refs/heads/main")}, 2'200);
  ASSERT_TRUE(later.has_value());
  const auto id_b = later->front().run.id;
  later = store_->create_job_runs({run_for("d-3", "refs/heads/main")}, 2'300);
  ASSERT_TRUE(later.has_value());
  const auto id_c = later->front().run.id;
  EXPECT_THAT(later->front().superseded, ElementsAre(id_b));
  ASSERT_TRUE(store_->create_job_runs({run_for("d-3", "refs/heads/dev")}, 2'300));

  // A restart finds A running: interrupted, and not queued again, since C builds a newer commit.
  auto recovered = store_->recover_runs(3'000);
  ASSERT_TRUE(recovered.has_value()) << recovered.error().detail;
  EXPECT_EQ(recovered->interrupted, 1);
  EXPECT_EQ(recovered->requeued, 0);
  EXPECT_EQ(recovered->not_requeued, 1);
  auto run_a = store_->get_run(id_a);
  ASSERT_TRUE(run_a && *run_a);
  EXPECT_EQ((*run_a)->status, "interrupted");
  EXPECT_EQ((*run_a)->status_reason,
            "the server stopped while the run was in progress; not "
            "re-queued: run " +
                std::to_string(id_c) + " is newer");
  RunQuery q;
  q.job_id = deploy->id;
  q.status = "queued";
  auto queued = store_->list_runs(q);
  ASSERT_TRUE(queued.has_value());
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[1].id, id_c);
  EXPECT_EQ((*queued)[0].ref_id, "refs/heads/dev");

  // C runs and finishes; the run of the other branch, stopped by the runner (SIGTERM), has no
  // newer run of its ref: it is queued again.
  auto c = store_->claim_next_run(3'100, nullptr);
  ASSERT_TRUE(c.has_value() && *c);
  EXPECT_EQ((*c)->id, id_c);
  ASSERT_TRUE(store_->finish_run(id_c, "succeeded", 0, 3'200, ""));
  auto not_again = store_->requeue_interrupted_run(id_a, 3'250);
  ASSERT_TRUE(not_again.has_value()) << not_again.error().detail;
  EXPECT_FALSE(not_again->has_value()) << "C, finished, is still newer";
  const auto dev = (*queued)[0].id;
  ASSERT_TRUE(store_->mark_run_started(dev, 3'300, ""));
  ASSERT_TRUE(store_->finish_run(dev, "interrupted", std::nullopt, 3'400, ""));
  auto again = store_->requeue_interrupted_run(dev, 3'500);
  ASSERT_TRUE(again.has_value()) << again.error().detail;
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->status, "queued");
  EXPECT_EQ((*again)->rerun_of, std::optional<std::int64_t>(dev));
  EXPECT_EQ((*again)->attempt, 1);
  EXPECT_EQ((*again)->status_reason,
            "re-queued after run " + std::to_string(dev) + " was interrupted");

  // Only an interrupted run is re-queued.
  const auto refused = store_->requeue_interrupted_run(id_c, 4'000);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_EQ(store_->requeue_interrupted_run(id_c + 100, 4'000).error().code, ErrorCode::not_found);
}

TEST_F(SqliteStoreRunsTest, WithoutSupersedeAnInterruptedRunIsRequeuedEvenBehindANewerRun) {
  JobRecord spec = job_;
  spec.requeue_interrupted = true;
  ASSERT_TRUE(store_->update_job(spec));
  auto a = store_->create_job_runs({run_of("d-1", "refs/heads/main", "main")}, 2'000);
  ASSERT_TRUE(a.has_value());
  const auto id_a = a->front().run.id;
  ASSERT_TRUE(store_->mark_run_started(id_a, 2'100, ""));
  ASSERT_TRUE(store_->create_job_runs({run_of("d-2", "refs/heads/main", "main")}, 2'200));
  auto recovered = store_->recover_runs(3'000);
  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ(recovered->requeued, 1);
  EXPECT_EQ(recovered->not_requeued, 0);
  auto run_a = store_->get_run(id_a);
  ASSERT_TRUE(run_a && *run_a);
  EXPECT_EQ((*run_a)->status_reason, "the server stopped while the run was in progress");
}

TEST_F(SqliteStoreRunsTest, ListRunsIsNewestFirstAndPagesWithBeforeId) {
  std::vector<std::int64_t> ids;
  for (const std::string d : {"d-1", "d-2", "d-3"}) {
    auto r = store_->create_job_run(run_of(d, "refs/heads/main", "main"));
    ASSERT_TRUE(r.has_value());
    ids.push_back(r->first.id);
  }
  RunQuery q;
  q.limit = 2;
  auto page = store_->list_runs(q);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, ids[2]);
  EXPECT_EQ((*page)[1].id, ids[1]);
  q.before_id = ids[1];
  page = store_->list_runs(q);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().id, ids[0]);

  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  RunQuery by_org;
  by_org.org_id = other->id;
  auto none = store_->list_runs(by_org);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

// ---- story links --------------------------------------------------------------------------------

StoryCommit commit_of(std::string key, std::string hash, UnixMillis authored) {
  return StoryCommit{std::move(key),
                     std::move(hash),
                     "Jun Nakamura",
                     "jun@example.com",
                     "NWA-512 clamp descent rate",
                     authored};
}

std::vector<std::string> sighting_places(const StoryLinkRecord& link) {
  std::vector<std::string> out;
  for (const auto& s : link.sightings) out.push_back(s.repository + "@" + s.branch);
  return out;
}

TEST_F(SqliteStoreRunsTest, LinkStoryIsUniquePerStoryAndCommit) {
  const auto c = commit_of("NWA-512", std::string(40, 'c'), 10'000);
  auto first = store_->link_story(org_.id, repo_.id, c, "main", "d-1", 20'000);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_TRUE(*first);
  auto again = store_->link_story(org_.id, repo_.id, c, "main", "d-2", 21'000);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);

  auto links = store_->story_links(org_.id, "NWA-512");
  ASSERT_TRUE(links.has_value());
  ASSERT_EQ(links->size(), 1u);
  const StoryLinkRecord& l = links->front();
  EXPECT_EQ(l.commit.story_key, "NWA-512");
  EXPECT_EQ(l.commit.commit_hash, std::string(40, 'c'));
  EXPECT_EQ(l.commit.author_name, "Jun Nakamura");
  EXPECT_EQ(l.commit.author_email, "jun@example.com");
  EXPECT_EQ(l.commit.message, "NWA-512 clamp descent rate");
  EXPECT_EQ(l.commit.authored_at_ms, 10'000);
  EXPECT_EQ(l.created_at_ms, 20'000);
  // The same repository × branch is recorded once, by the first delivery that saw it.
  ASSERT_EQ(l.sightings.size(), 1u);
  EXPECT_EQ(l.sightings[0].repository, "NWA/flight-planner");
  EXPECT_EQ(l.sightings[0].branch, "main");
  EXPECT_EQ(l.sightings[0].delivery_id, "d-1");
  EXPECT_EQ(l.sightings[0].seen_at_ms, 20'000);

  // The same commit under another story is another link.
  auto other_story = store_->link_story(
      org_.id, repo_.id, commit_of("NWA-600", std::string(40, 'c'), 10'000), "main", "d-1", 20'000);
  ASSERT_TRUE(other_story.has_value());
  EXPECT_TRUE(*other_story);
}

TEST_F(SqliteStoreRunsTest, SightingsAreRecordedPerRepositoryAndBranch) {
  const auto c = commit_of("NWA-512", std::string(40, 'c'), 10'000);
  ASSERT_TRUE(store_->link_story(org_.id, repo_.id, c, "feature/x", "d-1", 20'000));
  auto on_main = store_->link_story(org_.id, repo_.id, c, "main", "d-2", 21'000);
  ASSERT_TRUE(on_main.has_value());
  EXPECT_FALSE(*on_main);  // the link exists; only a sighting is added
  ASSERT_TRUE(store_->link_story(org_.id, repo2_.id, c, "main", "d-3", 22'000));
  ASSERT_TRUE(store_->link_story(org_.id, repo_.id, c, "main", "d-4", 23'000));  // seen before

  auto links = store_->story_links(org_.id, "NWA-512");
  ASSERT_TRUE(links.has_value());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_THAT(
      sighting_places(links->front()),
      ElementsAre("NWA/flight-planner@feature/x", "NWA/flight-planner@main", "NWA/autopilot@main"));
  EXPECT_EQ(links->front().sightings[1].delivery_id, "d-2");
  EXPECT_EQ(links->front().sightings[2].seen_at_ms, 22'000);
}

TEST_F(SqliteStoreRunsTest, StoryLinksAreNewestFirstAndFilteredByOrg) {
  ASSERT_TRUE(store_->link_story(org_.id, repo_.id, commit_of("NWA-1", std::string(40, 'a'), 1'000),
                                 "main", "d", 5));
  ASSERT_TRUE(store_->link_story(org_.id, repo_.id, commit_of("NWA-1", std::string(40, 'c'), 3'000),
                                 "main", "d", 5));
  ASSERT_TRUE(store_->link_story(org_.id, repo_.id, commit_of("NWA-1", std::string(40, 'b'), 2'000),
                                 "main", "d", 5));
  ASSERT_TRUE(store_->link_story(org_.id, repo_.id, commit_of("NWA-2", std::string(40, 'd'), 9'000),
                                 "main", "d", 5));

  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  auto other_repo = add_repository(other->id, "SW", "app");
  ASSERT_TRUE(store_->link_story(other->id, other_repo.id,
                                 commit_of("NWA-1", std::string(40, 'e'), 4'000), "main", "d", 5));

  auto mine = store_->story_links(org_.id, "NWA-1");
  ASSERT_TRUE(mine.has_value());
  std::vector<std::string> hashes;
  for (const auto& l : *mine) hashes.push_back(l.commit.commit_hash.substr(0, 1));
  EXPECT_THAT(hashes, ElementsAre("c", "b", "a"));

  auto everywhere = store_->story_links(std::nullopt, "NWA-1");
  ASSERT_TRUE(everywhere.has_value());
  hashes.clear();
  for (const auto& l : *everywhere) hashes.push_back(l.commit.commit_hash.substr(0, 1));
  EXPECT_THAT(hashes, ElementsAre("e", "c", "b", "a"));
  EXPECT_EQ(everywhere->front().sightings.front().repository, "SW/app");

  auto unknown = store_->story_links(org_.id, "NWA-404");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_TRUE(unknown->empty());
}

}  // namespace
}  // namespace cb::store
