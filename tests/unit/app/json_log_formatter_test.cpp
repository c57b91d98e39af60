// JSON log lines: each record is one valid JSON object on one line, whatever the message holds.

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "app/json_log_formatter.hpp"

namespace cb::app {
namespace {

namespace json = boost::json;
using ::testing::MatchesRegex;

/// A logger writing JSON lines into a string stream.
struct Capture {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;
  Capture() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_formatter(std::make_unique<JsonLogFormatter>());
    logger->set_level(spdlog::level::trace);
  }
  /// Every line, each parsed as JSON (a test failure for a line that is not).
  std::vector<json::object> lines() {
    std::vector<json::object> result;
    std::istringstream in(out.str());
    std::string line;
    while (std::getline(in, line)) {
      boost::system::error_code ec;
      auto v = json::parse(line, ec);
      EXPECT_FALSE(ec) << "not JSON: " << line;
      EXPECT_TRUE(v.is_object()) << line;
      if (!ec && v.is_object()) result.push_back(v.as_object());
    }
    return result;
  }
};

std::string escaped(std::string_view text) {
  std::string out;
  append_json_escaped(out, text);
  return out;
}

TEST(JsonLogFormatterTest, MessagesWithQuotesAndControlCharactersStayOneValidLine) {
  Capture c;
  const std::string nasty =
      "org=ac\"me said \"hi\" \\ back\\slash\nnew line\r\ttab \x01\x1f\x7f and ünïcödé ✓";
  c.logger->warn("request_id=abc123 {}", nasty);
  c.logger->info("plain");
  c.logger->flush();
  const std::string text = c.out.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  const auto lines = c.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("message").as_string(), "request_id=abc123 " + nasty);
  EXPECT_EQ(lines[0].at("level").as_string(), "warning");
  EXPECT_EQ(lines[0].at("request_id").as_string(), "abc123");
  EXPECT_EQ(lines[0].at("org").as_string(), "ac\"me");
  EXPECT_TRUE(lines[0].at("thread").is_number());
  EXPECT_THAT(std::string(lines[0].at("time").as_string()),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"));
  EXPECT_EQ(lines[1].at("message").as_string(), "plain");
  EXPECT_EQ(lines[1].at("level").as_string(), "info");
  EXPECT_FALSE(lines[1].contains("request_id"));
}

TEST(JsonLogFormatterTest, InvalidUtf8BecomesReplacementCharacters) {
  Capture c;
  // A lone continuation byte, a truncated 3-byte sequence, an overlong '/', a surrogate.
  c.logger->error("bad \x80 then \xe2\x82 then \xc0\xaf then \xed\xa0\x80 end");
  c.logger->flush();
  const auto lines = c.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("message").as_string(),
            "bad \xef\xbf\xbd then \xef\xbf\xbd\xef\xbf\xbd then \xef\xbf\xbd\xef\xbf\xbd then "
            "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
}

TEST(JsonLogFormatterTest, DeliveryIdAndOrgWordsBecomeFields) {
  Capture c;
  c.logger->info("delivery_id=d-1 org=Northwind endpoint=x -> done: 1 job run");
  c.logger->info("no_delivery_id=x borg=y");  // not whole words
  c.logger->flush();
  const auto lines = c.lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("delivery_id").as_string(), "d-1");
  EXPECT_EQ(lines[0].at("org").as_string(), "Northwind");
  EXPECT_FALSE(lines[1].contains("delivery_id"));
  EXPECT_FALSE(lines[1].contains("org"));
}

TEST(JsonLogFormatterTest, EscapingRules) {
  EXPECT_EQ(escaped("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(escaped("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
  EXPECT_EQ(escaped(std::string("\x00\x1f\x7f", 3)), "\\u0000\\u001f\\u007f");
  EXPECT_EQ(escaped("é✓😀"), "é✓😀");                                        // valid UTF-8 is kept
  EXPECT_EQ(escaped("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd");  // above U+10FFFF
  EXPECT_EQ(escaped("</script>"), "</script>");
}

}  // namespace
}  // namespace cb::app
