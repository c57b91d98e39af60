// The admin REST API (/api/v2) and its CLI counterparts against the real binary, a real SQLite
// database and loopback HTTP: orgs, tokens (create, list, get, revoke, rotate, expire), what each
// kind of token may do, how a change reaches the webhook endpoints, the audit log, last_used_at,
// where clear tokens must never appear, concurrency, and `keys rotate`.

#include <pwd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/secret_box.hpp"
#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kTrigger = "trigger-scm-push-request";

/// The secret part of a token (after the last '_').
std::string secret_of(const std::string& token) { return token.substr(token.rfind('_') + 1); }

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value() : v;
}

/// The audit actor the CLI records for this user, computed as the CLI does.
std::string cli_actor() {
  const char* u = std::getenv("USER");
  if (u == nullptr || *u == '\0') {
    const passwd* pw = ::getpwuid(::geteuid());
    u = pw != nullptr ? pw->pw_name : nullptr;
  }
  return std::string("cli:") + (u != nullptr ? u : "uid-" + std::to_string(::geteuid()));
}

/// ISO-8601 UTC with milliseconds, `offset` from now.
std::string utc_from_now(std::chrono::milliseconds offset) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      (std::chrono::system_clock::now() + offset).time_since_epoch())
                      .count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(buf) + frac;
}

/// `s` without leading and trailing white space (the CLI ends the token it prints with '\n').
std::string trim_copy(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

/// `n` times the two-byte character "é".
std::string e_acute(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += "\xC3\xA9";
  return out;
}

/// Whether a JSON object has the member `key`.
bool has(const json::value& v, std::string_view key) {
  return v.is_object() && v.as_object().contains(key);
}

/// The items of a page envelope {items, next_cursor}.
json::array items_of(const json::value& page) {
  if (!has(page, "items") || !page.at("items").is_array()) return {};
  return page.at("items").as_array();
}

/// next_cursor of a page envelope; "" when null.
std::string next_cursor(const json::value& page) { return str(page, "next_cursor"); }

class AdminApiTest : public IntegrationTest {
 protected:
  void SetUp() override {
    const auto created = parse(cli_ok({"admin-token", "create", "--name", "ops", "--json"}));
    admin_token_ = str(created, "token");
    admin_id_ = str(created, "id");
    ASSERT_TRUE(StartsWith(admin_token_, "cba_" + admin_id_ + "_")) << json::serialize(created);
    remember(admin_token_);
    if (start_in_setup_) {
      ASSERT_TRUE(start_server(server_env_));
    }
  }

  /// One admin-API request with `token` as bearer ("" sends no Authorization header).
  HttpResponse api(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = "") {
    Headers h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    auto r = http_request(method, server_->base_url() + path, h, body);
    if (r.status >= 400) error_bodies_ += r.body;
    return r;
  }

  HttpResponse admin_api(const std::string& method, const std::string& path,
                         const std::string& body = "") {
    return api(method, path, admin_token_, body);
  }

  /// POST /api/v2/orgs as the server admin, expecting 201.
  void api_create_org(const std::string& name) {
    const auto r = admin_api("POST", "/api/v2/orgs", json::serialize(json::object{{"name", name}}));
    ASSERT_EQ(r.status, 201) << r.describe();
  }

  /// POST /api/v2/orgs/{org}/tokens with `token` as bearer, expecting 201; returns the body.
  json::value api_create_token(const std::string& org, const std::string& name,
                               const std::string& type, const std::string& bearer = "") {
    const auto r =
        api("POST", "/api/v2/orgs/" + org + "/tokens", bearer.empty() ? admin_token_ : bearer,
            json::serialize(json::object{{"name", name}, {"type", type}}));
    EXPECT_EQ(r.status, 201) << r.describe();
    auto body = r.json();
    remember(str(body, "token"));
    return body;
  }

  /// A clear token that must never show up where secrets must not be.
  void remember(const std::string& token) {
    if (!token.empty()) secrets_.push_back(token);
  }

  /// A signed Bitbucket push to `org` with `token` (X-Hub-Signature).
  HttpResponse push(const std::string& org, const std::string& token) {
    const std::string n = std::to_string(++pushes_);
    const std::string body = bitbucket_push_body(
        "ORB", "tools", {branch_change("main", "UPDATE", fake_hash("a" + n), fake_hash("b" + n))});
    auto r = send_push(org, token, body);
    if (r.status >= 400) error_bodies_ += r.body;
    return r;
  }

  /// `commitbridge <args> --json`, stdout parsed.
  json::value cli_object(std::vector<std::string> args) {
    args.push_back("--json");
    const std::string out = cli_ok(args);
    auto v = parse(out);
    EXPECT_TRUE(v.is_object()) << "not a JSON object: " << out;
    return v;
  }

  /// No clear token (nor its secret part) in `text`.
  void expect_no_secret(const std::string& text, const std::string& where) {
    for (const auto& t : secrets_) {
      EXPECT_TRUE(LacksSecret(text, t)) << where;
      EXPECT_TRUE(LacksSecret(text, secret_of(t))) << where;
    }
  }

  /// 401 from the webhook endpoint with no secret in the answer.
  void expect_webhook_refused(const HttpResponse& r, const std::string& why = "") {
    EXPECT_EQ(r.status, 401) << r.describe();
    if (!why.empty()) {
      EXPECT_TRUE(Contains(r.error_message(), why)) << r.describe();
    }
  }

  std::string admin_token_;
  std::string admin_id_;
  std::vector<std::string> secrets_;
  std::string error_bodies_;
  int pushes_ = 0;
  bool start_in_setup_ = true;
  Env server_env_;
};

// ---- orgs ---------------------------------------------------------------------------------------

TEST_F(AdminApiTest, ServerAdminCreatesGetsAndListsOrgsPaginated) {
  const auto created =
      admin_api("POST", "/api/v2/orgs", json::serialize(json::object{{"name", "Acme"}}));
  ASSERT_EQ(created.status, 201) << created.describe();
  EXPECT_EQ(str(created.json(), "name"), "Acme");
  EXPECT_FALSE(str(created.json(), "created_at").empty());
  api_create_org("Globex");
  api_create_org("Initech");

  const auto first = admin_api("GET", "/api/v2/orgs?limit=2");
  ASSERT_EQ(first.status, 200) << first.describe();
  const auto page1 = items_of(first.json());
  ASSERT_EQ(page1.size(), 2u) << first.describe();
  EXPECT_EQ(str(page1[0], "name"), "Acme");
  EXPECT_EQ(str(page1[1], "name"), "Globex");
  const std::string cursor = next_cursor(first.json());
  ASSERT_FALSE(cursor.empty()) << first.describe();

  const auto second = admin_api("GET", "/api/v2/orgs?limit=2&cursor=" + cursor);
  ASSERT_EQ(second.status, 200) << second.describe();
  const auto page2 = items_of(second.json());
  ASSERT_EQ(page2.size(), 1u) << second.describe();
  EXPECT_EQ(str(page2[0], "name"), "Initech");
  ASSERT_TRUE(has(second.json(), "next_cursor"));
  EXPECT_TRUE(second.json().at("next_cursor").is_null()) << second.describe();

  const auto got = admin_api("GET", "/api/v2/orgs/globex");  // case-insensitive
  ASSERT_EQ(got.status, 200) << got.describe();
  EXPECT_EQ(str(got.json(), "name"), "Globex");

  const auto missing = admin_api("GET", "/api/v2/orgs/Umbrella");
  EXPECT_EQ(missing.status, 404) << missing.describe();
  EXPECT_EQ(missing.error_code(), "not_found");

  const auto dup = admin_api("POST", "/api/v2/orgs", R"({"name":"ACME"})");
  EXPECT_EQ(dup.status, 409) << dup.describe();
  EXPECT_EQ(dup.error_code(), "conflict");

  // The CLI sees the same orgs, same order, same pages.
  const auto cli_page = cli_object({"org", "list", "--limit", "2"});
  ASSERT_EQ(items_of(cli_page).size(), 2u);
  EXPECT_EQ(str(items_of(cli_page)[0], "name"), "Acme");
  EXPECT_EQ(next_cursor(cli_page), cursor);
}

TEST_F(AdminApiTest, OpenApiDocumentIsServedWithoutAToken) {
  const auto r = get(server_->base_url() + "/api/v2/openapi.json");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
  const auto doc = r.json();
  EXPECT_TRUE(StartsWith(str(doc, "openapi"), "3.")) << r.body.substr(0, 200);
  EXPECT_TRUE(has(doc.at("paths"), "/api/v2/orgs/{org}/tokens/{token}/rotate"));
}

// ---- tokens -------------------------------------------------------------------------------------

TEST_F(AdminApiTest, CreateShowsTheClearTokenOnceAndListAndGetNever) {
  api_create_org("Acme");
  const auto api_tok = api_create_token("Acme", "automation", "api");
  const auto hook = api_create_token("Acme", "bitbucket", "webhook");
  const std::string api_clear = str(api_tok, "token");
  const std::string hook_clear = str(hook, "token");
  EXPECT_TRUE(StartsWith(api_clear, "cba_" + str(api_tok, "id") + "_"));
  EXPECT_TRUE(StartsWith(hook_clear, "cbw_" + str(hook, "id") + "_"));
  EXPECT_EQ(secret_of(hook_clear).size(), 64u);
  EXPECT_EQ(str(api_tok, "type"), "api");
  EXPECT_EQ(str(hook, "type"), "webhook");
  EXPECT_EQ(str(hook, "state"), "active");
  EXPECT_EQ(str(hook, "created_by"), "admin-token:" + admin_id_);
  for (const char* key : {"last_used_at", "expires_at", "revoked_at", "rotated_at",
                          "previous_secret_valid_until", "description", "created_at"}) {
    EXPECT_TRUE(has(hook, key)) << key;
  }

  const auto list = admin_api("GET", "/api/v2/orgs/Acme/tokens");
  ASSERT_EQ(list.status, 200) << list.describe();
  const auto items = items_of(list.json());
  ASSERT_EQ(items.size(), 2u) << list.describe();
  EXPECT_EQ(str(items[0], "name"), "automation");  // ordered by creation
  EXPECT_EQ(str(items[1], "name"), "bitbucket");
  for (const auto& item : items) EXPECT_FALSE(has(item, "token")) << json::serialize(item);
  expect_no_secret(list.body, "GET tokens");

  for (const std::string& which : {str(hook, "id"), std::string("bitbucket")}) {
    const auto one = admin_api("GET", "/api/v2/orgs/Acme/tokens/" + which);
    ASSERT_EQ(one.status, 200) << one.describe();
    EXPECT_EQ(str(one.json(), "id"), str(hook, "id"));
    EXPECT_FALSE(has(one.json(), "token"));
    expect_no_secret(one.body, "GET token " + which);
  }

  // The org's own api token works on its org.
  const auto own = api("GET", "/api/v2/orgs/Acme/tokens", api_clear);
  EXPECT_EQ(own.status, 200) << own.describe();
}

TEST_F(AdminApiTest, InvalidInputIs400NamingTheField) {
  api_create_org("Acme");
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"name":"","type":"webhook"})", "name:"},
      {R"({"type":"webhook"})", "name:"},
      {json::serialize(json::object{{"name", std::string(101, 'n')}}), "name:"},
      {R"({"name":"x","type":"admin"})", "type:"},
      {json::serialize(json::object{{"name", "x"}, {"description", std::string(1001, 'd')}}),
       "description:"},
      {R"({"name":"x","expires_at":"tomorrow"})", "expires_at:"},
      {R"({"name":"x","expires_at":"2020-01-01T00:00:00Z"})", "expires_at:"},
      {R"({"name":"x","expires_at":"2099-02-31T00:00:00Z"})", "expires_at:"},
      {R"({"name":"x","expires_at":"2099-01-01T00:00:00+02:00"})", "expires_at:"},
      {json::serialize(json::object{{"name", e_acute(101)}}), "name:"},
      {R"({"name":42})", "name:"},
  };
  for (const auto& c : cases) {
    const auto r = admin_api("POST", "/api/v2/orgs/Acme/tokens", c.body);
    EXPECT_EQ(r.status, 400) << c.body.substr(0, 80) << "\n" << r.describe();
    EXPECT_EQ(r.error_code(), "invalid_argument") << r.describe();
    EXPECT_TRUE(StartsWith(r.error_message(), c.field)) << c.body.substr(0, 80);
  }
  // Exactly 100 name characters and 1000 description characters are fine.
  const auto edge = admin_api(
      "POST", "/api/v2/orgs/Acme/tokens",
      json::serialize(json::object{{"name", std::string(100, 'n')},
                                   {"description", std::string(1000, 'd')},
                                   {"expires_at", utc_from_now(std::chrono::hours(24))}}));
  EXPECT_EQ(edge.status, 201) << edge.describe();
  remember(str(edge.json(), "token"));
  // Limits count characters, not bytes.
  const auto wide = admin_api(
      "POST", "/api/v2/orgs/Acme/tokens",
      json::serialize(json::object{{"name", e_acute(100)}, {"description", e_acute(1000)}}));
  EXPECT_EQ(wide.status, 201) << wide.describe();
  EXPECT_EQ(str(wide.json(), "name"), e_acute(100));
  remember(str(wide.json(), "token"));

  const auto not_json = admin_api("POST", "/api/v2/orgs/Acme/tokens", "name=x");
  EXPECT_EQ(not_json.status, 400) << not_json.describe();
  const auto bad_limit = admin_api("GET", "/api/v2/orgs/Acme/tokens?limit=0");
  EXPECT_EQ(bad_limit.status, 400) << bad_limit.describe();
  EXPECT_TRUE(StartsWith(bad_limit.error_message(), "limit:"));
  const auto big_limit = admin_api("GET", "/api/v2/orgs?limit=201");
  EXPECT_EQ(big_limit.status, 400) << big_limit.describe();
  const auto bad_cursor = admin_api("GET", "/api/v2/orgs/Acme/audit?cursor=abc");
  EXPECT_EQ(bad_cursor.status, 400) << bad_cursor.describe();
  EXPECT_TRUE(StartsWith(bad_cursor.error_message(), "cursor:"));
  const auto bad_grace =
      admin_api("POST", "/api/v2/orgs/Acme/tokens/" + std::string(100, 'n') + "/rotate",
                R"({"grace_period_seconds":-1})");
  EXPECT_EQ(bad_grace.status, 400) << bad_grace.describe();
  EXPECT_TRUE(StartsWith(bad_grace.error_message(), "grace_period_seconds:"));
  const auto bad_org = admin_api("POST", "/api/v2/orgs", R"({"name":"a b"})");
  EXPECT_EQ(bad_org.status, 400) << bad_org.describe();
  EXPECT_TRUE(StartsWith(bad_org.error_message(), "name:"));
}

TEST_F(AdminApiTest, MissingUnknownOrGarbageBearerIs401) {
  api_create_org("Acme");
  const std::string unknown = "cba_0123456789abcdef_" + std::string(64, '7');
  const std::string wrong_secret =
      admin_token_.substr(0, admin_token_.rfind('_') + 1) + std::string(64, 'e');
  for (const auto& path : {std::string("/api/v2/orgs"), std::string("/api/v2/orgs/Acme/tokens")}) {
    const auto none = api("GET", path, "");
    EXPECT_EQ(none.status, 401) << none.describe();
    EXPECT_EQ(none.error_code(), "missing_credentials");
    EXPECT_TRUE(StartsWith(none.header("www-authenticate"), "Bearer ")) << none.describe();
    for (const auto& bad :
         {unknown, wrong_secret, std::string("garbage"), std::string("cba_zz_zz")}) {
      const auto r = api("GET", path, bad);
      EXPECT_EQ(r.status, 401) << bad << "\n" << r.describe();
      EXPECT_EQ(r.error_code(), "invalid_token") << r.describe();
    }
    const auto basic = http_request("GET", server_->base_url() + path,
                                    {{"Authorization", basic_auth("ops", admin_token_)}}, "");
    EXPECT_EQ(basic.status, 401) << basic.describe();
  }
  expect_no_secret(error_bodies_, "error bodies");
}

TEST_F(AdminApiTest, OrgApiTokenActsOnItsOwnOrgOnly) {
  api_create_org("Acme");
  api_create_org("Globex");
  const std::string acme = str(api_create_token("Acme", "automation", "api"), "token");
  const auto globex_hook = api_create_token("Globex", "bitbucket", "webhook");
  const std::string gid = str(globex_hook, "id");

  struct Call {
    std::string method, path, body;
  };
  const std::vector<Call> foreign = {
      {"GET", "/api/v2/orgs/Globex", ""},
      {"GET", "/api/v2/orgs/Globex/tokens", ""},
      {"POST", "/api/v2/orgs/Globex/tokens", R"({"name":"sneaky","type":"api"})"},
      {"GET", "/api/v2/orgs/Globex/tokens/" + gid, ""},
      {"GET", "/api/v2/orgs/Globex/tokens/bitbucket", ""},
      {"POST", "/api/v2/orgs/Globex/tokens/" + gid + "/revoke", ""},
      {"POST", "/api/v2/orgs/Globex/tokens/" + gid + "/rotate", R"({"grace_period_seconds":0})"},
      {"GET", "/api/v2/orgs/Globex/audit", ""},
      {"GET", "/api/v2/orgs/Umbrella/tokens", ""},  // existence of other orgs is not revealed
      // Orgs are managed by server admin tokens only.
      {"POST", "/api/v2/orgs", R"({"name":"Hooli"})"},
      {"GET", "/api/v2/orgs", ""},
      {"DELETE", "/api/v2/orgs/Globex", ""},
      {"DELETE", "/api/v2/orgs/Acme", ""},
  };
  for (const auto& c : foreign) {
    const auto r = api(c.method, c.path, acme, c.body);
    EXPECT_EQ(r.status, 403) << c.method << " " << c.path << "\n" << r.describe();
    EXPECT_EQ(r.error_code(), "forbidden") << r.describe();
  }
  // Nothing changed in Globex: its token is still active and its secret unchanged.
  const auto still = admin_api("GET", "/api/v2/orgs/Globex/tokens/" + gid);
  EXPECT_EQ(str(still.json(), "state"), "active") << still.describe();
  EXPECT_TRUE(still.json().at("rotated_at").is_null()) << still.describe();
  const auto list = admin_api("GET", "/api/v2/orgs/Globex/tokens");
  EXPECT_EQ(items_of(list.json()).size(), 1u) << list.describe();
  EXPECT_EQ(admin_api("GET", "/api/v2/orgs/Hooli").status, 404);
  EXPECT_EQ(admin_api("GET", "/api/v2/orgs/Acme").status, 200);

  // Its own org: fine.
  EXPECT_EQ(api("GET", "/api/v2/orgs/acme", acme).status, 200);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme/audit", acme).status, 200);
}

TEST_F(AdminApiTest, WebhookTokenOnTheAdminApiIs403) {
  api_create_org("Acme");
  const std::string hook = str(api_create_token("Acme", "bitbucket", "webhook"), "token");
  for (const auto& path : {std::string("/api/v2/orgs/Acme/tokens"), std::string("/api/v2/orgs")}) {
    const auto r = api("GET", path, hook);
    EXPECT_EQ(r.status, 403) << r.describe();
    EXPECT_EQ(r.error_code(), "forbidden");
    EXPECT_TRUE(Contains(r.error_message(), "webhook token"));
  }
  expect_no_secret(error_bodies_, "error bodies");
}

TEST_F(AdminApiTest, UnknownTokenIs404AndDuplicateNameIs409) {
  api_create_org("Acme");
  api_create_org("Globex");
  const auto hook = api_create_token("Acme", "bitbucket", "webhook");
  for (const auto& r : {admin_api("GET", "/api/v2/orgs/Acme/tokens/nope"),
                        admin_api("GET", "/api/v2/orgs/Acme/tokens/0123456789abcdef"),
                        admin_api("POST", "/api/v2/orgs/Acme/tokens/nope/revoke"),
                        admin_api("POST", "/api/v2/orgs/Acme/tokens/nope/rotate", "{}"),
                        // Another org's token by public id is not found in this org.
                        admin_api("GET", "/api/v2/orgs/Globex/tokens/" + str(hook, "id")),
                        admin_api("GET", "/api/v2/orgs/Umbrella/tokens"),
                        admin_api("DELETE", "/api/v2/orgs/Umbrella")}) {
    EXPECT_EQ(r.status, 404) << r.describe();
    EXPECT_EQ(r.error_code(), "not_found") << r.describe();
  }
  const auto dup =
      admin_api("POST", "/api/v2/orgs/Acme/tokens", R"({"name":"bitbucket","type":"api"})");
  EXPECT_EQ(dup.status, 409) << dup.describe();
  EXPECT_EQ(dup.error_code(), "conflict");
  // The same name in another org is fine.
  api_create_token("Globex", "bitbucket", "webhook");
}

// ---- what a token authenticates ----------------------------------------------------------------

TEST_F(AdminApiTest, TokensAuthenticateOnlyTheirOwnOrgsWebhooksAndApiTokensNone) {
  api_create_org("Acme");
  api_create_org("Globex");
  const std::string acme_hook = str(api_create_token("Acme", "bitbucket", "webhook"), "token");
  const std::string globex_hook = str(api_create_token("Globex", "bitbucket", "webhook"), "token");
  const std::string acme_api = str(api_create_token("Acme", "automation", "api"), "token");

  EXPECT_EQ(push("Acme", acme_hook).status, 202);
  EXPECT_EQ(push("Globex", globex_hook).status, 202);
  expect_webhook_refused(push("Globex", acme_hook));
  expect_webhook_refused(push("Acme", globex_hook));
  // An api token never authenticates a webhook, signed or presented.
  expect_webhook_refused(push("Acme", acme_api));
  const std::string body = bitbucket_push_body("ORB", "tools", {});
  for (const auto& auth : {"Bearer " + acme_api, basic_auth("x", acme_api)}) {
    const auto r = post(server_->webhook_url("Acme", kTrigger),
                        {{"Content-Type", "application/json"},
                         {"X-Event-Key", "repo:refs_changed"},
                         {"X-Request-Id", new_request_id()},
                         {"Authorization", auth}},
                        body);
    EXPECT_EQ(r.status, 401) << r.describe();
    EXPECT_TRUE(Contains(r.error_message(), "not a webhook token")) << r.describe();
    error_bodies_ += r.body;
  }
  expect_no_secret(error_bodies_, "error bodies");
}

TEST_F(AdminApiTest, RevocationTakesEffectOnTheVeryNextRequest) {
  api_create_org("Acme");
  const auto hook = api_create_token("Acme", "bitbucket", "webhook");
  const std::string hook_clear = str(hook, "token");
  const auto api_tok = api_create_token("Acme", "automation", "api");
  const std::string api_clear = str(api_tok, "token");

  ASSERT_EQ(push("Acme", hook_clear).status, 202);  // the org's credentials are now cached
  ASSERT_EQ(api("GET", "/api/v2/orgs/Acme/tokens", api_clear).status, 200);

  // Revoked by the org's own api token.
  const auto revoked =
      api("POST", "/api/v2/orgs/Acme/tokens/" + str(hook, "id") + "/revoke", api_clear);
  ASSERT_EQ(revoked.status, 200) << revoked.describe();
  EXPECT_EQ(str(revoked.json(), "state"), "revoked");
  EXPECT_FALSE(revoked.json().at("revoked_at").is_null());
  EXPECT_FALSE(has(revoked.json(), "token"));
  expect_webhook_refused(push("Acme", hook_clear), "revoked");
  // Idempotent: the first revocation time stays.
  const auto again = admin_api("POST", "/api/v2/orgs/Acme/tokens/bitbucket/revoke");
  ASSERT_EQ(again.status, 200) << again.describe();
  EXPECT_EQ(str(again.json(), "revoked_at"), str(revoked.json(), "revoked_at"));

  // The api token revokes itself; its next call is refused.
  const auto self = api("POST", "/api/v2/orgs/Acme/tokens/automation/revoke", api_clear);
  ASSERT_EQ(self.status, 200) << self.describe();
  const auto after = api("GET", "/api/v2/orgs/Acme/tokens", api_clear);
  EXPECT_EQ(after.status, 401) << after.describe();
  EXPECT_EQ(after.error_code(), "invalid_token");
  EXPECT_TRUE(Contains(after.error_message(), "revoked"));

  // Revoked tokens cannot be rotated back to life.
  const auto rotate = admin_api("POST", "/api/v2/orgs/Acme/tokens/bitbucket/rotate", "{}");
  EXPECT_EQ(rotate.status, 409) << rotate.describe();
}

TEST_F(AdminApiTest, ExpiredTokensAreRefusedByBothEndpoints) {
  api_create_org("Acme");
  const std::string at = utc_from_now(std::chrono::seconds(3));
  const std::string hook =
      trim_copy(cli_ok({"token", "create", "--org", "Acme", "--name", "short-hook", "--type",
                        "webhook", "--expires-at", at}));
  const std::string api_tok = trim_copy(cli_ok({"token", "create", "--org", "Acme", "--name",
                                                "short-api", "--type", "api", "--expires-at", at}));
  remember(hook);
  remember(api_tok);
  ASSERT_TRUE(StartsWith(hook, "cbw_"));
  ASSERT_TRUE(StartsWith(api_tok, "cba_"));
  EXPECT_EQ(push("Acme", hook).status, 202);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", api_tok).status, 200);

  HttpResponse hook_answer, api_answer;
  const bool refused = wait_until(
      [&] {
        hook_answer = push("Acme", hook);
        api_answer = api("GET", "/api/v2/orgs/Acme", api_tok);
        return hook_answer.status == 401 && api_answer.status == 401;
      },
      std::chrono::seconds(15), std::chrono::milliseconds(100));
  ASSERT_TRUE(refused) << hook_answer.describe() << "\n" << api_answer.describe();
  EXPECT_TRUE(Contains(hook_answer.error_message(), "expired")) << hook_answer.describe();
  EXPECT_TRUE(Contains(api_answer.error_message(), "expired")) << api_answer.describe();
  const auto shown = admin_api("GET", "/api/v2/orgs/Acme/tokens/short-hook");
  EXPECT_EQ(str(shown.json(), "state"), "expired") << shown.describe();
  EXPECT_FALSE(shown.json().at("expires_at").is_null());
}

TEST_F(AdminApiTest, RotationWithoutGraceRefusesTheOldSecretAtOnce) {
  api_create_org("Acme");
  const auto hook = api_create_token("Acme", "bitbucket", "webhook");
  const auto api_tok = api_create_token("Acme", "automation", "api");
  const std::string old_hook = str(hook, "token");
  const std::string old_api = str(api_tok, "token");
  ASSERT_EQ(push("Acme", old_hook).status, 202);

  for (const auto* t : {&hook, &api_tok}) {
    const auto r = admin_api("POST", "/api/v2/orgs/Acme/tokens/" + str(*t, "id") + "/rotate",
                             R"({"grace_period_seconds":0})");
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(str(r.json(), "id"), str(*t, "id"));
    EXPECT_NE(str(r.json(), "token"), str(*t, "token"));
    EXPECT_TRUE(StartsWith(str(r.json(), "token"), str(*t, "token").substr(0, 21)));
    EXPECT_FALSE(r.json().at("rotated_at").is_null());
    EXPECT_TRUE(r.json().at("previous_secret_valid_until").is_null());
    remember(str(r.json(), "token"));
  }
  const std::string new_hook = secrets_.at(secrets_.size() - 2);
  const std::string new_api = secrets_.back();

  expect_webhook_refused(push("Acme", old_hook));
  EXPECT_EQ(push("Acme", new_hook).status, 202);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", old_api).status, 401);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", new_api).status, 200);
}

TEST_F(AdminApiTest, RotationWithGraceAcceptsBothSecretsUntilItEnds) {
  api_create_org("Acme");
  const auto hook = api_create_token("Acme", "bitbucket", "webhook");
  const auto api_tok = api_create_token("Acme", "automation", "api");
  const std::string old_hook = str(hook, "token");
  const std::string old_api = str(api_tok, "token");
  ASSERT_EQ(push("Acme", old_hook).status, 202);

  std::vector<std::string> fresh;
  for (const auto* t : {&hook, &api_tok}) {
    const auto r = admin_api("POST", "/api/v2/orgs/Acme/tokens/" + str(*t, "name") + "/rotate",
                             R"({"grace_period_seconds":3600})");
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_FALSE(r.json().at("previous_secret_valid_until").is_null()) << r.describe();
    fresh.push_back(str(r.json(), "token"));
    remember(fresh.back());
  }
  EXPECT_EQ(push("Acme", old_hook).status, 202);
  EXPECT_EQ(push("Acme", fresh[0]).status, 202);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", old_api).status, 200);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", fresh[1]).status, 200);

  const auto list = admin_api("GET", "/api/v2/orgs/Acme/tokens");
  ASSERT_EQ(list.status, 200);
  for (const auto& item : items_of(list.json())) {
    EXPECT_TRUE(item.at("previous_secret_valid_until").is_string()) << json::serialize(item);
    EXPECT_FALSE(has(item, "token"));
  }
  expect_no_secret(list.body, "token list");
}

TEST_F(AdminApiTest, DeletingAnOrgRefusesItsTokensAtOnce) {
  api_create_org("Acme");
  const std::string hook = str(api_create_token("Acme", "bitbucket", "webhook"), "token");
  const std::string api_tok = str(api_create_token("Acme", "automation", "api"), "token");
  ASSERT_EQ(push("Acme", hook).status, 202);
  ASSERT_EQ(api("GET", "/api/v2/orgs/Acme", api_tok).status, 200);

  const auto del = admin_api("DELETE", "/api/v2/orgs/Acme");
  ASSERT_EQ(del.status, 204) << del.describe();
  EXPECT_TRUE(del.body.empty());

  const auto webhook = push("Acme", hook);
  EXPECT_EQ(webhook.status, 404) << webhook.describe();
  EXPECT_EQ(webhook.error_code(), "unknown_org");
  const auto admin = api("GET", "/api/v2/orgs/Acme/tokens", api_tok);
  EXPECT_EQ(admin.status, 401) << admin.describe();
  EXPECT_TRUE(Contains(admin.error_message(), "revoked"));
  EXPECT_EQ(admin_api("GET", "/api/v2/orgs/Acme").status, 404);
  EXPECT_EQ(admin_api("DELETE", "/api/v2/orgs/Acme").status, 404);

  // The name is free again; the old tokens do not belong to the new org.
  api_create_org("Acme");
  expect_webhook_refused(push("Acme", hook));
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", api_tok).status, 401);
  EXPECT_TRUE(items_of(admin_api("GET", "/api/v2/orgs/Acme/tokens").json()).empty());
}

// ---- audit, last use ----------------------------------------------------------------------------

TEST_F(AdminApiTest, AuditLogRecordsWhoDidWhatWhenAndFromWhere) {
  api_create_org("Acme");
  const auto api_tok = api_create_token("Acme", "automation", "api");
  const std::string api_clear = str(api_tok, "token");
  const std::string api_id = str(api_tok, "id");
  const auto hook = api_create_token("Acme", "bitbucket", "webhook", api_clear);
  const std::string hook_id = str(hook, "id");
  ASSERT_EQ(admin_api("POST", "/api/v2/orgs/Acme/tokens/" + hook_id + "/rotate",
                      R"({"grace_period_seconds":60})")
                .status,
            200);
  ASSERT_EQ(api("POST", "/api/v2/orgs/Acme/tokens/" + hook_id + "/revoke", api_clear).status, 200);
  remember(trim_copy(cli_ok({"token", "create", "--org", "Acme", "--name", "from-cli"})));

  struct Expected {
    std::string action, actor, remote;
  };
  // Newest first.
  const std::vector<Expected> expected = {
      {"token.create", cli_actor(), ""},
      {"token.revoke", "token:" + api_id, "127.0.0.1"},
      {"token.rotate", "admin-token:" + admin_id_, "127.0.0.1"},
      {"token.create", "token:" + api_id, "127.0.0.1"},
      {"token.create", "admin-token:" + admin_id_, "127.0.0.1"},
      {"org.create", "admin-token:" + admin_id_, "127.0.0.1"},
  };
  const auto r = api("GET", "/api/v2/orgs/Acme/audit", api_clear);
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto events = items_of(r.json());
  ASSERT_EQ(events.size(), expected.size()) << r.describe();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& e = events[i];
    EXPECT_EQ(str(e, "action"), expected[i].action) << i << ": " << json::serialize(e);
    EXPECT_EQ(str(e, "actor"), expected[i].actor) << i << ": " << json::serialize(e);
    EXPECT_EQ(str(e, "remote_address"), expected[i].remote) << i << ": " << json::serialize(e);
    EXPECT_FALSE(str(e, "created_at").empty());
    EXPECT_TRUE(e.at("detail").is_object());
    if (i > 0) {
      EXPECT_LT(e.at("id").to_number<std::int64_t>(),
                events[i - 1].at("id").to_number<std::int64_t>());
    }
  }
  EXPECT_EQ(str(events[1], "target"), hook_id);
  EXPECT_EQ(str(events[2], "target"), hook_id);
  EXPECT_EQ(str(events[5], "target"), "Acme");
  EXPECT_EQ(str(events[3].at("detail"), "name"), "bitbucket");
  EXPECT_EQ(str(events[3].at("detail"), "type"), "webhook");
  expect_no_secret(r.body, "audit API");

  // Pages, newest first, continue where the previous one ended.
  const auto p1 = admin_api("GET", "/api/v2/orgs/Acme/audit?limit=4");
  ASSERT_EQ(items_of(p1.json()).size(), 4u) << p1.describe();
  const auto p2 =
      admin_api("GET", "/api/v2/orgs/Acme/audit?limit=4&cursor=" + next_cursor(p1.json()));
  ASSERT_EQ(items_of(p2.json()).size(), 2u) << p2.describe();
  EXPECT_TRUE(p2.json().at("next_cursor").is_null());
  EXPECT_EQ(str(items_of(p2.json())[1], "action"), "org.create");

  // The CLI lists the same log.
  const auto cli_log = cli_object({"audit", "list", "--org", "Acme"});
  const auto cli_events = items_of(cli_log);
  ASSERT_EQ(cli_events.size(), events.size()) << json::serialize(cli_log);
  for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(cli_events[i], events[i]) << i;
  const std::string table = cli_ok({"audit", "list", "--org", "Acme"});
  EXPECT_TRUE(Contains(table, "token.rotate"));
  EXPECT_TRUE(Contains(table, "admin-token:" + admin_id_ + " from 127.0.0.1"));
  expect_no_secret(json::serialize(cli_log) + table, "audit CLI");
}

TEST_F(AdminApiTest, LastUsedAtIsWrittenInBatchesAfterUse) {
  api_create_org("Acme");
  const std::string hook = str(api_create_token("Acme", "bitbucket", "webhook"), "token");
  const std::string api_tok = str(api_create_token("Acme", "automation", "api"), "token");
  for (const char* name : {"bitbucket", "automation"}) {
    const auto t = cli_object({"token", "get", "--org", "Acme", "--token", name});
    EXPECT_TRUE(t.at("last_used_at").is_null()) << json::serialize(t);
  }
  ASSERT_EQ(push("Acme", hook).status, 202);
  ASSERT_EQ(api("GET", "/api/v2/orgs/Acme", api_tok).status, 200);

  for (const char* name : {"bitbucket", "automation"}) {
    json::value last;
    const bool written = wait_until(
        [&] {
          last = cli_object({"token", "get", "--org", "Acme", "--token", name});
          return last.at("last_used_at").is_string();
        },
        std::chrono::seconds(10), std::chrono::milliseconds(200));
    EXPECT_TRUE(written) << name << ": " << json::serialize(last);
  }
  const auto shown = admin_api("GET", "/api/v2/orgs/Acme/tokens/automation");
  EXPECT_TRUE(shown.json().at("last_used_at").is_string()) << shown.describe();
}

// ---- secrets ------------------------------------------------------------------------------------

class AdminApiSecretsTest : public AdminApiTest {
 protected:
  AdminApiSecretsTest() { server_env_ = {{"COMMITBRIDGE_LOG_LEVEL", "trace"}}; }
};

TEST_F(AdminApiSecretsTest, ClearTokensAppearOnlyInTheCreateAndRotateAnswers) {
  api_create_org("Acme");
  api_create_org("Globex");
  const auto hook = api_create_token("Acme", "bitbucket", "webhook");
  const auto api_tok = api_create_token("Acme", "automation", "api");
  const std::string globex_hook = str(api_create_token("Globex", "bitbucket", "webhook"), "token");
  const std::string api_clear = str(api_tok, "token");
  const std::string hook_clear = str(hook, "token");
  remember(trim_copy(cli_ok({"token", "create", "--org", "Acme", "--name", "cli-hook"})));
  const auto cli_rotated = cli_object(
      {"token", "rotate", "--org", "Acme", "--token", "cli-hook", "--grace-period", "3600"});
  remember(str(cli_rotated, "token"));

  // Use every token the ways a sender and an admin would, successfully and not.
  EXPECT_EQ(push("Acme", hook_clear).status, 202);
  for (const auto& auth : {"Bearer " + hook_clear, basic_auth("bitbucket", hook_clear)}) {
    const auto r = post(server_->webhook_url("Acme", kTrigger),
                        {{"Content-Type", "application/json"},
                         {"X-Event-Key", "repo:refs_changed"},
                         {"X-Request-Id", new_request_id()},
                         {"Authorization", auth}},
                        bitbucket_push_body("ORB", "tools", {}));
    EXPECT_EQ(r.status, 202) << r.describe();
  }
  expect_webhook_refused(push("Globex", hook_clear));
  expect_webhook_refused(push("Acme", api_clear));
  EXPECT_EQ(api("GET", "/api/v2/orgs/Globex", api_clear).status, 403);
  EXPECT_EQ(api("GET", "/api/v2/orgs", hook_clear).status, 403);
  const auto rotated = admin_api("POST", "/api/v2/orgs/Acme/tokens/automation/rotate",
                                 R"({"grace_period_seconds":0})");
  ASSERT_EQ(rotated.status, 200);
  remember(str(rotated.json(), "token"));
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", api_clear).status, 401);  // the old secret
  EXPECT_EQ(admin_api("POST", "/api/v2/orgs/Acme/tokens/bitbucket/revoke").status, 200);
  expect_webhook_refused(push("Acme", hook_clear), "revoked");
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme", hook_clear).status, 403);
  EXPECT_EQ(push("Globex", globex_hook).status, 202);
  ASSERT_GE(secrets_.size(), 7u);

  // API lists and gets.
  std::string shown;
  for (const auto& org : {"Acme", "Globex"}) {
    shown += admin_api("GET", std::string("/api/v2/orgs/") + org + "/tokens").body;
    shown += admin_api("GET", std::string("/api/v2/orgs/") + org + "/audit").body;
    for (const auto& name : {"bitbucket", "automation", "cli-hook"}) {
      shown += admin_api("GET", std::string("/api/v2/orgs/") + org + "/tokens/" + name).body;
    }
  }
  expect_no_secret(shown, "API answers");
  // CLI lists and gets, table and JSON.
  std::string cli;
  for (const auto& org : {"Acme", "Globex"}) {
    cli += cli_ok({"token", "list", "--org", org});
    cli += cli_ok({"token", "list", "--org", org, "--json"});
    cli += cli_ok({"audit", "list", "--org", org});
    cli += cli_ok({"audit", "list", "--org", org, "--json"});
    cli += cli_ok({"token", "get", "--org", org, "--token", "bitbucket", "--json"});
    cli += cli_ok({"token", "get", "--org", org, "--token", "bitbucket"});
  }
  cli += cli_ok({"org", "list", "--json"});
  expect_no_secret(cli, "CLI output");
  EXPECT_FALSE(error_bodies_.empty());
  expect_no_secret(error_bodies_, "error bodies");

  // The database and its WAL while the server runs, then after a clean stop.
  const fs::path db = data_dir_ / "commitbridge.db";
  const std::string live = read_file(db) + read_file(fs::path(db.string() + "-wal"));
  ASSERT_FALSE(live.empty());
  expect_no_secret(live, "commitbridge.db + -wal (running)");
  EXPECT_EQ(server_->stop(), 0);
  expect_no_secret(read_file(db) + read_file(fs::path(db.string() + "-wal")),
                   "commitbridge.db + -wal (stopped)");
  // The server's log at trace level.
  const std::string log = server_->all_stderr_text();
  EXPECT_TRUE(Contains(log, "/api/v2/orgs/Acme/tokens"));  // requests are logged at this level
  expect_no_secret(log, "server stderr");
}

// ---- concurrency --------------------------------------------------------------------------------

TEST_F(AdminApiTest, FiftyParallelCreatesInOneOrgAllSucceedWithDistinctTokens) {
  api_create_org("Acme");
  api_create_token("Acme", "pre-existing", "webhook");
  constexpr int kCount = 50;
  std::vector<HttpResponse> answers(kCount);
  std::vector<std::thread> threads;
  const std::string url = server_->base_url() + "/api/v2/orgs/Acme/tokens";
  for (int i = 0; i < kCount; ++i) {
    threads.emplace_back([&, i] {
      const std::string body = json::serialize(json::object{
          {"name", "parallel-" + std::to_string(i)}, {"type", i % 2 == 0 ? "webhook" : "api"}});
      answers[i] = http_request(
          "POST", url,
          {{"Authorization", "Bearer " + admin_token_}, {"Content-Type", "application/json"}},
          body);
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::string> tokens, ids, names;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(answers[i].status, 201) << i << ": " << answers[i].describe();
    const auto body = answers[i].json();
    tokens.insert(str(body, "token"));
    ids.insert(str(body, "id"));
    names.insert(str(body, "name"));
  }
  EXPECT_EQ(tokens.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kCount));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kCount));

  const auto list = admin_api("GET", "/api/v2/orgs/Acme/tokens?limit=200");
  ASSERT_EQ(list.status, 200);
  const auto items = items_of(list.json());
  EXPECT_EQ(items.size(), static_cast<std::size_t>(kCount + 1));
  std::set<std::string> listed;
  for (const auto& item : items) listed.insert(str(item, "id"));
  for (const auto& id : ids) EXPECT_TRUE(listed.contains(id)) << id;
  // Every one of them works.
  int accepted = 0;
  for (int i = 0; i < kCount; i += 2) {
    const auto body = answers[i].json();
    if (push("Acme", str(body, "token")).status == 202) ++accepted;
  }
  EXPECT_EQ(accepted, kCount / 2);
}

// ---- CLI ----------------------------------------------------------------------------------------

TEST_F(AdminApiTest, CliHasParityWithJsonOutputAndClearExitCodes) {
  create_org("Acme");
  const auto created = cli_object(
      {"token", "create", "--org", "Acme", "--name", "bitbucket", "--description", "Bitbucket DC"});
  const std::string first = str(created, "token");
  remember(first);
  ASSERT_TRUE(StartsWith(first, "cbw_" + str(created, "id") + "_"));
  EXPECT_EQ(str(created, "created_by"), cli_actor());
  EXPECT_EQ(str(created, "description"), "Bitbucket DC");

  const auto rotated = cli_object(
      {"token", "rotate", "--org", "Acme", "--token", "bitbucket", "--grace-period", "60"});
  const std::string second = str(rotated, "token");
  remember(second);
  EXPECT_EQ(str(rotated, "id"), str(created, "id"));
  EXPECT_NE(second, first);
  EXPECT_TRUE(rotated.at("previous_secret_valid_until").is_string());
  // Both secrets work over HTTP (the CLI wrote while the server runs).
  EXPECT_EQ(push("Acme", first).status, 202);
  EXPECT_EQ(push("Acme", second).status, 202);

  const auto got = cli_object({"token", "get", "--org", "Acme", "--token", str(created, "id")});
  EXPECT_EQ(str(got, "name"), "bitbucket");
  EXPECT_FALSE(has(got, "token"));
  EXPECT_FALSE(str(got, "rotated_at").empty());
  // The API shows the same token the same way.
  const auto via_api = admin_api("GET", "/api/v2/orgs/Acme/tokens/bitbucket");
  EXPECT_EQ(str(via_api.json(), "previous_secret_valid_until"),
            str(got, "previous_secret_valid_until"));

  const auto log = cli_object({"audit", "list", "--org", "Acme"});
  const auto events = items_of(log);
  ASSERT_GE(events.size(), 3u) << json::serialize(log);
  EXPECT_EQ(str(events[0], "action"), "token.rotate");
  EXPECT_EQ(str(events[0], "actor"), cli_actor());
  EXPECT_EQ(str(events[0], "remote_address"), "");
  EXPECT_EQ(str(events[1], "action"), "token.create");
  EXPECT_EQ(str(events.back(), "action"), "org.create");

  const auto revoked = cli_object({"token", "revoke", "--org", "Acme", "--name", "bitbucket"});
  EXPECT_EQ(str(revoked, "state"), "revoked");
  expect_webhook_refused(push("Acme", second), "revoked");

  // Errors: 1 with "error:" on stderr for what does not exist, 2 for usage.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"org", "get", "Umbrella"},
           {"token", "list", "--org", "Umbrella"},
           {"token", "get", "--org", "Acme", "--token", "nope"},
           {"audit", "list", "--org", "Umbrella"},
           {"org", "delete", "Umbrella"},
           {"token", "create", "--org", "Acme", "--name", "bitbucket"}}) {
    const auto r = cli(args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << " " << args[1] << "\n" << r.describe();
    EXPECT_TRUE(StartsWith(r.err, "error:")) << r.describe();
    EXPECT_TRUE(r.out.empty()) << r.describe();
  }
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"token", "create", "--org", "Acme"},
           {"token", "rotate", "--org", "Acme"},
           {"token", "get", "--token", "bitbucket"},
           {"token", "create", "--org", "Acme", "--name", "x", "--type", "admin"},
           {"audit", "list"},
           {"token", "revoke", "--org", "Acme"}}) {
    const auto r = cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1] << "\n" << r.describe();
  }

  EXPECT_TRUE(Contains(cli_ok({"org", "delete", "Acme"}), "deleted org Acme"));
  const auto gone = cli({"org", "get", "Acme"});
  EXPECT_EQ(gone.exit_code, 1) << gone.describe();
  const auto webhook = push("Acme", second);
  EXPECT_EQ(webhook.status, 404) << webhook.describe();
}

// ---- keys rotate --------------------------------------------------------------------------------

class AdminKeysTest : public AdminApiTest {
 protected:
  AdminKeysTest() { start_in_setup_ = false; }

  /// Fingerprint of the key file as the server computes it.
  std::string key_fingerprint() const {
    const std::string key = read_file(data_dir_ / "secret.key");
    if (key.size() != cb::auth::SecretBox::kKeySize) return "(bad key file)";
    return cb::auth::SecretBox::from_key(key).key_fingerprint();
  }
};

TEST_F(AdminKeysTest, KeysRotateResealsEverySecretAndRefusesAWrongKey) {
  create_org("Acme");
  const std::string hook = create_token("Acme", "bitbucket");
  remember(hook);
  const auto rotated = cli_object(
      {"token", "rotate", "--org", "Acme", "--token", "bitbucket", "--grace-period", "3600"});
  const std::string fresh = str(rotated, "token");
  remember(fresh);
  ASSERT_TRUE(start_server());
  ASSERT_EQ(push("Acme", hook).status, 202);
  ASSERT_EQ(push("Acme", fresh).status, 202);
  ASSERT_EQ(server_->stop(), 0);

  const std::string old_key = read_file(data_dir_ / "secret.key");
  const std::string old_fp = key_fingerprint();
  const auto r = cli({"keys", "rotate"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  const std::string new_fp = key_fingerprint();
  EXPECT_NE(new_fp, old_fp);
  EXPECT_NE(read_file(data_dir_ / "secret.key"), old_key);
  // Current and previous secret of the rotated token.
  EXPECT_TRUE(Contains(r.out, "re-sealed 2 secrets under key " + new_fp)) << r.describe();
  EXPECT_FALSE(fs::exists(data_dir_ / "secret.key.new"));
  EXPECT_EQ(fs::status(data_dir_ / "secret.key").permissions() & fs::perms::group_all,
            fs::perms::none);

  ASSERT_TRUE(server_->start());
  EXPECT_EQ(push("Acme", hook).status, 202);
  EXPECT_EQ(push("Acme", fresh).status, 202);
  ASSERT_EQ(server_->stop(), 0);

  // A key file that is not the one the database was sealed with: refused, nothing changed.
  const std::string good_key = read_file(data_dir_ / "secret.key");
  write_file(data_dir_ / "secret.key", std::string(32, 'w'));
  const auto wrong = cli({"keys", "rotate"});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.describe();
  EXPECT_TRUE(StartsWith(wrong.err, "error:")) << wrong.describe();
  EXPECT_TRUE(Contains(wrong.err, new_fp)) << wrong.describe();
  EXPECT_EQ(read_file(data_dir_ / "secret.key"), std::string(32, 'w'));
  EXPECT_FALSE(fs::exists(data_dir_ / "secret.key.new"));

  write_file(data_dir_ / "secret.key", good_key);
  ASSERT_TRUE(server_->start());
  EXPECT_EQ(push("Acme", hook).status, 202);
  EXPECT_EQ(push("Acme", fresh).status, 202);
}

}  // namespace
}  // namespace cbtest

namespace cbtest {
namespace {

TEST(KeySourceTest, KeysRotateNamesWhereTheConfiguredKeyIsSet) {
  TempDir dir;
  const std::string key(64, 'a');
  // From the environment.
  const std::string env_data = (dir.path() / "env-data").string();
  const Env env{{"COMMITBRIDGE_SECURITY_KEY", key}};
  ASSERT_EQ(run_cli({"org", "create", "acme", "--data-dir", env_data}, env).exit_code, 0);
  const auto by_env = run_cli({"keys", "rotate", "--data-dir", env_data}, env);
  ASSERT_EQ(by_env.exit_code, 0) << by_env.describe();
  EXPECT_TRUE(Contains(by_env.out, "The key comes from COMMITBRIDGE_SECURITY_KEY: set it to\n"))
      << by_env.out;
  // From the config file.
  const auto file = dir.path() / "commitbridge.toml";
  write_file(file, "[storage]\ndata_dir = \"" + (dir.path() / "file-data").string() +
                       "\"\n[security]\nkey = \"" + key + "\"\n");
  ASSERT_EQ(run_cli({"org", "create", "acme", "--config", file.string()}).exit_code, 0);
  const auto by_file = run_cli({"keys", "rotate", "--config", file.string()});
  ASSERT_EQ(by_file.exit_code, 0) << by_file.describe();
  EXPECT_TRUE(
      Contains(by_file.out, "The key comes from " + file.string() + ": security.key: set it to\n"))
      << by_file.out;
}

TEST(ServerLockTest, OneServerPerDataDirectoryAndNoKeyRotationBesideIt) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  ASSERT_EQ(run_cli({"org", "create", "acme", "--data-dir", data}).exit_code, 0);
  ServerProcess first(dir.path() / "data", dir.path());
  ASSERT_TRUE(first.start());

  const auto second = run_cli({"serve", "--listen", "127.0.0.1:0", "--data-dir", data});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("a commitbridge server is running"), std::string::npos) << second.err;

  const auto rotate = run_cli({"keys", "rotate", "--data-dir", data});
  EXPECT_EQ(rotate.exit_code, 1);
  EXPECT_NE(rotate.err.find("stop it before rotating the key"), std::string::npos) << rotate.err;

  EXPECT_EQ(first.stop(SIGTERM), 0);
  EXPECT_EQ(run_cli({"keys", "rotate", "--data-dir", data}).exit_code, 0);
}

}  // namespace
}  // namespace cbtest
