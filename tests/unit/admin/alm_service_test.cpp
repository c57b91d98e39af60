// AlmService over a real SQLite store: connection validation, sealed secrets bound to the
// connection, partial updates, names and ids, and the outbox's retry rules.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "admin/alm_json_views.hpp"
#include "admin/alm_service.hpp"
#include "auth/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::admin {
namespace {

namespace fs = std::filesystem;

constexpr UnixMillis kNow = 1'772'000'000'000;

class AlmServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-alm-service-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->create_org("Northwind", kNow).has_value());
    alm_ = std::make_unique<AlmService>(*store_, box_, clock_);
  }
  void TearDown() override {
    alm_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static AlmConnectionSpec cloud() {
    AlmConnectionSpec s;
    s.name = "jira";
    s.type = "jira";
    s.url = "https://northwind.atlassian.example/";
    s.deployment = "cloud";
    s.email = "bot@northwind.example";
    s.secret = "cloud-api-token-1";
    return s;
  }

  fs::path dir_;
  ManualClock clock_{kNow};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<AlmService> alm_;
};

TEST_F(AlmServiceTest, TheSecretIsSealedForThisConnectionAndNeverReturned) {
  auto c = alm_->create_connection("northwind", cloud(), Actor{"cli:ops", ""});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->secret_sealed.empty());
  EXPECT_EQ(c->url, "https://northwind.atlassian.example");
  EXPECT_EQ(c->max_commit_age_ms, kDefaultMaxCommitAgeSeconds * 1000);
  auto stored = store_->find_alm_connection(c->org_id, c->public_id);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  const auto& sealed = (*stored)->secret_sealed;
  EXPECT_EQ(sealed.find("cloud-api-token-1"), std::string::npos);
  auto opened = box_.open(sealed, store::alm_secret_aad(c->public_id));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "cloud-api-token-1");
  EXPECT_FALSE(box_.open(sealed, c->public_id).has_value());  // bound to its AAD

  const auto shown = boost::json::serialize(alm_connection_json(**stored));
  EXPECT_EQ(shown.find("cloud-api-token-1"), std::string::npos);
  EXPECT_NE(shown.find("\"secret_set\":true"), std::string::npos);
}

TEST_F(AlmServiceTest, UpdatesChangeOnlyTheGivenFieldsAndKeepTheSecret) {
  auto c = alm_->create_connection("Northwind", cloud());
  ASSERT_TRUE(c.has_value());
  AlmConnectionSpec change;
  change.add_comment = true;
  change.max_commit_age_seconds = 3600;
  clock_.advance(5'000);
  auto u = alm_->update_connection("Northwind", "jira", change);
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_TRUE(u->add_comment);
  EXPECT_TRUE(u->add_remote_link);
  EXPECT_EQ(u->max_commit_age_ms, 3'600'000);
  EXPECT_EQ(u->updated_at_ms, kNow + 5'000);
  EXPECT_EQ(u->jira_email, "bot@northwind.example");
  auto stored = store_->find_alm_connection(c->org_id, c->public_id);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  auto opened = box_.open((*stored)->secret_sealed, store::alm_secret_aad(c->public_id));
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "cloud-api-token-1");

  AlmConnectionSpec to_dc;
  to_dc.deployment = "data_center";
  to_dc.secret = "pat-2";
  auto dc = alm_->update_connection("Northwind", c->public_id, to_dc);
  ASSERT_TRUE(dc.has_value()) << dc.error().message;
  EXPECT_EQ(dc->jira_deployment, "data_center");
  EXPECT_TRUE(dc->jira_email.empty());
}

TEST_F(AlmServiceTest, InvalidSpecsNameTheField) {
  auto check = [&](AlmConnectionSpec s, std::string_view prefix) {
    auto r = alm_->create_connection("Northwind", s);
    ASSERT_FALSE(r.has_value()) << prefix;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(r.error().message.substr(0, prefix.size()), prefix) << r.error().message;
  };
  auto s = cloud();
  s.email.reset();
  check(s, "email: ");
  s = cloud();
  s.url = "https://bot:pw@northwind.atlassian.example";
  check(s, "url: must not carry credentials");
  s = cloud();
  s.url = "northwind.atlassian.example";
  check(s, "url: ");
  s = cloud();
  s.name = std::string(101, 'n');
  check(s, "name: ");
  s = cloud();
  s.secret = "two\nlines";
  check(s, "secret: ");
  s = cloud();
  s.max_commit_age_seconds = 59;
  check(s, "max_commit_age_seconds: ");
  s = cloud();
  s.type = "webhook";
  check(s, "deployment, email");

  ASSERT_TRUE(alm_->create_connection("Northwind", cloud()).has_value());
  auto dup = alm_->create_connection("Northwind", cloud());
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);
  auto missing = alm_->create_connection("Southwind", cloud());
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(AlmServiceTest, ConnectionsPageAndOutboxStatusIsChecked) {
  for (const char* name : {"a", "b", "c"}) {
    auto s = cloud();
    s.name = name;
    ASSERT_TRUE(alm_->create_connection("Northwind", s).has_value());
  }
  auto p1 = alm_->list_connections("Northwind", PageRequest{2, ""});
  ASSERT_TRUE(p1.has_value());
  ASSERT_EQ(p1->items.size(), 2u);
  EXPECT_FALSE(p1->next_cursor.empty());
  auto p2 = alm_->list_connections("Northwind", PageRequest{2, p1->next_cursor});
  ASSERT_TRUE(p2.has_value());
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].name, "c");
  EXPECT_TRUE(p2->next_cursor.empty());

  auto bad = alm_->list_outbox("Northwind", std::string("lost"), PageRequest{});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  auto none = alm_->retry_outbox_entry("Northwind", 5);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace cb::admin
