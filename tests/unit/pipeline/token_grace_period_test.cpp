// Webhook authentication through OrgDirectory (the cached, decrypted credentials of the ingest
// path) over time, with a ManualClock: a rotated token's previous secret is accepted until the
// end of its grace period (exclusive, to the millisecond), expiry likewise, and a revocation or
// org deletion is seen by the very next lookup.

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/webhook_auth.hpp"
#include "pipeline/org_directory.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kBody = R"({"eventKey":"repo:refs_changed","changes":[]})";

class TokenGracePeriodTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    old_token_ = testing::add_webhook_token(*store_, box_, org_.id, "bitbucket", kStart);
    auto parts = auth::parse_token(old_token_);
    ASSERT_TRUE(parts.has_value());
    public_id_ = parts->public_id;
    auto stored = store_->find_token(public_id_);
    ASSERT_TRUE(stored.has_value() && stored->has_value());
    token_id_ = (*stored)->id;
    // A TTL far longer than the test: only the token epoch can make the directory reload.
    orgs_ = std::make_unique<OrgDirectory>(*store_, box_, clock_, std::chrono::hours(1));
  }

  /// Rotates the token as AdminService does: a new secret under the same public id, the old one
  /// valid for `grace_ms`. Returns the new clear token.
  std::string rotate(UnixMillis grace_ms) {
    auto parts = auth::generate_token(auth::TokenType::webhook);
    parts.public_id = public_id_;
    const UnixMillis now = clock_.now_ms();
    auto r = store_->rotate_token(token_id_, box_.seal(parts.secret, parts.public_id), "",
                                  now + grace_ms, now);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().detail);
    return auth::format_token(parts);
  }

  /// Authenticates a delivery signed with `token` (X-Hub-Signature) against the org's current
  /// credentials at the clock's time.
  Result<auth::AuthOutcome> signed_with(const std::string& token) {
    RawDelivery d;
    d.org = "Northwind";
    d.body = std::string(kBody);
    d.headers = {Header{"X-Hub-Signature", testing::hub_signature(token, kBody)}};
    return check(d);
  }

  /// Authenticates a delivery carrying `token` as `Authorization: Bearer`.
  Result<auth::AuthOutcome> bearer(const std::string& token) {
    RawDelivery d;
    d.org = "Northwind";
    d.body = std::string(kBody);
    d.headers = {Header{"Authorization", "Bearer " + token}};
    return check(d);
  }

  Result<auth::AuthOutcome> check(const RawDelivery& d) {
    auto creds = orgs_->lookup(d.org);
    if (!creds) return std::unexpected(creds.error());
    if (*creds == nullptr) return fail(ErrorCode::unknown_org, "no org");
    return auth::authenticate_webhook(d, (*creds)->tokens, clock_.now_ms());
  }

  void expect_accepted(const std::string& token) {
    for (auto r : {signed_with(token), bearer(token)}) {
      ASSERT_TRUE(r.has_value()) << "refused at +" << clock_.now_ms() - kStart
                                 << " ms: " << r.error().message;
      EXPECT_EQ(r->token_id, token_id_);
      EXPECT_EQ(r->public_id, public_id_);
    }
  }

  /// Refused by HMAC (invalid_signature) and as a bearer token (invalid_token), naming `why`.
  void expect_refused(const std::string& token, const std::string& why) {
    auto hmac = signed_with(token);
    ASSERT_FALSE(hmac.has_value()) << "HMAC accepted at +" << clock_.now_ms() - kStart << " ms";
    EXPECT_EQ(hmac.error().code, ErrorCode::invalid_signature);
    EXPECT_THAT(hmac.error().message, HasSubstr(why));
    auto tok = bearer(token);
    ASSERT_FALSE(tok.has_value()) << "Bearer accepted at +" << clock_.now_ms() - kStart << " ms";
    EXPECT_EQ(tok.error().code, ErrorCode::invalid_token);
    EXPECT_THAT(tok.error().message, HasSubstr(why));
  }

  std::unique_ptr<OrgDirectory> orgs_;
  std::string old_token_;
  std::string public_id_;
  std::int64_t token_id_ = 0;
};

TEST_F(TokenGracePeriodTest, PreviousSecretIsAcceptedUntilTheEndOfTheGracePeriodExclusive) {
  expect_accepted(old_token_);  // loads and caches the org's credentials
  const std::string new_token = rotate(10'000);
  expect_accepted(old_token_);
  expect_accepted(new_token);

  clock_.set(kStart + 9'999);
  expect_accepted(old_token_);
  expect_accepted(new_token);

  clock_.set(kStart + 10'000);
  expect_refused(old_token_, "expired");
  expect_accepted(new_token);
}

TEST_F(TokenGracePeriodTest, RotationWithoutGraceRefusesTheOldSecretOnTheNextRequest) {
  expect_accepted(old_token_);
  const std::string new_token = rotate(0);
  // Same millisecond, cached directory: the epoch changed, so the next lookup reloads.
  expect_refused(old_token_, "expired");
  expect_accepted(new_token);
}

TEST_F(TokenGracePeriodTest, ExpiryIsExactToTheMillisecond) {
  store::TokenRecord t;
  auto fresh = auth::generate_token(auth::TokenType::webhook);
  t.org_id = org_.id;
  t.name = "expiring";
  t.type = "webhook";
  t.public_id = fresh.public_id;
  t.secret_sealed = box_.seal(fresh.secret, fresh.public_id);
  t.created_at_ms = kStart;
  t.expires_at_ms = kStart + 5'000;
  ASSERT_TRUE(store_->create_token(t).has_value());
  const std::string expiring = auth::format_token(fresh);

  clock_.set(kStart + 4'999);
  auto ok = signed_with(expiring);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->public_id, fresh.public_id);

  clock_.set(kStart + 5'000);
  auto hmac = signed_with(expiring);
  ASSERT_FALSE(hmac.has_value());
  EXPECT_THAT(hmac.error().message, HasSubstr("token has expired"));
  auto tok = bearer(expiring);
  ASSERT_FALSE(tok.has_value());
  EXPECT_EQ(tok.error().code, ErrorCode::invalid_token);
  EXPECT_THAT(tok.error().message, HasSubstr("token has expired"));
  // The other tokens of the org are not affected.
  expect_accepted(old_token_);
}

TEST_F(TokenGracePeriodTest, RevocationEndsTheGracePeriodToo) {
  expect_accepted(old_token_);
  const std::string new_token = rotate(3'600'000);
  expect_accepted(old_token_);
  ASSERT_TRUE(store_->revoke_token_by_id(token_id_, clock_.now_ms()).has_value());
  expect_refused(old_token_, "revoked");
  expect_refused(new_token, "revoked");
}

TEST_F(TokenGracePeriodTest, DeletedOrgIsUnknownOnTheNextLookup) {
  expect_accepted(old_token_);
  ASSERT_TRUE(store_->delete_org(org_.id, clock_.now_ms()).has_value());
  auto r = signed_with(old_token_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unknown_org);
}

}  // namespace
}  // namespace cb::pipeline
