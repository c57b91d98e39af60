// Ingest::prepare and OrgDirectory with a real SQLite store, a real SecretBox and a ManualClock.

#include <chrono>
#include <memory>
#include <string>
#include <variant>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/digest.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/org_directory.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

using testing::bitbucket_fixture;
using ::testing::HasSubstr;
using testing::hub_signature;
using ::testing::Not;
using testing::parse_headers;
using testing::read_file;

constexpr std::string_view kPushRequestId = "25888b35-da91-4f22-9a7f-f2a60ac28392";

class IngestTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    token_ = testing::add_webhook_token(*store_, box_, org_.id, "bitbucket", kStart);
    push_body_ = read_file(bitbucket_fixture("branch_update.json"));
    push_headers_ = parse_headers(read_file(bitbucket_fixture("branch_update.headers")));
    ping_body_ = read_file(bitbucket_fixture("ping.json"));
    ping_headers_ = parse_headers(read_file(bitbucket_fixture("ping.headers")));
    ASSERT_FALSE(push_body_.empty());
    ASSERT_EQ(push_headers_.size(), 3u);
    ASSERT_FALSE(ping_body_.empty());
    orgs_ = std::make_unique<OrgDirectory>(*store_, box_, clock_, std::chrono::milliseconds(1000));
    ingest_ = std::make_unique<Ingest>(*orgs_, clock_);
  }

  IngestRequest request(std::string org, std::vector<Header> headers, std::string body,
                        bool enterprise = true) const {
    IngestRequest r;
    r.org = std::move(org);
    r.endpoint = Endpoint::trigger_scm_push_request;
    r.enterprise = enterprise;
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
  }

  IngestRequest signed_push(std::string org = "Northwind") const {
    auto headers = push_headers_;
    headers.push_back(Header{"X-Hub-Signature", hub_signature(token_, push_body_)});
    return request(std::move(org), std::move(headers), push_body_);
  }

  std::unique_ptr<OrgDirectory> orgs_;
  std::unique_ptr<Ingest> ingest_;
  std::string token_;
  std::string push_body_;
  std::vector<Header> push_headers_;
  std::string ping_body_;
  std::vector<Header> ping_headers_;
};

TEST_F(IngestTest, UnknownOrgIsRefused) {
  auto plan = ingest_->prepare(signed_push("Southwind"));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, ErrorCode::unknown_org);
  EXPECT_EQ(plan.error().message, "no org named 'Southwind'");
}

TEST_F(IngestTest, UnknownOrgMessageIsBounded) {
  auto plan = ingest_->prepare(signed_push(std::string(5000, 'x')));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, ErrorCode::unknown_org);
  EXPECT_LT(plan.error().message.size(), 200u);
}

TEST_F(IngestTest, PingWithoutCredentialsAnswersUnauthenticated) {
  auto plan = ingest_->prepare(request("Northwind", ping_headers_, ping_body_));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_TRUE(std::holds_alternative<PingAnswer>(*plan));
  EXPECT_FALSE(std::get<PingAnswer>(*plan).authenticated);
}

TEST_F(IngestTest, PingWithTheRightSignatureAnswersAuthenticated) {
  auto headers = ping_headers_;
  headers.push_back(Header{"X-Hub-Signature", hub_signature(token_, ping_body_)});
  auto plan = ingest_->prepare(request("Northwind", headers, ping_body_));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_TRUE(std::holds_alternative<PingAnswer>(*plan));
  EXPECT_TRUE(std::get<PingAnswer>(*plan).authenticated);
}

TEST_F(IngestTest, PingWithAWrongSignatureIsRefused) {
  auto headers = ping_headers_;
  headers.push_back(Header{"X-Hub-Signature", hub_signature(token_, ping_body_ + " ")});
  auto plan = ingest_->prepare(request("Northwind", headers, ping_body_));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, ErrorCode::invalid_signature);
  EXPECT_THAT(plan.error().message, HasSubstr(std::to_string(ping_body_.size()) + " body bytes"));
  EXPECT_THAT(plan.error().message, Not(HasSubstr(token_)));
}

TEST_F(IngestTest, PingOnTheGenericUrlIsDetectedFromHeaders) {
  auto plan = ingest_->prepare(request("Northwind", ping_headers_, ping_body_, false));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_TRUE(std::holds_alternative<PingAnswer>(*plan));
  EXPECT_FALSE(std::get<PingAnswer>(*plan).authenticated);
}

TEST_F(IngestTest, SignedPushBecomesANewDeliveryWithoutCredentials) {
  auto headers = push_headers_;
  headers.push_back(Header{"X-Hub-Signature", hub_signature(token_, push_body_)});
  headers.push_back(Header{"Authorization", "Basic " + auth::base64_encode("ci:" + token_)});
  headers.push_back(Header{"User-Agent", "Atlassian HttpClient 4.2.0"});
  headers.push_back(Header{"Host", "ci.example"});
  clock_.advance(1234);
  auto plan = ingest_->prepare(request("northwind", headers, push_body_));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  ASSERT_TRUE(std::holds_alternative<store::NewDelivery>(*plan));
  const auto& d = std::get<store::NewDelivery>(*plan);
  EXPECT_EQ(d.delivery_id.size(), 36u);
  EXPECT_EQ(d.org_id, org_.id);
  EXPECT_EQ(d.endpoint, "trigger-scm-push-request");
  EXPECT_EQ(d.provider, "bitbucket_server");
  EXPECT_EQ(d.event_key, "repo:refs_changed");
  EXPECT_EQ(d.external_id, kPushRequestId);
  EXPECT_EQ(d.received_at_ms, kStart + 1234);
  EXPECT_EQ(d.status, "queued");
  EXPECT_EQ(d.reason, "");
  EXPECT_EQ(d.body, push_body_);
  std::vector<std::string> names;
  for (const auto& h : d.headers) names.push_back(h.name + ": " + h.value);
  EXPECT_THAT(names, ::testing::ElementsAre("X-Event-Key: repo:refs_changed",
                                            "X-Request-Id: " + std::string(kPushRequestId),
                                            "Content-Type: application/json; charset=UTF-8",
                                            "User-Agent: Atlassian HttpClient 4.2.0"));
  for (const auto& h : d.headers) {
    EXPECT_THAT(h.value, Not(HasSubstr(token_.substr(21))));  // never the secret part
  }
}

TEST_F(IngestTest, EachDeliveryGetsItsOwnId) {
  auto a = ingest_->prepare(signed_push());
  auto b = ingest_->prepare(signed_push());
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_NE(std::get<store::NewDelivery>(*a).delivery_id,
            std::get<store::NewDelivery>(*b).delivery_id);
  // The sender's id is the same: deduplication happens in the store.
  EXPECT_EQ(std::get<store::NewDelivery>(*a).external_id,
            std::get<store::NewDelivery>(*b).external_id);
}

TEST_F(IngestTest, SyncEndpointIsRecordedOnTheDelivery) {
  auto req = signed_push();
  req.endpoint = Endpoint::sync_alm_commits;
  auto plan = ingest_->prepare(std::move(req));
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(std::get<store::NewDelivery>(*plan).endpoint, "sync-alm-commits");
}

TEST_F(IngestTest, UnsignedPushIsMissingCredentials) {
  auto plan = ingest_->prepare(request("Northwind", push_headers_, push_body_));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, ErrorCode::missing_credentials);
}

TEST_F(IngestTest, PushSignedWithAnotherOrgsTokenIsRefused) {
  auto other = store_->create_org("Southwind", kStart);
  ASSERT_TRUE(other.has_value());
  const auto foreign = testing::add_webhook_token(*store_, box_, other->id, "sw", kStart);
  auto headers = push_headers_;
  headers.push_back(Header{"X-Hub-Signature", hub_signature(foreign, push_body_)});
  auto plan = ingest_->prepare(request("Northwind", headers, push_body_));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, ErrorCode::invalid_signature);
}

TEST_F(IngestTest, SignedBodyWithAnUnsupportedContentTypeIsRefusedAfterAuthentication) {
  auto req = signed_push();
  for (auto& h : req.headers) {
    if (iequals(h.name, "Content-Type")) h.value = "text/plain";
  }
  auto plan = ingest_->prepare(std::move(req));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, ErrorCode::unsupported_media_type);
}

TEST_F(IngestTest, SignedBodyThatIsNotJsonIsMalformed) {
  const std::string body = "not json at all";
  auto headers = push_headers_;
  headers.push_back(Header{"X-Hub-Signature", hub_signature(token_, body)});
  auto plan = ingest_->prepare(request("Northwind", headers, body));
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().code, ErrorCode::malformed_payload);
}

TEST_F(IngestTest, SignedJsonObjectThatTheProviderCannotReadIsStoredForTheWorkerToReport) {
  // Only the syntax is checked at ingest; the worker's parse reports the missing fields.
  const std::string body = R"({"eventKey":"repo:refs_changed","changes":"not a list"})";
  auto headers = push_headers_;
  headers.push_back(Header{"X-Hub-Signature", hub_signature(token_, body)});
  auto plan = ingest_->prepare(request("Northwind", headers, body));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const auto& d = std::get<store::NewDelivery>(*plan);
  EXPECT_EQ(d.status, "queued");
  EXPECT_EQ(d.body, body);
}

TEST_F(IngestTest, SignedJsonWithTrailingTextOrTooDeepIsMalformed) {
  for (const std::string& body :
       {std::string(R"({"eventKey":"repo:refs_changed"} {})"), std::string(R"({"a":1}x)"),
        std::string(40, '[') + std::string(40, ']'),
        "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}"}) {
    auto headers = push_headers_;
    headers.push_back(Header{"X-Hub-Signature", hub_signature(token_, body)});
    auto plan = ingest_->prepare(request("Northwind", headers, body));
    ASSERT_FALSE(plan.has_value()) << body;
    EXPECT_EQ(plan.error().code, ErrorCode::malformed_payload) << body;
  }
}

TEST_F(IngestTest, UnknownEventKeyIsAcceptedForTheRecord) {
  const std::string body = R"({"eventKey":"repo:comment:added","comment":{}})";
  std::vector<Header> headers{Header{"X-Event-Key", "repo:comment:added"},
                              Header{"X-Request-Id", "r-1"},
                              Header{"Content-Type", "application/json"},
                              Header{"X-Hub-Signature", hub_signature(token_, body)}};
  auto plan = ingest_->prepare(request("Northwind", headers, body));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const auto& d = std::get<store::NewDelivery>(*plan);
  EXPECT_EQ(d.event_key, "repo:comment:added");
  EXPECT_EQ(d.status, "queued");
}

TEST_F(IngestTest, UnrecognisedSenderOnTheGenericUrlIsStoredAsIgnored) {
  const std::string body = R"({"hello":"world"})";
  std::vector<Header> headers{Header{"Content-Type", "application/json"},
                              Header{"Authorization", "Bearer " + token_}};
  auto plan = ingest_->prepare(request("Northwind", headers, body, false));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const auto& d = std::get<store::NewDelivery>(*plan);
  EXPECT_EQ(d.provider, "unknown");
  EXPECT_EQ(d.status, "ignored");
  EXPECT_THAT(d.reason, HasSubstr("could not be recognised"));
  EXPECT_EQ(d.external_id, "");
  ASSERT_EQ(d.headers.size(), 1u);
  EXPECT_EQ(d.headers[0].name, "Content-Type");
}

TEST_F(IngestTest, LongExternalIdIsShortenedWithItsHashNotCut) {
  auto req = signed_push();
  for (auto& h : req.headers) {
    if (iequals(h.name, "X-Request-Id")) h.value = std::string(500, 'r');
  }
  auto plan = ingest_->prepare(std::move(req));
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const std::string& stored = std::get<store::NewDelivery>(*plan).external_id;
  EXPECT_EQ(stored, std::string(120, 'r') +
                        "...sha256:" + auth::to_hex(auth::sha256(std::string(500, 'r'))));
  EXPECT_LE(stored.size(), 200u);
}

// ---- OrgDirectory -------------------------------------------------------------------------------

TEST_F(IngestTest, RevokedTokenIsRefusedOnTheNextRequestDespiteTheCache) {
  ASSERT_TRUE(ingest_->prepare(signed_push()).has_value());  // loads and caches the org

  auto revoked = store_->revoke_token(org_.id, "bitbucket", clock_.now_ms());
  ASSERT_TRUE(revoked.has_value());

  // No time passes: the token epoch changed, so the cached credentials are not used.
  auto refused = ingest_->prepare(signed_push());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_signature);
  EXPECT_THAT(refused.error().message, HasSubstr("token is revoked"));
}

TEST_F(IngestTest, LastUsedUpdatesDoNotInvalidateTheCredentialCache) {
  const auto before = store_->token_epoch();
  ASSERT_TRUE(before.has_value());
  auto tokens = store_->list_tokens(org_.id);
  ASSERT_TRUE(tokens.has_value());
  ASSERT_FALSE(tokens->empty());
  ASSERT_TRUE(store_->touch_tokens({{tokens->front().id, clock_.now_ms()}}).has_value());
  const auto after = store_->token_epoch();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*before, *after);
  ASSERT_TRUE(store_->revoke_token(org_.id, "bitbucket", clock_.now_ms()).has_value());
  const auto revoked = store_->token_epoch();
  ASSERT_TRUE(revoked.has_value());
  EXPECT_GT(*revoked, *after);
}

TEST_F(IngestTest, InvalidateDropsTheCacheAtOnce) {
  ASSERT_TRUE(ingest_->prepare(signed_push()).has_value());
  ASSERT_TRUE(store_->revoke_token(org_.id, "bitbucket", clock_.now_ms()).has_value());
  orgs_->invalidate();
  auto refused = ingest_->prepare(signed_push());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_signature);
}

TEST(OrgDirectoryTest, LookupIsCaseInsensitiveAndDecryptsWebhookSecrets) {
  testing::TempDir dir;
  auto opened = store::sqlite::SqliteStore::open(dir.path() / "o.db");
  ASSERT_TRUE(opened.has_value());
  auto& store = **opened;
  auto org = store.create_org("Northwind", 1);
  ASSERT_TRUE(org.has_value());
  const auto box = testing::test_box();
  const auto token = testing::add_webhook_token(store, box, org->id, "wh", 1);
  auto parts = auth::parse_token(token);
  ASSERT_TRUE(parts.has_value());

  store::TokenRecord api;
  api.org_id = org->id;
  api.name = "api";
  api.type = "api";
  api.public_id = "00000000000000aa";
  api.secret_sha256 = auth::sha256("x");
  ASSERT_TRUE(store.create_token(api).has_value());

  ManualClock clock(1'000);
  OrgDirectory dir_cache(store, box, clock);
  auto creds = dir_cache.lookup("NORTHWIND");
  ASSERT_TRUE(creds.has_value());
  ASSERT_NE(*creds, nullptr);
  EXPECT_EQ((*creds)->org.id, org->id);
  EXPECT_EQ((*creds)->org.name, "Northwind");
  ASSERT_EQ((*creds)->tokens.size(), 2u);
  // list_tokens is sorted by name: "api" then "wh".
  EXPECT_EQ((*creds)->tokens[0].type, auth::TokenType::api);
  EXPECT_EQ((*creds)->tokens[0].secret, "");
  EXPECT_EQ((*creds)->tokens[1].type, auth::TokenType::webhook);
  EXPECT_EQ((*creds)->tokens[1].public_id, parts->public_id);
  EXPECT_EQ((*creds)->tokens[1].secret, parts->secret);

  // A second lookup in another case within the TTL is the same cached object.
  auto again = dir_cache.lookup("northwind");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->get(), creds->get());
}

TEST(OrgDirectoryTest, UnknownOrgIsNullAndANewOrgIsSeenOnTheNextLookup) {
  testing::TempDir dir;
  auto opened = store::sqlite::SqliteStore::open(dir.path() / "o.db");
  ASSERT_TRUE(opened.has_value());
  auto& store = **opened;
  const auto box = testing::test_box();
  ManualClock clock(1'000);
  OrgDirectory orgs(store, box, clock, std::chrono::milliseconds(500));

  auto missing = orgs.lookup("Acme");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(*missing, nullptr);
  auto still_missing = orgs.lookup("acme");  // the negative answer is cached
  ASSERT_TRUE(still_missing.has_value());
  EXPECT_EQ(*still_missing, nullptr);

  // Creating the org changes the token epoch: no time passes and the cache does not hide it.
  ASSERT_TRUE(store.create_org("Acme", 1'000).has_value());
  auto fresh = orgs.lookup("acme");
  ASSERT_TRUE(fresh.has_value());
  ASSERT_NE(*fresh, nullptr);
  EXPECT_EQ((*fresh)->org.name, "Acme");
  EXPECT_TRUE((*fresh)->tokens.empty());
}

TEST(OrgDirectoryTest, DeletedAndRecreatedOrgIsTheNewOneOnTheNextLookup) {
  testing::TempDir dir;
  auto opened = store::sqlite::SqliteStore::open(dir.path() / "o.db");
  ASSERT_TRUE(opened.has_value());
  auto& store = **opened;
  const auto box = testing::test_box();
  ManualClock clock(1'000);
  OrgDirectory orgs(store, box, clock, std::chrono::hours(1));

  auto first = store.create_org("Acme", 1'000);
  ASSERT_TRUE(first.has_value());
  (void)testing::add_webhook_token(store, box, first->id, "wh", 1'000);
  auto before = orgs.lookup("Acme");
  ASSERT_TRUE(before.has_value() && *before != nullptr);
  EXPECT_EQ((*before)->tokens.size(), 1u);

  ASSERT_TRUE(store.delete_org(first->id, 1'000).has_value());
  auto gone = orgs.lookup("Acme");
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(*gone, nullptr);

  auto second = store.create_org("Acme", 1'000);
  ASSERT_TRUE(second.has_value());
  auto after = orgs.lookup("Acme");
  ASSERT_TRUE(after.has_value() && *after != nullptr);
  EXPECT_EQ((*after)->org.id, second->id);
  EXPECT_TRUE((*after)->tokens.empty());  // the deleted org's tokens do not carry over
}

TEST(OrgDirectoryTest, TokenSealedWithAnotherKeyIsSkipped) {
  testing::TempDir dir;
  auto opened = store::sqlite::SqliteStore::open(dir.path() / "o.db");
  ASSERT_TRUE(opened.has_value());
  auto& store = **opened;
  auto org = store.create_org("Northwind", 1);
  ASSERT_TRUE(org.has_value());
  const auto other_box = auth::SecretBox::from_key(std::string(32, 'z'));
  (void)testing::add_webhook_token(store, other_box, org->id, "foreign", 1);
  const auto box = testing::test_box();
  const auto good = testing::add_webhook_token(store, box, org->id, "good", 1);

  ManualClock clock(1'000);
  OrgDirectory orgs(store, box, clock);
  auto creds = orgs.lookup("Northwind");
  ASSERT_TRUE(creds.has_value());
  ASSERT_NE(*creds, nullptr);
  ASSERT_EQ((*creds)->tokens.size(), 1u);
  EXPECT_EQ((*creds)->tokens[0].public_id, auth::parse_token(good)->public_id);
}

TEST(AsciiLowerTest, LowersOnlyAsciiLetters) {
  EXPECT_EQ(ascii_lower("NorthWind-42_X.Ü"), "northwind-42_x.Ü");
  EXPECT_EQ(ascii_lower(""), "");
}

}  // namespace
}  // namespace cb::pipeline
