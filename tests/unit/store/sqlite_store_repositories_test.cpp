// The repository registry in SqliteStore: every field round-trips, migration 0005 keeps existing
// rows, update/delete/pages, and key rotation re-seals repository credentials.

#include <gtest/gtest.h>

#include "store/migrations.hpp"
#include "store_test_util.hpp"

namespace cb::store::testing {
namespace {

RepositoryRecord full_repository(std::int64_t org_id) {
  RepositoryRecord r;
  r.org_id = org_id;
  r.provider = "bitbucket_server";
  r.project_key = "NWA";
  r.slug = "flight-planner";
  r.clone_url = "https://scm.northwind.example/scm/nwa/flight-planner.git";
  r.auto_update_alm = true;
  r.created_at_ms = 5'000;
  r.display_name = "Flight planner";
  r.ssh_clone_url = "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git";
  r.browse_url = "https://scm.northwind.example/projects/NWA/repos/flight-planner/browse";
  r.default_branch = "main";
  r.credential_type = "http";
  r.credential_username = "build-bot";
  r.credential_secret_sealed = std::string("\x01sealed-bytes\x00\xff", 15);
  r.credential_id = "c0ffee";
  return r;
}

using SqliteStoreRepositoriesTest = SqliteStoreTest;

TEST_F(SqliteStoreRepositoriesTest, EveryFieldRoundTrips) {
  auto created = store_->create_repository(full_repository(org_.id));
  ASSERT_TRUE(created.has_value()) << created.error().detail;
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->updated_at_ms, 5'000);  // defaults to created_at
  EXPECT_TRUE(created->credential_secret_set);
  auto got = store_->get_repository(org_.id, created->id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  const RepositoryRecord& r = **got;
  const RepositoryRecord want = full_repository(org_.id);
  EXPECT_EQ(r.provider, want.provider);
  EXPECT_EQ(r.project_key, want.project_key);
  EXPECT_EQ(r.slug, want.slug);
  EXPECT_EQ(r.clone_url, want.clone_url);
  EXPECT_TRUE(r.auto_update_alm);
  EXPECT_EQ(r.created_at_ms, 5'000);
  EXPECT_EQ(r.display_name, "Flight planner");
  EXPECT_EQ(r.ssh_clone_url, want.ssh_clone_url);
  EXPECT_EQ(r.browse_url, want.browse_url);
  EXPECT_EQ(r.default_branch, "main");
  EXPECT_EQ(r.credential_type, "http");
  EXPECT_EQ(r.credential_username, "build-bot");
  EXPECT_EQ(r.credential_secret_sealed, want.credential_secret_sealed);
  EXPECT_EQ(r.credential_id, "c0ffee");
  EXPECT_TRUE(r.credential_secret_set);
}

TEST_F(SqliteStoreRepositoriesTest, DefaultsForAThinRecord) {
  RepositoryRecord r;
  r.org_id = org_.id;
  r.provider = "github";
  r.project_key = "northwind";
  r.slug = "autopilot";
  r.clone_url = "https://github.com/northwind/autopilot.git";
  r.created_at_ms = 7'000;
  auto created = store_->create_repository(r);
  ASSERT_TRUE(created.has_value());
  EXPECT_EQ(created->display_name, "autopilot");
  EXPECT_EQ(created->credential_type, "none");
  EXPECT_FALSE(created->credential_secret_set);
  auto found = store_->find_repository(org_.id, "github", "NORTHWIND", "AutoPilot");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->id, created->id);
  EXPECT_TRUE((*found)->credential_secret_sealed.empty());
}

TEST_F(SqliteStoreRepositoriesTest, GetIsScopedToTheOrg) {
  auto created = store_->create_repository(full_repository(org_.id));
  ASSERT_TRUE(created.has_value());
  auto other = store_->create_org("Southwind", 2'000);
  ASSERT_TRUE(other.has_value());
  auto got = store_->get_repository(other->id, created->id);
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_value());
  EXPECT_FALSE(store_->get_repository(org_.id, created->id + 100)->has_value());
}

TEST_F(SqliteStoreRepositoriesTest, UpdateReplacesFieldsAndReportsConflictAndAbsence) {
  auto a = store_->create_repository(full_repository(org_.id));
  RepositoryRecord second = full_repository(org_.id);
  second.slug = "autopilot";
  auto b = store_->create_repository(second);
  ASSERT_TRUE(a.has_value() && b.has_value());

  RepositoryRecord changed = *a;
  changed.display_name = "Planner";
  changed.credential_type = "none";
  changed.credential_username.clear();
  changed.credential_secret_sealed.clear();
  changed.credential_id.clear();
  changed.auto_update_alm = false;
  changed.updated_at_ms = 9'000;
  changed.created_at_ms = 1;  // not changed by an update
  auto updated = store_->update_repository(changed);
  ASSERT_TRUE(updated.has_value()) << updated.error().detail;
  EXPECT_EQ(updated->display_name, "Planner");
  EXPECT_EQ(updated->credential_type, "none");
  EXPECT_TRUE(updated->credential_secret_sealed.empty());
  EXPECT_FALSE(updated->credential_secret_set);
  EXPECT_FALSE(updated->auto_update_alm);
  EXPECT_EQ(updated->updated_at_ms, 9'000);
  EXPECT_EQ(updated->created_at_ms, 5'000);

  RepositoryRecord clash = *b;
  clash.slug = "FLIGHT-PLANNER";  // the unique key is case-insensitive
  auto conflict = store_->update_repository(clash);
  ASSERT_FALSE(conflict.has_value());
  EXPECT_EQ(conflict.error().code, ErrorCode::conflict);

  RepositoryRecord missing = *b;
  missing.id = b->id + 100;
  auto absent = store_->update_repository(missing);
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code, ErrorCode::not_found);
}

TEST_F(SqliteStoreRepositoriesTest, DeleteTakesTheJobsAlongAndCountsThem) {
  auto repo = store_->create_repository(full_repository(org_.id));
  ASSERT_TRUE(repo.has_value());
  std::int64_t deploy_id = 0;
  for (const std::string name : {"build", "deploy"}) {
    JobRecord j;
    j.org_id = org_.id;
    j.repository_id = repo->id;
    j.name = name;
    j.branches = "main";
    j.argv = {"/bin/true"};
    j.created_at_ms = 6'000;
    auto created = store_->create_job(j);
    ASSERT_TRUE(created.has_value());
    deploy_id = created->id;
  }
  auto other = store_->create_org("Southwind", 2'000);
  ASSERT_TRUE(other.has_value());
  auto wrong_org = store_->delete_repository(other->id, repo->id);
  ASSERT_FALSE(wrong_org.has_value());
  EXPECT_EQ(wrong_org.error().code, ErrorCode::not_found);

  // A running run keeps the repository (its command would go on with no run to record it).
  JobRunRecord run;
  run.job_id = deploy_id;
  run.delivery_id = "d-1";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  auto queued = store_->create_job_run(run);
  ASSERT_TRUE(queued.has_value());
  auto claimed = store_->claim_next_run(7'000, {});
  ASSERT_TRUE(claimed && *claimed);
  auto busy = store_->delete_repository(org_.id, repo->id);
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().code, ErrorCode::conflict);
  EXPECT_EQ(busy.error().message,
            "the repository's jobs have runs in progress: " + std::to_string(queued->first.id) +
                " (job deploy); cancel them (commitbridge runs cancel ID) or wait for them to "
                "end, then remove the repository");
  EXPECT_EQ(store_->list_jobs(repo->id)->size(), 2u);
  ASSERT_TRUE(store_->finish_run(queued->first.id, "succeeded", 0, 8'000, "").has_value());

  auto deleted = store_->delete_repository(org_.id, repo->id);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().detail;
  EXPECT_EQ(*deleted, 2);
  EXPECT_TRUE(store_->list_jobs(repo->id)->empty());
  EXPECT_FALSE(store_->get_repository(org_.id, repo->id)->has_value());
  auto again = store_->delete_repository(org_.id, repo->id);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::not_found);
}

TEST_F(SqliteStoreRepositoriesTest, PagesFollowIds) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    RepositoryRecord r = full_repository(org_.id);
    r.slug = "repo-" + std::to_string(i);
    auto created = store_->create_repository(r);
    ASSERT_TRUE(created.has_value());
    ids.push_back(created->id);
  }
  auto first = store_->list_repositories_page(org_.id, PageQuery{0, 2});
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].id, ids[0]);
  EXPECT_EQ((*first)[1].id, ids[1]);
  auto rest = store_->list_repositories_page(org_.id, PageQuery{ids[1], 10});
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_EQ(rest->back().id, ids[4]);
}

TEST_F(SqliteStoreRepositoriesTest, RewrapSecretsReSealsRepositoryCredentialsWithTheirAad) {
  auto with_secret = store_->create_repository(full_repository(org_.id));
  RepositoryRecord no_secret = full_repository(org_.id);
  no_secret.slug = "autopilot";
  no_secret.credential_type = "none";
  no_secret.credential_secret_sealed.clear();
  no_secret.credential_id.clear();
  ASSERT_TRUE(with_secret.has_value() && store_->create_repository(no_secret).has_value());

  std::vector<std::string> aads;
  auto count = store_->rewrap_secrets(
      [&](const std::string& sealed, const std::string& aad) -> Result<std::string> {
        aads.push_back(aad);
        return "re:" + sealed;
      },
      "fp-2");
  ASSERT_TRUE(count.has_value()) << count.error().detail;
  EXPECT_EQ(*count, 1u);
  EXPECT_EQ(aads, std::vector<std::string>{"repository-credential:c0ffee"});
  auto got = store_->get_repository(org_.id, with_secret->id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->credential_secret_sealed, "re:" + full_repository(0).credential_secret_sealed);
  EXPECT_EQ(store_->meta("key_fingerprint")->value_or(""), "fp-2");
}

TEST_F(SqliteStoreRepositoriesTest, RewrapFailureChangesNothing) {
  auto repo = store_->create_repository(full_repository(org_.id));
  ASSERT_TRUE(repo.has_value());
  auto count = store_->rewrap_secrets(
      [](const std::string&, const std::string&) -> Result<std::string> {
        return fail(ErrorCode::internal, "cannot open");
      },
      "fp-3");
  ASSERT_FALSE(count.has_value());
  auto got = store_->get_repository(org_.id, repo->id);
  EXPECT_EQ((*got)->credential_secret_sealed, full_repository(0).credential_secret_sealed);
  EXPECT_FALSE(store_->meta("key_fingerprint")->has_value());
}

// ---- migration 0005 ----------------------------------------------------------------------------

TEST(RepositoriesMigrationTest, ExistingRowsKeepTheirDataAndSshUrlsMove) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  {
    auto db = sqlite::Connection::open(dir.path() / "old.db");
    ASSERT_TRUE(db.has_value());
    for (const auto& m : embedded_migrations()) {
      if (m.version > 4) break;
      ASSERT_TRUE(db->exec(m.sql).has_value()) << m.name;
    }
    ASSERT_TRUE(db->exec("PRAGMA user_version = 4").has_value());
    ASSERT_TRUE(
        db->exec("INSERT INTO orgs (id, name, created_at_ms) VALUES (1, 'acme', 10);"
                 "INSERT INTO repositories (org_id, provider, project_key, slug, clone_url, "
                 "auto_update_alm, created_at_ms) VALUES "
                 "(1, 'bitbucket_server', 'NWA', 'planner', "
                 "'https://scm.example/scm/nwa/planner.git', 1, 100),"
                 "(1, 'bitbucket_server', 'NWA', 'autopilot', "
                 "'ssh://git@scm.example:7999/nwa/autopilot.git', 0, 200),"
                 "(1, 'github', 'northwind', 'nav', 'git@github.com:northwind/nav.git', 0, 300),"
                 "(1, 'bitbucket_server', 'NWA', 'local', '/srv/git/local.git', 0, 400);")
            .has_value());
  }
  auto opened = sqlite::SqliteStore::open(dir.path() / "old.db");
  ASSERT_TRUE(opened.has_value()) << opened.error().detail;
  auto repos = (*opened)->list_repositories(1);
  ASSERT_TRUE(repos.has_value());
  ASSERT_EQ(repos->size(), 4u);
  std::map<std::string, RepositoryRecord> by_slug;
  for (const auto& r : *repos) by_slug[r.slug] = r;
  EXPECT_EQ(by_slug["planner"].clone_url, "https://scm.example/scm/nwa/planner.git");
  EXPECT_EQ(by_slug["planner"].ssh_clone_url, "");
  EXPECT_TRUE(by_slug["planner"].auto_update_alm);
  EXPECT_EQ(by_slug["planner"].display_name, "planner");
  EXPECT_EQ(by_slug["planner"].updated_at_ms, 100);
  EXPECT_EQ(by_slug["planner"].credential_type, "none");
  EXPECT_EQ(by_slug["autopilot"].clone_url, "");
  EXPECT_EQ(by_slug["autopilot"].ssh_clone_url, "ssh://git@scm.example:7999/nwa/autopilot.git");
  EXPECT_EQ(by_slug["nav"].ssh_clone_url, "git@github.com:northwind/nav.git");
  EXPECT_EQ(by_slug["nav"].clone_url, "");
  EXPECT_EQ(by_slug["local"].clone_url, "/srv/git/local.git");
  EXPECT_EQ(by_slug["local"].created_at_ms, 400);
}

}  // namespace
}  // namespace cb::store::testing
