// Webhook routes through the Router with a real SQLite store: handlers run as coroutines on an
// io_context, as the server runs them, without sockets.

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "api/error_mapping.hpp"
#include "api/webhook_routes.hpp"
#include "auth/digest.hpp"
#include "auth/secret_box.hpp"
#include "auth/token_format.hpp"
#include "http/router.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/org_directory.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::Pair;

constexpr auto kWaitLimit = std::chrono::seconds(30);
constexpr std::string_view kRequestId = "25888b35-da91-4f22-9a7f-f2a60ac28392";

std::string read_fixture(std::string_view name) {
  std::ifstream in(fs::path(CB_FIXTURES_DIR) / "providers" / "bitbucket_server" / name,
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

boost::json::value parse_json(const std::string& text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return v;
}

class WebhookRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-api-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    auto org = store_->create_org("Northwind", 1);
    ASSERT_TRUE(org.has_value());
    org_id_ = org->id;

    const auto parts = auth::generate_token(auth::TokenType::webhook);
    store::TokenRecord t;
    t.org_id = org_id_;
    t.name = "bitbucket";
    t.type = "webhook";
    t.public_id = parts.public_id;
    t.secret_sealed = box_.seal(parts.secret, parts.public_id);
    ASSERT_TRUE(store_->create_token(t).has_value());
    token_ = auth::format_token(parts);

    orgs_ = std::make_unique<pipeline::OrgDirectory>(*store_, box_, clock_);
    ingest_ = std::make_unique<pipeline::Ingest>(*orgs_, clock_);
    add_webhook_routes(router_, *ingest_, *store_, [this] { persisted_.fetch_add(1); });
    add_health_routes(router_);

    push_body_ = read_fixture("branch_update.json");
    ASSERT_FALSE(push_body_.empty());
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  http::Request signed_push(const std::string& target, std::string_view request_id) const {
    http::Request req{bhttp::verb::post, target, 11};
    req.set("X-Event-Key", "repo:refs_changed");
    req.set("X-Request-Id", request_id);
    req.set(bhttp::field::content_type, "application/json; charset=UTF-8");
    req.set("X-Hub-Signature", "sha256=" + auth::to_hex(auth::hmac_sha256(token_, push_body_)));
    req.body() = push_body_;
    req.prepare_payload();
    return req;
  }

  /// Routes `req` and runs its handler to completion on an io_context thread.
  http::Response call(http::Request req) {
    auto match = router_.match(req.method(), req.target());
    if (match.handler == nullptr) {
      ADD_FAILURE() << "no route for " << req.target();
      return http::Response{};
    }
    http::RequestContext ctx;
    ctx.request_id = "test";
    ctx.params = match.params;
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    auto future = asio::co_spawn(ioc, (*match.handler)(req, ctx), asio::use_future);
    std::thread runner([&ioc] { ioc.run(); });
    const bool ready = future.wait_for(kWaitLimit) == std::future_status::ready;
    guard.reset();
    ioc.stop();
    runner.join();
    if (!ready) {
      ADD_FAILURE() << "handler did not complete";
      return http::Response{};
    }
    return future.get();
  }

  fs::path dir_;
  ManualClock clock_{1'772'000'000'000};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::int64_t org_id_ = 0;
  std::string token_;
  std::unique_ptr<pipeline::OrgDirectory> orgs_;
  std::unique_ptr<pipeline::Ingest> ingest_;
  http::Router router_;
  std::atomic<int> persisted_{0};
  std::string push_body_;
};

TEST_F(WebhookRoutesTest, RegistersTheWebhookAndHealthRoutes) {
  EXPECT_THAT(
      router_.routes(),
      ElementsAre(Pair("POST", "/api/webhook/v2/{org}/enterprise/{endpoint}"),
                  Pair("POST", "/api/webhook/v2/{org}/{endpoint}"), Pair("GET", "/healthz")));
}

TEST_F(WebhookRoutesTest, SignedPushIsStoredAndAnswered202) {
  auto res = call(
      signed_push("/api/webhook/v2/Northwind/enterprise/trigger-scm-push-request", kRequestId));
  ASSERT_EQ(res.result(), bhttp::status::accepted) << res.body();
  const auto body = parse_json(res.body());
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body.as_object().size(), 2u);
  EXPECT_EQ(body.at("status").as_string(), "queued");
  const std::string id(body.at("delivery_id").as_string());
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(persisted_.load(), 1);

  // Durable before the answer: the delivery is in the store with the raw body.
  auto stored = store_->get_delivery(id);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->status, "queued");
  EXPECT_EQ((*stored)->endpoint, "trigger-scm-push-request");
  EXPECT_EQ((*stored)->external_id, kRequestId);
  EXPECT_EQ((*stored)->body, push_body_);
  for (const auto& h : (*stored)->headers) {
    EXPECT_FALSE(iequals(h.name, "X-Hub-Signature")) << h.name;
  }
}

TEST_F(WebhookRoutesTest, RedeliveryIsAnswered200DuplicateWithTheFirstId) {
  const std::string target = "/api/webhook/v2/northwind/enterprise/trigger-scm-push-request";
  auto first = call(signed_push(target, kRequestId));
  ASSERT_EQ(first.result(), bhttp::status::accepted) << first.body();
  const std::string first_id(parse_json(first.body()).at("delivery_id").as_string());

  auto second = call(signed_push(target, kRequestId));
  ASSERT_EQ(second.result(), bhttp::status::ok) << second.body();
  const auto body = parse_json(second.body());
  EXPECT_EQ(body.at("status").as_string(), "duplicate");
  EXPECT_EQ(body.at("delivery_id").as_string(), first_id);
  EXPECT_EQ(persisted_.load(), 1);  // the worker is not woken for a duplicate
}

TEST_F(WebhookRoutesTest, GenericUrlDetectsBitbucketFromHeaders) {
  auto res = call(signed_push("/api/webhook/v2/Northwind/sync-alm-commits", kRequestId));
  ASSERT_EQ(res.result(), bhttp::status::accepted) << res.body();
  const std::string id(parse_json(res.body()).at("delivery_id").as_string());
  auto stored = store_->get_delivery(id);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->provider, "bitbucket_server");
  EXPECT_EQ((*stored)->endpoint, "sync-alm-commits");
}

TEST_F(WebhookRoutesTest, PingWithoutCredentialsIsAnswered200Unauthenticated) {
  http::Request req{bhttp::verb::post,
                    "/api/webhook/v2/Northwind/enterprise/trigger-scm-push-request", 11};
  req.set("X-Event-Key", "diagnostics:ping");
  req.set("X-Request-Id", "94b3eb7a-6cc5-48b1-99c9-8e3c3da0f05d");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = read_fixture("ping.json");
  req.prepare_payload();
  auto res = call(std::move(req));
  ASSERT_EQ(res.result(), bhttp::status::ok) << res.body();
  EXPECT_EQ(res.body(), "{\"status\":\"ok\",\"authenticated\":false}\n");
  EXPECT_EQ(persisted_.load(), 0);
  store::DeliveryQuery q;
  auto all = store_->list_deliveries(q);
  ASSERT_TRUE(all.has_value());
  EXPECT_TRUE(all->empty());
}

TEST_F(WebhookRoutesTest, WrongSignatureIsAnswered401) {
  auto req =
      signed_push("/api/webhook/v2/Northwind/enterprise/trigger-scm-push-request", kRequestId);
  req.body() += " ";
  req.prepare_payload();
  auto res = call(std::move(req));
  ASSERT_EQ(res.result(), bhttp::status::unauthorized);
  const auto body = parse_json(res.body());
  EXPECT_EQ(body.at("error").at("code").as_string(), "invalid_signature");
  EXPECT_EQ(persisted_.load(), 0);
}

TEST_F(WebhookRoutesTest, UnknownOrgIsAnswered404) {
  auto res = call(
      signed_push("/api/webhook/v2/Southwind/enterprise/trigger-scm-push-request", kRequestId));
  ASSERT_EQ(res.result(), bhttp::status::not_found);
  EXPECT_EQ(parse_json(res.body()).at("error").at("code").as_string(), "unknown_org");
}

TEST_F(WebhookRoutesTest, UnknownEndpointIsAnswered404) {
  auto res = call(signed_push("/api/webhook/v2/Northwind/enterprise/deploy", kRequestId));
  ASSERT_EQ(res.result(), bhttp::status::not_found);
  const auto body = parse_json(res.body());
  EXPECT_EQ(body.at("error").at("code").as_string(), "not_found");
  EXPECT_EQ(body.at("error").at("message").as_string(),
            "unknown webhook endpoint; use trigger-scm-push-request or sync-alm-commits");
}

TEST_F(WebhookRoutesTest, ClosedStoreIsAnswered503WithRetryAfter) {
  store_->close();
  auto res = call(
      signed_push("/api/webhook/v2/Northwind/enterprise/trigger-scm-push-request", kRequestId));
  ASSERT_EQ(res.result(), bhttp::status::service_unavailable) << res.body();
  EXPECT_EQ(res[bhttp::field::retry_after], "1");
  EXPECT_EQ(parse_json(res.body()).at("error").at("code").as_string(), "store_unavailable");
  EXPECT_EQ(persisted_.load(), 0);
}

TEST_F(WebhookRoutesTest, HealthzAnswersOk) {
  http::Request req{bhttp::verb::get, "/healthz", 11};
  auto res = call(std::move(req));
  ASSERT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res.body(), "{\"status\":\"ok\"}\n");
}

}  // namespace
}  // namespace cb::api
