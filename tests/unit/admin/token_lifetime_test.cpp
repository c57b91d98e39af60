// Admin-API authentication over time, to the millisecond, with a ManualClock: the grace period of
// a rotated token's previous secret, expiry, revocation and org deletion.

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "admin/admin_service.hpp"
#include "admin/json_views.hpp"
#include "auth/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::admin {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr UnixMillis kNow = 1'772'000'000'000;

class TokenLifetimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-admin-lifetime-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    admin_ = std::make_unique<AdminService>(*store_, box_, clock_);
    ASSERT_TRUE(admin_->create_org("Northwind").has_value());
  }
  void TearDown() override {
    admin_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  CreatedToken api_token(const std::string& name,
                         std::optional<UnixMillis> expires_at = std::nullopt) {
    auto created =
        admin_->create_token("Northwind", name, auth::TokenType::api, "", expires_at, actor_);
    EXPECT_TRUE(created.has_value()) << created.error().message;
    return created.value_or(CreatedToken{});
  }

  /// Refused with 401 invalid_token whose message contains `why`.
  void expect_refused(const std::string& token, const std::string& why) {
    auto r = admin_->authenticate_api(token);
    ASSERT_FALSE(r.has_value()) << "accepted at +" << clock_.now_ms() - kNow << " ms";
    EXPECT_EQ(r.error().code, ErrorCode::invalid_token);
    EXPECT_THAT(r.error().message, HasSubstr(why));
    EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr(token)));
  }

  void expect_accepted(const std::string& token) {
    auto r = admin_->authenticate_api(token);
    EXPECT_TRUE(r.has_value()) << "refused at +" << clock_.now_ms() - kNow
                               << " ms: " << (r ? "" : r.error().message);
  }

  fs::path dir_;
  ManualClock clock_{kNow};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'a'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<AdminService> admin_;
  Actor actor_{"cli:tester", ""};
};

TEST_F(TokenLifetimeTest, PreviousSecretIsValidUntilTheEndOfTheGracePeriodExclusive) {
  const auto old = api_token("automation");
  expect_accepted(old.token);

  auto rotated = admin_->rotate_token("Northwind", "automation", 10, actor_);
  ASSERT_TRUE(rotated.has_value()) << rotated.error().message;
  EXPECT_EQ(rotated->record.public_id, old.record.public_id);
  EXPECT_NE(rotated->token, old.token);
  EXPECT_EQ(rotated->record.previous_valid_until_ms, std::optional<UnixMillis>(kNow + 10'000));
  EXPECT_EQ(rotated->record.rotated_at_ms, std::optional<UnixMillis>(kNow));

  expect_accepted(old.token);
  expect_accepted(rotated->token);
  EXPECT_FALSE(
      token_json(rotated->record, clock_.now_ms()).at("previous_secret_valid_until").is_null());

  clock_.set(kNow + 9'999);
  expect_accepted(old.token);
  expect_accepted(rotated->token);
  EXPECT_FALSE(
      token_json(rotated->record, clock_.now_ms()).at("previous_secret_valid_until").is_null());

  clock_.set(kNow + 10'000);
  expect_refused(old.token, "not known");
  expect_accepted(rotated->token);
  // Once the grace period is over the list no longer shows it.
  EXPECT_TRUE(
      token_json(rotated->record, clock_.now_ms()).at("previous_secret_valid_until").is_null());
}

TEST_F(TokenLifetimeTest, RotationWithoutGraceRefusesTheOldSecretAtOnce) {
  const auto old = api_token("automation");
  auto rotated = admin_->rotate_token("Northwind", old.record.public_id, 0, actor_);
  ASSERT_TRUE(rotated.has_value()) << rotated.error().message;
  expect_refused(old.token, "not known");  // same millisecond as the rotation
  expect_accepted(rotated->token);
}

TEST_F(TokenLifetimeTest, ASecondRotationEndsTheFirstGracePeriod) {
  const auto first = api_token("automation");
  auto second = admin_->rotate_token("Northwind", "automation", 3600, actor_);
  ASSERT_TRUE(second.has_value());
  clock_.advance(1);
  auto third = admin_->rotate_token("Northwind", "automation", 3600, actor_);
  ASSERT_TRUE(third.has_value());
  expect_refused(first.token, "not known");
  expect_accepted(second->token);
  expect_accepted(third->token);
}

TEST_F(TokenLifetimeTest, GracePeriodOutOfRangeIsRefusedNamingTheField) {
  api_token("automation");
  for (const std::int64_t bad : {std::int64_t{-1}, std::int64_t{2'592'001}}) {
    auto r = admin_->rotate_token("Northwind", "automation", bad, actor_);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_THAT(r.error().message, ::testing::StartsWith("grace_period_seconds:"));
  }
}

TEST_F(TokenLifetimeTest, ExpiryIsExactToTheMillisecond) {
  const auto t = api_token("short-lived", kNow + 5'000);
  clock_.set(kNow + 4'999);
  expect_accepted(t.token);
  clock_.set(kNow + 5'000);
  expect_refused(t.token, "expired");
}

TEST_F(TokenLifetimeTest, RevokedTokenIsRefusedAtOnceAndCannotBeRotated) {
  const auto t = api_token("automation");
  expect_accepted(t.token);
  ASSERT_TRUE(admin_->revoke_token("Northwind", "automation", actor_).has_value());
  expect_refused(t.token, "revoked");
  auto r = admin_->rotate_token("Northwind", "automation", 60, actor_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::conflict);
}

TEST_F(TokenLifetimeTest, DeletingTheOrgRevokesItsTokensAtOnce) {
  const auto t = api_token("automation");
  expect_accepted(t.token);
  ASSERT_TRUE(admin_->delete_org("Northwind", actor_).has_value());
  expect_refused(t.token, "revoked");
}

TEST_F(TokenLifetimeTest, ExpiredServerAdminTokenIsRefusedToTheMillisecond) {
  auto created = admin_->create_admin_token("ops", kNow + 1'000, actor_);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  clock_.set(kNow + 999);
  auto p = admin_->authenticate_api(created->token);
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->server_admin);
  EXPECT_EQ(p->actor_name(), "admin-token:" + created->record.public_id);
  clock_.set(kNow + 1'000);
  expect_refused(created->token, "expired");
}

TEST_F(TokenLifetimeTest, UsesAreRecordedWithTheTimeOfTheLatestUse) {
  const auto t = api_token("automation");
  auto admin_token = admin_->create_admin_token("ops", std::nullopt, actor_);
  ASSERT_TRUE(admin_token.has_value());
  (void)admin_->take_token_uses();
  clock_.set(kNow + 100);
  expect_accepted(t.token);
  clock_.set(kNow + 200);
  expect_accepted(t.token);
  expect_accepted(admin_token->token);
  auto uses = admin_->take_token_uses();
  std::sort(uses.begin(), uses.end());
  EXPECT_THAT(uses, ::testing::ElementsAre(::testing::Pair(-admin_token->record.id, kNow + 200),
                                           ::testing::Pair(t.record.id, kNow + 200)));
  EXPECT_TRUE(admin_->take_token_uses().empty());
  // A refused token is not a use.
  ASSERT_TRUE(admin_->revoke_token("Northwind", "automation", actor_).has_value());
  (void)admin_->authenticate_api(t.token);
  EXPECT_TRUE(admin_->take_token_uses().empty());
}

}  // namespace
}  // namespace cb::admin
