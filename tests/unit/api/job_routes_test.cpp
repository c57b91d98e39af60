// The job routes in process: a PATCH changes only the fields given (HTTP action fields merge
// into the stored action, sealed header values stay sealed), a PATCH that gives http fields to
// a job without an HTTP action needs the url, and a null is refused for a field that has no
// null meaning.

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "admin/admin_service.hpp"
#include "api/job_routes.hpp"
#include "auth/secret_box.hpp"
#include "http/router.hpp"
#include "pipeline/job_service.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr auto kWaitLimit = std::chrono::seconds(30);
constexpr const char* kHeaderSecret = "Bearer s3cr3t-route-test";

class JobRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-job-routes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    admin_ = std::make_unique<admin::AdminService>(*store_, box_, clock_);
    jobs_ = std::make_unique<pipeline::JobService>(*store_, box_, clock_);
    auto org = admin_->create_org("acme");
    ASSERT_TRUE(org.has_value());
    auto token = admin_->create_admin_token("ops", std::nullopt);
    ASSERT_TRUE(token.has_value());
    bearer_ = "Bearer " + token->token;
    store::RepositoryRecord r;
    r.org_id = org->id;
    r.provider = "bitbucket_server";
    r.project_key = "NWA";
    r.slug = "flight-planner";
    r.clone_url = "/srv/none.git";
    ASSERT_TRUE(store_->create_repository(r).has_value());
    add_job_routes(router_, *admin_, *jobs_, nullptr, pool_);
  }
  void TearDown() override {
    pool_.join();
    jobs_.reset();
    admin_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  http::Response call(bhttp::verb method, const std::string& target, const std::string& body = "") {
    http::Request req{method, target, 11};
    req.set(bhttp::field::authorization, bearer_);
    if (!body.empty()) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    auto match = router_.match(req.method(), req.target());
    if (match.handler == nullptr) {
      ADD_FAILURE() << "no route for " << target;
      return http::Response{};
    }
    http::RequestContext ctx;
    ctx.request_id = "test";
    ctx.remote_address = "198.51.100.4";
    ctx.params = match.params;
    ioc_.restart();
    auto guard = asio::make_work_guard(ioc_);
    auto future = asio::co_spawn(ioc_, (*match.handler)(req, ctx), asio::use_future);
    std::thread runner([this] { ioc_.run(); });
    const bool ready = future.wait_for(kWaitLimit) == std::future_status::ready;
    guard.reset();
    ioc_.stop();
    runner.join();
    if (!ready) {
      ADD_FAILURE() << "handler did not complete";
      return http::Response{};
    }
    return future.get();
  }

  http::Response patch(const std::string& body) {
    return call(bhttp::verb::patch, "/api/v2/orgs/acme/jobs/hb", body);
  }

  static json::value body_of(const http::Response& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body(), ec);
    return ec ? json::value() : v;
  }

  static std::string error_code(const http::Response& r) {
    auto v = body_of(r);
    if (!v.is_object() || !v.as_object().contains("error")) return "";
    return std::string(v.at("error").at("code").as_string());
  }

  static std::string error_message(const http::Response& r) {
    auto v = body_of(r);
    if (!v.is_object() || !v.as_object().contains("error")) return "";
    return std::string(v.at("error").at("message").as_string());
  }

  /// Creates job "hb" with every field of its HTTP action set.
  void create_http_job() {
    const auto r = call(bhttp::verb::post, "/api/v2/orgs/acme/jobs",
                        std::string(R"({"name":"hb","repository":"NWA/flight-planner",)") +
                            R"("branches":"hb","http":{"url":"http://127.0.0.1:18432/ok",)" +
                            R"("method":"PUT","body":"BODY {{branch}}","timeout_ms":5000,)" +
                            R"("max_attempts":3,"base_backoff_ms":250,"max_backoff_ms":9000,)" +
                            R"("headers":{"Authorization":")" + kHeaderSecret + R"("}}})");
    ASSERT_EQ(r.result(), bhttp::status::created) << r.body();
  }

  fs::path dir_;
  ManualClock clock_{1'772'000'000'000};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<admin::AdminService> admin_;
  std::unique_ptr<pipeline::JobService> jobs_;
  asio::io_context ioc_;
  asio::thread_pool pool_{1};
  http::Router router_;
  std::string bearer_;
};

TEST_F(JobRoutesTest, PatchOfTheUrlKeepsTheOtherHttpFields) {
  create_http_job();
  if (HasFatalFailure()) return;
  const auto r = patch(R"({"http":{"url":"http://127.0.0.1:18432/ok?v=2"}})");
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  EXPECT_EQ(r.body().find(kHeaderSecret), std::string::npos);
  const json::value expected = json::parse(
      R"({"type":"http","method":"PUT","url":"http://127.0.0.1:18432/ok?v=2",)"
      R"j("headers":[{"name":"Authorization","value":"(sealed)"}],"body":"BODY {{branch}}",)j"
      R"("timeout_ms":5000,"max_attempts":3,"base_backoff_ms":250,"max_backoff_ms":9000})");
  EXPECT_EQ(body_of(r).at("action"), expected);

  // The sealed header value is the one given at creation.
  auto stored = jobs_->get_job("acme", "hb");
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->http->headers.size(), 1u);
  EXPECT_EQ(box_.open(stored->http->headers[0].value_sealed, store::job_header_aad("Authorization"))
                .value_or(""),
            kHeaderSecret);
}

TEST_F(JobRoutesTest, PatchOfOneHttpFieldWithoutUrlChangesOnlyIt) {
  create_http_job();
  if (HasFatalFailure()) return;
  const auto r = patch(R"({"http":{"body":"x","max_attempts":7}})");
  ASSERT_EQ(r.result(), bhttp::status::ok) << r.body();
  const json::value expected = json::parse(
      R"({"type":"http","method":"PUT","url":"http://127.0.0.1:18432/ok",)"
      R"j("headers":[{"name":"Authorization","value":"(sealed)"}],"body":"x",)j"
      R"("timeout_ms":5000,"max_attempts":7,"base_backoff_ms":250,"max_backoff_ms":9000})");
  EXPECT_EQ(body_of(r).at("action"), expected);

  // "headers": {} removes the headers, and nothing else.
  const auto cleared = patch(R"({"http":{"headers":{}}})");
  ASSERT_EQ(cleared.result(), bhttp::status::ok) << cleared.body();
  const json::value without_headers =
      json::parse(R"({"type":"http","method":"PUT","url":"http://127.0.0.1:18432/ok","headers":[],)"
                  R"("body":"x","timeout_ms":5000,"max_attempts":7,"base_backoff_ms":250,)"
                  R"("max_backoff_ms":9000})");
  EXPECT_EQ(body_of(cleared).at("action"), without_headers);
}

TEST_F(JobRoutesTest, HttpFieldsForACommandJobNeedTheUrl) {
  const auto created = call(bhttp::verb::post, "/api/v2/orgs/acme/jobs",
                            R"({"name":"hb","repository":"NWA/flight-planner","branches":"hb",)"
                            R"("argv":["/bin/true"]})");
  ASSERT_EQ(created.result(), bhttp::status::created) << created.body();

  const auto refused = patch(R"({"http":{"body":"x"}})");
  EXPECT_EQ(refused.result(), bhttp::status::bad_request);
  EXPECT_EQ(error_code(refused), "invalid_argument");
  EXPECT_EQ(error_message(refused),
            "http.url: is required: job 'hb' has no HTTP action (it runs a command); give the "
            "url to make it an HTTP job");

  // With the url it becomes an HTTP job (defaults for the fields not given), and back.
  const auto switched = patch(R"({"http":{"url":"https://ci.example/{{branch}}","body":"x"}})");
  ASSERT_EQ(switched.result(), bhttp::status::ok) << switched.body();
  const json::value expected = json::parse(
      R"({"type":"http","method":"POST","url":"https://ci.example/{{branch}}","headers":[],)"
      R"("body":"x","timeout_ms":30000,"max_attempts":5,"base_backoff_ms":1000,)"
      R"("max_backoff_ms":60000})");
  EXPECT_EQ(body_of(switched).at("action"), expected);
  const auto back = patch(R"({"argv":["/bin/echo","hi"]})");
  ASSERT_EQ(back.result(), bhttp::status::ok) << back.body();
  EXPECT_EQ(body_of(back).at("action"),
            json::parse(R"({"type":"command","argv":["/bin/echo","hi"]})"));
}

TEST_F(JobRoutesTest, NullForAFieldWithoutNullMeaningIsRefused) {
  create_http_job();
  if (HasFatalFailure()) return;
  const auto enabled = patch(R"({"enabled":null})");
  EXPECT_EQ(enabled.result(), bhttp::status::bad_request);
  EXPECT_EQ(error_code(enabled), "invalid_argument");
  EXPECT_EQ(error_message(enabled),
            "enabled: must not be null (leave the field out to keep its value)");

  const auto name = patch(R"({"name":null})");
  EXPECT_EQ(name.result(), bhttp::status::bad_request);
  EXPECT_EQ(error_code(name), "invalid_argument");
  EXPECT_EQ(error_message(name), "name: must not be null (leave the field out to keep its value)");

  const auto method = patch(R"({"http":{"method":null}})");
  EXPECT_EQ(method.result(), bhttp::status::bad_request);
  EXPECT_EQ(error_message(method),
            "http.method: must not be null (leave the field out to keep its value)");

  const auto http = patch(R"({"http":null})");
  EXPECT_EQ(http.result(), bhttp::status::bad_request);
  EXPECT_EQ(error_message(http), "http: must not be null (leave the field out to keep its value)");

  // Nothing changed.
  const auto got = call(bhttp::verb::get, "/api/v2/orgs/acme/jobs/hb");
  ASSERT_EQ(got.result(), bhttp::status::ok) << got.body();
  EXPECT_EQ(body_of(got).at("name"), "hb");
  EXPECT_EQ(body_of(got).at("enabled"), true);
  EXPECT_EQ(body_of(got).at("action").at("method"), "PUT");
}

TEST_F(JobRoutesTest, NullTimeoutReturnsToTheWorkerDefault) {
  create_http_job();
  if (HasFatalFailure()) return;
  const auto set = patch(R"({"timeout_ms":120000})");
  ASSERT_EQ(set.result(), bhttp::status::ok) << set.body();
  EXPECT_EQ(body_of(set).at("timeout_ms"), 120000);
  const auto cleared = patch(R"({"timeout_ms":null})");
  ASSERT_EQ(cleared.result(), bhttp::status::ok) << cleared.body();
  EXPECT_TRUE(body_of(cleared).at("timeout_ms").is_null());
  EXPECT_EQ(body_of(cleared).at("enabled"), true);
}

}  // namespace
}  // namespace cb::api
