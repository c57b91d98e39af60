#include "auth/token_format.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cb::auth {
namespace {

bool is_lower_hex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

const std::string kId = "0123456789abcdef";
const std::string kSecret(64, 'a');

TEST(TokenFormat, TypeNamesRoundTrip) {
  EXPECT_EQ(to_string(TokenType::webhook), "webhook");
  EXPECT_EQ(to_string(TokenType::api), "api");
  EXPECT_EQ(parse_token_type("webhook"), TokenType::webhook);
  EXPECT_EQ(parse_token_type("api"), TokenType::api);
  const auto bad = parse_token_type("Webhook");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(token_prefix(TokenType::webhook), "cbw");
  EXPECT_EQ(token_prefix(TokenType::api), "cba");
}

TEST(TokenFormat, GenerateHasPublicIdAnd256BitSecret) {
  const TokenParts t = generate_token(TokenType::webhook);
  EXPECT_EQ(t.type, TokenType::webhook);
  EXPECT_EQ(t.public_id.size(), 16u);
  EXPECT_EQ(t.secret.size(), 64u);  // 32 bytes = 256 bits
  EXPECT_TRUE(is_lower_hex(t.public_id));
  EXPECT_TRUE(is_lower_hex(t.secret));
  const std::string text = format_token(t);
  EXPECT_EQ(text.size(), 4u + 16u + 1u + 64u);
  EXPECT_TRUE(text.starts_with("cbw_"));
  EXPECT_TRUE(format_token(generate_token(TokenType::api)).starts_with("cba_"));
}

TEST(TokenFormat, ParseFormatRoundTrip) {
  for (const auto type : {TokenType::webhook, TokenType::api}) {
    const TokenParts t = generate_token(type);
    const auto parsed = parse_token(format_token(t));
    ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
    EXPECT_EQ(parsed->type, type);
    EXPECT_EQ(parsed->public_id, t.public_id);
    EXPECT_EQ(parsed->secret, t.secret);
    EXPECT_EQ(format_token(*parsed), format_token(t));
  }
}

TEST(TokenFormat, ParseFixedText) {
  const auto parsed = parse_token("cbw_" + kId + "_" + kSecret);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->type, TokenType::webhook);
  EXPECT_EQ(parsed->public_id, kId);
  EXPECT_EQ(parsed->secret, kSecret);
}

TEST(TokenFormat, GeneratedTokensAreDistinct) {
  std::set<std::string> texts, ids, secrets;
  for (int i = 0; i < 200; ++i) {
    const TokenParts t = generate_token(TokenType::webhook);
    texts.insert(format_token(t));
    ids.insert(t.public_id);
    secrets.insert(t.secret);
  }
  EXPECT_EQ(texts.size(), 200u);
  EXPECT_EQ(ids.size(), 200u);
  EXPECT_EQ(secrets.size(), 200u);
}

TEST(TokenFormat, RandomHexLength) {
  EXPECT_EQ(random_hex(0), "");
  EXPECT_EQ(random_hex(1).size(), 2u);
  EXPECT_EQ(random_hex(32).size(), 64u);
  EXPECT_TRUE(is_lower_hex(random_hex(32)));
  EXPECT_NE(random_hex(32), random_hex(32));
}

TEST(TokenFormat, ParseRejectsMalformedWithoutLeakingSecret) {
  const std::string secret = "5ec2e7" + std::string(58, 'b');
  const std::string bad[] = {
      "",
      "cbw",
      "cbx_" + kId + "_" + secret,                      // unknown prefix
      "CBW_" + kId + "_" + secret,                      // prefix is lower case
      "cbw_" + kId + "_" + secret + "0",                // too long
      "cbw_" + kId + "_" + secret.substr(1),            // too short
      "cbw_" + kId + "-" + secret,                      // wrong separator
      "cbw_" + kId.substr(0, 15) + "g_" + secret,       // non-hex public id
      "cbw_" + kId + "_" + secret.substr(0, 63) + "B",  // upper-case hex
      "cbw_" + kId + "_" + secret.substr(0, 63) + "z",
      " cbw_" + kId + "_" + secret.substr(1),
  };
  for (const auto& text : bad) {
    const auto r = parse_token(text);
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_token);
    EXPECT_EQ(r.error().message.find("5ec2e7"), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().detail.find("5ec2e7"), std::string::npos) << r.error().detail;
    EXPECT_NE(r.error().message.find("cbw_/cba_"), std::string::npos);
  }
}

}  // namespace
}  // namespace cb::auth
