// The repository routes in process: authentication, the JSON body mapping (fields named in
// errors, secrets write-only), ids in paths, and webhook URLs from the base URL given per request.

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
#include "admin/repository_service.hpp"
#include "api/repository_routes.hpp"
#include "auth/secret_box.hpp"
#include "http/router.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr auto kWaitLimit = std::chrono::seconds(30);
constexpr const char* kSecret = "tok-77aa-route-test";

class RepositoryRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-repo-routes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    admin_ = std::make_unique<admin::AdminService>(*store_, box_, clock_);
    repositories_ = std::make_unique<admin::RepositoryService>(*store_, box_, clock_);
    ASSERT_TRUE(admin_->create_org("Acme").has_value());
    auto token = admin_->create_admin_token("ops", std::nullopt);
    ASSERT_TRUE(token.has_value());
    bearer_ = "Bearer " + token->token;
    add_repository_routes(router_, *admin_, *repositories_, pool_, [this] { return base_url_; });
  }
  void TearDown() override {
    pool_.join();
    repositories_.reset();
    admin_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  http::Response call(bhttp::verb method, const std::string& target, const std::string& body = "",
                      bool authenticated = true) {
    http::Request req{method, target, 11};
    if (authenticated) req.set(bhttp::field::authorization, bearer_);
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

  static json::value body_of(const http::Response& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body(), ec);
    return ec ? json::value() : v;
  }

  static std::string error_message(const http::Response& r) {
    auto v = body_of(r);
    if (!v.is_object() || !v.as_object().contains("error")) return "";
    return std::string(v.at("error").at("message").as_string());
  }

  fs::path dir_;
  ManualClock clock_{1'772'000'000'000};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<admin::AdminService> admin_;
  std::unique_ptr<admin::RepositoryService> repositories_;
  asio::io_context ioc_;
  asio::thread_pool pool_{1};
  http::Router router_;
  std::string bearer_;
  std::string base_url_ = "https://hooks.example.com";
};

TEST_F(RepositoryRoutesTest, CreateAnswers201WithoutTheSecretAndWithWebhookUrls) {
  const auto r =
      call(bhttp::verb::post, "/api/v2/orgs/acme/repositories",
           std::string(R"({"provider":"bitbucket_server","project_key":"NWA",)") +
               R"("slug":"planner","http_clone_url":"https://scm.example/scm/nwa/planner.git",)" +
               R"("auto_update_alm":true,"credentials":{"type":"http","username":"bot",)" +
               R"("password":")" + kSecret + R"("}})");
  ASSERT_EQ(r.result(), bhttp::status::created) << r.body();
  EXPECT_EQ(r.body().find(kSecret), std::string::npos);
  const auto v = body_of(r);
  EXPECT_EQ(v.at("trigger_url").as_string(),
            "https://hooks.example.com/api/webhook/v2/Acme/enterprise/trigger-scm-push-request");
  EXPECT_EQ(v.at("sync_url").as_string(),
            "https://hooks.example.com/api/webhook/v2/Acme/enterprise/sync-alm-commits");
  // The base URL is read per request.
  base_url_ = "https://other.example.com";
  const auto got = call(bhttp::verb::get,
                        "/api/v2/orgs/Acme/repositories/" + std::to_string(v.at("id").as_int64()));
  ASSERT_EQ(got.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(got).at("trigger_url").as_string(),
            "https://other.example.com/api/webhook/v2/Acme/enterprise/trigger-scm-push-request");
  const auto events = store_->list_audit(admin_->get_org("Acme")->id, std::nullopt, 10);
  ASSERT_TRUE(events.has_value());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->front().action, "repository.create");
  EXPECT_EQ(events->front().remote_address, "198.51.100.4");
  EXPECT_EQ(events->front().actor.rfind("admin-token:", 0), 0u);
}

TEST_F(RepositoryRoutesTest, BodyErrorsNameTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"provider":1})", "provider: must be a string"},
      {R"({"auto_update_alm":1})", "auto_update_alm: must be true or false"},
      {R"({"credentials":"x"})", "credentials: must be an object"},
      {R"({"credentials":{}})", "credentials.type: is required"},
      {R"({"credentials":{"type":"ssh","password":"p"}})",
       "credentials.password: ssh credentials take a passphrase"},
      {R"({"credentials":{"type":"http","passphrase":"p"}})",
       "credentials.passphrase: http credentials take a password"},
      {R"({"id":4,"provider":"github"})", "project_key: is required"},  // read-only id ignored
  };
  for (const auto& [body, message] : cases) {
    const auto r = call(bhttp::verb::post, "/api/v2/orgs/Acme/repositories", body);
    EXPECT_EQ(r.result(), bhttp::status::bad_request) << body;
    EXPECT_EQ(error_message(r).rfind(message, 0), 0u) << body << " -> " << error_message(r);
  }
}

TEST_F(RepositoryRoutesTest, IdsAreNumbersAndTokensAreRequired) {
  EXPECT_EQ(call(bhttp::verb::get, "/api/v2/orgs/Acme/repositories/planner").result(),
            bhttp::status::not_found);
  EXPECT_EQ(call(bhttp::verb::delete_, "/api/v2/orgs/Acme/repositories/0").result(),
            bhttp::status::not_found);
  EXPECT_EQ(call(bhttp::verb::patch, "/api/v2/orgs/Acme/repositories/99", "{}").result(),
            bhttp::status::not_found);
  const auto anonymous =
      call(bhttp::verb::get, "/api/v2/orgs/Acme/repositories", "", /*authenticated=*/false);
  EXPECT_EQ(anonymous.result(), bhttp::status::unauthorized);
  EXPECT_EQ(anonymous[bhttp::field::www_authenticate], "Bearer realm=\"commitbridge admin API\"");
}

}  // namespace
}  // namespace cb::api
