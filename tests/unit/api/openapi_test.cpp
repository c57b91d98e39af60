// docs/openapi.json against the admin routes actually registered: every /api/v2 route is in the
// document and every documented operation is a route (same method, same path, same {param}
// names), the path parameters are declared, every $ref resolves, and the document is what
// GET /api/v2/openapi.json serves.

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "admin/admin_service.hpp"
#include "admin/repository_service.hpp"
#include "api/admin_routes.hpp"
#include "api/alm_routes.hpp"
#include "api/job_routes.hpp"
#include "api/repository_routes.hpp"
#include "api/smart_commit_routes.hpp"
#include "api/story_routes.hpp"
#include "auth/secret_box.hpp"
#include "http/router.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
namespace json = boost::json;

/// (upper-case method, path template), e.g. ("GET", "/api/v2/orgs/{org}").
using Route = std::pair<std::string, std::string>;
using RouteSet = std::set<Route>;

constexpr std::string_view kPrefix = "/api/v2";
constexpr auto kWaitLimit = std::chrono::seconds(30);

/// The operation keys of an OpenAPI path item.
const std::set<std::string>& http_methods() {
  static const std::set<std::string> m = {"get",  "put",     "post",  "delete",
                                          "head", "options", "patch", "trace"};
  return m;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

/// The {name} segments of a path template, in order.
std::vector<std::string> template_params(std::string_view path) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = path.find('{', at)) != std::string_view::npos) {
    const auto end = path.find('}', at);
    if (end == std::string_view::npos) break;
    out.emplace_back(path.substr(at + 1, end - at - 1));
    at = end + 1;
  }
  return out;
}

/// True when `v` is the string `text`.
bool is_str(const json::value& v, std::string_view text) {
  return v.is_string() && v.as_string() == text;
}

/// "  GET /api/v2/x" lines of the routes in `a` that are not in `b`.
std::string missing_lines(const RouteSet& a, const RouteSet& b) {
  std::string out;
  for (const auto& r : a) {
    if (!b.contains(r)) out += "  " + r.first + " " + r.second + "\n";
  }
  return out;
}

/// Empty when the sets are equal; otherwise what each side lacks, one route per line.
std::string route_diff(const RouteSet& registered, const RouteSet& documented) {
  std::string out;
  if (auto m = missing_lines(registered, documented); !m.empty()) {
    out += "registered in src/api/admin_routes.cpp but missing from docs/openapi.json:\n" + m;
  }
  if (auto m = missing_lines(documented, registered); !m.empty()) {
    out += "documented in docs/openapi.json but not registered in src/api/admin_routes.cpp:\n" + m;
  }
  return out;
}

/// Follows a local "#/a/b" reference; nullptr when it does not resolve.
const json::value* resolve(const json::value& doc, std::string_view ref) {
  if (!ref.starts_with("#/")) return nullptr;
  const json::value* at = &doc;
  ref.remove_prefix(2);
  while (!ref.empty()) {
    const auto slash = ref.find('/');
    const std::string_view key = ref.substr(0, slash);
    ref = slash == std::string_view::npos ? std::string_view{} : ref.substr(slash + 1);
    if (!at->is_object()) return nullptr;
    at = at->as_object().if_contains(key);
    if (at == nullptr) return nullptr;
  }
  return at;
}

/// Every "$ref" value found anywhere under `v`, with where it was found.
void collect_refs(const json::value& v, const std::string& where,
                  std::vector<std::pair<std::string, std::string>>& out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) {
      if (k == "$ref" && child.is_string()) {
        out.emplace_back(where, std::string(child.as_string()));
      } else {
        collect_refs(child, where + "/" + std::string(k), out);
      }
    }
  } else if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& child : v.as_array())
      collect_refs(child, where + "/" + std::to_string(i++), out);
  }
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-openapi-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    admin_ = std::make_unique<admin::AdminService>(*store_, box_, clock_);
    add_admin_routes(router_, *admin_, pool_);
    alm_ = std::make_unique<admin::AlmService>(*store_, box_, clock_);
    add_alm_routes(router_, *admin_, *alm_, pool_);
    stories_ = std::make_unique<admin::StoryService>(*store_);
    add_story_routes(router_, *admin_, *stories_, pool_);
    smart_commits_ = std::make_unique<admin::SmartCommitService>(*store_, clock_);
    add_smart_commit_routes(router_, *admin_, *smart_commits_, pool_);
    repositories_ = std::make_unique<admin::RepositoryService>(*store_, box_, clock_);
    add_repository_routes(router_, *admin_, *repositories_, pool_,
                          [] { return std::string("http://127.0.0.1:8080"); });
    jobs_ = std::make_unique<pipeline::JobService>(*store_, box_, clock_);
    add_job_routes(router_, *admin_, *jobs_, nullptr, pool_);

    boost::system::error_code ec;
    doc_ = json::parse(openapi_document(), ec);
    ASSERT_FALSE(ec) << "docs/openapi.json is not valid JSON: " << ec.message();
    ASSERT_TRUE(doc_.is_object());
  }

  void TearDown() override {
    pool_.join();
    alm_.reset();
    stories_.reset();
    smart_commits_.reset();
    repositories_.reset();
    jobs_.reset();
    admin_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  /// The /api/v2 routes the router knows.
  RouteSet registered() const {
    RouteSet out;
    for (const auto& [method, pattern] : router_.routes()) {
      if (pattern == kPrefix || pattern.starts_with(std::string(kPrefix) + "/")) {
        out.emplace(upper(method), pattern);
      }
    }
    return out;
  }

  /// The (method, path) operations of the document.
  RouteSet documented() const {
    RouteSet out;
    const auto* paths = doc_.as_object().if_contains("paths");
    if (paths == nullptr || !paths->is_object()) return out;
    for (const auto& [path, item] : paths->as_object()) {
      if (!item.is_object()) continue;
      for (const auto& [key, op] : item.as_object()) {
        if (http_methods().contains(std::string(key))) {
          out.emplace(upper(std::string(key)), std::string(path));
        }
      }
    }
    return out;
  }

  /// The names of the `in: path` parameters declared for one operation (path item level and
  /// operation level, $refs followed).
  std::set<std::string> declared_path_params(const json::object& item,
                                             const json::object& op) const {
    std::set<std::string> out;
    for (const auto* holder : {&item, &op}) {
      const auto* params = holder->if_contains("parameters");
      if (params == nullptr || !params->is_array()) continue;
      for (const auto& p : params->as_array()) {
        const json::value* param = &p;
        if (p.is_object() && p.as_object().contains("$ref")) {
          param = resolve(doc_, p.as_object().at("$ref").as_string());
        }
        if (param == nullptr || !param->is_object()) continue;
        const auto& o = param->as_object();
        if (o.contains("in") && is_str(o.at("in"), "path") && o.contains("name")) {
          out.emplace(o.at("name").as_string());
        }
      }
    }
    return out;
  }

  /// Routes `req` and runs its handler to completion.
  http::Response call(http::Request req) {
    auto match = router_.match(req.method(), req.target());
    if (match.handler == nullptr) {
      ADD_FAILURE() << "no route for " << req.target();
      return http::Response{};
    }
    http::RequestContext ctx;
    ctx.request_id = "test";
    ctx.remote_address = "127.0.0.1";
    ctx.params = match.params;
    // ioc_ outlives pool_ (declared before it): a pool thread may still hold ioc_'s executor
    // for a moment after the handler's answer has been delivered.
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

  fs::path dir_;
  ManualClock clock_{1'772'000'000'000};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<admin::AdminService> admin_;
  std::unique_ptr<admin::AlmService> alm_;
  std::unique_ptr<admin::StoryService> stories_;
  std::unique_ptr<admin::SmartCommitService> smart_commits_;
  std::unique_ptr<admin::RepositoryService> repositories_;
  std::unique_ptr<pipeline::JobService> jobs_;
  asio::io_context ioc_;
  asio::thread_pool pool_{1};
  http::Router router_;
  json::value doc_;
};

TEST_F(OpenApiTest, DocumentIsOpenApi3) {
  const auto& o = doc_.as_object();
  ASSERT_TRUE(o.contains("openapi"));
  EXPECT_TRUE(std::string(o.at("openapi").as_string()).starts_with("3.0."));
  EXPECT_TRUE(o.contains("info"));
  EXPECT_TRUE(o.contains("paths"));
}

TEST_F(OpenApiTest, EveryAdminRouteIsDocumentedAndEveryDocumentedOperationIsARoute) {
  const RouteSet routes = registered();
  const RouteSet ops = documented();
  ASSERT_FALSE(routes.empty()) << "add_admin_routes registered nothing under " << kPrefix;
  const std::string diff = route_diff(routes, ops);
  EXPECT_TRUE(diff.empty()) << diff;
}

TEST_F(OpenApiTest, RouteDiffReportsBothDirections) {
  // The checker itself: a route the document lacks and an operation with no route both show,
  // and a {param} renamed on one side counts as a different path.
  const RouteSet routes{{"GET", "/api/v2/orgs"}, {"GET", "/api/v2/orgs/{org}"}};
  const RouteSet ops{{"GET", "/api/v2/orgs"}, {"GET", "/api/v2/orgs/{name}"}};
  const std::string diff = route_diff(routes, ops);
  EXPECT_THAT(diff, ::testing::HasSubstr("missing from docs/openapi.json:\n  GET "
                                         "/api/v2/orgs/{org}\n"));
  EXPECT_THAT(diff, ::testing::HasSubstr("not registered in src/api/admin_routes.cpp:\n  GET "
                                         "/api/v2/orgs/{name}\n"));
  EXPECT_EQ(route_diff(routes, routes), "");
}

TEST_F(OpenApiTest, EveryPathParameterIsDeclaredUnderItsTemplateName) {
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    const auto wanted = template_params(path);
    const std::set<std::string> wanted_set(wanted.begin(), wanted.end());
    for (const auto& [key, op] : item.as_object()) {
      if (!http_methods().contains(std::string(key))) continue;
      EXPECT_EQ(declared_path_params(item.as_object(), op.as_object()), wanted_set)
          << upper(std::string(key)) << " " << std::string(path);
    }
  }
}

TEST_F(OpenApiTest, ListOperationsTakeLimitAndCursor) {
  // Filters (e.g. of runs) may come on top of the page parameters.
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    const auto* get = item.as_object().if_contains("get");
    if (get == nullptr) continue;
    // A list answers a page envelope: its 200 schema references a *Page schema.
    const std::string ok = json::serialize(get->as_object().at("responses").at("200"));
    if (ok.find("Page\"") == std::string::npos) continue;
    std::set<std::string> query;
    for (const auto& p : get->as_object().at("parameters").as_array()) {
      const json::value* param = resolve(doc_, p.at("$ref").as_string());
      ASSERT_NE(param, nullptr) << std::string(path);
      if (is_str(param->at("in"), "query")) query.emplace(param->at("name").as_string());
    }
    // Filters (e.g. the outbox's status) may come on top of the page parameters.
    EXPECT_TRUE(query.contains("limit") && query.contains("cursor")) << std::string(path);
  }
}

TEST_F(OpenApiTest, EveryReferenceResolves) {
  std::vector<std::pair<std::string, std::string>> refs;
  collect_refs(doc_, "#", refs);
  EXPECT_FALSE(refs.empty());
  for (const auto& [where, ref] : refs) {
    EXPECT_NE(resolve(doc_, ref), nullptr) << ref << " (at " << where << ")";
  }
}

TEST_F(OpenApiTest, BearerAuthEverywhereExceptTheDocumentItself) {
  const auto& o = doc_.as_object();
  const auto* scheme = resolve(doc_, "#/components/securitySchemes/bearerAuth");
  ASSERT_NE(scheme, nullptr);
  EXPECT_TRUE(is_str(scheme->at("type"), "http"));
  EXPECT_TRUE(is_str(scheme->at("scheme"), "bearer"));
  ASSERT_TRUE(o.contains("security"));
  EXPECT_EQ(json::serialize(o.at("security")), R"([{"bearerAuth":[]}])");
  for (const auto& [path, item] : o.at("paths").as_object()) {
    for (const auto& [key, op] : item.as_object()) {
      if (!http_methods().contains(std::string(key))) continue;
      const auto* security = op.as_object().if_contains("security");
      if (path == "/api/v2/openapi.json") {
        ASSERT_NE(security, nullptr) << "the document must be readable without a token";
        EXPECT_TRUE(security->is_array() && security->as_array().empty());
      } else {
        EXPECT_EQ(security, nullptr) << upper(std::string(key)) << " " << std::string(path)
                                     << " overrides the global bearerAuth requirement";
        EXPECT_TRUE(op.at("responses").as_object().contains("401"))
            << upper(std::string(key)) << " " << std::string(path);
      }
    }
  }
}

TEST_F(OpenApiTest, OnlyCreateAndRotateAnswerTheClearToken) {
  // "token" is a property of TokenWithSecret only; Token (list, get, revoke) never has it.
  const auto* token = resolve(doc_, "#/components/schemas/Token");
  ASSERT_NE(token, nullptr);
  EXPECT_FALSE(token->at("properties").as_object().contains("token"));
  std::set<std::string> with_secret;
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    for (const auto& [key, op] : item.as_object()) {
      if (!http_methods().contains(std::string(key))) continue;
      const std::string responses = json::serialize(op.at("responses"));
      if (responses.find("#/components/schemas/TokenWithSecret") != std::string::npos) {
        with_secret.insert(upper(std::string(key)) + " " + std::string(path));
      }
    }
  }
  EXPECT_EQ(with_secret, (std::set<std::string>{"POST /api/v2/orgs/{org}/tokens",
                                                "POST /api/v2/orgs/{org}/tokens/{token}/rotate"}));
}

TEST_F(OpenApiTest, ServedWithoutATokenAsTheEmbeddedDocument) {
  http::Request req{bhttp::verb::get, "/api/v2/openapi.json", 11};
  auto res = call(std::move(req));
  ASSERT_EQ(res.result(), bhttp::status::ok) << res.body();
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  boost::system::error_code ec;
  auto served = json::parse(res.body(), ec);
  ASSERT_FALSE(ec);
  EXPECT_EQ(served, doc_);
}

TEST_F(OpenApiTest, OtherAdminRoutesRefuseARequestWithoutToken) {
  http::Request req{bhttp::verb::get, "/api/v2/orgs", 11};
  auto res = call(std::move(req));
  EXPECT_EQ(res.result(), bhttp::status::unauthorized) << res.body();
  EXPECT_TRUE(std::string(res[bhttp::field::www_authenticate]).starts_with("Bearer "));
}

}  // namespace
}  // namespace cb::api
