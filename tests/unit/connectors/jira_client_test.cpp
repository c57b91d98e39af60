#include "connectors/jira_client.hpp"

#include <boost/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/digest.hpp"
#include "http_stub.hpp"

namespace cb::connectors {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

constexpr std::string_view kTransitions = R"({"expand":"transitions","transitions":[
  {"id":"11","name":"To Do","to":{"name":"To Do"}},
  {"id":"21","name":"Start Progress","to":{"name":"In Progress"}},
  {"id":"31","name":"Done","to":{"name":"Done"}},
  {"id":"41","name":"Start Review","to":{"name":"In Review"}}]})";

class JiraClientTest : public ::testing::Test {
 protected:
  JiraConfig cloud() const {
    JiraConfig c;
    c.base_url = stub_.url("/");  // trailing slash is ignored
    c.flavour = JiraFlavour::cloud;
    c.email = "dev@example.test";
    c.api_token = "atl-token-0123456789";
    c.timeout = 5s;
    return c;
  }
  JiraConfig data_center() const {
    JiraConfig c;
    c.base_url = stub_.url("/jira");
    c.flavour = JiraFlavour::data_center;
    c.personal_access_token = "pat-abcdef987654";
    c.timeout = 5s;
    return c;
  }
  cbtest::StubRequest only_request() const {
    const auto received = stub_.requests();
    EXPECT_EQ(received.size(), 1u);
    return received.empty() ? cbtest::StubRequest{} : received.back();
  }

  cbtest::HttpStub stub_;
  CurlHttpClient http_;
  ManualClock clock_{1'780'000'000'000};
};

TEST_F(JiraClientTest, CloudUsesBasicAuthAndAddsComment) {
  stub_.enqueue({.status = 201, .body = R"({"id":"10001","body":"x"})"});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.add_comment("ABC-123", "Fixed in \"main\"\nsee commit");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "10001");
  const auto req = only_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/rest/api/2/issue/ABC-123/comment");
  EXPECT_EQ(req.header("Authorization"),
            "Basic " + auth::base64_encode("dev@example.test:atl-token-0123456789"));
  EXPECT_EQ(req.header("Content-Type"), "application/json");
  EXPECT_EQ(req.header("Accept"), "application/json");
  EXPECT_EQ(json::parse(req.body), json::parse(R"({"body":"Fixed in \"main\"\nsee commit"})"));
}

TEST_F(JiraClientTest, DataCenterUsesBearerTokenAndContextPath) {
  stub_.enqueue({.status = 201, .body = R"({"id":"7"})"});
  JiraClient jira(data_center(), http_, clock_);
  auto r = jira.add_worklog("OPS-9", "1h 30m");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "7");
  const auto req = only_request();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/jira/rest/api/2/issue/OPS-9/worklog");
  EXPECT_EQ(req.header("Authorization"), "Bearer pat-abcdef987654");
  EXPECT_EQ(json::parse(req.body), json::parse(R"({"timeSpent":"1h 30m"})"));
}

TEST_F(JiraClientTest, WorklogKeepsTimeAsWrittenWithCommentAndStart) {
  stub_.enqueue({.status = 201, .body = "{}"});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.add_worklog("ABC-1", "1w 2d 1.5h", "refactoring", 1'772'360'100'250);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "");
  EXPECT_EQ(json::parse(only_request().body),
            json::parse(R"({"timeSpent":"1w 2d 1.5h","comment":"refactoring",
                            "started":"2026-03-01T10:15:00.250+0000"})"));
}

TEST_F(JiraClientTest, RemoteLinkUsesAStableGlobalId) {
  stub_.enqueue({.status = 201, .body = R"({"id":1,"self":"x"})"});
  stub_.enqueue({.status = 200, .body = R"({"id":1,"self":"x"})"});  // the retry updates
  JiraClient jira(cloud(), http_, clock_);
  const JiraCommitLink link{.repository = "PROJ/web-app",
                            .commit_hash = "0123456789abcdef0123456789abcdef01234567",
                            .url =
                                "https://scm.example.test/projects/PROJ/repos/web-app/commits/"
                                "0123456789abcdef0123456789abcdef01234567",
                            .title = "PROJ/web-app 0123456",
                            .summary = "Fix the login form",
                            .icon_url = "https://scm.example.test/favicon.ico"};
  ASSERT_TRUE(jira.upsert_commit_link("ABC-7", link).has_value());
  ASSERT_TRUE(jira.upsert_commit_link("ABC-7", link).has_value());
  const auto received = stub_.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].target, "/rest/api/2/issue/ABC-7/remotelink");
  const json::value expected = json::parse(R"({
    "globalId": "commitbridge:PROJ/web-app:0123456789abcdef0123456789abcdef01234567",
    "application": {"type": "com.commitbridge", "name": "commitbridge"},
    "relationship": "commit",
    "object": {
      "url": "https://scm.example.test/projects/PROJ/repos/web-app/commits/0123456789abcdef0123456789abcdef01234567",
      "title": "PROJ/web-app 0123456",
      "summary": "Fix the login form",
      "icon": {"url16x16": "https://scm.example.test/favicon.ico", "title": "commit"}}})");
  EXPECT_EQ(json::parse(received[0].body), expected);
  EXPECT_EQ(received[1].body, received[0].body);
}

TEST_F(JiraClientTest, GlobalIdOfALongRepositoryIsHashed) {
  const std::string repo(300, 'r');
  const std::string id = remote_link_global_id(repo, "abc");
  EXPECT_EQ(id, "commitbridge:sha256:" + auth::to_hex(auth::sha256(repo)) + ":abc");
  EXPECT_LE(id.size(), 255u);
  EXPECT_EQ(remote_link_global_id("a/b", "abc"), "commitbridge:a/b:abc");
}

TEST_F(JiraClientTest, ListsTransitions) {
  stub_.enqueue({.status = 200, .body = std::string(kTransitions)});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.list_transitions("ABC-1");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[1].id, "21");
  EXPECT_EQ((*r)[1].name, "Start Progress");
  EXPECT_EQ((*r)[1].to_status, "In Progress");
  const auto req = only_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/rest/api/2/issue/ABC-1/transitions");
  EXPECT_EQ(req.body, "");
}

TEST_F(JiraClientTest, TransitionByNameWithHyphensAndAnyCase) {
  stub_.enqueue({.status = 200, .body = std::string(kTransitions)});
  stub_.enqueue({.status = 204});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.transition("ABC-1", "START-progress", "working on it");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->id, "21");
  const auto received = stub_.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1].method, "POST");
  EXPECT_EQ(received[1].target, "/rest/api/2/issue/ABC-1/transitions");
  EXPECT_EQ(json::parse(received[1].body), json::parse(R"({"transition":{"id":"21"},
                            "update":{"comment":[{"add":{"body":"working on it"}}]}})"));
}

TEST_F(JiraClientTest, TransitionWithoutCommentSendsOnlyTheId) {
  stub_.enqueue({.status = 200, .body = std::string(kTransitions)});
  stub_.enqueue({.status = 204});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.transition("ABC-1", "done");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->name, "Done");
  ASSERT_EQ(stub_.request_count(), 2u);
  EXPECT_EQ(json::parse(stub_.requests()[1].body), json::parse(R"({"transition":{"id":"31"}})"));
}

TEST_F(JiraClientTest, UnknownTransitionListsTheAvailableNames) {
  stub_.enqueue({.status = 200, .body = std::string(kTransitions)});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.transition("ABC-1", "resolve");
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable());
  EXPECT_EQ(r.error().message,
            "no transition \"resolve\" on ABC-1; available: To Do, Start Progress, Done, "
            "Start Review");
  EXPECT_EQ(stub_.request_count(), 1u);  // nothing was posted
}

TEST_F(JiraClientTest, FirstWordOfANameMatchesUnlessAmbiguous) {
  stub_.enqueue({.status = 200, .body = std::string(kTransitions)});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.transition("ABC-1", "start");
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable());
  EXPECT_EQ(r.error().message,
            "transition \"start\" on ABC-1 is ambiguous: Start Progress, Start Review");

  stub_.enqueue({.status = 200, .body = R"({"transitions":[{"id":"5","name":"Close Issue"}]})"});
  stub_.enqueue({.status = 204});
  auto closed = jira.transition("ABC-1", "close");
  ASSERT_TRUE(closed.has_value()) << closed.error().message;
  EXPECT_EQ(closed->id, "5");
}

TEST_F(JiraClientTest, ServerErrorIsRetryableThenSucceeds) {
  stub_.enqueue({.status = 500, .body = R"({"errorMessages":["Internal server error"]})"});
  stub_.enqueue({.status = 201, .body = R"({"id":"9"})"});
  JiraClient jira(cloud(), http_, clock_);
  auto first = jira.add_comment("ABC-2", "hello");
  ASSERT_FALSE(first.has_value());
  EXPECT_TRUE(first.error().retryable());
  EXPECT_EQ(first.error().status, 500);
  EXPECT_EQ(
      first.error().message,
      "Jira answered HTTP 500 to POST /rest/api/2/issue/ABC-2/comment: Internal server error");
  auto second = jira.add_comment("ABC-2", "hello");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, "9");
}

TEST_F(JiraClientTest, RateLimitCarriesRetryAfterInMilliseconds) {
  stub_.enqueue({.status = 429, .headers = {{"Retry-After", "12"}}});
  JiraClient jira(cloud(), http_, clock_);
  auto r = jira.add_comment("ABC-2", "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().retryable());
  EXPECT_EQ(r.error().status, 429);
  EXPECT_EQ(r.error().retry_after, 12000ms);
}

TEST_F(JiraClientTest, ClientErrorIsPermanentWithJirasMessages) {
  stub_.enqueue({.status = 400, .body = R"({"errorMessages":["Worklog must not be null."],
                             "errors":{"timeSpent":"Invalid time duration entered."}})"});
  JiraClient jira(data_center(), http_, clock_);
  auto r = jira.add_worklog("ABC-3", "soon");
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(r.error().message,
            "Jira answered HTTP 400 to POST /rest/api/2/issue/ABC-3/worklog: Worklog must not be "
            "null.; timeSpent: Invalid time duration entered.");
  EXPECT_THAT(r.error().message, Not(HasSubstr("pat-abcdef987654")));
}

TEST_F(JiraClientTest, NotFoundAndForbiddenArePermanent) {
  stub_.enqueue(
      {.status = 404,
       .body =
           R"({"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}})"});
  stub_.enqueue({.status = 401, .body = "<html>Unauthorized</html>"});
  JiraClient jira(cloud(), http_, clock_);
  auto missing = jira.add_comment("NOPE-1", "x");
  ASSERT_FALSE(missing.has_value());
  EXPECT_FALSE(missing.error().retryable());
  EXPECT_THAT(missing.error().message, HasSubstr("Issue does not exist"));
  auto unauthorized = jira.add_comment("NOPE-1", "x");
  ASSERT_FALSE(unauthorized.has_value());
  EXPECT_FALSE(unauthorized.error().retryable());
  EXPECT_THAT(unauthorized.error().message, HasSubstr("HTTP 401"));
  EXPECT_THAT(unauthorized.error().message, HasSubstr("<html>Unauthorized</html>"));
}

TEST_F(JiraClientTest, TimeoutAndRefusedConnectionAreRetryable) {
  stub_.enqueue({.status = 201, .delay = 3s});
  auto config = cloud();
  config.timeout = 200ms;
  JiraClient slow(config, http_, clock_);
  auto timed_out = slow.add_comment("ABC-4", "x");
  ASSERT_FALSE(timed_out.has_value());
  EXPECT_TRUE(timed_out.error().retryable());
  EXPECT_EQ(timed_out.error().status, 0);
  EXPECT_THAT(timed_out.error().message, HasSubstr("timeout: "));

  {
    cbtest::HttpStub gone;
    config.base_url = gone.url("");
  }
  JiraClient down(config, http_, clock_);
  auto refused = down.list_project_keys();
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(refused.error().retryable());
  EXPECT_THAT(refused.error().message, HasSubstr("connection_refused: "));
}

TEST_F(JiraClientTest, ListsProjectKeys) {
  stub_.enqueue({.status = 200, .body = R"([{"id":"10000","key":"ABC","name":"Alpha"},
                             {"id":"10001","key":"OPS","name":"Operations"}])"});
  JiraClient jira(data_center(), http_, clock_);
  auto r = jira.list_project_keys();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_THAT(*r, ElementsAre("ABC", "OPS"));
  const auto req = only_request();
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/jira/rest/api/2/project");
  EXPECT_EQ(req.header("Authorization"), "Bearer pat-abcdef987654");
}

TEST_F(JiraClientTest, InvalidKeysAndConfigsFailPermanentlyWithoutARequest) {
  JiraClient jira(cloud(), http_, clock_);
  for (std::string_view key : {"abc-1", "A-1", "ABC-0", "ABC-1/../x", "ABC", "ABC-1?x=1"}) {
    auto r = jira.add_comment(key, "x");
    ASSERT_FALSE(r.has_value()) << key;
    EXPECT_FALSE(r.error().retryable()) << key;
  }
  auto config = data_center();
  config.personal_access_token.clear();
  EXPECT_FALSE(validate_jira_config(config).has_value());
  JiraClient no_token(config, http_, clock_);
  auto r = no_token.list_project_keys();
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(r.error().retryable());
  EXPECT_EQ(r.error().message, "Jira Data Center needs a personal access token");
  EXPECT_EQ(stub_.request_count(), 0u);
  EXPECT_TRUE(validate_jira_config(cloud()).has_value());
  EXPECT_TRUE(is_valid_issue_key("AB_2-10"));
}

}  // namespace
}  // namespace cb::connectors
