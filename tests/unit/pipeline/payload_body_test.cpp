// json_object_text (json_text + check_json_object), parse_endpoint and is_recorded_header.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "pipeline/endpoint.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/payload_body.hpp"

namespace cb::pipeline {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kObject = R"({"eventKey":"repo:refs_changed","n":1})";

/// json_object_text() with the text copied out of the view (which may point into `decoded`).
Result<std::string> json_payload(std::string_view content_type, std::string_view body) {
  std::string decoded;
  auto text = json_object_text(content_type, body, decoded);
  if (!text) return std::unexpected(text.error());
  return std::string(*text);
}

TEST(JsonPayloadTest, ApplicationJsonIsReturnedAsIs) {
  auto r = json_payload("application/json", kObject);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, kObject);
}

TEST(JsonPayloadTest, ParametersAndCaseOfTheMediaTypeDoNotMatter) {
  for (const std::string_view type :
       {"application/json; charset=UTF-8", "application/json;charset=utf-8",
        "  Application/JSON ; charset=UTF-8", "text/json"}) {
    auto r = json_payload(type, kObject);
    ASSERT_TRUE(r.has_value()) << type << ": " << r.error().message;
    EXPECT_EQ(*r, kObject) << type;
  }
}

TEST(JsonPayloadTest, AnyPlusJsonTypeIsJson) {
  auto r = json_payload("application/vnd.github+json", kObject);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, kObject);
}

TEST(JsonPayloadTest, MissingContentTypeIsTakenAsJson) {
  auto r = json_payload("", kObject);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, kObject);
}

TEST(JsonPayloadTest, FormPayloadFieldIsUrlDecoded) {
  // {"a":"b c","plus":"x+y","pct":"100%"} with '+' for the space, %2B for the plus sign.
  const std::string body =
      "payload=%7B%22a%22%3A%22b+c%22%2C%22plus%22%3A%22x%2By%22%2C%22pct%22%3A%22100%25%22%7D";
  auto r = json_payload("application/x-www-form-urlencoded", body);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, R"({"a":"b c","plus":"x+y","pct":"100%"})");
}

TEST(JsonPayloadTest, FormPayloadIsFoundAmongOtherFields) {
  const std::string body = "token=abc&payload=%7B%22k%22%3A1%7D&other=2";
  auto r = json_payload("application/x-www-form-urlencoded; charset=utf-8", body);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, R"({"k":1})");
}

TEST(JsonPayloadTest, FormWithoutPayloadIsUnsupportedMediaType) {
  auto r = json_payload("application/x-www-form-urlencoded", "token=abc&other=2");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported_media_type);
  EXPECT_THAT(r.error().message, HasSubstr("'payload'"));
}

TEST(JsonPayloadTest, FormPayloadThatIsNotJsonIsMalformed) {
  auto r = json_payload("application/x-www-form-urlencoded", "payload=hello+world");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::malformed_payload);
}

TEST(JsonPayloadTest, OtherMediaTypesAreUnsupported) {
  for (const std::string_view type :
       {"text/plain", "application/xml", "multipart/form-data; boundary=x", "json"}) {
    auto r = json_payload(type, kObject);
    ASSERT_FALSE(r.has_value()) << type;
    EXPECT_EQ(r.error().code, ErrorCode::unsupported_media_type) << type;
  }
  auto r = json_payload("text/plain", kObject);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("'text/plain'"));
}

TEST(JsonPayloadTest, InvalidJsonIsMalformedAndSaysHowManyBytes) {
  auto r = json_payload("application/json", R"({"eventKey": )");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::malformed_payload);
  EXPECT_THAT(r.error().message, HasSubstr("not valid JSON"));
  EXPECT_THAT(r.error().message, HasSubstr("13 bytes"));
}

TEST(JsonPayloadTest, JsonThatIsNotAnObjectIsMalformed) {
  for (const std::string_view body : {"[1,2,3]", "\"text\"", "42", "null"}) {
    auto r = json_payload("application/json", body);
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::malformed_payload) << body;
    EXPECT_EQ(r.error().message, "body is JSON but not an object") << body;
  }
}

TEST(CheckJsonObjectTest, AcceptsExactlyTheTextsAFullParseAcceptsAsAnObject) {
  const std::string deep_ok = "{\"a\":" + std::string(30, '[') + std::string(30, ']') + "}";
  const std::string too_deep = "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
  struct Case {
    std::string text;
    bool ok;
  };
  const std::vector<Case> cases{
      {R"({})", true},
      {" \n\t{\"eventKey\": \"repo:refs_changed\", \"n\": [1, -2.5e3, true, null]}\r\n ", true},
      {R"({"s":"caf\u00e9 \ud83d\ude00"})", true},
      {"{\"s\":\"caf\xc3\xa9\"}", true},  // UTF-8 as is
      {deep_ok, true},
      {too_deep, false},
      {"{\"s\":\"\xff\"}", false},  // not UTF-8
      {R"({"a":1}x)", false},
      {R"({"a":1} {"b":2})", false},
      {R"({"a":1,})", false},
      {R"({"a" 1})", false},
      {R"({/* c */"a":1})", false},
      {R"({"a":01})", false},
      {R"({"a":"unterminated)", false},
      {"", false},
      {"   ", false},
      {R"([{"a":1}])", false},
      {R"("{}")", false},
      {"1", false},
  };
  for (const auto& c : cases) {
    boost::system::error_code ec;
    const auto full = boost::json::parse(c.text, ec);
    EXPECT_EQ(!ec && full.is_object(), c.ok) << "the reference parse disagrees: " << c.text;
    const auto checked = check_json_object(c.text);
    EXPECT_EQ(checked.has_value(), c.ok) << c.text;
    if (!checked) {
      EXPECT_EQ(checked.error().code, ErrorCode::malformed_payload) << c.text;
    }
  }
}

TEST(CheckJsonObjectTest, TooDeepSaysSoInsteadOfInvalid) {
  const std::string deep = "{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}";
  const auto r = check_json_object(deep);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::malformed_payload);
  EXPECT_THAT(r.error().message, HasSubstr("deeper than 32 levels"));
  EXPECT_THAT(r.error().message, Not(HasSubstr("not valid JSON")));
}

TEST(StoredExternalIdTest, LongIdsKeepTheirDifferencesAndShortOnesStayAsTheyAre) {
  EXPECT_EQ(stored_external_id("5f1c2c8e-0b6b-4a8e-9c4f-1d2e3f4a5b6c"),
            "5f1c2c8e-0b6b-4a8e-9c4f-1d2e3f4a5b6c");
  const std::string at_limit(kMaxStoredExternalId, 'q');
  EXPECT_EQ(stored_external_id(at_limit), at_limit);
  const std::string prefix(256, 'q');
  const std::string a = stored_external_id(prefix + "A");
  const std::string b = stored_external_id(prefix + "B");
  EXPECT_NE(a, b);
  EXPECT_EQ(a, stored_external_id(prefix + "A"));
  EXPECT_LE(a.size(), kMaxStoredExternalId);
  EXPECT_EQ(a.substr(0, 120), prefix.substr(0, 120));
  EXPECT_THAT(a, HasSubstr("...sha256:"));
  EXPECT_NE(stored_external_id(std::string(4000, 'z')), stored_external_id(std::string(7000, 'z')));
}

TEST(JsonPayloadTest, EmptyBodyIsMalformed) {
  auto r = json_payload("application/json", "");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::malformed_payload);
}

// ---- endpoint -----------------------------------------------------------------------------------

TEST(EndpointTest, ParsesBothSegmentsAndRoundTrips) {
  EXPECT_EQ(parse_endpoint("trigger-scm-push-request"), Endpoint::trigger_scm_push_request);
  EXPECT_EQ(parse_endpoint("sync-alm-commits"), Endpoint::sync_alm_commits);
  EXPECT_EQ(to_string(Endpoint::trigger_scm_push_request), "trigger-scm-push-request");
  EXPECT_EQ(to_string(Endpoint::sync_alm_commits), "sync-alm-commits");
  for (const auto e : {Endpoint::trigger_scm_push_request, Endpoint::sync_alm_commits}) {
    EXPECT_EQ(parse_endpoint(to_string(e)), e);
  }
}

TEST(EndpointTest, AnythingElseIsNotAnEndpoint) {
  for (const std::string_view s :
       {"", "Trigger-Scm-Push-Request", "trigger-scm-push-request/", "sync_alm_commits",
        "sync-alm-commit", "enterprise", " sync-alm-commits"}) {
    EXPECT_FALSE(parse_endpoint(s).has_value()) << "'" << s << "'";
  }
}

// ---- recorded headers ---------------------------------------------------------------------------

TEST(RecordedHeaderTest, CredentialsAreNeverRecorded) {
  for (const std::string_view name :
       {"Authorization", "authorization", "X-Hub-Signature", "X-Hub-Signature-256",
        "x-hub-signature", "X-Gitlab-Token", "X-Gitea-Signature", "Cookie", "Proxy-Authorization",
        "Host", "Content-Length"}) {
    EXPECT_FALSE(is_recorded_header(name)) << name;
  }
}

TEST(RecordedHeaderTest, DeliveryDescribingHeadersAreRecordedInAnyCase) {
  for (const std::string_view name :
       {"Content-Type", "content-type", "User-Agent", "X-Event-Key", "X-Request-Id", "x-request-id",
        "X-GitHub-Event", "X-GitHub-Delivery", "X-Gitlab-Event", "X-Gitlab-Event-UUID",
        "X-Gitea-Delivery", "X-Attempt-Number"}) {
    EXPECT_TRUE(is_recorded_header(name)) << name;
  }
}

TEST(NewUuidTest, IsAVersionSevenUuidStartingWithTheTimeInMilliseconds) {
  const auto ms_now = [] {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  };
  const std::uint64_t before = ms_now();
  const std::string a = new_uuid();
  const std::string b = new_uuid();
  const std::uint64_t after = ms_now();
  EXPECT_NE(a, b);
  for (const auto& u : {a, b}) {
    ASSERT_EQ(u.size(), 36u) << u;
    for (std::size_t i = 0; i < u.size(); ++i) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        EXPECT_EQ(u[i], '-') << u;
      } else {
        EXPECT_TRUE((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')) << u;
      }
    }
    EXPECT_EQ(u[14], '7') << u;
    EXPECT_NE(std::string_view("89ab").find(u[19]), std::string_view::npos) << u;
    const std::uint64_t ms = std::stoull(u.substr(0, 8) + u.substr(9, 4), nullptr, 16);
    EXPECT_GE(ms, before) << u;
    EXPECT_LE(ms, after) << u;
  }
  // Later ids sort after earlier ones (once the millisecond has changed).
  const std::uint64_t start = ms_now();
  while (ms_now() == start) {
  }
  EXPECT_LT(a, new_uuid());
}

}  // namespace
}  // namespace cb::pipeline
