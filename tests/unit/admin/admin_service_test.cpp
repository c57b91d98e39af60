// AdminService over a real SQLite store: validation, token creation and storage of secrets.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "admin/admin_service.hpp"
#include "auth/digest.hpp"
#include "auth/secret_box.hpp"
#include "auth/token_format.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::admin {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr UnixMillis kNow = 1'772'000'000'000;

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-admin-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    admin_ = std::make_unique<AdminService>(*store_, box_, clock_);
    auto org = admin_->create_org("Northwind");
    ASSERT_TRUE(org.has_value()) << org.error().message;
    org_ = *org;
  }
  void TearDown() override {
    admin_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  /// The stored row of the org's token `name` (with its secret columns).
  store::TokenRecord stored_token(const std::string& name) {
    auto tokens = store_->list_tokens(org_.id);
    EXPECT_TRUE(tokens.has_value());
    for (const auto& t : tokens.value_or(std::vector<store::TokenRecord>{})) {
      if (t.name == name) return t;
    }
    ADD_FAILURE() << "no token " << name;
    return store::TokenRecord{};
  }

  Result<store::RepositoryRecord> add_repo(std::string provider = "bitbucket_server",
                                           std::string project = "NWA",
                                           std::string slug = "flight-planner") {
    RepositorySpec spec;
    spec.org = "Northwind";
    spec.provider = std::move(provider);
    spec.project_key = std::move(project);
    spec.slug = std::move(slug);
    spec.clone_url = "https://scm.example/scm/nwa/flight-planner.git";
    spec.auto_update_alm = true;
    return admin_->add_repository(spec);
  }

  JobSpec job_spec() const {
    JobSpec j;
    j.org = "northwind";
    j.repository = "nwa/FLIGHT-PLANNER";
    j.name = "build";
    j.branches = " main , release/* ";
    j.argv = {"make", "all"};
    return j;
  }

  fs::path dir_;
  ManualClock clock_{kNow};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 's'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<AdminService> admin_;
  store::OrgRecord org_;
};

// ---- orgs ---------------------------------------------------------------------------------------

TEST_F(AdminServiceTest, CreateOrgValidatesTheName) {
  EXPECT_EQ(org_.name, "Northwind");
  EXPECT_EQ(org_.created_at_ms, kNow);
  for (const std::string& bad :
       {std::string(), std::string("north wind"), std::string("north/wind"), std::string("ü-org"),
        std::string(101, 'a')}) {
    auto r = admin_->create_org(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << bad;
  }
  auto ok = admin_->create_org("Acme-Corp_2.0");
  EXPECT_TRUE(ok.has_value());
  auto dup = admin_->create_org("NORTHWIND");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
}

TEST_F(AdminServiceTest, GetOrgOfUnknownNameIsNotFound) {
  auto r = admin_->get_org("Southwind");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_EQ(r.error().message, "no org named 'Southwind'");
}

// ---- tokens -------------------------------------------------------------------------------------

TEST_F(AdminServiceTest, WebhookTokenIsStoredSealedAndShownOnce) {
  auto created =
      admin_->create_token("northwind", "bitbucket", auth::TokenType::webhook,
                           "Bitbucket DC flight-planner", kNow + 86'400'000, Actor{"alice", ""});
  ASSERT_TRUE(created.has_value()) << created.error().message;

  // The returned record has no secret material.
  const auto& rec = created->record;
  EXPECT_GT(rec.id, 0);
  EXPECT_EQ(rec.org_id, org_.id);
  EXPECT_EQ(rec.name, "bitbucket");
  EXPECT_EQ(rec.type, "webhook");
  EXPECT_EQ(rec.description, "Bitbucket DC flight-planner");
  EXPECT_EQ(rec.created_by, "alice");
  EXPECT_EQ(rec.created_at_ms, kNow);
  EXPECT_EQ(rec.expires_at_ms, std::optional<UnixMillis>(kNow + 86'400'000));
  EXPECT_TRUE(rec.secret_sealed.empty());
  EXPECT_TRUE(rec.secret_sha256.empty());

  // The clear token parses and carries the record's public id.
  auto parts = auth::parse_token(created->token);
  ASSERT_TRUE(parts.has_value()) << parts.error().message;
  EXPECT_EQ(parts->type, auth::TokenType::webhook);
  EXPECT_EQ(parts->public_id, rec.public_id);
  EXPECT_THAT(created->token, ::testing::StartsWith("cbw_" + rec.public_id + "_"));

  // The store holds the secret sealed under the public id, never in clear.
  const auto row = stored_token("bitbucket");
  EXPECT_TRUE(row.secret_sha256.empty());
  ASSERT_EQ(row.secret_sealed.size(),
            1 + auth::SecretBox::kNonceSize + parts->secret.size() + auth::SecretBox::kTagSize);
  EXPECT_EQ(static_cast<unsigned char>(row.secret_sealed[0]), auth::SecretBox::kVersion);
  EXPECT_THAT(row.secret_sealed, Not(HasSubstr(parts->secret)));
  auto opened = box_.open(row.secret_sealed, rec.public_id);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  EXPECT_EQ(*opened, parts->secret);
  // Bound to its public id: it does not open as another token's secret.
  EXPECT_FALSE(box_.open(row.secret_sealed, "0000000000000000").has_value());
}

TEST_F(AdminServiceTest, ApiTokenIsStoredAsSha256Only) {
  auto created = admin_->create_token("Northwind", "automation", auth::TokenType::api, "",
                                      std::nullopt, Actor{});
  ASSERT_TRUE(created.has_value()) << created.error().message;
  auto parts = auth::parse_token(created->token);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->type, auth::TokenType::api);
  EXPECT_THAT(created->token, ::testing::StartsWith("cba_"));
  EXPECT_TRUE(created->record.secret_sha256.empty());
  EXPECT_FALSE(created->record.expires_at_ms.has_value());

  const auto row = stored_token("automation");
  EXPECT_EQ(row.type, "api");
  EXPECT_TRUE(row.secret_sealed.empty());
  EXPECT_EQ(row.secret_sha256, auth::sha256(parts->secret));
  EXPECT_EQ(row.secret_sha256.size(), 32u);
}

TEST_F(AdminServiceTest, TwoTokensNeverShareSecretsOrPublicIds) {
  auto a =
      admin_->create_token("Northwind", "a", auth::TokenType::webhook, "", std::nullopt, Actor{});
  auto b =
      admin_->create_token("Northwind", "b", auth::TokenType::webhook, "", std::nullopt, Actor{});
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(a->token, b->token);
  EXPECT_NE(a->record.public_id, b->record.public_id);
}

TEST_F(AdminServiceTest, TokenNameMustBeOneTo100Characters) {
  auto empty = admin_->create_token("Northwind", "", auth::TokenType::webhook, "", {}, Actor{});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(empty.error().message, "name: is empty");

  auto too_long = admin_->create_token("Northwind", std::string(101, 'n'), auth::TokenType::webhook,
                                       "", {}, Actor{});
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(too_long.error().message, "name: longer than 100 characters");

  auto exactly = admin_->create_token("Northwind", std::string(100, 'n'), auth::TokenType::webhook,
                                      "", {}, Actor{});
  EXPECT_TRUE(exactly.has_value());
}

TEST_F(AdminServiceTest, DescriptionOver1000CharactersIsRefused) {
  auto r = admin_->create_token("Northwind", "x", auth::TokenType::webhook, std::string(1001, 'd'),
                                {}, Actor{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(r.error().message, "description: longer than 1000 characters");
  auto ok = admin_->create_token("Northwind", "x", auth::TokenType::webhook, std::string(1000, 'd'),
                                 {}, Actor{});
  EXPECT_TRUE(ok.has_value());
}

TEST_F(AdminServiceTest, DuplicateTokenNameIsAConflict) {
  ASSERT_TRUE(admin_->create_token("Northwind", "ci", auth::TokenType::webhook, "", {}, Actor{}));
  auto dup = admin_->create_token("Northwind", "ci", auth::TokenType::api, "", {}, Actor{});
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
}

TEST_F(AdminServiceTest, ExpiryMustBeInTheFuture) {
  for (const UnixMillis when : {kNow - 1, kNow}) {
    auto r = admin_->create_token("Northwind", "old", auth::TokenType::webhook, "", when, Actor{});
    ASSERT_FALSE(r.has_value()) << when;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(r.error().message, "expires_at: not in the future");
  }
  auto ok =
      admin_->create_token("Northwind", "new", auth::TokenType::webhook, "", kNow + 1, Actor{});
  EXPECT_TRUE(ok.has_value());
}

TEST_F(AdminServiceTest, TokenOfUnknownOrgIsNotFound) {
  auto r = admin_->create_token("Southwind", "x", auth::TokenType::webhook, "", {}, Actor{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

TEST_F(AdminServiceTest, ListAndRevokeNeverReturnSecrets) {
  ASSERT_TRUE(admin_->create_token("Northwind", "w", auth::TokenType::webhook, "", {}, Actor{}));
  ASSERT_TRUE(admin_->create_token("Northwind", "a", auth::TokenType::api, "", {}, Actor{}));
  auto listed = admin_->list_tokens("NORTHWIND");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 2u);
  for (const auto& t : *listed) {
    EXPECT_TRUE(t.secret_sealed.empty()) << t.name;
    EXPECT_TRUE(t.secret_sha256.empty()) << t.name;
  }
  clock_.advance(5);
  auto revoked = admin_->revoke_token("Northwind", "w");
  ASSERT_TRUE(revoked.has_value());
  EXPECT_EQ(revoked->revoked_at_ms, std::optional<UnixMillis>(kNow + 5));
  EXPECT_TRUE(revoked->secret_sealed.empty());
  auto missing = admin_->revoke_token("Northwind", "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

// ---- repositories -------------------------------------------------------------------------------

TEST_F(AdminServiceTest, AddRepositoryStoresTheSpec) {
  auto r = add_repo();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->org_id, org_.id);
  EXPECT_EQ(r->provider, "bitbucket_server");
  EXPECT_EQ(r->project_key, "NWA");
  EXPECT_EQ(r->slug, "flight-planner");
  EXPECT_TRUE(r->auto_update_alm);
  EXPECT_EQ(r->created_at_ms, kNow);
  auto listed = admin_->list_repositories("Northwind");
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, r->id);
}

TEST_F(AdminServiceTest, EveryKnownProviderIsAccepted) {
  int i = 0;
  for (const auto& id : known_provider_ids()) {
    auto r = add_repo(id, "P", "repo" + std::to_string(i++));
    EXPECT_TRUE(r.has_value()) << id;
  }
  EXPECT_EQ(i, 6);
}

TEST_F(AdminServiceTest, UnknownProviderIsInvalid) {
  for (const std::string p : {"bitbucket", "GitHub", "", "svn"}) {
    auto r = add_repo(p);
    ASSERT_FALSE(r.has_value()) << p;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << p;
    EXPECT_THAT(r.error().message, HasSubstr("is not one of bitbucket_server")) << p;
  }
}

TEST_F(AdminServiceTest, RepositoryFieldsAreValidated) {
  auto empty_project = add_repo("bitbucket_server", "", "x");
  ASSERT_FALSE(empty_project.has_value());
  EXPECT_EQ(empty_project.error().message, "project_key: is empty");
  auto slash = add_repo("bitbucket_server", "NWA", "a/b");
  ASSERT_FALSE(slash.has_value());
  EXPECT_EQ(slash.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(slash.error().message, "slug: may not contain '/'");
  ASSERT_TRUE(add_repo().has_value());
  auto dup = add_repo("bitbucket_server", "nwa", "Flight-Planner");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
}

// ---- jobs ---------------------------------------------------------------------------------------

TEST_F(AdminServiceTest, AddJobFindsTheRepositoryCaseInsensitivelyAndNormalizesRules) {
  auto repo = add_repo();
  ASSERT_TRUE(repo.has_value());
  auto job = admin_->add_job(job_spec());
  ASSERT_TRUE(job.has_value()) << job.error().message;
  EXPECT_EQ(job->repository_id, repo->id);
  EXPECT_EQ(job->org_id, org_.id);
  EXPECT_EQ(job->name, "build");
  EXPECT_EQ(job->branches, "main,release/*");
  EXPECT_EQ(job->argv, (std::vector<std::string>{"make", "all"}));
  EXPECT_TRUE(job->enabled);
  auto listed = store_->list_jobs(repo->id);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().branches, "main,release/*");
}

TEST_F(AdminServiceTest, AddJobForAnUnknownRepositoryIsNotFound) {
  ASSERT_TRUE(add_repo().has_value());
  auto spec = job_spec();
  spec.repository = "NWA/autopilot";
  auto r = admin_->add_job(spec);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_THAT(r.error().message, HasSubstr("NWA/autopilot is not registered in org Northwind"));
}

TEST_F(AdminServiceTest, AddJobWithBadBranchRulesIsInvalid) {
  ASSERT_TRUE(add_repo().has_value());
  for (const std::string rules : {"", "  ", "main,,dev", "!"}) {
    auto spec = job_spec();
    spec.branches = rules;
    auto r = admin_->add_job(spec);
    ASSERT_FALSE(r.has_value()) << "'" << rules << "'";
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << rules;
    EXPECT_THAT(r.error().message, ::testing::StartsWith("branches: ")) << rules;
  }
}

TEST_F(AdminServiceTest, AddJobWithoutCommandIsInvalid) {
  ASSERT_TRUE(add_repo().has_value());
  auto spec = job_spec();
  spec.argv.clear();
  auto r = admin_->add_job(spec);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(r.error().message, HasSubstr("no command"));
  spec.argv = {""};
  auto blank = admin_->add_job(spec);
  ASSERT_FALSE(blank.has_value());
  EXPECT_EQ(blank.error().code, ErrorCode::invalid_argument);
}

TEST_F(AdminServiceTest, AddJobValidatesNameAndRepositoryFormat) {
  ASSERT_TRUE(add_repo().has_value());
  auto spec = job_spec();
  spec.name = "";
  auto no_name = admin_->add_job(spec);
  ASSERT_FALSE(no_name.has_value());
  EXPECT_EQ(no_name.error().message, "job name: is empty");
  for (const std::string repo : {"flight-planner", "/flight-planner", "NWA/"}) {
    spec = job_spec();
    spec.repository = repo;
    auto r = admin_->add_job(spec);
    ASSERT_FALSE(r.has_value()) << repo;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << repo;
    EXPECT_THAT(r.error().message, HasSubstr("is not PROJECT/slug")) << repo;
  }
}

TEST_F(AdminServiceTest, RepositoryRegisteredForTwoProvidersIsAmbiguous) {
  ASSERT_TRUE(add_repo("bitbucket_server").has_value());
  ASSERT_TRUE(add_repo("github").has_value());
  auto r = admin_->add_job(job_spec());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(r.error().message, HasSubstr("several providers"));
}

}  // namespace
}  // namespace cb::admin
