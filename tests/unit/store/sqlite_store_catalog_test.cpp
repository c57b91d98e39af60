// SqliteStore: migrations, orgs, tokens, repositories and jobs.

#include <sqlite3.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_test_util.hpp"

namespace cb::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::SqliteStoreTest;
using testing::TempDir;

/// The value of `PRAGMA <pragma>` read through a plain connection (not
/// sqlite::Connection, which sets pragmas itself).
std::string read_pragma(const std::filesystem::path& file, const std::string& pragma) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close_v2(db);
    return "<cannot open>";
  }
  std::string out = "<no row>";
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "PRAGMA " + pragma;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close_v2(db);
  return out;
}

TEST(MigrationsTest, EmbeddedMigrationsStartAtOneAndAscend) {
  const auto& all = embedded_migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().version, 1);
  EXPECT_EQ(all.front().name, "0001_initial");
  EXPECT_THAT(std::string(all.front().sql), HasSubstr("CREATE TABLE deliveries"));
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_LT(all[i - 1].version, all[i].version) << all[i].name;
  }
}

TEST(MigrationsTest, OpenSetsUserVersionToTheNewestMigration) {
  TempDir dir;
  const auto file = dir.path() / "fresh.db";
  {
    auto store = sqlite::SqliteStore::open(file);
    ASSERT_TRUE(store.has_value()) << store.error().detail;
  }
  EXPECT_EQ(read_pragma(file, "user_version"),
            std::to_string(embedded_migrations().back().version));
  // Reopening applies nothing again (a second CREATE TABLE would fail) and keeps the version.
  {
    auto again = sqlite::SqliteStore::open(file);
    ASSERT_TRUE(again.has_value()) << again.error().detail;
  }
  EXPECT_EQ(read_pragma(file, "user_version"),
            std::to_string(embedded_migrations().back().version));
}

TEST(MigrationsTest, DatabaseFileIsInWriteAheadLogMode) {
  TempDir dir;
  const auto file = dir.path() / "wal.db";
  auto store = sqlite::SqliteStore::open(file);
  ASSERT_TRUE(store.has_value());
  EXPECT_EQ(read_pragma(file, "journal_mode"), "wal");
}

TEST(MigrationsTest, OpenFailsWithStoreUnavailableForAnUnusablePath) {
  TempDir dir;
  auto store = sqlite::SqliteStore::open(dir.path() / "no-such-dir" / "x.db");
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::store_unavailable);
}

// ---- orgs ---------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, CreateOrgReturnsTheStoredRecord) {
  EXPECT_GT(org_.id, 0);
  EXPECT_EQ(org_.name, "Northwind");
  EXPECT_EQ(org_.created_at_ms, 1'000);
}

TEST_F(SqliteStoreTest, FindOrgIsCaseInsensitiveAndKeepsTheOriginalSpelling) {
  for (const std::string name : {"Northwind", "northwind", "NORTHWIND", "nOrThWiNd"}) {
    auto found = store_->find_org(name);
    ASSERT_TRUE(found.has_value()) << name;
    ASSERT_TRUE(found->has_value()) << name;
    EXPECT_EQ((*found)->id, org_.id) << name;
    EXPECT_EQ((*found)->name, "Northwind") << name;
    EXPECT_EQ((*found)->created_at_ms, 1'000) << name;
  }
}

TEST_F(SqliteStoreTest, FindOrgOfAnUnknownNameIsEmpty) {
  auto found = store_->find_org("Southwind");
  ASSERT_TRUE(found.has_value());
  EXPECT_FALSE(found->has_value());
}

TEST_F(SqliteStoreTest, DuplicateOrgNameInAnyCaseIsAConflict) {
  auto dup = store_->create_org("NORTHWIND", 2'000);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
  EXPECT_THAT(dup.error().message, HasSubstr("NORTHWIND"));
  auto all = store_->list_orgs();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().name, "Northwind");
}

TEST_F(SqliteStoreTest, ListOrgsIsSortedByName) {
  ASSERT_TRUE(store_->create_org("Acme", 2).has_value());
  ASSERT_TRUE(store_->create_org("Zeta", 3).has_value());
  auto all = store_->list_orgs();
  ASSERT_TRUE(all.has_value());
  std::vector<std::string> names;
  for (const auto& o : *all) names.push_back(o.name);
  EXPECT_THAT(names, ElementsAre("Acme", "Northwind", "Zeta"));
}

// ---- tokens -------------------------------------------------------------------------------------

TokenRecord webhook_token(std::int64_t org_id, std::string name, std::string public_id) {
  TokenRecord t;
  t.org_id = org_id;
  t.name = std::move(name);
  t.type = "webhook";
  t.description = "Bitbucket flight-planner";
  t.public_id = std::move(public_id);
  t.secret_sealed = std::string("\x01sealed\0bytes", 13);
  t.created_at_ms = 5'000;
  t.created_by = "admin";
  t.expires_at_ms = 9'000'000;
  return t;
}

TEST_F(SqliteStoreTest, CreateAndListTokensRoundTripsEveryField) {
  auto created = store_->create_token(webhook_token(org_.id, "bitbucket", "0123456789abcdef"));
  ASSERT_TRUE(created.has_value()) << created.error().detail;
  EXPECT_GT(created->id, 0);

  TokenRecord api;
  api.org_id = org_.id;
  api.name = "automation";
  api.type = "api";
  api.public_id = "fedcba9876543210";
  api.secret_sha256 = std::string(32, '\x7f');
  api.created_at_ms = 6'000;
  ASSERT_TRUE(store_->create_token(api).has_value());

  auto listed = store_->list_tokens(org_.id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  // Sorted by name.
  const TokenRecord& a = (*listed)[0];
  const TokenRecord& w = (*listed)[1];
  EXPECT_EQ(a.name, "automation");
  EXPECT_EQ(a.type, "api");
  EXPECT_EQ(a.secret_sha256, std::string(32, '\x7f'));
  EXPECT_TRUE(a.secret_sealed.empty());
  EXPECT_FALSE(a.expires_at_ms.has_value());

  EXPECT_EQ(w.id, created->id);
  EXPECT_EQ(w.org_id, org_.id);
  EXPECT_EQ(w.name, "bitbucket");
  EXPECT_EQ(w.type, "webhook");
  EXPECT_EQ(w.description, "Bitbucket flight-planner");
  EXPECT_EQ(w.public_id, "0123456789abcdef");
  EXPECT_EQ(w.secret_sealed, std::string("\x01sealed\0bytes", 13));
  EXPECT_TRUE(w.secret_sha256.empty());
  EXPECT_EQ(w.created_at_ms, 5'000);
  EXPECT_EQ(w.created_by, "admin");
  EXPECT_EQ(w.expires_at_ms, std::optional<UnixMillis>(9'000'000));
  EXPECT_FALSE(w.revoked_at_ms.has_value());
  EXPECT_FALSE(w.last_used_at_ms.has_value());
}

TEST_F(SqliteStoreTest, DuplicateTokenNameInOneOrgIsAConflictButAnotherOrgMayReuseIt) {
  ASSERT_TRUE(store_->create_token(webhook_token(org_.id, "ci", "1111111111111111")).has_value());
  auto dup = store_->create_token(webhook_token(org_.id, "ci", "2222222222222222"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
  EXPECT_THAT(dup.error().message, HasSubstr("'ci'"));

  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(store_->create_token(webhook_token(other->id, "ci", "3333333333333333")).has_value());
  auto listed = store_->list_tokens(org_.id);
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(SqliteStoreTest, RevokeSetsRevokedAtOnceAndKeepsTheFirstTime) {
  ASSERT_TRUE(store_->create_token(webhook_token(org_.id, "ci", "1111111111111111")).has_value());
  auto first = store_->revoke_token(org_.id, "ci", 10'000);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_EQ(first->name, "ci");
  EXPECT_EQ(first->revoked_at_ms, std::optional<UnixMillis>(10'000));

  auto second = store_->revoke_token(org_.id, "ci", 20'000);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->revoked_at_ms, std::optional<UnixMillis>(10'000));

  auto listed = store_->list_tokens(org_.id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().revoked_at_ms, std::optional<UnixMillis>(10'000));
}

TEST_F(SqliteStoreTest, RevokeOfAnUnknownTokenIsNotFound) {
  auto r = store_->revoke_token(org_.id, "nope", 10'000);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_THAT(r.error().message, HasSubstr("'nope'"));
}

TEST_F(SqliteStoreTest, RevokeDoesNotReachIntoAnotherOrg) {
  ASSERT_TRUE(store_->create_token(webhook_token(org_.id, "ci", "1111111111111111")).has_value());
  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  auto r = store_->revoke_token(other->id, "ci", 10'000);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  auto listed = store_->list_tokens(org_.id);
  ASSERT_TRUE(listed.has_value());
  EXPECT_FALSE(listed->front().revoked_at_ms.has_value());
}

TEST_F(SqliteStoreTest, ConstraintOtherThanUniquenessIsNotReportedAsAConflict) {
  // A CHECK violation (unknown token type) is not "already exists".
  auto bad_type = webhook_token(org_.id, "odd", "4444444444444444");
  bad_type.type = "bogus";
  auto t = store_->create_token(bad_type);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::internal);
  EXPECT_THAT(t.error().message, Not(HasSubstr("already exists")));
  EXPECT_THAT(t.error().detail, HasSubstr("CHECK constraint failed"));
  // Neither is a FOREIGN KEY violation (no such org).
  auto orphan = webhook_token(org_.id + 1000, "orphan", "5555555555555555");
  auto o = store_->create_token(orphan);
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().code, ErrorCode::internal);
  EXPECT_THAT(o.error().detail, HasSubstr("FOREIGN KEY constraint failed"));
  auto listed = store_->list_tokens(org_.id);
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(listed->empty());
}

// ---- repositories and jobs ----------------------------------------------------------------------

RepositoryRecord repository(std::int64_t org_id, std::string project, std::string slug) {
  RepositoryRecord r;
  r.org_id = org_id;
  r.provider = "bitbucket_server";
  r.project_key = std::move(project);
  r.slug = std::move(slug);
  r.clone_url = "https://scm.example/scm/nwa/flight-planner.git";
  r.auto_update_alm = true;
  r.created_at_ms = 7'000;
  return r;
}

TEST_F(SqliteStoreTest, FindRepositoryIgnoresCaseOfProjectKeyAndSlug) {
  auto created = store_->create_repository(repository(org_.id, "NWA", "Flight-Planner"));
  ASSERT_TRUE(created.has_value()) << created.error().detail;
  for (const auto& [project, slug] : std::vector<std::pair<std::string, std::string>>{
           {"NWA", "Flight-Planner"}, {"nwa", "flight-planner"}, {"Nwa", "FLIGHT-PLANNER"}}) {
    auto found = store_->find_repository(org_.id, "bitbucket_server", project, slug);
    ASSERT_TRUE(found.has_value());
    ASSERT_TRUE(found->has_value()) << project << "/" << slug;
    EXPECT_EQ((*found)->id, created->id);
    EXPECT_EQ((*found)->project_key, "NWA");
    EXPECT_EQ((*found)->slug, "Flight-Planner");
    EXPECT_EQ((*found)->clone_url, "https://scm.example/scm/nwa/flight-planner.git");
    EXPECT_TRUE((*found)->auto_update_alm);
    EXPECT_EQ((*found)->created_at_ms, 7'000);
  }
}

TEST_F(SqliteStoreTest, FindRepositoryMatchesProviderAndOrgExactly) {
  ASSERT_TRUE(store_->create_repository(repository(org_.id, "NWA", "planner")).has_value());
  auto other_provider = store_->find_repository(org_.id, "github", "NWA", "planner");
  ASSERT_TRUE(other_provider.has_value());
  EXPECT_FALSE(other_provider->has_value());
  auto other_slug = store_->find_repository(org_.id, "bitbucket_server", "NWA", "planner2");
  ASSERT_TRUE(other_slug.has_value());
  EXPECT_FALSE(other_slug->has_value());
  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  auto other_org = store_->find_repository(other->id, "bitbucket_server", "NWA", "planner");
  ASSERT_TRUE(other_org.has_value());
  EXPECT_FALSE(other_org->has_value());
}

TEST_F(SqliteStoreTest, DuplicateRepositoryInAnotherCaseIsAConflict) {
  ASSERT_TRUE(store_->create_repository(repository(org_.id, "NWA", "planner")).has_value());
  auto dup = store_->create_repository(repository(org_.id, "nwa", "PLANNER"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
  EXPECT_THAT(dup.error().message, HasSubstr("nwa/PLANNER"));
}

TEST_F(SqliteStoreTest, JobsKeepTheirArgvVerbatim) {
  auto repo = store_->create_repository(repository(org_.id, "NWA", "planner"));
  ASSERT_TRUE(repo.has_value());
  JobRecord job;
  job.org_id = org_.id;
  job.repository_id = repo->id;
  job.name = "build";
  job.branches = "main,release/*";
  job.argv = {"/bin/sh", "-c", "echo \"quoted\" 'single' $HOME \\ back", "", "ünïcode"};
  job.enabled = false;
  job.created_at_ms = 8'000;
  auto created = store_->create_job(job);
  ASSERT_TRUE(created.has_value()) << created.error().detail;

  auto listed = store_->list_jobs(repo->id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  const JobRecord& j = listed->front();
  EXPECT_EQ(j.id, created->id);
  EXPECT_EQ(j.org_id, org_.id);
  EXPECT_EQ(j.repository_id, repo->id);
  EXPECT_EQ(j.name, "build");
  EXPECT_EQ(j.branches, "main,release/*");
  EXPECT_EQ(j.argv, job.argv);
  EXPECT_FALSE(j.enabled);
  EXPECT_EQ(j.created_at_ms, 8'000);

  auto dup = store_->create_job(job);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
}

}  // namespace
}  // namespace cb::store
