// Router: {param} segments, method mismatch, query strings.

#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/router.hpp"

namespace cb::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

Handler handler_named(std::string name) {
  return [name](Request& req, RequestContext&) -> asio::awaitable<Response> {
    Response res{bhttp::status::ok, req.version()};
    res.body() = name;
    co_return res;
  };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(bhttp::verb::post, "/api/webhook/v2/{org}/enterprise/{endpoint}",
                handler_named("enterprise"));
    router_.add(bhttp::verb::post, "/api/webhook/v2/{org}/{endpoint}", handler_named("generic"));
    router_.add(bhttp::verb::get, "/healthz", handler_named("health"));
    router_.add(bhttp::verb::get, "/api/orgs/{org}", handler_named("org"));
  }

  /// The name of the handler a match found (by running it), or "" when none.
  static std::string handler_name(const Router::Match& m) {
    if (m.handler == nullptr) return "";
    asio::io_context ioc;
    Request req{bhttp::verb::get, "/", 11};
    RequestContext ctx;
    auto future = asio::co_spawn(ioc, (*m.handler)(req, ctx), asio::use_future);
    ioc.run();
    return future.get().body();
  }

  Router router_;
};

TEST_F(RouterTest, MatchesParamsAndFixedSegments) {
  auto m = router_.match(bhttp::verb::post,
                         "/api/webhook/v2/Northwind/enterprise/trigger-scm-push-request");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(handler_name(m), "enterprise");
  EXPECT_FALSE(m.path_matched);
  EXPECT_THAT(m.params,
              ElementsAre(Pair("org", "Northwind"), Pair("endpoint", "trigger-scm-push-request")));
}

TEST_F(RouterTest, OrgNamedEnterpriseOnTheGenericRouteIsAParam) {
  auto generic = router_.match(bhttp::verb::post, "/api/webhook/v2/enterprise/sync-alm-commits");
  ASSERT_NE(generic.handler, nullptr);
  EXPECT_EQ(handler_name(generic), "generic");
  EXPECT_THAT(generic.params,
              ElementsAre(Pair("org", "enterprise"), Pair("endpoint", "sync-alm-commits")));
}

TEST_F(RouterTest, ParamsArePercentDecoded) {
  auto m = router_.match(bhttp::verb::get, "/api/orgs/North%20wind%2Fx%C3%BC");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_THAT(m.params, ElementsAre(Pair("org", "North wind/xü")));
}

TEST_F(RouterTest, InvalidPercentEncodingDoesNotMatch) {
  auto m = router_.match(bhttp::verb::get, "/api/orgs/bad%zzescape");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_FALSE(m.path_matched);
}

TEST_F(RouterTest, QueryStringIsIgnored) {
  auto m = router_.match(bhttp::verb::get, "/healthz?verbose=1&x=/y");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(handler_name(m), "health");
  auto p = router_.match(bhttp::verb::get, "/api/orgs/Northwind?x=1");
  ASSERT_NE(p.handler, nullptr);
  EXPECT_EQ(handler_name(p), "org");
  EXPECT_THAT(p.params, ElementsAre(Pair("org", "Northwind")));
}

TEST_F(RouterTest, EmptySegmentsAreIgnoredLikeSlashes) {
  auto m = router_.match(bhttp::verb::get, "//healthz/");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(handler_name(m), "health");
}

TEST_F(RouterTest, MethodMismatchSetsPathMatched) {
  auto m = router_.match(bhttp::verb::get, "/api/webhook/v2/Northwind/sync-alm-commits");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_matched);
  EXPECT_THAT(m.params, IsEmpty());
  EXPECT_THAT(m.allowed, ElementsAre(bhttp::verb::post));
  auto h = router_.match(bhttp::verb::delete_, "/healthz");
  EXPECT_EQ(h.handler, nullptr);
  EXPECT_TRUE(h.path_matched);
  EXPECT_THAT(h.allowed, ElementsAre(bhttp::verb::get));
  EXPECT_THAT(router_.match(bhttp::verb::get, "/healthz").allowed, IsEmpty());
}

TEST_F(RouterTest, MethodMismatchListsEachMethodOfThePathOnceInRegistrationOrder) {
  router_.add(bhttp::verb::get, "/api/orgs/{org}/jobs/{job}", handler_named("get"));
  router_.add(bhttp::verb::patch, "/api/orgs/{org}/jobs/{job}", handler_named("patch"));
  router_.add(bhttp::verb::delete_, "/api/orgs/{org}/jobs/{job}", handler_named("delete"));
  router_.add(bhttp::verb::get, "/api/orgs/{org}/jobs/{job}", handler_named("shadowed"));
  router_.add(bhttp::verb::post, "/api/orgs/{org}/jobs", handler_named("create"));
  auto m = router_.match(bhttp::verb::put, "/api/orgs/acme/jobs/hook");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_matched);
  EXPECT_THAT(m.allowed, ElementsAre(bhttp::verb::get, bhttp::verb::patch, bhttp::verb::delete_));
  auto found = router_.match(bhttp::verb::delete_, "/api/orgs/acme/jobs/hook");
  EXPECT_EQ(handler_name(found), "delete");
  EXPECT_FALSE(found.path_matched);
  EXPECT_THAT(found.allowed, IsEmpty());
}

TEST_F(RouterTest, NoMatch) {
  for (const std::string_view target :
       {"/", "", "/api", "/api/webhook/v2/Northwind", "/api/webhook/v2/a/b/c/d", "/healthz/extra",
        "/HEALTHZ", "/api/orgs"}) {
    auto m = router_.match(bhttp::verb::get, target);
    EXPECT_EQ(m.handler, nullptr) << target;
    EXPECT_FALSE(m.path_matched) << target;
    EXPECT_THAT(m.params, IsEmpty()) << target;
  }
}

TEST_F(RouterTest, RoutesListsMethodAndPatternInOrder) {
  EXPECT_THAT(router_.routes(),
              ElementsAre(Pair("POST", "/api/webhook/v2/{org}/enterprise/{endpoint}"),
                          Pair("POST", "/api/webhook/v2/{org}/{endpoint}"), Pair("GET", "/healthz"),
                          Pair("GET", "/api/orgs/{org}")));
}

TEST(RequestContextTest, ParamReturnsValueOrEmpty) {
  RequestContext ctx;
  ctx.params = {{"org", "Northwind"}, {"endpoint", "sync-alm-commits"}};
  EXPECT_EQ(ctx.param("org"), "Northwind");
  EXPECT_EQ(ctx.param("endpoint"), "sync-alm-commits");
  EXPECT_EQ(ctx.param("missing"), "");
}

}  // namespace
}  // namespace cb::http
