// ALM connections and the outbox over the admin API and the CLI, against the real binary: create,
// list, get, update and remove connections; secrets never come back (API, CLI, audit log, list);
// an org's token cannot see another org's connections; the outbox lists and retries.

#include <gtest/gtest.h>

#include <string>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;

constexpr const char* kJiraSecret = "pat-orbital-7f3c2a91e5d04b68";
constexpr const char* kHookSecret = "hook-signing-key-2d9e41c7";

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value() : v;
}

class AlmConnectionsTest : public IntegrationTest {
 protected:
  void SetUp() override {
    const auto created = parse(cli_ok({"admin-token", "create", "--name", "ops", "--json"}));
    admin_token_ = str(created, "token");
    ASSERT_FALSE(admin_token_.empty());
    create_org("acme");
    create_org("globex");
    ASSERT_TRUE(start_server());
  }

  HttpResponse api(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& token = "") {
    Headers h{{"Authorization", "Bearer " + (token.empty() ? admin_token_ : token)}};
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    auto r = http_request(method, server_->base_url() + path, h, body);
    everything_ += r.body;
    return r;
  }

  json::value create_jira(const std::string& org = "acme") {
    const auto r = api("POST", "/api/v2/orgs/" + org + "/alm-connections",
                       json::serialize(json::object{{"name", "jira"},
                                                    {"type", "jira"},
                                                    {"url", "https://jira.orbital.example/"},
                                                    {"deployment", "data_center"},
                                                    {"secret", kJiraSecret}}));
    EXPECT_EQ(r.status, 201) << r.describe();
    return r.json();
  }

  std::string admin_token_;
  std::string everything_;  ///< every answer body, to check that no secret ever appears
};

TEST_F(AlmConnectionsTest, JiraConnectionIsCreatedShownChangedAndRemovedWithoutItsSecret) {
  const auto created = create_jira();
  const std::string id = str(created, "id");
  EXPECT_TRUE(StartsWith(id, "alm_"));
  EXPECT_EQ(id.size(), 20u);
  EXPECT_EQ(str(created, "name"), "jira");
  EXPECT_EQ(str(created, "type"), "jira");
  EXPECT_EQ(str(created, "url"), "https://jira.orbital.example");  // trailing '/' dropped
  EXPECT_EQ(str(created, "deployment"), "data_center");
  EXPECT_TRUE(created.at("secret_set").as_bool());
  EXPECT_TRUE(created.at("add_remote_link").as_bool());
  EXPECT_FALSE(created.at("add_comment").as_bool());
  EXPECT_TRUE(created.at("run_commands").as_bool());
  EXPECT_EQ(created.at("max_commit_age_seconds").as_int64(), 2592000);
  EXPECT_FALSE(created.as_object().contains("secret"));

  const auto by_name = api("GET", "/api/v2/orgs/acme/alm-connections/jira");
  ASSERT_EQ(by_name.status, 200) << by_name.describe();
  EXPECT_EQ(str(by_name.json(), "id"), id);

  const auto patched =
      api("PATCH", "/api/v2/orgs/acme/alm-connections/" + id,
          R"({"add_comment":true,"max_commit_age_seconds":3600,"secret":"new-pat-b"})");
  ASSERT_EQ(patched.status, 200) << patched.describe();
  EXPECT_TRUE(patched.json().at("add_comment").as_bool());
  EXPECT_EQ(patched.json().at("max_commit_age_seconds").as_int64(), 3600);
  EXPECT_EQ(str(patched.json(), "url"), "https://jira.orbital.example");

  const auto type_change =
      api("PATCH", "/api/v2/orgs/acme/alm-connections/" + id, R"({"type":"webhook"})");
  EXPECT_EQ(type_change.status, 400) << type_change.describe();
  EXPECT_TRUE(StartsWith(type_change.error_message(), "type: "));

  const auto list = api("GET", "/api/v2/orgs/acme/alm-connections");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json().at("items").as_array().size(), 1u);
  EXPECT_TRUE(list.json().at("next_cursor").is_null());

  const auto cli_list = parse(cli_ok({"alm", "list", "--org", "acme", "--json"}));
  ASSERT_EQ(cli_list.at("items").as_array().size(), 1u);
  EXPECT_EQ(str(cli_list.at("items").as_array()[0], "id"), id);
  const auto shown = cli_ok({"alm", "get", id, "--org", "acme", "--json"});
  EXPECT_EQ(str(parse(shown), "name"), "jira");
  everything_ += shown + cli_ok({"alm", "get", "jira", "--org", "acme"});
  everything_ += cli_ok({"audit", "list", "--org", "acme", "--json"});

  const auto removed = api("DELETE", "/api/v2/orgs/acme/alm-connections/" + id);
  EXPECT_EQ(removed.status, 204) << removed.describe();
  EXPECT_EQ(api("GET", "/api/v2/orgs/acme/alm-connections/" + id).status, 404);

  const auto audit = parse(cli_ok({"audit", "list", "--org", "acme", "--json"}));
  std::string actions;
  for (const auto& e : audit.at("items").as_array()) actions += str(e, "action") + " ";
  EXPECT_TRUE(
      Contains(actions, "alm_connection.delete alm_connection.update alm_connection.create"));

  EXPECT_TRUE(LacksSecret(everything_, kJiraSecret));
  EXPECT_TRUE(LacksSecret(everything_, "new-pat-b"));
  EXPECT_TRUE(LacksSecret(server_->stderr_text(), kJiraSecret));
}

TEST_F(AlmConnectionsTest, InvalidConnectionsAreRefusedNamingTheField) {
  struct Case {
    std::string body, field;
  };
  const Case cases[] = {
      {R"({"name":"j","type":"jira","url":"https://j.example","secret":"x"})", "deployment: "},
      {R"({"name":"j","type":"jira","url":"https://j.example","deployment":"cloud","secret":"x"})",
       "email: "},
      {R"({"name":"j","type":"jira","url":"ftp://j.example","deployment":"data_center","secret":"x"})",
       "url: "},
      {R"({"name":"j","type":"jira","url":"https://j.example","deployment":"data_center"})",
       "secret: "},
      {R"({"name":"j","type":"tracker","url":"https://j.example","secret":"x"})", "type: "},
      {R"({"name":"h","type":"webhook","url":"https://h.example","secret":"x","add_comment":true})",
       "deployment, email"},
      {R"({"name":"j","type":"jira","url":"https://j.example","deployment":"data_center",)"
       R"("secret":"x","max_commit_age_seconds":5})",
       "max_commit_age_seconds: "},
      {R"({"name":"j","type":"jira","url":"https://j.example","deployment":"data_center",)"
       R"("secret":"x","password":"y"})",
       "unknown field 'password'"},
  };
  for (const auto& c : cases) {
    const auto r = api("POST", "/api/v2/orgs/acme/alm-connections", c.body);
    EXPECT_EQ(r.status, 400) << c.body << "\n" << r.describe();
    EXPECT_EQ(r.error_code(), "invalid_argument");
    EXPECT_TRUE(StartsWith(r.error_message(), c.field)) << r.error_message();
  }
  create_jira();
  const auto dup =
      api("POST", "/api/v2/orgs/acme/alm-connections",
          R"({"name":"jira","type":"webhook","url":"https://h.example","secret":"x"})");
  EXPECT_EQ(dup.status, 409) << dup.describe();
}

TEST_F(AlmConnectionsTest, AnOrgTokenSeesOnlyItsOwnConnectionsAndOutbox) {
  const auto created = create_jira("globex");
  const std::string acme_api = create_token("acme", "ci", "api");
  const auto other = api("GET", "/api/v2/orgs/globex/alm-connections", "", acme_api);
  EXPECT_EQ(other.status, 403) << other.describe();
  EXPECT_EQ(api("GET", "/api/v2/orgs/globex/outbox", "", acme_api).status, 403);
  EXPECT_EQ(
      api("GET", "/api/v2/orgs/acme/alm-connections/" + str(created, "id"), "", acme_api).status,
      404);
  const auto own = api("GET", "/api/v2/orgs/acme/alm-connections", "", acme_api);
  ASSERT_EQ(own.status, 200) << own.describe();
  EXPECT_TRUE(own.json().at("items").as_array().empty());
}

TEST_F(AlmConnectionsTest, CliTakesSecretsFromTheEnvironmentOrStdinOnly) {
  const auto added =
      run_cli({"alm", "add", "--data-dir", data_dir_.string(), "--org", "acme", "--name", "hook",
               "--type", "webhook", "--url", "http://127.0.0.1:9/commits", "--secret-env",
               "CB_TEST_HOOK_SECRET", "--json"},
              {{"CB_TEST_HOOK_SECRET", kHookSecret}});
  ASSERT_EQ(added.exit_code, 0) << added.describe();
  EXPECT_TRUE(parse(added.out).at("secret_set").as_bool());
  EXPECT_TRUE(LacksSecret(added.out + added.err, kHookSecret));

  const auto unset = run_cli({"alm", "add", "--data-dir", data_dir_.string(), "--org", "acme",
                              "--name", "hook2", "--type", "webhook", "--url",
                              "http://127.0.0.1:9/commits", "--secret-env", "CB_TEST_UNSET"});
  EXPECT_EQ(unset.exit_code, 1);
  EXPECT_TRUE(Contains(unset.err, "CB_TEST_UNSET is not set"));

  const auto flag = cli({"alm", "add", "--org", "acme", "--name", "hook3", "--type", "webhook",
                         "--url", "http://127.0.0.1:9/c", "--secret", kHookSecret});
  EXPECT_EQ(flag.exit_code, 2) << flag.describe();

  const auto list = cli_ok({"alm", "list", "--org", "acme"});
  EXPECT_TRUE(Contains(list, "hook"));
  EXPECT_TRUE(Contains(list, "webhook"));
  const auto updated =
      cli_ok({"alm", "update", "hook", "--org", "acme", "--enabled", "false", "--json"});
  EXPECT_FALSE(parse(updated).at("enabled").as_bool());
  cli_ok({"alm", "remove", "hook", "--org", "acme"});
  EXPECT_EQ(cli({"alm", "get", "hook", "--org", "acme"}).exit_code, 1);
}

TEST_F(AlmConnectionsTest, OutboxListsByStatusAndRefusesUnknownEntries) {
  const auto empty = api("GET", "/api/v2/orgs/acme/outbox?status=dead");
  ASSERT_EQ(empty.status, 200) << empty.describe();
  EXPECT_TRUE(empty.json().at("items").as_array().empty());
  const auto bad = api("GET", "/api/v2/orgs/acme/outbox?status=lost");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(StartsWith(bad.error_message(), "status: "));
  EXPECT_EQ(api("POST", "/api/v2/orgs/acme/outbox/77/retry").status, 404);
  EXPECT_EQ(api("POST", "/api/v2/orgs/acme/outbox/x/retry").status, 404);
  const auto cli_retry = cli({"outbox", "retry", "77", "--org", "acme"});
  EXPECT_EQ(cli_retry.exit_code, 1);
  EXPECT_TRUE(Contains(cli_retry.err, "no outbox entry 77"));
}

}  // namespace
}  // namespace cbtest
