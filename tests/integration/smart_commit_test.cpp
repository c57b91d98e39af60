// Smart-commit patterns per org: the CLI and the admin API add, list and remove them; the test
// route analyzes a message with them; ALM commit sync reads commits with the org's set, and sees
// a change made by the CLI while the server runs.

#include <gtest/gtest.h>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return v;
}

class SmartCommitTest : public IntegrationTest {
 protected:
  SmartCommitTest() : git_(tmp_ / "git") {}

  void SetUp() override {
    base_ = git_.commit("Initial import of orbit tools");
    git_.push("main");
    create_org("acme");
    create_org("globex");
    webhook_token_ = create_token("acme", "bitbucket");
    api_token_ = create_token("acme", "automation", "api");
    other_token_ = create_token("globex", "automation", "api");
    add_repo("acme", "ORB", "orbit-tools", git_.bare_path().string(), /*auto_update_alm=*/true);
  }

  HttpResponse api(const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = "") {
    Headers h;
    if (!token.empty()) h.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    return http_request(method, server_->base_url() + path, h, body);
  }

  /// Pushes main from `from` to `to` on the sync URL; returns the processed delivery's reason.
  std::string sync(const std::string& from, const std::string& to) {
    const auto r = send_push(
        "acme", webhook_token_,
        bitbucket_push_body("ORB", "orbit-tools", {branch_change("main", "UPDATE", from, to)}),
        new_request_id(), "sync-alm-commits");
    EXPECT_EQ(r.status, 202) << r.describe();
    return str(wait_processed(str(r.json(), "delivery_id")), "reason");
  }

  GitRepo git_;
  std::string base_;
  std::string webhook_token_;
  std::string api_token_;
  std::string other_token_;
};

TEST_F(SmartCommitTest, CommitSyncUsesTheOrgsPatternsAndSeesCliChangesAtOnce) {
  const std::string c1 = git_.commit("ABC-1 decode as UTF-8, hash with SHA-256");
  git_.push("main");
  ASSERT_TRUE(start_server());
  // No pattern: the jira built-in, look-alikes included.
  EXPECT_EQ(sync(base_, c1),
            "linked 1 of 1 commit to 3 stories (ABC-1, SHA-256, UTF-8), 3 new links");

  // An allow-list added with the CLI while the server runs applies to the next delivery.
  EXPECT_TRUE(Contains(cli_ok({"smart-commits", "patterns", "add", "--org", "acme", "--kind",
                               "jira", "--allow", "ABC"}),
                       "added jira pattern"));
  const std::string c2 = git_.commit("ABC-2 stream as UTF-8 too, fixes AB#7");
  git_.push("main");
  EXPECT_EQ(sync(c1, c2), "linked 1 of 1 commit to 1 story (ABC-2), 1 new link");

  // A second pattern (Azure Boards) joins the set.
  const auto added = api("POST", "/api/v2/orgs/acme/smart-commits/patterns", api_token_,
                         R"({"kind":"azure_boards"})");
  ASSERT_EQ(added.status, 201) << added.describe();
  const std::string c3 = git_.commit("ABC-3 retry uploads, fixes AB#8");
  git_.push("main");
  EXPECT_EQ(sync(c2, c3), "linked 1 of 1 commit to 2 stories (AB#8, ABC-3), 2 new links");

  const auto listed =
      parse(cli_ok({"smart-commits", "patterns", "list", "--org", "acme", "--json"}));
  const auto& items = listed.at("items").as_array();
  ASSERT_EQ(items.size(), 2u) << json::serialize(listed);
  EXPECT_EQ(str(items[0], "kind"), "jira");
  EXPECT_EQ(json::serialize(items[0].at("allowed_projects")), R"(["ABC"])");
  EXPECT_EQ(str(items[1], "kind"), "azure_boards");
  EXPECT_TRUE(listed.at("next_cursor").is_null());
}

TEST_F(SmartCommitTest, AdminApiManagesPatternsAndTestsMessages) {
  ASSERT_TRUE(start_server());
  const std::string base = "/api/v2/orgs/acme/smart-commits";
  // Default set: jira.
  auto tested = api("POST", base + "/test", api_token_,
                    R"({"message":"ABC-1 ABC-2 #time 1.5h review #resolve\nUTF-8 AB#3"})");
  ASSERT_EQ(tested.status, 200) << tested.describe();
  const auto t = tested.json();
  ASSERT_EQ(t.at("keys").as_array().size(), 3u) << tested.body;
  EXPECT_EQ(str(t.at("keys").at(0), "key"), "ABC-1");
  EXPECT_EQ(str(t.at("keys").at(2), "key"), "UTF-8");
  const auto& commands = t.at("commands").as_array();
  ASSERT_EQ(commands.size(), 4u) << tested.body;
  EXPECT_EQ(str(commands[0], "kind"), "time");
  EXPECT_EQ(commands[0].at("seconds").as_int64(), 5400);
  EXPECT_EQ(str(commands[0], "comment"), "review");
  EXPECT_EQ(str(commands[3], "key"), "ABC-2");
  EXPECT_EQ(str(commands[3], "transition"), "resolve");
  EXPECT_TRUE(t.at("errors").as_array().empty());

  // Refusals carry RE2's message; nothing is stored.
  auto bad = api("POST", base + "/patterns", api_token_,
                 R"({"kind":"custom","regex":"(?P<key>CASE-[0-9]+"})");
  EXPECT_EQ(bad.status, 400) << bad.describe();
  EXPECT_TRUE(Contains(bad.body, "missing )"));
  auto no_key =
      api("POST", base + "/patterns", api_token_, R"({"kind":"custom","regex":"CASE-[0-9]+"})");
  EXPECT_EQ(no_key.status, 400) << no_key.describe();
  EXPECT_TRUE(Contains(no_key.body, "no named group 'key'"));
  auto unknown = api("POST", base + "/patterns", api_token_, R"({"kind":"bugzilla"})");
  EXPECT_EQ(unknown.status, 400) << unknown.describe();
  auto no_message = api("POST", base + "/test", api_token_, R"({"msg":"x"})");
  EXPECT_EQ(no_message.status, 400) << no_message.describe();

  auto created = api("POST", base + "/patterns", api_token_,
                     R"({"kind":"custom","regex":"\\[CASE:(?P<key>[0-9]+)\\]"})");
  ASSERT_EQ(created.status, 201) << created.describe();
  const std::int64_t id = created.json().at("id").as_int64();
  auto custom =
      api("POST", base + "/test", api_token_, R"({"message":"[CASE:4711] #comment tested ABC-1"})");
  ASSERT_EQ(custom.status, 200) << custom.describe();
  EXPECT_EQ(json::serialize(custom.json().at("keys")),
            R"([{"key":"4711","kind":"custom","closing":false}])");
  EXPECT_EQ(str(custom.json().at("commands").at(0), "comment"), "tested ABC-1");

  auto page = api("GET", base + "/patterns?limit=1", api_token_);
  ASSERT_EQ(page.status, 200) << page.describe();
  EXPECT_EQ(page.json().at("items").as_array().size(), 1u);

  // Another org's token may neither read nor change them; no token is 401.
  EXPECT_EQ(api("GET", base + "/patterns", other_token_).status, 403);
  EXPECT_EQ(api("POST", base + "/test", other_token_, R"({"message":"x"})").status, 403);
  EXPECT_EQ(api("DELETE", base + "/patterns/" + std::to_string(id), other_token_).status, 403);
  EXPECT_EQ(api("GET", base + "/patterns", "").status, 401);

  EXPECT_EQ(api("DELETE", base + "/patterns/" + std::to_string(id), api_token_).status, 204);
  EXPECT_EQ(api("DELETE", base + "/patterns/" + std::to_string(id), api_token_).status, 404);
  EXPECT_EQ(api("DELETE", base + "/patterns/abc", api_token_).status, 404);
  const auto audit = cli_ok({"audit", "list", "--org", "acme"});
  EXPECT_TRUE(Contains(audit, "smart_commit_pattern.add"));
  EXPECT_TRUE(Contains(audit, "smart_commit_pattern.remove"));
}

TEST_F(SmartCommitTest, CliTestsAMessageAndRefusesBadPatterns) {
  const auto out =
      parse(cli_ok({"smart-commits", "test", "--org", "acme", "--message",
                    "JRA-123 #time 2d 5h #comment Task completed #resolve", "--json"}));
  ASSERT_EQ(out.at("commands").as_array().size(), 3u) << json::serialize(out);
  EXPECT_EQ(out.at("commands").at(0).at("seconds").as_int64(), 75600);
  const auto text =
      cli_ok({"smart-commits", "test", "--org", "acme", "--message", "OPS-6 #time 2x"});
  EXPECT_TRUE(Contains(text, "error line 1 #time 2x: malformed duration '2x'"));
  const auto bad = cli({"smart-commits", "patterns", "add", "--org", "acme", "--kind", "custom",
                        "--regex", "(?P<key>a"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "missing )"));
  const auto missing = cli({"smart-commits", "patterns", "remove", "--org", "acme", "--id", "9"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(cli({"smart-commits", "patterns", "add", "--org", "acme", "--kind", "nope"}).exit_code,
            2);
}

}  // namespace
}  // namespace cbtest
