// RepositoryService over a real SQLite store: validation naming the field, sealing of credential
// secrets, updates that keep or replace them, lookups, pages, the audit log and webhook URLs.

#include "admin/repository_service.hpp"

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include "admin/repository_json.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::admin {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr UnixMillis kNow = 1'772'000'000'000;
constexpr const char* kPassword = "tok-5d1f-very-secret";

class RepositoryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-repo-service-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    auto org = store_->create_org("Northwind", kNow);
    ASSERT_TRUE(org.has_value());
    org_ = *org;
    service_ = std::make_unique<RepositoryService>(*store_, box_, clock_);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static RepositoryInput planner() {
    RepositoryInput in;
    in.provider = "bitbucket_server";
    in.project_key = "NWA";
    in.slug = "flight-planner";
    in.http_clone_url = "https://scm.northwind.example/scm/nwa/flight-planner.git";
    return in;
  }

  static RepositoryCredentialsInput http_credentials(
      std::optional<std::string> secret = kPassword) {
    RepositoryCredentialsInput c;
    c.type = "http";
    c.username = "build-bot";
    c.secret = std::move(secret);
    return c;
  }

  /// The error message of creating `in`, or "" when it succeeds.
  std::string create_error(const RepositoryInput& in) {
    auto r = service_->create("Northwind", in, actor_);
    if (r) return "";
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << r.error().message;
    return r.error().message;
  }

  store::RepositoryRecord stored(std::int64_t id) {
    auto r = store_->get_repository(org_.id, id);
    EXPECT_TRUE(r.has_value() && r->has_value());
    return r.value_or(std::nullopt).value_or(store::RepositoryRecord{});
  }

  std::vector<store::AuditEvent> audit() {
    return store_->list_audit(org_.id, std::nullopt, 100)
        .value_or(std::vector<store::AuditEvent>{});
  }

  fs::path dir_;
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  ManualClock clock_{kNow};
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  store::OrgRecord org_;
  std::unique_ptr<RepositoryService> service_;
  Actor actor_{"token:ab12cd34ef56ab78", "192.0.2.7"};
};

TEST_F(RepositoryServiceTest, CreateSealsTheSecretAndNeverReturnsIt) {
  RepositoryInput in = planner();
  in.credentials = http_credentials();
  auto r = service_->create("northwind", in, actor_);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->credential_secret_sealed.empty());
  EXPECT_TRUE(r->credential_secret_set);
  EXPECT_EQ(r->display_name, "flight-planner");
  EXPECT_EQ(r->created_at_ms, kNow);
  const auto row = stored(r->id);
  ASSERT_FALSE(row.credential_secret_sealed.empty());
  EXPECT_EQ(row.credential_secret_sealed.find(kPassword), std::string::npos);
  EXPECT_FALSE(row.credential_id.empty());
  auto opened =
      box_.open(row.credential_secret_sealed, store::repository_credential_aad(row.credential_id));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, kPassword);
  // Bound to its row: another id as AAD does not open it.
  EXPECT_FALSE(box_.open(row.credential_secret_sealed, "repository-credential:other").has_value());
  const auto json =
      boost::json::serialize(repository_json(*r, "Northwind", "https://hooks.example"));
  EXPECT_EQ(json.find(kPassword), std::string::npos);
  EXPECT_THAT(
      json, HasSubstr(R"("credentials":{"type":"http","username":"build-bot","secret_set":true})"));
}

TEST_F(RepositoryServiceTest, InvalidFieldsAreNamed) {
  auto with = [](auto change) {
    RepositoryInput in = planner();
    change(in);
    return in;
  };
  EXPECT_THAT(create_error(with([](auto& in) { in.provider = "bitbucket"; })),
              StartsWith("provider: 'bitbucket' is not one of bitbucket_server"));
  EXPECT_THAT(create_error(with([](auto& in) { in.provider.reset(); })),
              StartsWith("provider: is required"));
  EXPECT_THAT(create_error(with([](auto& in) { in.project_key = ""; })),
              StartsWith("project_key: is empty"));
  EXPECT_THAT(create_error(with([](auto& in) { in.project_key = "a/b"; })),
              StartsWith("project_key: may not contain '/'"));
  EXPECT_THAT(create_error(with([](auto& in) { in.slug = "a/b"; })),
              StartsWith("slug: may not contain '/'"));
  EXPECT_THAT(create_error(with([](auto& in) { in.slug = std::string(201, 'x'); })),
              StartsWith("slug: longer than 200 characters"));
  EXPECT_THAT(create_error(with([](auto& in) { in.http_clone_url = "ftp://scm/x.git"; })),
              StartsWith("http_clone_url: must be an http(s) URL"));
  EXPECT_THAT(create_error(with([](auto& in) { in.http_clone_url = "https://"; })),
              StartsWith("http_clone_url:"));
  EXPECT_THAT(create_error(with([](auto& in) {
                in.http_clone_url = "https://bot:hunter2@scm.example/scm/nwa/x.git";
              })),
              StartsWith("http_clone_url: must not contain a password"));
  EXPECT_THAT(create_error(with([](auto& in) { in.http_clone_url = ""; })),
              StartsWith("http_clone_url: give a clone URL"));
  EXPECT_THAT(create_error(with([](auto& in) { in.ssh_clone_url = "https://scm/x.git"; })),
              StartsWith("ssh_clone_url: must be an ssh:// URL"));
  EXPECT_THAT(create_error(with([](auto& in) { in.browse_url = "scm.example/projects"; })),
              StartsWith("browse_url: not an absolute URL"));
  EXPECT_THAT(create_error(with([](auto& in) { in.default_branch = "refs/heads/main"; })),
              StartsWith("default_branch: a short branch name"));
  EXPECT_THAT(create_error(with([](auto& in) { in.display_name = "a\tb"; })),
              StartsWith("name: contains a control character"));
  EXPECT_THAT(create_error(with([](auto& in) {
                in.credentials = http_credentials();
                in.credentials->type = "token";
              })),
              StartsWith("credentials.type: must be none, http or ssh"));
  EXPECT_THAT(create_error(with([](auto& in) { in.credentials = http_credentials(std::nullopt); })),
              StartsWith("credentials.password: required for http credentials"));
  EXPECT_THAT(create_error(with([](auto& in) {
                in.credentials = http_credentials();
                in.credentials->username = "";
              })),
              StartsWith("credentials.username: is empty"));
  EXPECT_THAT(create_error(with([](auto& in) {
                RepositoryCredentialsInput c;
                c.type = "ssh";
                c.ssh_key_path = "/etc/commitbridge/id_ed25519";
                in.credentials = c;
              })),
              StartsWith("ssh_clone_url: ssh credentials need an ssh_clone_url"));
  EXPECT_THAT(create_error(with([](auto& in) {
                in.ssh_clone_url = "git@scm.example:nwa/flight-planner.git";
                RepositoryCredentialsInput c;
                c.type = "ssh";
                c.ssh_key_path = "keys/id_ed25519";
                in.credentials = c;
              })),
              StartsWith("credentials.key_path: must be an absolute path"));
  EXPECT_TRUE(store_->list_repositories(org_.id)->empty());
  EXPECT_TRUE(audit().empty());
}

TEST_F(RepositoryServiceTest, GitlabNamespacesMayNestAndEveryUrlFormIsAccepted) {
  RepositoryInput in;
  in.provider = "gitlab";
  in.project_key = "avionics/nav";
  in.slug = "flight-planner";
  in.ssh_clone_url = "git@gitlab.example.com:avionics/nav/flight-planner.git";
  in.browse_url = "https://gitlab.example.com/avionics/nav/flight-planner";
  auto r = service_->create("Northwind", in, actor_);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  RepositoryInput local = planner();
  local.slug = "local";
  local.http_clone_url = "/srv/git/local.git";
  EXPECT_TRUE(service_->create("Northwind", local, actor_).has_value());
  local.slug = "file";
  local.http_clone_url = "file:///srv/git/local.git";
  EXPECT_TRUE(service_->create("Northwind", local, actor_).has_value());
}

TEST_F(RepositoryServiceTest, DuplicateIsAConflictCaseInsensitively) {
  ASSERT_TRUE(service_->create("Northwind", planner(), actor_).has_value());
  RepositoryInput again = planner();
  again.project_key = "nwa";
  again.slug = "FLIGHT-PLANNER";
  auto dup = service_->create("Northwind", again, actor_);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
  again.provider = "github";  // another provider is another repository
  EXPECT_TRUE(service_->create("Northwind", again, actor_).has_value());
}

TEST_F(RepositoryServiceTest, UpdateKeepsTheSecretUnlessReplacedAndAuditsChangedFields) {
  RepositoryInput in = planner();
  in.credentials = http_credentials();
  auto r = service_->create("Northwind", in, actor_);
  ASSERT_TRUE(r.has_value());
  const std::string sealed = stored(r->id).credential_secret_sealed;

  clock_.set(kNow + 1000);
  RepositoryInput rename;
  rename.display_name = "Flight planner";
  rename.credentials = http_credentials(std::nullopt);
  rename.credentials->username = "build-bot-2";
  auto renamed = service_->update("Northwind", r->id, rename, actor_);
  ASSERT_TRUE(renamed.has_value()) << renamed.error().message;
  EXPECT_EQ(renamed->display_name, "Flight planner");
  EXPECT_EQ(renamed->credential_username, "build-bot-2");
  EXPECT_TRUE(renamed->credential_secret_set);
  EXPECT_EQ(renamed->updated_at_ms, kNow + 1000);
  EXPECT_EQ(stored(r->id).credential_secret_sealed, sealed);

  RepositoryInput replace;
  replace.credentials = http_credentials("tok-new-7e");
  ASSERT_TRUE(service_->update("Northwind", r->id, replace, actor_).has_value());
  const auto row = stored(r->id);
  EXPECT_NE(row.credential_secret_sealed, sealed);
  EXPECT_EQ(
      *box_.open(row.credential_secret_sealed, store::repository_credential_aad(row.credential_id)),
      "tok-new-7e");

  RepositoryInput none;
  none.credentials = RepositoryCredentialsInput{"none", "", std::nullopt, ""};
  auto cleared = service_->update("Northwind", r->id, none, actor_);
  ASSERT_TRUE(cleared.has_value());
  EXPECT_EQ(cleared->credential_type, "none");
  EXPECT_FALSE(cleared->credential_secret_set);
  EXPECT_TRUE(stored(r->id).credential_secret_sealed.empty());

  const auto events = audit();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].action, "repository.create");
  EXPECT_EQ(events[2].action, "repository.update");
  EXPECT_THAT(events[2].detail, HasSubstr(R"("changed":"name,credentials")"));
  EXPECT_EQ(events[0].target, "repository:" + std::to_string(r->id));
  EXPECT_EQ(events[0].actor, "token:ab12cd34ef56ab78");
  EXPECT_EQ(events[0].remote_address, "192.0.2.7");
  for (const auto& e : events) {
    EXPECT_EQ(e.detail.find(kPassword), std::string::npos);
    EXPECT_EQ(e.detail.find("tok-new-7e"), std::string::npos);
  }
}

TEST_F(RepositoryServiceTest, ANoOpUpdateWritesNoAudit) {
  auto r = service_->create("Northwind", planner(), actor_);
  ASSERT_TRUE(r.has_value());
  auto same = service_->update("Northwind", r->id, planner(), actor_);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(audit().size(), 1u);
}

TEST_F(RepositoryServiceTest, SshCredentialsWithAndWithoutPassphrase) {
  RepositoryInput in = planner();
  in.ssh_clone_url = "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git";
  RepositoryCredentialsInput c;
  c.type = "ssh";
  c.ssh_key_path = "/etc/commitbridge/id_ed25519";
  in.credentials = c;
  auto r = service_->create("Northwind", in, actor_);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->credential_username, "git");
  EXPECT_FALSE(r->credential_secret_set);
  c.secret = "key-passphrase-3";
  RepositoryInput with_passphrase;
  with_passphrase.credentials = c;
  auto updated = service_->update("Northwind", r->id, with_passphrase, actor_);
  ASSERT_TRUE(updated.has_value());
  EXPECT_TRUE(updated->credential_secret_set);
  const auto row = stored(r->id);
  EXPECT_EQ(
      *box_.open(row.credential_secret_sealed, store::repository_credential_aad(row.credential_id)),
      "key-passphrase-3");
  const auto json = boost::json::serialize(repository_json(*updated, "Northwind", "http://h"));
  EXPECT_THAT(json, HasSubstr(R"("key_path":"/etc/commitbridge/id_ed25519","secret_set":true)"));
  EXPECT_EQ(json.find("key-passphrase-3"), std::string::npos);
}

TEST_F(RepositoryServiceTest, FindByIdOrNameAndAmbiguity) {
  auto a = service_->create("Northwind", planner(), actor_);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(service_->find("Northwind", std::to_string(a->id))->id, a->id);
  EXPECT_EQ(service_->find("Northwind", "nwa/Flight-Planner")->id, a->id);
  RepositoryInput gh = planner();
  gh.provider = "github";
  auto b = service_->create("Northwind", gh, actor_);
  ASSERT_TRUE(b.has_value());
  auto ambiguous = service_->find("Northwind", "NWA/flight-planner");
  ASSERT_FALSE(ambiguous.has_value());
  EXPECT_EQ(ambiguous.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(service_->find("Northwind", "NWA/flight-planner", "github")->id, b->id);
  EXPECT_EQ(service_->find("Northwind", "NWA/nothing").error().code, ErrorCode::not_found);
  EXPECT_EQ(service_->find("Northwind", "nothing").error().code, ErrorCode::invalid_argument);
}

TEST_F(RepositoryServiceTest, ListPagesAndRemoveAudits) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    RepositoryInput in = planner();
    in.slug = "repo-" + std::to_string(i);
    ids.push_back(service_->create("Northwind", in, actor_)->id);
  }
  auto first = service_->list("Northwind", PageRequest{2, ""});
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->next_cursor, std::to_string(ids[1]));
  auto second = service_->list("Northwind", PageRequest{2, first->next_cursor});
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_TRUE(second->next_cursor.empty());
  EXPECT_EQ(service_->list("Northwind", PageRequest{0, ""}).error().message,
            "limit: must be from 1 to 200");
  EXPECT_EQ(service_->list("Northwind", PageRequest{2, "x"}).error().code,
            ErrorCode::invalid_argument);

  ASSERT_TRUE(service_->remove("Northwind", ids[0], actor_).has_value());
  EXPECT_EQ(service_->get("Northwind", ids[0]).error().code, ErrorCode::not_found);
  EXPECT_EQ(service_->remove("Northwind", ids[0], actor_).error().code, ErrorCode::not_found);
  EXPECT_EQ(audit().front().action, "repository.delete");
  EXPECT_THAT(audit().front().detail, HasSubstr(R"("jobs_deleted":"0")"));
  EXPECT_EQ(service_->get("Nowhere", ids[1]).error().code, ErrorCode::not_found);
}

TEST(RepositoryWebhookUrlsTest, BitbucketServerUsesTheEnterpriseFormAndSyncOnlyWithAutoUpdate) {
  store::RepositoryRecord r;
  r.provider = "bitbucket_server";
  auto off = repository_webhook_urls("https://hooks.example", "acme", r);
  EXPECT_EQ(off.trigger,
            "https://hooks.example/api/webhook/v2/acme/enterprise/trigger-scm-push-request");
  EXPECT_EQ(off.sync, "");
  r.auto_update_alm = true;
  EXPECT_EQ(repository_webhook_urls("https://hooks.example", "acme", r).sync,
            "https://hooks.example/api/webhook/v2/acme/enterprise/sync-alm-commits");
  r.provider = "github";
  auto gh = repository_webhook_urls("https://hooks.example", "acme", r);
  EXPECT_EQ(gh.trigger, "https://hooks.example/api/webhook/v2/acme/trigger-scm-push-request");
  EXPECT_EQ(gh.sync, "https://hooks.example/api/webhook/v2/acme/sync-alm-commits");
  const auto json = repository_json(r, "acme", "https://hooks.example");
  EXPECT_TRUE(json.contains("sync_url"));
  r.auto_update_alm = false;
  EXPECT_FALSE(repository_json(r, "acme", "https://hooks.example").contains("sync_url"));
}

TEST(SshCloneUrlTest, RecognizesBothSshForms) {
  EXPECT_TRUE(is_ssh_clone_url("ssh://git@scm.example:7999/nwa/x.git"));
  EXPECT_TRUE(is_ssh_clone_url("git@scm.example:nwa/x.git"));
  EXPECT_FALSE(is_ssh_clone_url("https://scm.example/scm/nwa/x.git"));
  EXPECT_FALSE(is_ssh_clone_url("/srv/git/x.git"));
  EXPECT_FALSE(is_ssh_clone_url("file:///srv/git/x.git"));
}

}  // namespace
}  // namespace cb::admin
