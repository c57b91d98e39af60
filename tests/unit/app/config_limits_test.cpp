// The limit settings: defaults, TOML keys, COMMITBRIDGE_<SECTION>_<KEY> variables and ranges.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/config.hpp"
#include "config_test_util.hpp"

namespace cb::app {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using testing::env_of;

class ConfigLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-config-limits-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<Config> load_toml(const std::string& text, std::map<std::string, std::string> env = {}) {
    const auto path = dir_ / "commitbridge.toml";
    std::ofstream(path, std::ios::trunc) << text;
    ConfigOverrides o;
    o.config_file = path;
    return load_config(o, env_of(std::move(env)));
  }

  fs::path dir_;
};

TEST_F(ConfigLimitsTest, Defaults) {
  auto c = load_config(ConfigOverrides{}, env_of({}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->max_body_bytes, 25u * 1024 * 1024);
  EXPECT_EQ(c->max_header_bytes, 64u * 1024);
  EXPECT_EQ(c->max_header_count, 100u);
  EXPECT_EQ(c->max_connections, 1024u);
  EXPECT_EQ(c->header_timeout_ms, 10'000);
  EXPECT_EQ(c->body_timeout_ms, 60'000);
  EXPECT_EQ(c->idle_timeout_ms, 60'000);
  EXPECT_EQ(c->org_requests_per_second, 200);
  EXPECT_EQ(c->org_burst, 2000);
  EXPECT_EQ(c->write_queue_max, 10'000u);
}

TEST_F(ConfigLimitsTest, FileSetsTheLimits) {
  auto c = load_toml(
      "[server]\nmax_header_count = 40\nmax_connections = 64\n"
      "[limits]\norg_requests_per_second = 0\norg_burst = 5\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->max_header_count, 40u);
  EXPECT_EQ(c->max_connections, 64u);
  EXPECT_EQ(c->org_requests_per_second, 0);  // no limit
  EXPECT_EQ(c->org_burst, 5);
}

TEST_F(ConfigLimitsTest, EnvironmentWinsOverTheFile) {
  auto c = load_toml("[server]\nmax_connections = 64\n[limits]\norg_burst = 5\n",
                     {{"COMMITBRIDGE_SERVER_MAX_CONNECTIONS", "8"},
                      {"COMMITBRIDGE_SERVER_MAX_HEADER_COUNT", "12"},
                      {"COMMITBRIDGE_LIMITS_ORG_REQUESTS_PER_SECOND", "50"},
                      {"COMMITBRIDGE_LIMITS_ORG_BURST", "75"}});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->max_connections, 8u);
  EXPECT_EQ(c->max_header_count, 12u);
  EXPECT_EQ(c->org_requests_per_second, 50);
  EXPECT_EQ(c->org_burst, 75);
}

TEST_F(ConfigLimitsTest, OutOfRangeValuesAreRefusedWithTheKey) {
  struct Case {
    const char* var;
    const char* value;
    const char* message;
  };
  for (const auto& [var, value, message] : {
           Case{"COMMITBRIDGE_SERVER_MAX_CONNECTIONS", "0",
                "server.max_connections: 0 is out of range [1, 1000000]"},
           Case{"COMMITBRIDGE_SERVER_MAX_HEADER_COUNT", "7",
                "server.max_header_count: 7 is out of range [8, 10000]"},
           Case{"COMMITBRIDGE_LIMITS_ORG_REQUESTS_PER_SECOND", "-1",
                "limits.org_requests_per_second: -1 is out of range [0, 1000000]"},
           Case{"COMMITBRIDGE_LIMITS_ORG_BURST", "0",
                "limits.org_burst: 0 is out of range [1, 10000000]"},
           Case{"COMMITBRIDGE_LIMITS_ORG_BURST", "lots",
                "limits.org_burst: 'lots' is not a whole number"},
       }) {
    auto c = load_config(ConfigOverrides{}, env_of({{var, value}}));
    ASSERT_FALSE(c.has_value()) << var;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(c.error().message, std::string(var) + ": " + message);
  }
}

TEST_F(ConfigLimitsTest, UnknownKeyInTheLimitsSectionIsRefused) {
  auto c = load_toml("[limits]\norg_requests_per_minute = 10\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message,
              HasSubstr("limits.org_requests_per_minute is not a known setting"));
}

}  // namespace
}  // namespace cb::app
