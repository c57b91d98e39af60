// GET /metrics, GET /readyz, what the webhook route counts, and back-pressure: a full write
// queue is answered 503 with Retry-After. Handlers run as coroutines on an io_context, without
// sockets, against a real SQLite store.

#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <deque>
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
#include "api/metrics_routes.hpp"
#include "api/webhook_routes.hpp"
#include "auth/digest.hpp"
#include "auth/secret_box.hpp"
#include "auth/token_format.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/org_directory.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "pipeline/store_probe.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr auto kWaitLimit = std::chrono::seconds(30);
constexpr UnixMillis kStart = 1'772'000'000'000;

std::string read_fixture(std::string_view name) {
  std::ifstream in(fs::path(CB_FIXTURES_DIR) / "providers" / "bitbucket_server" / name,
                   std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string error_code_of(const http::Response& res) {
  boost::system::error_code ec;
  auto v = boost::json::parse(res.body(), ec);
  if (ec || !v.is_object() || !v.as_object().contains("error")) return {};
  return std::string(v.at("error").at("code").as_string());
}

class OpsRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override { open_store({}); }

  /// (Re)opens the store in a fresh directory with `writer` options, an org and a token.
  void open_store(store::sqlite::WriterOptions writer) {
    std::string templ = (fs::temp_directory_path() / "cb-ops-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db", writer);
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    auto org = store_->create_org("Northwind", kStart);
    ASSERT_TRUE(org.has_value());
    const auto parts = auth::generate_token(auth::TokenType::webhook);
    store::TokenRecord t;
    t.org_id = org->id;
    t.name = "bitbucket";
    t.type = "webhook";
    t.public_id = parts.public_id;
    t.secret_sealed = box_.seal(parts.secret, parts.public_id);
    ASSERT_TRUE(store_->create_token(t).has_value());
    token_ = auth::format_token(parts);
    orgs_ = std::make_unique<pipeline::OrgDirectory>(*store_, box_, clock_);
    ingest_ = std::make_unique<pipeline::Ingest>(*orgs_, clock_);
    router_ = std::make_unique<http::Router>();
    add_webhook_routes(*router_, *ingest_, *store_, nullptr, &metrics_);
    add_metrics_route(*router_, registry_);
    probe_ = std::make_unique<pipeline::StoreProbe>(*store_, clock_, 1s, &metrics_);
    add_readiness_route(*router_, *probe_, clock_, 5s);
    push_body_ = read_fixture("branch_update.json");
    ASSERT_FALSE(push_body_.empty());
  }

  void TearDown() override {
    probe_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  http::Request signed_push(const std::string& org, const std::string& request_id,
                            const std::string& token) const {
    http::Request req{bhttp::verb::post,
                      "/api/webhook/v2/" + org + "/enterprise/trigger-scm-push-request", 11};
    req.set("X-Event-Key", "repo:refs_changed");
    req.set("X-Request-Id", request_id);
    req.set(bhttp::field::content_type, "application/json; charset=UTF-8");
    req.set("X-Hub-Signature", "sha256=" + auth::to_hex(auth::hmac_sha256(token, push_body_)));
    req.body() = push_body_;
    req.prepare_payload();
    return req;
  }

  http::Request get(const std::string& target) const {
    return http::Request{bhttp::verb::get, target, 11};
  }

  /// Starts the handler of `req` (which must outlive it) on `ioc`.
  std::future<http::Response> spawn(asio::io_context& ioc, http::Request& req,
                                    http::RequestContext& ctx) {
    auto match = router_->match(req.method(), req.target());
    EXPECT_NE(match.handler, nullptr) << req.target();
    ctx.request_id = "test";
    ctx.params = match.params;
    return asio::co_spawn(ioc, (*match.handler)(req, ctx), asio::use_future);
  }

  /// Routes `req` and runs its handler to completion.
  http::Response call(http::Request req) {
    asio::io_context ioc;
    auto guard = asio::make_work_guard(ioc);
    http::RequestContext ctx;
    auto future = spawn(ioc, req, ctx);
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
  ManualClock clock_{kStart};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::string token_;
  metrics::Registry registry_;
  pipeline::PipelineMetrics metrics_ = pipeline::PipelineMetrics::register_in(registry_);
  std::unique_ptr<pipeline::OrgDirectory> orgs_;
  std::unique_ptr<pipeline::Ingest> ingest_;
  std::unique_ptr<pipeline::StoreProbe> probe_;
  std::unique_ptr<http::Router> router_;
  std::string push_body_;
};

TEST_F(OpsRoutesTest, MetricsAreServedAsPrometheusText) {
  auto res = call(get("/metrics"));
  ASSERT_EQ(res.result(), bhttp::status::ok);
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body(), registry_.render());
  EXPECT_THAT(res.body(), HasSubstr("# TYPE commitbridge_deliveries_total counter\n"));
  EXPECT_THAT(res.body(), HasSubstr("# TYPE commitbridge_queue_depth gauge\n"));
  EXPECT_THAT(res.body(), HasSubstr("commitbridge_outbox_backlog 0\n"));
}

TEST_F(OpsRoutesTest, WebhookRouteCountsDeliveriesAndRefusals) {
  const std::string id = "25888b35-da91-4f22-9a7f-f2a60ac28392";
  ASSERT_EQ(call(signed_push("NORTHWIND", id, token_)).result(), bhttp::status::accepted);
  ASSERT_EQ(call(signed_push("northwind", id, token_)).result(), bhttp::status::ok);  // duplicate
  ASSERT_EQ(call(signed_push("Northwind", "other-id", token_ + "x")).result(),
            bhttp::status::unauthorized);
  ASSERT_EQ(call(signed_push("Southwind", "other-id", token_)).result(), bhttp::status::not_found);

  const std::string text = call(get("/metrics")).body();
  EXPECT_THAT(text, HasSubstr("commitbridge_deliveries_total{org=\"northwind\",provider=\""
                              "bitbucket_server\",status=\"duplicate\"} 1\n"
                              "commitbridge_deliveries_total{org=\"northwind\",provider=\""
                              "bitbucket_server\",status=\"queued\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("commitbridge_webhook_auth_failures_total{reason=\""
                              "invalid_signature\"} 1\n"
                              "commitbridge_webhook_auth_failures_total{reason=\"unknown_org\"} "
                              "1\n"));
  EXPECT_THAT(text,
              HasSubstr("commitbridge_webhook_refused_total{code=\"invalid_signature\"} 1\n"));
}

TEST_F(OpsRoutesTest, ReadyzFollowsTheStoreProbe) {
  // No check yet.
  auto res = call(get("/readyz"));
  ASSERT_EQ(res.result(), bhttp::status::service_unavailable) << res.body();
  EXPECT_EQ(res[bhttp::field::retry_after], "1");
  EXPECT_EQ(res.body(),
            "{\"error\":{\"code\":\"store_unavailable\",\"message\":\"the store has not been "
            "checked yet\"}}\n");

  ASSERT_TRUE(probe_->check_now().ok);
  res = call(get("/readyz"));
  ASSERT_EQ(res.result(), bhttp::status::ok) << res.body();
  EXPECT_EQ(res.body(), "{\"status\":\"ready\",\"pending_deliveries\":0,\"checked_at\":\"" +
                            format_utc(kStart) + "\"}\n");

  clock_.advance(5001);  // the probe stopped answering
  res = call(get("/readyz"));
  ASSERT_EQ(res.result(), bhttp::status::service_unavailable);
  EXPECT_EQ(error_code_of(res), "store_unavailable");
  EXPECT_THAT(res.body(), HasSubstr("5001 ms old"));
}

TEST_F(OpsRoutesTest, FullWriteQueueIsAnswered503WithRetryAfter) {
  TearDown();
  store::sqlite::WriterOptions writer;
  writer.max_queue = 1;
  open_store(writer);
  if (HasFatalFailure()) return;

  // Another connection holds the write lock: the group-commit writer blocks on its first
  // batch, so the queue (of one) fills up.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "test.db").c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  asio::io_context ioc;
  auto guard = asio::make_work_guard(ioc);
  std::thread runner([&ioc] { ioc.run(); });
  std::deque<http::Request> requests;
  std::deque<http::RequestContext> contexts;
  std::vector<std::future<http::Response>> futures;
  for (int i = 0; i < 3; ++i) {
    requests.push_back(signed_push("Northwind", "req-" + std::to_string(i), token_));
    contexts.emplace_back();
    futures.push_back(spawn(ioc, requests.back(), contexts.back()));
  }
  // At least one is refused at once (the others wait for the commit).
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::size_t ready = 0;
  while (ready == 0 && std::chrono::steady_clock::now() < deadline) {
    ready = 0;
    for (auto& f : futures) ready += f.wait_for(1ms) == std::future_status::ready ? 1 : 0;
  }
  EXPECT_GE(ready, 1u);
  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);

  int refused = 0;
  int accepted = 0;
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(kWaitLimit), std::future_status::ready);
    const auto res = f.get();
    if (res.result() == bhttp::status::service_unavailable) {
      ++refused;
      EXPECT_EQ(res[bhttp::field::retry_after], "1");
      EXPECT_EQ(res.body(),
                "{\"error\":{\"code\":\"queue_full\",\"message\":\"the write queue is full; retry "
                "shortly\"}}\n");
    } else {
      EXPECT_EQ(res.result(), bhttp::status::accepted) << res.body();
      ++accepted;
    }
  }
  guard.reset();
  ioc.stop();
  runner.join();
  EXPECT_GE(refused, 1);
  EXPECT_GE(accepted, 1);
  EXPECT_EQ(refused + accepted, 3);
  EXPECT_EQ(metrics_.refused->with({"queue_full"}).value(), static_cast<std::uint64_t>(refused));
  // Exactly the accepted ones were stored.
  store::DeliveryQuery q;
  auto all = store_->list_deliveries(q);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), static_cast<std::size_t>(accepted));
}

}  // namespace
}  // namespace cb::api
