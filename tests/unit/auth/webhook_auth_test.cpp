#include "auth/webhook_auth.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "auth/digest.hpp"
#include "auth/token_format.hpp"

namespace cb::auth {
namespace {

constexpr UnixMillis kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00.000Z

WebhookCredential credential(std::int64_t id, const TokenParts& t) {
  return WebhookCredential{id, t.public_id, t.secret, t.type, std::nullopt, std::nullopt};
}

RawDelivery delivery(std::vector<Header> headers, std::string body = R"({"eventKey":"x"})") {
  return RawDelivery{"acme", std::move(headers), std::move(body), kNow};
}

std::string sig256(const TokenParts& t, std::string_view body) {
  return "sha256=" + to_hex(hmac_sha256(format_token(t), body));
}

std::string sig1(const TokenParts& t, std::string_view body) {
  return "sha1=" + to_hex(hmac_sha1(format_token(t), body));
}

std::string basic(std::string_view user, std::string_view password) {
  return "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
}

class WebhookAuth : public ::testing::Test {
 protected:
  WebhookAuth() {
    tokens_.push_back(credential(1, good_));
    tokens_.push_back(credential(2, other_));
    tokens_.push_back(credential(3, revoked_));
    tokens_.back().revoked_at_ms = kNow - 1000;
    tokens_.push_back(credential(4, expired_));
    tokens_.back().expires_at_ms = kNow;
    tokens_.push_back(credential(5, api_));
  }

  Result<AuthOutcome> auth(const RawDelivery& d, UnixMillis now = kNow) const {
    return authenticate_webhook(d, tokens_, now);
  }

  /// Every secret and full token text the test knows, including the foreign one.
  std::vector<std::string> secrets() const {
    std::vector<std::string> out;
    for (const auto* t : {&good_, &other_, &revoked_, &expired_, &api_, &foreign_}) {
      out.push_back(t->secret);
      out.push_back(format_token(*t));
    }
    return out;
  }

  /// Expects failure with `code`; checks that neither message nor detail leaks a secret or a
  /// presented header value.
  void expect_fail(const RawDelivery& d, ErrorCode code, std::string_view message_part = {}) {
    const auto r = auth(d);
    ASSERT_FALSE(r.has_value()) << "authenticated as token " << r->token_id;
    EXPECT_EQ(r.error().code, code) << to_string(r.error().code) << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(message_part), std::string::npos) << r.error().message;
    for (const auto& s : secrets()) {
      EXPECT_EQ(r.error().message.find(s), std::string::npos) << r.error().message;
      EXPECT_EQ(r.error().detail.find(s), std::string::npos) << r.error().detail;
    }
    for (const auto& h : d.headers) {
      if (h.value.size() < 16) continue;  // short values ("sha1=", "Basic") may recur by chance
      EXPECT_EQ(r.error().message.find(h.value), std::string::npos) << r.error().message;
      EXPECT_EQ(r.error().detail.find(h.value), std::string::npos) << r.error().detail;
    }
  }

  void expect_ok(const RawDelivery& d, std::int64_t token_id, AuthMethod method,
                 UnixMillis now = kNow) {
    const auto r = auth(d, now);
    ASSERT_TRUE(r.has_value()) << to_string(r.error().code) << ": " << r.error().message;
    EXPECT_EQ(r->token_id, token_id);
    EXPECT_EQ(r->method, method);
    for (const auto& c : tokens_) {
      if (c.token_id == token_id) {
        EXPECT_EQ(r->public_id, c.public_id);
      }
    }
  }

  TokenParts good_ = generate_token(TokenType::webhook);
  TokenParts other_ = generate_token(TokenType::webhook);
  TokenParts revoked_ = generate_token(TokenType::webhook);
  TokenParts expired_ = generate_token(TokenType::webhook);
  TokenParts api_ = generate_token(TokenType::api);
  TokenParts foreign_ = generate_token(TokenType::webhook);  // a token of another org
  std::vector<WebhookCredential> tokens_;
};

// ---- HMAC: X-Hub-Signature / X-Hub-Signature-256 -------------------------------------------

TEST_F(WebhookAuth, HubSignatureSha256RightToken) {
  const auto d = delivery({});
  expect_ok(delivery({{"X-Hub-Signature", sig256(good_, d.body)}}), 1, AuthMethod::hmac_sha256);
  expect_ok(delivery({{"X-Hub-Signature", sig256(other_, d.body)}}), 2, AuthMethod::hmac_sha256);
}

TEST_F(WebhookAuth, HubSignature256RightToken) {
  const auto d = delivery({});
  expect_ok(delivery({{"X-Hub-Signature-256", sig256(good_, d.body)}}), 1, AuthMethod::hmac_sha256);
}

TEST_F(WebhookAuth, HmacKeyIsTheFullTokenText) {
  const auto d = delivery({});
  // Keyed with the secret part alone, the signature must not verify.
  const std::string secret_only = "sha256=" + to_hex(hmac_sha256(good_.secret, d.body));
  expect_fail(delivery({{"X-Hub-Signature", secret_only}}), ErrorCode::invalid_signature);
}

TEST_F(WebhookAuth, HmacWithTokenOfAnotherOrgFails) {
  const auto d = delivery({});
  expect_fail(delivery({{"X-Hub-Signature", sig256(foreign_, d.body)}}),
              ErrorCode::invalid_signature,
              "X-Hub-Signature sha256 HMAC over " + std::to_string(d.body.size()) +
                  " body bytes matches no active webhook token of this org");
}

TEST_F(WebhookAuth, HmacWithSameIdButWrongSecretFails) {
  TokenParts forged = good_;
  forged.secret = foreign_.secret;
  const auto d = delivery({});
  expect_fail(delivery({{"X-Hub-Signature-256", sig256(forged, d.body)}}),
              ErrorCode::invalid_signature, "X-Hub-Signature-256 sha256 HMAC");
}

TEST_F(WebhookAuth, HmacWithRevokedTokenFails) {
  const auto d = delivery({});
  expect_fail(delivery({{"X-Hub-Signature", sig256(revoked_, d.body)}}),
              ErrorCode::invalid_signature, "token is revoked");
  expect_fail(delivery({{"X-Hub-Signature", sig256(revoked_, d.body)}}),
              ErrorCode::invalid_signature, revoked_.public_id);
}

TEST_F(WebhookAuth, HmacExpiryIsExactToTheMillisecond) {
  const auto d = delivery({{"X-Hub-Signature", sig256(expired_, delivery({}).body)}});
  // expires_at_ms == kNow: valid strictly before, expired at and after.
  expect_ok(d, 4, AuthMethod::hmac_sha256, kNow - 1);
  const auto at = auth(d, kNow);
  ASSERT_FALSE(at.has_value());
  EXPECT_EQ(at.error().code, ErrorCode::invalid_signature);
  EXPECT_NE(at.error().message.find("token has expired"), std::string::npos);
  EXPECT_FALSE(auth(d, kNow + 1).has_value());
}

TEST_F(WebhookAuth, HmacWithApiTokenIsRefused) {
  const auto d = delivery({});
  expect_fail(delivery({{"X-Hub-Signature", sig256(api_, d.body)}}), ErrorCode::invalid_signature,
              "token is not a webhook token");
  // Even an api credential whose stored type is api but whose text was made as a webhook token.
  TokenParts as_webhook = api_;
  as_webhook.type = TokenType::webhook;
  expect_fail(delivery({{"X-Hub-Signature", sig256(as_webhook, d.body)}}),
              ErrorCode::invalid_signature);
}

TEST_F(WebhookAuth, OneChangedBodyByteFails) {
  const std::string body = R"({"eventKey":"repo:refs_changed","n":1})";
  const std::string sig = sig256(good_, body);
  expect_ok(delivery({{"X-Hub-Signature", sig}}, body), 1, AuthMethod::hmac_sha256);
  for (std::size_t i = 0; i < body.size(); i += 7) {
    std::string changed = body;
    changed[i] = static_cast<char>(changed[i] ^ 1);
    expect_fail(delivery({{"X-Hub-Signature", sig}}, changed), ErrorCode::invalid_signature);
  }
  expect_fail(delivery({{"X-Hub-Signature", sig}}, body + " "), ErrorCode::invalid_signature);
}

TEST_F(WebhookAuth, EmptyAndBinaryBodies) {
  expect_ok(delivery({{"X-Hub-Signature", sig256(good_, "")}}, ""), 1, AuthMethod::hmac_sha256);
  const std::string binary("\x00\xff\x01payload", 10);
  expect_ok(delivery({{"X-Hub-Signature", sig256(good_, binary)}}, binary), 1,
            AuthMethod::hmac_sha256);
}

TEST_F(WebhookAuth, HeaderNamesAreCaseInsensitive) {
  const auto d = delivery({});
  for (const char* name : {"x-hub-signature", "X-HUB-SIGNATURE", "X-Hub-Signature"}) {
    expect_ok(delivery({{name, sig256(good_, d.body)}}), 1, AuthMethod::hmac_sha256);
  }
  for (const char* name : {"x-hub-signature-256", "X-HUB-SIGNATURE-256"}) {
    expect_ok(delivery({{name, sig256(good_, d.body)}}), 1, AuthMethod::hmac_sha256);
  }
  expect_ok(delivery({{"x-gitea-signature", to_hex(hmac_sha256(format_token(good_), d.body))}}), 1,
            AuthMethod::gitea_signature);
  expect_ok(delivery({{"AUTHORIZATION", "Bearer " + format_token(good_)}}), 1, AuthMethod::bearer);
  expect_ok(delivery({{"x-gitlab-token", format_token(good_)}}), 1, AuthMethod::gitlab_token);
}

TEST_F(WebhookAuth, UpperCaseHexDigestIsAccepted) {
  const auto d = delivery({});
  std::string hex = to_hex(hmac_sha256(format_token(good_), d.body));
  for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  expect_ok(delivery({{"X-Hub-Signature", "sha256=" + hex}}), 1, AuthMethod::hmac_sha256);
}

TEST_F(WebhookAuth, Sha1PrefixVerifiesWithSha1) {
  const auto d = delivery({});
  expect_ok(delivery({{"X-Hub-Signature", sig1(good_, d.body)}}), 1, AuthMethod::hmac_sha1);
  // A sha1 prefix with a wrong sha1 value fails as a signature, not as malformed.
  expect_fail(delivery({{"X-Hub-Signature", sig1(foreign_, d.body)}}), ErrorCode::invalid_signature,
              "X-Hub-Signature sha1 HMAC");
}

TEST_F(WebhookAuth, AlgorithmComesFromThePrefixNeverAssumed) {
  const auto d = delivery({});
  const std::string sha1_hex = to_hex(hmac_sha1(format_token(good_), d.body));
  const std::string sha256_hex = to_hex(hmac_sha256(format_token(good_), d.body));
  // sha256= prefix carrying a SHA-1 value (40 hex digits).
  expect_fail(delivery({{"X-Hub-Signature", "sha256=" + sha1_hex}}),
              ErrorCode::malformed_credentials, "X-Hub-Signature sha256");
  // sha1= prefix carrying a SHA-256 value.
  expect_fail(delivery({{"X-Hub-Signature", "sha1=" + sha256_hex}}),
              ErrorCode::malformed_credentials, "X-Hub-Signature sha1");
  // X-Hub-Signature-256 accepts only sha256=.
  expect_fail(delivery({{"X-Hub-Signature-256", "sha1=" + sha1_hex}}),
              ErrorCode::malformed_credentials, "X-Hub-Signature-256");
}

TEST_F(WebhookAuth, MalformedHubSignature) {
  const std::string hex = to_hex(hmac_sha256(format_token(good_), delivery({}).body));
  std::string not_hex = hex;
  not_hex[10] = 'x';
  expect_fail(delivery({{"X-Hub-Signature", "sha256=" + not_hex}}),
              ErrorCode::malformed_credentials, "X-Hub-Signature");
  expect_fail(delivery({{"X-Hub-Signature", "sha256=" + hex.substr(1)}}),  // odd length
              ErrorCode::malformed_credentials, "X-Hub-Signature");
  expect_fail(delivery({{"X-Hub-Signature", "sha256=" + hex.substr(2)}}),  // 31 bytes
              ErrorCode::malformed_credentials, "X-Hub-Signature");
  expect_fail(delivery({{"X-Hub-Signature", "sha256" + hex}}),  // missing '='
              ErrorCode::malformed_credentials, "X-Hub-Signature");
  expect_fail(delivery({{"X-Hub-Signature", hex}}),  // no prefix at all
              ErrorCode::malformed_credentials, "X-Hub-Signature");
  expect_fail(delivery({{"X-Hub-Signature", "md5=" + hex.substr(0, 32)}}),
              ErrorCode::malformed_credentials, "X-Hub-Signature");
  expect_fail(delivery({{"X-Hub-Signature-256", hex}}), ErrorCode::malformed_credentials,
              "X-Hub-Signature-256");
}

TEST_F(WebhookAuth, SignatureHeadersCheckedInOrder) {
  const auto d = delivery({});
  // GitHub sends both; the -256 header decides even when the sha1 one is bad.
  expect_ok(delivery({{"X-Hub-Signature", sig1(foreign_, d.body)},
                      {"X-Hub-Signature-256", sig256(good_, d.body)}}),
            1, AuthMethod::hmac_sha256);
  // A bad signature is not outvoted by a valid token header (it would not protect the body).
  expect_fail(delivery({{"X-Hub-Signature", sig256(foreign_, d.body)},
                        {"Authorization", "Bearer " + format_token(good_)}}),
              ErrorCode::invalid_signature);
  expect_fail(delivery({{"X-Gitlab-Token", format_token(good_)},
                        {"Authorization", "Bearer " + format_token(foreign_)}}),
              ErrorCode::invalid_token, "Authorization Bearer");
}

// ---- Gitea -------------------------------------------------------------------------------------

TEST_F(WebhookAuth, GiteaSignature) {
  const auto d = delivery({});
  const std::string hex = to_hex(hmac_sha256(format_token(good_), d.body));
  expect_ok(delivery({{"X-Gitea-Signature", hex}}), 1, AuthMethod::gitea_signature);
  expect_fail(
      delivery({{"X-Gitea-Signature", to_hex(hmac_sha256(format_token(foreign_), d.body))}}),
      ErrorCode::invalid_signature, "X-Gitea-Signature sha256 HMAC over");
  expect_fail(delivery({{"X-Gitea-Signature", "sha256=" + hex}}), ErrorCode::malformed_credentials,
              "X-Gitea-Signature");
  expect_fail(delivery({{"X-Gitea-Signature", hex.substr(0, 40)}}),
              ErrorCode::malformed_credentials, "X-Gitea-Signature");
}

TEST_F(WebhookAuth, GiteaWithoutSecretSendsEmptySignatureHeaders) {
  // Gitea sends all signature headers, empty, when no secret is configured; an Authorization
  // header configured on the hook must then be used.
  const std::vector<Header> empty = {{"X-Gitea-Signature", ""},
                                     {"X-Hub-Signature", "sha1="},
                                     {"X-Hub-Signature-256", "sha256="},
                                     {"X-Gitea-Event", "push"}};
  EXPECT_FALSE(has_credentials(delivery(empty)));
  expect_fail(delivery(empty), ErrorCode::missing_credentials);
  auto with_auth = empty;
  with_auth.push_back({"Authorization", "Bearer " + format_token(good_)});
  expect_ok(delivery(with_auth), 1, AuthMethod::bearer);
}

TEST_F(WebhookAuth, GiteaFormModeSignsThePayloadField) {
  const std::string json = R"({"ref":"refs/heads/main","after":"a b&c"})";
  const std::string body =
      "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%2C%22after%22%3A%22"
      "a+b%26c%22%7D";
  const std::string hex = to_hex(hmac_sha256(format_token(good_), json));
  std::vector<Header> h = {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"X-Gitea-Event", "push"},
                           {"X-Gitea-Signature", hex}};
  expect_ok(delivery(h, body), 1, AuthMethod::gitea_signature);
  h[2] = {"X-Hub-Signature-256", "sha256=" + hex};
  expect_ok(delivery(h, body), 1, AuthMethod::hmac_sha256);
  // Without the Gitea event header the form body itself must be signed (GitHub form mode).
  expect_fail(delivery({h[0], h[2]}, body), ErrorCode::invalid_signature);
  expect_ok(delivery({h[0], {"X-Hub-Signature-256", sig256(good_, body)}}, body), 1,
            AuthMethod::hmac_sha256);
}

// ---- Authorization: Basic / Bearer, X-Gitlab-Token ----------------------------------------

TEST_F(WebhookAuth, BasicRightTokenUserIgnored) {
  const std::string token = format_token(good_);
  expect_ok(delivery({{"Authorization", basic("bitbucket", token)}}), 1, AuthMethod::basic);
  expect_ok(delivery({{"Authorization", basic("", token)}}), 1, AuthMethod::basic);
  expect_ok(delivery({{"Authorization", basic("anyone at all", token)}}), 1, AuthMethod::basic);
  expect_ok(delivery({{"Authorization", "basic  " + base64_encode("u:" + token)}}), 1,
            AuthMethod::basic);
}

TEST_F(WebhookAuth, BasicWrongToken) {
  expect_fail(delivery({{"Authorization", basic("u", format_token(foreign_))}}),
              ErrorCode::invalid_token,
              "Authorization Basic password: token is not known for this org");
  TokenParts wrong_secret = good_;
  wrong_secret.secret = foreign_.secret;
  expect_fail(delivery({{"Authorization", basic("u", format_token(wrong_secret))}}),
              ErrorCode::invalid_token, "token is not known for this org");
  expect_fail(delivery({{"Authorization", basic("u", "hunter2")}}), ErrorCode::invalid_token,
              "Authorization Basic password");
  // The token in the user-name position does not count.
  expect_fail(delivery({{"Authorization", basic(format_token(good_), "x")}}),
              ErrorCode::invalid_token);
}

TEST_F(WebhookAuth, BasicMalformed) {
  expect_fail(delivery({{"Authorization", "Basic not*base64!"}}), ErrorCode::malformed_credentials,
              "Authorization Basic");
  expect_fail(delivery({{"Authorization", "Basic " + base64_encode(format_token(good_))}}),
              ErrorCode::malformed_credentials, "no ':'");
  expect_fail(delivery({{"Authorization", "Basic"}}), ErrorCode::malformed_credentials,
              "Authorization Basic");
}

TEST_F(WebhookAuth, BearerRightWrongGarbage) {
  expect_ok(delivery({{"Authorization", "Bearer " + format_token(good_)}}), 1, AuthMethod::bearer);
  expect_ok(delivery({{"Authorization", "bearer\t" + format_token(good_) + " "}}), 1,
            AuthMethod::bearer);
  expect_fail(delivery({{"Authorization", "Bearer " + format_token(foreign_)}}),
              ErrorCode::invalid_token, "Authorization Bearer: token is not known for this org");
  expect_fail(delivery({{"Authorization", "Bearer garbage-garbage-garbage"}}),
              ErrorCode::invalid_token, "Authorization Bearer");
  expect_fail(delivery({{"Authorization", "Bearer " + format_token(good_) + "x"}}),
              ErrorCode::invalid_token, "Authorization Bearer");
  expect_fail(delivery({{"Authorization", "Bearer"}}), ErrorCode::malformed_credentials,
              "Authorization Bearer");
  expect_fail(delivery({{"Authorization", "Token " + format_token(good_)}}),
              ErrorCode::malformed_credentials, "Authorization");
  expect_fail(delivery({{"Authorization", format_token(good_)}}), ErrorCode::malformed_credentials,
              "Authorization");
}

TEST_F(WebhookAuth, TokenHeadersRefuseRevokedExpiredAndApiTokens) {
  expect_fail(delivery({{"Authorization", "Bearer " + format_token(revoked_)}}),
              ErrorCode::invalid_token, "Authorization Bearer: token is revoked");
  expect_fail(delivery({{"Authorization", basic("u", format_token(expired_))}}),
              ErrorCode::invalid_token, "Authorization Basic password: token has expired");
  expect_fail(delivery({{"X-Gitlab-Token", format_token(api_)}}), ErrorCode::invalid_token,
              "X-Gitlab-Token: token is not a webhook token");
  // An api credential presented with a webhook prefix is refused by its stored type.
  TokenParts as_webhook = api_;
  as_webhook.type = TokenType::webhook;
  expect_fail(delivery({{"Authorization", "Bearer " + format_token(as_webhook)}}),
              ErrorCode::invalid_token, "token is not a webhook token");
  // Expiry to the millisecond.
  const auto d = delivery({{"X-Gitlab-Token", format_token(expired_)}});
  expect_ok(d, 4, AuthMethod::gitlab_token, kNow - 1);
  EXPECT_FALSE(auth(d, kNow).has_value());
}

TEST_F(WebhookAuth, RevokedStatusIsOnlyToldToSecretHolders) {
  TokenParts guess = revoked_;
  guess.secret = foreign_.secret;
  expect_fail(delivery({{"Authorization", "Bearer " + format_token(guess)}}),
              ErrorCode::invalid_token, "token is not known for this org");
}

TEST_F(WebhookAuth, GitlabToken) {
  expect_ok(delivery({{"X-Gitlab-Token", format_token(good_)}}), 1, AuthMethod::gitlab_token);
  expect_ok(delivery({{"X-Gitlab-Token", format_token(other_)}}), 2, AuthMethod::gitlab_token);
  expect_fail(delivery({{"X-Gitlab-Token", format_token(foreign_)}}), ErrorCode::invalid_token,
              "X-Gitlab-Token: token is not known for this org");
  expect_fail(delivery({{"X-Gitlab-Token", "some-old-shared-secret"}}), ErrorCode::invalid_token,
              "X-Gitlab-Token");
}

// ---- missing credentials, list edge cases ----------------------------------------------------

TEST_F(WebhookAuth, MissingCredentials) {
  const auto d = delivery({{"Content-Type", "application/json"}, {"X-Event-Key", "repo:push"}});
  EXPECT_FALSE(has_credentials(d));
  const auto r = auth(d);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::missing_credentials);
  EXPECT_EQ(r.error().message,
            "no X-Hub-Signature, X-Hub-Signature-256, X-Gitea-Signature, Authorization or "
            "X-Gitlab-Token header");
  expect_fail(delivery({{"Authorization", "  "}, {"X-Gitlab-Token", ""}}),
              ErrorCode::missing_credentials);
}

TEST_F(WebhookAuth, HasCredentialsForEveryHeader) {
  for (const char* name : {"X-Hub-Signature-256", "x-hub-signature", "X-Gitea-Signature",
                           "authorization", "X-GITLAB-TOKEN"}) {
    EXPECT_TRUE(has_credentials(delivery({{name, "sha256=00"}}))) << name;
  }
}

TEST_F(WebhookAuth, NoTokensAtAll) {
  const auto d = delivery({});
  const auto r =
      authenticate_webhook(delivery({{"X-Hub-Signature", sig256(good_, d.body)}}), {}, kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
}

TEST_F(WebhookAuth, CredentialWithEmptySecretNeverMatches) {
  // A broken row (secret not loaded) must not turn the guessable text "cbw_<id>_" into a key.
  std::vector<WebhookCredential> broken = {tokens_[0]};
  broken[0].secret.clear();
  const auto d = delivery({});
  const std::string guessable = "cbw_" + good_.public_id + "_";
  const auto r = authenticate_webhook(
      delivery({{"X-Hub-Signature", "sha256=" + to_hex(hmac_sha256(guessable, d.body))}}), broken,
      kNow);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_signature);
}

TEST_F(WebhookAuth, ErrorMessagesNeverContainSecrets) {
  // expect_fail() checks every failure above; here the presented secret is also a near miss.
  TokenParts near_miss = good_;
  near_miss.secret.back() = near_miss.secret.back() == '0' ? '1' : '0';
  const auto r = auth(delivery({{"Authorization", "Bearer " + format_token(near_miss)}}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find(near_miss.secret), std::string::npos);
  EXPECT_EQ(r.error().message.find(good_.secret), std::string::npos);
  EXPECT_EQ(r.error().message.find(good_.secret.substr(0, 16)), std::string::npos);
  EXPECT_NE(r.error().message.find(good_.public_id), std::string::npos);  // the id may show
}

TEST(AuthMethodNames, ToString) {
  EXPECT_EQ(to_string(AuthMethod::hmac_sha256), "hmac_sha256");
  EXPECT_EQ(to_string(AuthMethod::hmac_sha1), "hmac_sha1");
  EXPECT_EQ(to_string(AuthMethod::basic), "basic");
  EXPECT_EQ(to_string(AuthMethod::bearer), "bearer");
  EXPECT_EQ(to_string(AuthMethod::gitlab_token), "gitlab_token");
  EXPECT_EQ(to_string(AuthMethod::gitea_signature), "gitea_signature");
}

}  // namespace
}  // namespace cb::auth
