// ConnectorAlmSender against a local HTTP stub: what each outbox action sends to Jira or to a
// webhook receiver, and how answers become sent / retry / permanent.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "auth/digest.hpp"
#include "connectors/http_client.hpp"
#include "http_stub.hpp"
#include "pipeline/connector_alm_sender.hpp"

namespace cb::pipeline {
namespace {

namespace json = boost::json;
using cbtest::HttpStub;
using cbtest::StubResponse;

constexpr UnixMillis kNow = 1'772'000'000'000;
const std::string kHash = "0123456789abcdef0123456789abcdef01234567";

class ConnectorAlmSenderTest : public ::testing::Test {
 protected:
  ConnectorAlmSenderTest() : sender_(http_, clock_, std::chrono::milliseconds(5000)) {
    jira_.id = 1;
    jira_.public_id = "alm_00000000000000a1";
    jira_.name = "jira";
    jira_.type = "jira";
    jira_.url = stub_.url("/jira");
    jira_.jira_deployment = "data_center";
  }

  store::OutboxEntryRecord entry(std::string action, int ordinal, json::object extra = {}) const {
    json::object p{{"repository", "ORB/orbit-tools"},
                   {"provider", "bitbucket_server"},
                   {"branch", "main"},
                   {"commit", kHash},
                   {"commit_url",
                    "https://scm.orbital.example/projects/ORB/repos/orbit-tools/"
                    "commits/" +
                        kHash},
                   {"clone_url", "https://scm.orbital.example/scm/orb/orbit-tools.git"},
                   {"author_name", "Ilse Vandermeer"},
                   {"author_email", "ilse.vandermeer@orbital.example"},
                   {"authored_at", "2026-03-02T09:00:00.000Z"},
                   {"authored_at_ms", 1772442000000},
                   {"message", "ABC-1 add waypoint parser\n\nDetails."},
                   {"story_key", "ABC-1"}};
    for (const auto& [k, v] : extra) p[k] = v;
    store::OutboxEntryRecord e;
    e.id = 42;
    e.story_key = "ABC-1";
    e.commit_hash = kHash;
    e.action = std::move(action);
    e.ordinal = ordinal;
    e.payload_json = json::serialize(p);
    return e;
  }

  HttpStub stub_;
  connectors::CurlHttpClient http_;
  ManualClock clock_{kNow};
  ConnectorAlmSender sender_;
  store::AlmConnectionRecord jira_;
};

TEST_F(ConnectorAlmSenderTest, RemoteLinkPointsAtTheCommitPageWithAStableGlobalId) {
  stub_.enqueue(StubResponse{.status = 201, .body = R"({"id":10000})"});
  const auto r = sender_.send(entry("remote_link", 0), jira_, "pat-1");
  EXPECT_EQ(r.kind, SendResult::Kind::sent) << r.error;
  ASSERT_EQ(stub_.requests().size(), 1u);
  const auto requests = stub_.requests();
  const auto& req = requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/jira/rest/api/2/issue/ABC-1/remotelink");
  EXPECT_EQ(req.header("Authorization").value_or(""), "Bearer pat-1");
  const auto body = json::parse(req.body);
  EXPECT_EQ(body.at("globalId").as_string(),
            "commitbridge:bitbucket_server:ORB/orbit-tools:" + kHash);
  EXPECT_EQ(body.at("relationship").as_string(), "commit");
  EXPECT_EQ(body.at("object").at("url").as_string(),
            "https://scm.orbital.example/projects/ORB/repos/orbit-tools/commits/" + kHash);
  EXPECT_EQ(body.at("object").at("title").as_string(), "ORB/orbit-tools 0123456789a");
  EXPECT_EQ(body.at("object").at("summary").as_string(), "ABC-1 add waypoint parser");
}

TEST_F(ConnectorAlmSenderTest, TheCommentOptionDescribesTheCommitAndCommandsSendTheirText) {
  stub_.set_default(StubResponse{.status = 201, .body = R"({"id":"7"})"});
  ASSERT_EQ(sender_.send(entry("comment", 0), jira_, "pat-1").kind, SendResult::Kind::sent);
  ASSERT_EQ(sender_.send(entry("comment", 1, {{"text", "parser wired"}}), jira_, "pat-1").kind,
            SendResult::Kind::sent);
  ASSERT_EQ(stub_.requests().size(), 2u);
  EXPECT_EQ(json::parse(stub_.requests()[0].body).at("body").as_string(),
            "Ilse Vandermeer committed 0123456789a to ORB/orbit-tools (main)\n"
            "https://scm.orbital.example/projects/ORB/repos/orbit-tools/commits/" +
                kHash + "\n\nABC-1 add waypoint parser\n\nDetails.");
  EXPECT_EQ(stub_.requests()[1].body, R"({"body":"parser wired"})");
}

TEST_F(ConnectorAlmSenderTest, WorklogCarriesTheDurationAsWrittenAndTheAuthorTime) {
  stub_.enqueue(StubResponse{.status = 201, .body = R"({"id":"9"})"});
  const auto r = sender_.send(
      entry("worklog", 1, {{"time_spent", "1h 30m"}, {"seconds", 5400}, {"text", "wiring"}}), jira_,
      "pat-1");
  EXPECT_EQ(r.kind, SendResult::Kind::sent) << r.error;
  ASSERT_EQ(stub_.requests().size(), 1u);
  EXPECT_EQ(stub_.requests()[0].target, "/jira/rest/api/2/issue/ABC-1/worklog");
  EXPECT_EQ(json::parse(stub_.requests()[0].body),
            json::parse(R"({"timeSpent":"1h 30m","comment":"wiring",)"
                        R"("started":"2026-03-02T09:00:00.000+0000"})"));
}

TEST_F(ConnectorAlmSenderTest, ServerErrorsRetryAfterTheirDelayAndClientErrorsArePermanent) {
  stub_.enqueue(StubResponse{.status = 503, .headers = {{"Retry-After", "7"}}});
  const auto busy = sender_.send(entry("comment", 1, {{"text", "x"}}), jira_, "pat-1");
  EXPECT_EQ(busy.kind, SendResult::Kind::retry);
  EXPECT_EQ(busy.retry_after_ms, 7000);
  stub_.enqueue(
      StubResponse{.status = 400, .body = R"({"errorMessages":["Issue does not exist"]})"});
  const auto bad = sender_.send(entry("comment", 1, {{"text", "x"}}), jira_, "pat-1");
  EXPECT_EQ(bad.kind, SendResult::Kind::permanent);
  EXPECT_NE(bad.error.find("Issue does not exist"), std::string::npos) << bad.error;
  EXPECT_EQ(bad.error.find("pat-1"), std::string::npos);
}

TEST_F(ConnectorAlmSenderTest, AWebhookEntryIsPostedSignedWithAStableDeliveryId) {
  stub_.enqueue(StubResponse{.status = 204});
  store::AlmConnectionRecord hook;
  hook.type = "webhook";
  hook.url = stub_.url("/hooks/commits");
  const auto r = sender_.send(entry("webhook", 0, {{"commands", json::array{}}}), hook, "key-1");
  EXPECT_EQ(r.kind, SendResult::Kind::sent) << r.error;
  ASSERT_EQ(stub_.requests().size(), 1u);
  const auto requests = stub_.requests();
  const auto& req = requests[0];
  EXPECT_EQ(req.target, "/hooks/commits");
  EXPECT_EQ(req.header("X-Hub-Signature-256").value_or(""),
            "sha256=" + auth::to_hex(auth::hmac_sha256("key-1", req.body)));
  EXPECT_EQ(req.header("X-Commitbridge-Delivery").value_or(""), "outbox-42");
  EXPECT_EQ(json::parse(req.body).at("action").as_string(), "webhook");
}

TEST_F(ConnectorAlmSenderTest, ProjectKeysComeFromTheProjectList) {
  stub_.enqueue(StubResponse{.status = 200, .body = R"([{"key":"ABC"},{"key":"ORB"}])"});
  auto keys = sender_.list_project_keys(jira_, "pat-1");
  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  EXPECT_EQ(*keys, (std::vector<std::string>{"ABC", "ORB"}));
  EXPECT_EQ(stub_.requests()[0].target, "/jira/rest/api/2/project");
  stub_.enqueue(StubResponse{.status = 401});
  auto denied = sender_.list_project_keys(jira_, "pat-1");
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::peer_unavailable);
}

}  // namespace
}  // namespace cb::pipeline
