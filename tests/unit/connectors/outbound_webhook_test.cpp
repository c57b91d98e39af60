#include "connectors/outbound_webhook.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/digest.hpp"
#include "http_stub.hpp"

namespace cb::connectors {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr std::string_view kSecret = "whsec-0123456789abcdef";
constexpr std::string_view kBody =
    R"({"event":"story_linked","story":"ABC-1","commit":"0123456789abcdef0123456789abcdef01234567"})";

/// Answers like a receiver that verifies X-Hub-Signature-256 with the shared secret: 401 when
/// the signature is missing or wrong, else the next scripted status.
class VerifyingReceiver {
 public:
  explicit VerifyingReceiver(cbtest::HttpStub& stub) {
    stub.set_handler([this](const cbtest::StubRequest& req) {
      const auto header = req.header("X-Hub-Signature-256");
      const std::string expected = "sha256=" + auth::to_hex(auth::hmac_sha256(kSecret, req.body));
      if (!header || !auth::constant_time_equals(*header, expected)) {
        ++rejected;
        return cbtest::StubResponse{.status = 401, .body = "bad signature"};
      }
      ++verified;
      const int status = statuses.empty() ? 200 : statuses.front();
      if (!statuses.empty()) statuses.erase(statuses.begin());
      return cbtest::StubResponse{.status = status, .body = "status " + std::to_string(status)};
    });
  }
  std::vector<int> statuses;
  std::atomic<int> verified{0};
  std::atomic<int> rejected{0};
};

class OutboundWebhookTest : public ::testing::Test {
 protected:
  OutboundWebhookConfig config(std::string path = "/hooks/alm") const {
    OutboundWebhookConfig c;
    c.url = stub_.url(path);
    c.secret = std::string(kSecret);
    c.timeout = 5s;
    return c;
  }
  cbtest::HttpStub stub_;
  CurlHttpClient http_;
  ManualClock clock_{1'780'000'000'000};
};

TEST_F(OutboundWebhookTest, SignatureIsVerifiedByTheReceiver) {
  VerifyingReceiver receiver(stub_);
  receiver.statuses = {202};
  OutboundWebhookSender sender(config(), http_, clock_);
  auto r = sender.send(kBody, "story_linked", "dlv-42");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, 202);
  EXPECT_EQ(receiver.verified.load(), 1);
  EXPECT_EQ(receiver.rejected.load(), 0);
  const auto received = stub_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/hooks/alm");
  EXPECT_EQ(received[0].body, kBody);
  EXPECT_EQ(received[0].header("Content-Type"), "application/json");
  EXPECT_EQ(received[0].header("X-Commitbridge-Event"), "story_linked");
  EXPECT_EQ(received[0].header("X-Commitbridge-Delivery"), "dlv-42");
}

TEST_F(OutboundWebhookTest, SignatureFormatIsGithubs) {
  // HMAC-SHA256 test vector from RFC 4231 test case 2 (key "Jefe").
  EXPECT_EQ(webhook_signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_F(OutboundWebhookTest, WrongSecretIsRejectedPermanently) {
  VerifyingReceiver receiver(stub_);
  auto c = config();
  c.secret = "another-secret-value";
  OutboundWebhookSender sender(c, http_, clock_);
  auto r = sender.send(kBody);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable());
  EXPECT_EQ(r.error().status, 401);
  EXPECT_EQ(receiver.rejected.load(), 1);
  EXPECT_EQ(r.error().message,
            "webhook receiver " + stub_.url("/hooks/alm") + " answered HTTP 401: bad signature");
  EXPECT_THAT(r.error().message, Not(HasSubstr("another-secret-value")));
}

TEST_F(OutboundWebhookTest, ServerErrorIsRetryableThenSucceeds) {
  VerifyingReceiver receiver(stub_);
  receiver.statuses = {500, 200};
  OutboundWebhookSender sender(config(), http_, clock_);
  auto first = sender.send(kBody);
  ASSERT_FALSE(first.has_value());
  EXPECT_TRUE(first.error().retryable());
  EXPECT_EQ(first.error().status, 500);
  auto second = sender.send(kBody);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, 200);
  EXPECT_EQ(receiver.verified.load(), 2);
}

TEST_F(OutboundWebhookTest, RateLimitCarriesRetryAfter) {
  stub_.enqueue({.status = 429, .headers = {{"Retry-After", "30"}}});
  OutboundWebhookSender sender(config(), http_, clock_);
  auto r = sender.send(kBody);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().retryable());
  EXPECT_EQ(r.error().retry_after, 30000ms);
}

TEST_F(OutboundWebhookTest, NoSecretMeansNoSignature) {
  stub_.enqueue({.status = 204});
  auto c = config();
  c.secret.clear();
  c.headers = {{"Authorization", "Bearer rcv-token-111"}};
  OutboundWebhookSender sender(c, http_, clock_);
  auto r = sender.send("{}");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 204);
  const auto req = stub_.requests().at(0);
  EXPECT_EQ(req.header("X-Hub-Signature-256"), std::nullopt);
  EXPECT_EQ(req.header("Authorization"), "Bearer rcv-token-111");
  EXPECT_EQ(req.header("X-Commitbridge-Event"), std::nullopt);
}

TEST_F(OutboundWebhookTest, ErrorsNeverShowCredentials) {
  // The receiver echoes its Authorization header in an error answer.
  stub_.set_handler([](const cbtest::StubRequest& req) {
    return cbtest::StubResponse{.status = 403,
                                .body = "denied for " + req.header("Authorization").value_or("")};
  });
  auto c = config();
  c.headers = {{"Authorization", "Bearer rcv-token-222"}};
  c.url.insert(std::string("http://").size(), "hook:url-pass-333@");
  OutboundWebhookSender sender(c, http_, clock_);
  auto r = sender.send(kBody);
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable());
  EXPECT_THAT(r.error().message, HasSubstr("answered HTTP 403: denied for ***"));
  EXPECT_THAT(r.error().message, HasSubstr("http://***@127.0.0.1:"));
  EXPECT_THAT(r.error().message, Not(HasSubstr("rcv-token-222")));
  EXPECT_THAT(r.error().message, Not(HasSubstr("url-pass-333")));
}

TEST_F(OutboundWebhookTest, ConnectionRefusedIsRetryable) {
  auto c = config();
  {
    cbtest::HttpStub gone;
    c.url = gone.url("/x");
  }
  OutboundWebhookSender sender(c, http_, clock_);
  auto r = sender.send(kBody);
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().retryable());
  EXPECT_EQ(r.error().status, 0);
  EXPECT_THAT(r.error().message, HasSubstr("connection_refused"));
}

}  // namespace
}  // namespace cb::connectors
