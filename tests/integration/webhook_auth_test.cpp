// How a webhook request is authenticated, as the sender sees it: status, error code, and what is
// (not) stored. Also the diagnostics:ping "Test connection" and unknown orgs.

#include <gtest/gtest.h>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;

constexpr const char* kTrigger = "trigger-scm-push-request";

/// The secret part of a token (after the last '_').
std::string secret_of(const std::string& token) { return token.substr(token.rfind('_') + 1); }

class WebhookAuthTest : public IntegrationTest {
 protected:
  void SetUp() override {
    create_org("acme");
    create_org("globex");
    token_ = create_token("acme", "bitbucket");
    api_token_ = create_token("acme", "admin-automation", "api");
    globex_token_ = create_token("globex", "bitbucket");
    ASSERT_TRUE(StartsWith(token_, "cbw_"));
    ASSERT_TRUE(StartsWith(api_token_, "cba_"));
    add_repo("acme", "ORB", "orbit-tools", (tmp_ / "no-such-repo.git").string());
    ASSERT_TRUE(start_server());
    body_ = bitbucket_push_body(
        "ORB", "orbit-tools",
        {branch_change("main", "UPDATE", fake_hash("auth@1"), fake_hash("auth@2"))});
  }

  std::string url(const std::string& org = "acme") const {
    return server_->webhook_url(org, kTrigger);
  }

  /// Push headers without credentials.
  static Headers plain_headers(const std::string& request_id = new_request_id()) {
    return Headers{{"Content-Type", "application/json"},
                   {"X-Event-Key", "repo:refs_changed"},
                   {"X-Request-Id", request_id}};
  }

  static Headers with(Headers h, const std::string& name, const std::string& value) {
    h.emplace_back(name, value);
    return h;
  }

  /// 401 with `code`, and no token text anywhere in the answer.
  void expect_refused(const HttpResponse& r, const std::string& code) {
    EXPECT_EQ(r.status, 401) << r.describe();
    EXPECT_EQ(r.error_code(), code) << r.describe();
    EXPECT_FALSE(r.error_message().empty()) << r.describe();
    for (const auto* t : {&token_, &api_token_, &globex_token_}) {
      EXPECT_TRUE(LacksSecret(r.body, *t));
      EXPECT_TRUE(LacksSecret(r.body, secret_of(*t)));
      for (const auto& [name, value] : r.headers) EXPECT_TRUE(LacksSecret(value, secret_of(*t)));
    }
  }

  void expect_nothing_stored() {
    const auto all = deliveries();
    EXPECT_TRUE(all.empty()) << json::serialize(all);
  }

  std::string token_;
  std::string api_token_;
  std::string globex_token_;
  std::string body_;
};

TEST_F(WebhookAuthTest, NoCredentialsIsMissingCredentials) {
  const auto r = post(url(), plain_headers(), body_);
  expect_refused(r, "missing_credentials");
  expect_nothing_stored();
}

TEST_F(WebhookAuthTest, WrongHmacIsInvalidSignatureNamingWhatWasChecked) {
  const std::string made_up = "cbw_0123456789abcdef_" + std::string(64, 'a');
  const auto r = post(url(), with(plain_headers(), "X-Hub-Signature", sign(made_up, body_)), body_);
  expect_refused(r, "invalid_signature");
  EXPECT_TRUE(Contains(r.error_message(), "X-Hub-Signature"));
  EXPECT_TRUE(Contains(r.error_message(), std::to_string(body_.size()) + " body bytes"));
  expect_nothing_stored();
}

TEST_F(WebhookAuthTest, OneBodyByteChangedAfterSigningIsInvalidSignature) {
  const std::string signature = sign(token_, body_);
  std::string tampered = body_;
  const auto at = tampered.find("orbit-tools");
  ASSERT_NE(at, std::string::npos);
  tampered[at] = 'O';  // "Orbit-tools": still a registered repository, one byte differs
  const auto r = post(url(), with(plain_headers(), "X-Hub-Signature", signature), tampered);
  expect_refused(r, "invalid_signature");
  // The untouched body with the same signature is accepted.
  const auto ok = post(url(), with(plain_headers(), "X-Hub-Signature", signature), body_);
  EXPECT_EQ(ok.status, 202) << ok.describe();
  EXPECT_EQ(deliveries().size(), 1u);
}

TEST_F(WebhookAuthTest, AnotherOrgsTokenIsRefused) {
  expect_refused(
      post(url(), with(plain_headers(), "X-Hub-Signature", sign(globex_token_, body_)), body_),
      "invalid_signature");
  expect_refused(
      post(url(), with(plain_headers(), "Authorization", "Bearer " + globex_token_), body_),
      "invalid_token");
  expect_refused(
      post(url(), with(plain_headers(), "Authorization", basic_auth("svc", globex_token_)), body_),
      "invalid_token");
  expect_nothing_stored();
  // The token does work for its own org.
  const auto own =
      post(url("globex"), with(plain_headers(), "Authorization", "Bearer " + globex_token_), body_);
  EXPECT_EQ(own.status, 202) << own.describe();
}

TEST_F(WebhookAuthTest, ApiTokenNeverAuthenticatesAWebhook) {
  expect_refused(post(url(), with(plain_headers(), "Authorization", "Bearer " + api_token_), body_),
                 "invalid_token");
  expect_refused(
      post(url(), with(plain_headers(), "X-Hub-Signature", sign(api_token_, body_)), body_),
      "invalid_signature");
  expect_nothing_stored();
}

TEST_F(WebhookAuthTest, TokenChangesByTheCliReachTheVeryNextRequest) {
  // The server answers from its credential cache; a change the CLI (another process) committed
  // before a request is sent must decide that request, without any wait.
  const auto bearer = [this](const std::string& token) {
    return post(url(), with(plain_headers(), "Authorization", "Bearer " + token), body_);
  };
  ASSERT_EQ(bearer(token_).status, 202);
  const std::string second = create_token("acme", "second");
  const auto fresh = bearer(second);
  EXPECT_EQ(fresh.status, 202) << fresh.describe();

  const auto revoke = cli({"token", "revoke", "--org", "acme", "--name", "bitbucket"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.describe();
  expect_refused(bearer(token_), "invalid_token");
  EXPECT_EQ(bearer(second).status, 202);

  ASSERT_EQ(cli({"token", "revoke", "--org", "acme", "--name", "second"}).exit_code, 0);
  expect_refused(bearer(second), "invalid_token");
}

TEST_F(WebhookAuthTest, TokenRevokedWhileServerRunsIsRefusedWithinTheCacheTtl) {
  const auto before =
      post(url(), with(plain_headers(), "Authorization", "Bearer " + token_), body_);
  ASSERT_EQ(before.status, 202) << before.describe();

  const auto revoke = cli({"token", "revoke", "--org", "acme", "--name", "bitbucket"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.describe();

  HttpResponse last;
  const bool refused = wait_until(
      [&] {
        last = post(url(), with(plain_headers(), "Authorization", "Bearer " + token_), body_);
        return last.status == 401;
      },
      5s, 50ms);
  ASSERT_TRUE(refused) << last.describe();
  expect_refused(last, "invalid_token");
  EXPECT_TRUE(Contains(last.error_message(), "revoked"));
  expect_refused(post(url(), with(plain_headers(), "X-Hub-Signature", sign(token_, body_)), body_),
                 "invalid_signature");
  expect_refused(
      post(url(), with(plain_headers(), "Authorization", basic_auth("svc", token_)), body_),
      "invalid_token");
}

TEST_F(WebhookAuthTest, BasicAuthWithTheTokenAsPasswordIsAccepted) {
  const auto r =
      post(url(), with(plain_headers(), "Authorization", basic_auth("bitbucket-service", token_)),
           body_);
  EXPECT_EQ(r.status, 202) << r.describe();
  EXPECT_EQ(str(r.json(), "status"), "queued");
  EXPECT_FALSE(str(r.json(), "delivery_id").empty());
  // A wrong password with the right public id is refused.
  std::string wrong = token_;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  expect_refused(
      post(url(), with(plain_headers(), "Authorization", basic_auth("bitbucket-service", wrong)),
           body_),
      "invalid_token");
  EXPECT_EQ(deliveries().size(), 1u);
}

TEST_F(WebhookAuthTest, BearerWithTheTokenIsAccepted) {
  const auto r = post(url(), with(plain_headers(), "Authorization", "Bearer " + token_), body_);
  EXPECT_EQ(r.status, 202) << r.describe();
  EXPECT_EQ(str(r.json(), "status"), "queued");
  const auto all = deliveries();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(str(all[0], "delivery_id"), str(r.json(), "delivery_id"));
}

TEST_F(WebhookAuthTest, LowerCaseHeaderNamesWork) {
  const std::string request_id = new_request_id();
  const Headers headers{{"content-type", "application/json"},
                        {"x-event-key", "repo:refs_changed"},
                        {"x-request-id", request_id},
                        {"x-hub-signature", sign(token_, body_)}};
  const auto r = post(url(), headers, body_);
  ASSERT_EQ(r.status, 202) << r.describe();
  const std::string id = str(r.json(), "delivery_id");

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "event_key"), "repo:refs_changed");
  EXPECT_EQ(str(d, "external_id"), request_id);
  EXPECT_EQ(str(d, "provider"), "bitbucket_server");

  const auto again = post(url(), headers, body_);
  EXPECT_EQ(again.status, 200) << again.describe();
  EXPECT_EQ(str(again.json(), "status"), "duplicate");
  EXPECT_EQ(str(again.json(), "delivery_id"), id);
}

TEST_F(WebhookAuthTest, UnknownOrgIs404AndNothingIsStored) {
  const auto r =
      post(url("initech"), with(plain_headers(), "X-Hub-Signature", sign(token_, body_)), body_);
  EXPECT_EQ(r.status, 404) << r.describe();
  EXPECT_EQ(r.error_code(), "unknown_org");
  EXPECT_TRUE(Contains(r.error_message(), "initech"));
  EXPECT_TRUE(LacksSecret(r.body, secret_of(token_)));
  expect_nothing_stored();
}

// ---- diagnostics:ping -------------------------------------------------------------------------

Headers ping_headers() {
  return Headers{{"Content-Type", "application/json"},
                 {"X-Event-Key", "diagnostics:ping"},
                 {"X-Request-Id", new_request_id()}};
}

const std::string kPingBody = R"({"test": true})";

TEST_F(WebhookAuthTest, PingWithoutCredentialsAnswersUnauthenticated) {
  const auto r = post(url(), ping_headers(), kPingBody);
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto v = r.json();
  EXPECT_EQ(str(v, "status"), "ok");
  ASSERT_TRUE(v.as_object().at("authenticated").is_bool());
  EXPECT_FALSE(v.as_object().at("authenticated").as_bool());
  expect_nothing_stored();
}

TEST_F(WebhookAuthTest, PingWithTheRightCredentialsAnswersAuthenticated) {
  for (const auto& [name, value] :
       Headers{{"X-Hub-Signature", sign(token_, kPingBody)},
               {"Authorization", basic_auth("bitbucket-service", token_)}}) {
    const auto r = post(url(), with(ping_headers(), name, value), kPingBody);
    ASSERT_EQ(r.status, 200) << name << ": " << r.describe();
    const auto v = r.json();
    EXPECT_EQ(str(v, "status"), "ok");
    ASSERT_TRUE(v.as_object().at("authenticated").is_bool());
    EXPECT_TRUE(v.as_object().at("authenticated").as_bool()) << name;
  }
  expect_nothing_stored();
}

TEST_F(WebhookAuthTest, PingWithWrongCredentialsIs401) {
  expect_refused(
      post(url(), with(ping_headers(), "X-Hub-Signature", sign(globex_token_, kPingBody)),
           kPingBody),
      "invalid_signature");
  expect_refused(
      post(url(), with(ping_headers(), "Authorization", "Bearer " + api_token_), kPingBody),
      "invalid_token");
  expect_nothing_stored();
}

}  // namespace
}  // namespace cbtest
