// The story routes of the admin API against a real SQLite store: pages, reachability, commit
// links, hash prefixes, authorization and parameter errors.

#include "api/story_routes.hpp"

#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "admin/admin_service.hpp"
#include "admin/story_service.hpp"
#include "auth/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
namespace json = boost::json;

constexpr auto kWaitLimit = std::chrono::seconds(30);

std::string hash_of(char digit) { return std::string(40, digit); }

class StoryRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-story-routes-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    admin_ = std::make_unique<admin::AdminService>(*store_, box_, clock_);
    stories_ = std::make_unique<admin::StoryService>(*store_);
    add_story_routes(router_, *admin_, *stories_, pool_);

    auto admin_token = admin_->create_admin_token("ops", std::nullopt);
    ASSERT_TRUE(admin_token.has_value());
    admin_token_ = admin_token->token;
    auto org = admin_->create_org("acme");
    ASSERT_TRUE(org.has_value());
    org_ = *org;
    ASSERT_TRUE(admin_->create_org("globex").has_value());
    auto acme_api = admin_->create_token("acme", "reader", auth::TokenType::api, "", std::nullopt);
    ASSERT_TRUE(acme_api.has_value());
    acme_api_ = acme_api->token;
    auto globex_api =
        admin_->create_token("globex", "reader", auth::TokenType::api, "", std::nullopt);
    ASSERT_TRUE(globex_api.has_value());
    globex_api_ = globex_api->token;

    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "ORB";
    r.slug = "orbit-tools";
    r.clone_url = "https://bitbucket.example.com/scm/orb/orbit-tools.git";
    auto repo = store_->create_repository(r);
    ASSERT_TRUE(repo.has_value());
    repo_ = *repo;
  }

  void TearDown() override {
    pool_.join();
    stories_.reset();
    admin_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void link(const std::string& key, const std::string& hash, UnixMillis authored,
            const std::string& branch = "main") {
    store::StoryCommit c{
        key, hash, "Ilse Vandermeer", "ilse@orbital.example", key + " tune the solver\n", authored};
    auto r = store_->link_story(org_.id, repo_.id, c, branch, "d-1", 1'772'000'000'000);
    ASSERT_TRUE(r.has_value());
  }

  /// GETs `target` with `token` as bearer (none when empty); returns status and parsed body.
  std::pair<int, json::value> get(const std::string& target, const std::string& token) {
    http::Request req{bhttp::verb::get, target, 11};
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    auto match = router_.match(req.method(), req.target());
    if (match.handler == nullptr) {
      ADD_FAILURE() << "no route for " << target;
      return {0, json::value()};
    }
    http::RequestContext ctx;
    ctx.request_id = "test";
    ctx.remote_address = "127.0.0.1";
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
      return {0, json::value()};
    }
    auto res = future.get();
    boost::system::error_code ec;
    auto body = json::parse(res.body(), ec);
    return {static_cast<int>(res.result_int()), ec ? json::value() : body};
  }

  static std::string error_code(const json::value& body) {
    const auto* e = body.is_object() ? body.as_object().if_contains("error") : nullptr;
    if (e == nullptr || !e->is_object()) return "";
    return std::string(e->as_object().at("code").as_string());
  }
  static std::string error_message(const json::value& body) {
    const auto* e = body.is_object() ? body.as_object().if_contains("error") : nullptr;
    if (e == nullptr || !e->is_object()) return "";
    return std::string(e->as_object().at("message").as_string());
  }

  fs::path dir_;
  ManualClock clock_{1'772'000'000'000};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'k'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<admin::AdminService> admin_;
  std::unique_ptr<admin::StoryService> stories_;
  asio::io_context ioc_;
  asio::thread_pool pool_{1};
  http::Router router_;
  std::string admin_token_, acme_api_, globex_api_;
  store::OrgRecord org_;
  store::RepositoryRecord repo_;
};

TEST_F(StoryRoutesTest, StoryCommitsArePagedNewestFirstWithReachabilityAndCommitLinks) {
  link("ABC-1", hash_of('a'), 1'000'000);
  link("ABC-1", hash_of('b'), 3'000'000);
  link("ABC-1", hash_of('c'), 2'000'000);
  link("ABC-1", hash_of('c'), 2'000'000, "release/1.0");
  auto removed =
      store_->mark_commits_unreachable(org_.id, repo_.id, "main", {hash_of('c')}, "d-2", 5'000);
  ASSERT_TRUE(removed.has_value());

  auto [status, body] = get("/api/v2/orgs/acme/stories/ABC-1/commits?limit=2", admin_token_);
  ASSERT_EQ(status, 200) << json::serialize(body);
  const auto& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("commit").as_string(), hash_of('b'));
  EXPECT_EQ(items[0].at("story_key").as_string(), "ABC-1");
  EXPECT_EQ(items[0].at("org").as_string(), "acme");
  EXPECT_EQ(items[0].at("author_name").as_string(), "Ilse Vandermeer");
  EXPECT_EQ(items[0].at("author_email").as_string(), "ilse@orbital.example");
  EXPECT_EQ(items[0].at("authored_at").as_string(), format_utc(3'000'000));
  EXPECT_EQ(items[0].at("message").as_string(), "ABC-1 tune the solver\n");
  EXPECT_EQ(items[0].at("reachable").as_bool(), true);
  const auto& b_seen = items[0].at("seen").as_array();
  ASSERT_EQ(b_seen.size(), 1u);
  EXPECT_EQ(b_seen[0].at("repository").as_string(), "ORB/orbit-tools");
  EXPECT_EQ(b_seen[0].at("branch").as_string(), "main");
  EXPECT_EQ(b_seen[0].at("reachable").as_bool(), true);
  EXPECT_TRUE(b_seen[0].at("removed_at").is_null());
  EXPECT_TRUE(b_seen[0].at("removed_by_delivery_id").is_null());
  EXPECT_EQ(b_seen[0].at("delivery_id").as_string(), "d-1");
  EXPECT_EQ(b_seen[0].at("commit_url").as_string(),
            "https://bitbucket.example.com/projects/ORB/repos/orbit-tools/commits/" + hash_of('b'));

  // c: gone from main by a force push, still on release/1.0.
  EXPECT_EQ(items[1].at("commit").as_string(), hash_of('c'));
  EXPECT_EQ(items[1].at("reachable").as_bool(), true);
  const auto& c_seen = items[1].at("seen").as_array();
  ASSERT_EQ(c_seen.size(), 2u);
  EXPECT_EQ(c_seen[0].at("branch").as_string(), "main");
  EXPECT_EQ(c_seen[0].at("reachable").as_bool(), false);
  EXPECT_EQ(c_seen[0].at("removed_at").as_string(), format_utc(5'000));
  EXPECT_EQ(c_seen[0].at("removed_by_delivery_id").as_string(), "d-2");
  EXPECT_EQ(c_seen[1].at("branch").as_string(), "release/1.0");
  EXPECT_EQ(c_seen[1].at("reachable").as_bool(), true);

  ASSERT_TRUE(body.at("next_cursor").is_string());
  const std::string cursor(body.at("next_cursor").as_string());
  auto [status2, page2] =
      get("/api/v2/orgs/acme/stories/ABC-1/commits?limit=2&cursor=" + cursor, admin_token_);
  ASSERT_EQ(status2, 200) << json::serialize(page2);
  ASSERT_EQ(page2.at("items").as_array().size(), 1u);
  EXPECT_EQ(page2.at("items").as_array()[0].at("commit").as_string(), hash_of('a'));
  EXPECT_TRUE(page2.at("next_cursor").is_null());

  auto [status3, unknown] = get("/api/v2/orgs/acme/stories/ABC-404/commits", admin_token_);
  EXPECT_EQ(status3, 200);
  EXPECT_TRUE(unknown.at("items").as_array().empty());
}

TEST_F(StoryRoutesTest, StoryKeyIsPercentDecoded) {
  link("AB#123", hash_of('a'), 1'000);
  auto [status, body] = get("/api/v2/orgs/acme/stories/AB%23123/commits", admin_token_);
  ASSERT_EQ(status, 200) << json::serialize(body);
  ASSERT_EQ(body.at("items").as_array().size(), 1u);
  EXPECT_EQ(body.at("items").as_array()[0].at("story_key").as_string(), "AB#123");
}

TEST_F(StoryRoutesTest, CommitStoriesTakeAFullHashOrAUniquePrefix) {
  const std::string h1 = "4d2c9e1a" + std::string(32, '1');
  const std::string h2 = "4d2c9e1b" + std::string(32, '2');
  link("ABC-2", h1, 1'000);
  link("ABC-1", h1, 1'000);
  link("ABC-3", h2, 1'000);

  auto [status, body] = get("/api/v2/orgs/acme/commits/" + h1 + "/stories", admin_token_);
  ASSERT_EQ(status, 200) << json::serialize(body);
  const auto& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("story_key").as_string(), "ABC-1");
  EXPECT_EQ(items[1].at("story_key").as_string(), "ABC-2");
  EXPECT_EQ(items[0].at("commit").as_string(), h1);

  auto [s_prefix, by_prefix] = get("/api/v2/orgs/acme/commits/4D2C9E1B/stories", admin_token_);
  ASSERT_EQ(s_prefix, 200) << json::serialize(by_prefix);
  ASSERT_EQ(by_prefix.at("items").as_array().size(), 1u);
  EXPECT_EQ(by_prefix.at("items").as_array()[0].at("story_key").as_string(), "ABC-3");

  auto [s_paged, paged] = get("/api/v2/orgs/acme/commits/4d2c9e1a/stories?limit=1", admin_token_);
  ASSERT_EQ(s_paged, 200);
  ASSERT_TRUE(paged.at("next_cursor").is_string());
  auto [s_next, next] = get("/api/v2/orgs/acme/commits/4d2c9e1a/stories?limit=1&cursor=" +
                                std::string(paged.at("next_cursor").as_string()),
                            admin_token_);
  ASSERT_EQ(s_next, 200);
  ASSERT_EQ(next.at("items").as_array().size(), 1u);
  EXPECT_EQ(next.at("items").as_array()[0].at("story_key").as_string(), "ABC-2");
  EXPECT_TRUE(next.at("next_cursor").is_null());

  auto [s_amb, ambiguous] = get("/api/v2/orgs/acme/commits/4d2c9e1/stories", admin_token_);
  EXPECT_EQ(s_amb, 400);
  EXPECT_EQ(error_code(ambiguous), "invalid_argument");
  EXPECT_EQ(error_message(ambiguous),
            "hash: the prefix 4d2c9e1 is ambiguous (2 linked commits); give more digits");

  auto [s_short, too_short] = get("/api/v2/orgs/acme/commits/4d2c9e/stories", admin_token_);
  EXPECT_EQ(s_short, 400);
  EXPECT_EQ(error_code(too_short), "invalid_argument");
  auto [s_hex, not_hex] = get("/api/v2/orgs/acme/commits/4d2c9e1zzz/stories", admin_token_);
  EXPECT_EQ(s_hex, 400);
  EXPECT_EQ(error_message(not_hex), "hash: must be hexadecimal digits");
  auto [s_none, none] = get("/api/v2/orgs/acme/commits/" + hash_of('9') + "/stories", admin_token_);
  EXPECT_EQ(s_none, 404);
  EXPECT_EQ(error_code(none), "not_found");
}

TEST_F(StoryRoutesTest, StoryListCountsCommits) {
  link("ABC-2", hash_of('a'), 1'000);
  link("ABC-1", hash_of('a'), 1'000);
  link("ABC-1", hash_of('b'), 1'000);
  auto [status, body] = get("/api/v2/orgs/acme/stories?limit=1", acme_api_);
  ASSERT_EQ(status, 200) << json::serialize(body);
  ASSERT_EQ(body.at("items").as_array().size(), 1u);
  EXPECT_EQ(body.at("items").as_array()[0].at("story_key").as_string(), "ABC-1");
  EXPECT_EQ(body.at("items").as_array()[0].at("commits").as_int64(), 2);
  EXPECT_EQ(body.at("items").as_array()[0].at("last_linked_at").as_string(),
            format_utc(1'772'000'000'000));
  auto [status2, rest] =
      get("/api/v2/orgs/acme/stories?cursor=" + std::string(body.at("next_cursor").as_string()),
          acme_api_);
  ASSERT_EQ(status2, 200);
  ASSERT_EQ(rest.at("items").as_array().size(), 1u);
  EXPECT_EQ(rest.at("items").as_array()[0].at("story_key").as_string(), "ABC-2");
  EXPECT_EQ(rest.at("items").as_array()[0].at("commits").as_int64(), 1);
}

TEST_F(StoryRoutesTest, AnOrgTokenReadsItsOwnOrgOnly) {
  link("ABC-1", hash_of('a'), 1'000);
  EXPECT_EQ(get("/api/v2/orgs/acme/stories/ABC-1/commits", acme_api_).first, 200);
  for (const std::string& target : std::vector<std::string>{
           "/api/v2/orgs/acme/stories", "/api/v2/orgs/acme/stories/ABC-1/commits",
           "/api/v2/orgs/acme/commits/" + hash_of('a') + "/stories"}) {
    auto [status, body] = get(target, globex_api_);
    EXPECT_EQ(status, 403) << target;
    EXPECT_EQ(error_code(body), "forbidden") << target;
    EXPECT_EQ(get(target, "").first, 401) << target;
  }
  EXPECT_EQ(get("/api/v2/orgs/nowhere/stories", admin_token_).first, 404);
}

TEST_F(StoryRoutesTest, BadPagesAreRefused) {
  for (const std::string target :
       {"/api/v2/orgs/acme/stories?limit=0", "/api/v2/orgs/acme/stories?limit=abc",
        "/api/v2/orgs/acme/stories?cursor=zz", "/api/v2/orgs/acme/stories/ABC-1/commits?limit=201",
        "/api/v2/orgs/acme/stories/ABC-1/commits?cursor=12",
        "/api/v2/orgs/acme/stories/ABC-1/commits?cursor=x.y"}) {
    auto [status, body] = get(target, admin_token_);
    EXPECT_EQ(status, 400) << target;
    EXPECT_EQ(error_code(body), "invalid_argument") << target;
  }
}

}  // namespace
}  // namespace cb::api
