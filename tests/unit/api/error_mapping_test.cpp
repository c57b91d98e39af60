// The one Error → HTTP mapping: status per code, JSON error body, headers.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "api/error_mapping.hpp"

namespace cb::api {
namespace {

namespace bhttp = boost::beast::http;
using ::testing::HasSubstr;
using ::testing::Not;

struct Mapping {
  ErrorCode code;
  unsigned status;
};

const std::vector<Mapping>& all_mappings() {
  static const std::vector<Mapping> table = {
      {ErrorCode::invalid_argument, 400},
      {ErrorCode::not_found, 404},
      {ErrorCode::unknown_org, 404},
      {ErrorCode::missing_credentials, 401},
      {ErrorCode::malformed_credentials, 401},
      {ErrorCode::invalid_signature, 401},
      {ErrorCode::invalid_token, 401},
      {ErrorCode::forbidden, 403},
      {ErrorCode::payload_too_large, 413},
      {ErrorCode::headers_too_large, 431},
      {ErrorCode::unsupported_media_type, 415},
      {ErrorCode::malformed_payload, 400},
      {ErrorCode::conflict, 409},
      {ErrorCode::store_unavailable, 503},
      {ErrorCode::queue_full, 503},
      {ErrorCode::rate_limited, 429},
      {ErrorCode::overloaded, 503},
      {ErrorCode::peer_unavailable, 502},
      {ErrorCode::method_not_allowed, 405},
      {ErrorCode::internal, 500},
  };
  return table;
}

TEST(HttpStatusTest, TableCoversEveryErrorCode) {
  // ErrorCode is contiguous from invalid_argument (0) to internal (last).
  ASSERT_EQ(all_mappings().size(), static_cast<std::size_t>(ErrorCode::internal) + 1);
  for (std::size_t i = 0; i < all_mappings().size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all_mappings()[i].code), i);
  }
}

TEST(HttpStatusTest, EachCodeMapsToItsStatus) {
  for (const auto& m : all_mappings()) {
    EXPECT_EQ(static_cast<unsigned>(http_status(m.code)), m.status) << to_string(m.code);
  }
}

TEST(ErrorResponseTest, StatusMatchesTheMappingForEveryCode) {
  for (const auto& m : all_mappings()) {
    const auto res = error_response(make_error(m.code, "msg"), 11, true);
    EXPECT_EQ(res.result_int(), m.status) << to_string(m.code);
  }
}

TEST(ErrorResponseTest, BodyIsExactlyCodeAndMessage) {
  const auto res = error_response(
      make_error(ErrorCode::invalid_signature, "X-Hub-Signature sha256 HMAC over 12 body bytes",
                 "3 tokens of the org considered"),
      11, true);
  EXPECT_EQ(res.body(),
            "{\"error\":{\"code\":\"invalid_signature\",\"message\":\"X-Hub-Signature sha256 HMAC "
            "over 12 body bytes\"}}\n");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-store");
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
}

TEST(ErrorResponseTest, DetailIsNeverSent) {
  for (const auto& m : all_mappings()) {
    const auto res =
        error_response(make_error(m.code, "public text", "SECRET-INTERNAL-DETAIL"), 11, false);
    EXPECT_THAT(res.body(), Not(HasSubstr("SECRET-INTERNAL-DETAIL"))) << to_string(m.code);
    EXPECT_THAT(res.body(), Not(HasSubstr("detail"))) << to_string(m.code);
    for (const auto& field : res) {
      EXPECT_THAT(std::string(field.value()), Not(HasSubstr("SECRET-INTERNAL-DETAIL")));
    }
    auto parsed = boost::json::parse(res.body());
    ASSERT_TRUE(parsed.is_object());
    ASSERT_EQ(parsed.as_object().size(), 1u);
    const auto& inner = parsed.as_object().at("error").as_object();
    EXPECT_EQ(inner.size(), 2u);
    EXPECT_EQ(inner.at("code").as_string(), to_string(m.code));
    EXPECT_EQ(inner.at("message").as_string(), "public text");
  }
}

TEST(ErrorResponseTest, MessageIsJsonEscaped) {
  const std::string message = "quote \" backslash \\ newline \n tab \t ünï </script>";
  const auto res = error_response(make_error(ErrorCode::invalid_argument, message), 11, true);
  auto parsed = boost::json::parse(res.body());
  EXPECT_EQ(parsed.at("error").at("message").as_string(), message);
}

TEST(ErrorResponseTest, ServiceUnavailableCarriesRetryAfter) {
  for (const auto code :
       {ErrorCode::store_unavailable, ErrorCode::queue_full, ErrorCode::overloaded}) {
    const auto res = error_response(make_error(code, "busy"), 11, true);
    EXPECT_EQ(res.result(), bhttp::status::service_unavailable);
    EXPECT_EQ(res[bhttp::field::retry_after], "1") << to_string(code);
  }
  for (const auto code : {ErrorCode::internal, ErrorCode::invalid_signature,
                          ErrorCode::payload_too_large, ErrorCode::peer_unavailable}) {
    const auto res = error_response(make_error(code, "x"), 11, true);
    EXPECT_EQ(res.count(bhttp::field::retry_after), 0u) << to_string(code);
  }
}

TEST(ErrorResponseTest, RateLimitedIs429WithTheErrorsRetryAfter) {
  Error e = make_error(ErrorCode::rate_limited, "slow down");
  e.retry_after_s = 7;
  const auto res = error_response(e, 11, true);
  EXPECT_EQ(res.result(), bhttp::status::too_many_requests);
  EXPECT_EQ(res[bhttp::field::retry_after], "7");
  EXPECT_EQ(res.body(), "{\"error\":{\"code\":\"rate_limited\",\"message\":\"slow down\"}}\n");
  // Without a hint the default is one second.
  const auto plain = error_response(make_error(ErrorCode::rate_limited, "x"), 11, true);
  EXPECT_EQ(plain[bhttp::field::retry_after], "1");
  // A 503 takes the hint too.
  Error busy = make_error(ErrorCode::queue_full, "busy");
  busy.retry_after_s = 3;
  EXPECT_EQ(error_response(busy, 11, true)[bhttp::field::retry_after], "3");
}

TEST(ErrorResponseTest, HeadersTooLargeIs431WithoutRetryAfter) {
  const auto res = error_response(make_error(ErrorCode::headers_too_large, "too many"), 11, false);
  EXPECT_EQ(res.result(), bhttp::status::request_header_fields_too_large);
  EXPECT_EQ(res.count(bhttp::field::retry_after), 0u);
  EXPECT_FALSE(res.keep_alive());
}

TEST(ErrorResponseTest, UnauthorizedCarriesWwwAuthenticate) {
  for (const auto code : {ErrorCode::missing_credentials, ErrorCode::malformed_credentials,
                          ErrorCode::invalid_signature, ErrorCode::invalid_token}) {
    const auto res = error_response(make_error(code, "no"), 11, true);
    EXPECT_EQ(res[bhttp::field::www_authenticate], "Basic realm=\"commitbridge\"")
        << to_string(code);
  }
  const auto res = error_response(make_error(ErrorCode::unknown_org, "no"), 11, true);
  EXPECT_EQ(res.count(bhttp::field::www_authenticate), 0u);
}

TEST(ErrorResponseTest, VersionAndKeepAliveAreTakenFromTheRequest) {
  const auto keep = error_response(make_error(ErrorCode::not_found, "x"), 11, true);
  EXPECT_EQ(keep.version(), 11u);
  EXPECT_TRUE(keep.keep_alive());
  const auto close = error_response(make_error(ErrorCode::not_found, "x"), 11, false);
  EXPECT_FALSE(close.keep_alive());
  const auto http10 = error_response(make_error(ErrorCode::not_found, "x"), 10, false);
  EXPECT_EQ(http10.version(), 10u);
  EXPECT_FALSE(http10.keep_alive());
}

TEST(JsonResponseTest, AppendsANewlineAndSetsHeaders) {
  const auto res = json_response(bhttp::status::accepted, R"({"status":"queued"})", 11, true);
  EXPECT_EQ(res.result(), bhttp::status::accepted);
  EXPECT_EQ(res.body(), "{\"status\":\"queued\"}\n");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res[bhttp::field::content_length], "20");
}

}  // namespace
}  // namespace cb::api
