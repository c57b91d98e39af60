// load_config: defaults, TOML file, environment and command line, in that order of precedence.

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

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-config-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path write_config(const std::string& text, const std::string& name = "commitbridge.toml") {
    const auto path = dir_ / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    return path;
  }

  Result<Config> load_file(const std::string& text, std::map<std::string, std::string> env = {}) {
    ConfigOverrides o;
    o.config_file = write_config(text);
    return load_config(o, env_of(std::move(env)));
  }

  fs::path dir_;
};

TEST_F(ConfigTest, DefaultsWithoutFileOrEnvironment) {
  auto c = load_config(ConfigOverrides{}, env_of({}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->listen_host, "127.0.0.1");
  EXPECT_EQ(c->listen_port, 8080);
  EXPECT_EQ(c->data_dir, fs::path("commitbridge-data"));
  EXPECT_EQ(c->max_body_bytes, 25u * 1024 * 1024);
  EXPECT_EQ(c->max_header_bytes, 64u * 1024);
  EXPECT_EQ(c->threads, 2u);
  EXPECT_EQ(c->write_queue_max, 10'000u);
  EXPECT_EQ(c->max_attempts, 5);
  EXPECT_EQ(c->retry_backoff_ms, 2000);
  EXPECT_EQ(c->job_timeout_ms, 3'600'000);
  EXPECT_EQ(c->log_level, "info");
  EXPECT_FALSE(c->log_json);
  EXPECT_EQ(c->key, "");
  EXPECT_EQ(c->database_file(), fs::path("commitbridge-data") / "commitbridge.db");
  EXPECT_EQ(c->effective_key_file(), fs::path("commitbridge-data") / "secret.key");
  EXPECT_EQ(c->effective_public_url(), "http://127.0.0.1:8080");
}

TEST_F(ConfigTest, FileValuesAreApplied) {
  auto c = load_file(R"(
[server]
listen = "0.0.0.0:9090"
public_url = "https://hooks.example.com/"
threads = 4
max_body_bytes = 1048576
header_timeout_ms = 5000

[storage]
data_dir = "/var/lib/commitbridge"
write_queue_max = 500

[security]
key_file = "/etc/commitbridge/key"

[worker]
max_attempts = 7
retry_backoff_ms = 250
job_timeout_ms = 60000

[log]
level = "debug"
json = true
)");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->listen_host, "0.0.0.0");
  EXPECT_EQ(c->listen_port, 9090);
  EXPECT_EQ(c->public_url, "https://hooks.example.com/");
  EXPECT_EQ(c->effective_public_url(), "https://hooks.example.com");
  EXPECT_EQ(c->threads, 4u);
  EXPECT_EQ(c->max_body_bytes, 1'048'576u);
  EXPECT_EQ(c->header_timeout_ms, 5000);
  EXPECT_EQ(c->data_dir, fs::path("/var/lib/commitbridge"));
  EXPECT_EQ(c->database_file(), fs::path("/var/lib/commitbridge/commitbridge.db"));
  EXPECT_EQ(c->write_queue_max, 500u);
  EXPECT_EQ(c->effective_key_file(), fs::path("/etc/commitbridge/key"));
  EXPECT_EQ(c->max_attempts, 7);
  EXPECT_EQ(c->retry_backoff_ms, 250);
  EXPECT_EQ(c->job_timeout_ms, 60'000);
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_TRUE(c->log_json);
}

TEST_F(ConfigTest, ConfigFileCanBeNamedByTheEnvironment) {
  const auto path = write_config("[server]\nthreads = 8\n", "from-env.toml");
  auto c = load_config(ConfigOverrides{}, env_of({{"COMMITBRIDGE_CONFIG", path.string()}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->threads, 8u);
}

TEST_F(ConfigTest, EnvironmentBeatsTheFile) {
  auto c = load_file("[server]\nlisten = \"127.0.0.1:9000\"\nthreads = 4\n[log]\njson = false\n",
                     {{"COMMITBRIDGE_SERVER_LISTEN", "127.0.0.1:9001"},
                      {"COMMITBRIDGE_SERVER_MAX_BODY_BYTES", "2048"},
                      {"COMMITBRIDGE_LOG_JSON", "yes"},
                      {"COMMITBRIDGE_STORAGE_DATA_DIR", "/env/data"},
                      {"COMMITBRIDGE_SECURITY_KEY", "abcd"}});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->listen_port, 9001);
  EXPECT_EQ(c->threads, 4u);  // from the file, no variable for it
  EXPECT_EQ(c->max_body_bytes, 2048u);
  EXPECT_TRUE(c->log_json);
  EXPECT_EQ(c->data_dir, fs::path("/env/data"));
  EXPECT_EQ(c->key, "abcd");
}

TEST_F(ConfigTest, CommandLineBeatsTheEnvironment) {
  ConfigOverrides o;
  o.config_file = write_config("[server]\nlisten = \"127.0.0.1:9000\"\n");
  o.listen = "[::1]:9500";
  o.data_dir = fs::path("/cli/data");
  auto c = load_config(o, env_of({{"COMMITBRIDGE_SERVER_LISTEN", "127.0.0.1:9001"},
                                  {"COMMITBRIDGE_STORAGE_DATA_DIR", "/env/data"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->listen_host, "::1");
  EXPECT_EQ(c->listen_port, 9500);
  EXPECT_EQ(c->data_dir, fs::path("/cli/data"));
  EXPECT_EQ(c->effective_public_url(), "http://[::1]:9500");
}

TEST_F(ConfigTest, UnknownKeyNamesFileAndKey) {
  auto c = load_file("[server]\nlisten = \"127.0.0.1:1\"\nmax_bodybytes = 5\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(c.error().message, HasSubstr((dir_ / "commitbridge.toml").string()));
  EXPECT_THAT(c.error().message, HasSubstr("server.max_bodybytes"));
  EXPECT_THAT(c.error().message, HasSubstr("not a known setting"));
}

TEST_F(ConfigTest, UnknownSectionIsAnUnknownKey) {
  auto c = load_file("[serverr]\nlisten = \"127.0.0.1:1\"\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("serverr.listen"));
}

TEST_F(ConfigTest, TopLevelKeyMustBeInASection) {
  auto c = load_file("threads = 4\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(c.error().message, HasSubstr("'threads' must be a [section]"));
}

TEST_F(ConfigTest, WrongTypeIsAnError) {
  for (const std::string text : {"[server]\nthreads = \"four\"\n", "[server]\nlisten = 8080\n",
                                 "[log]\njson = \"yes\"\n", "[server]\nmax_body_bytes = 1.5\n"}) {
    auto c = load_file(text);
    ASSERT_FALSE(c.has_value()) << text;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_argument) << text;
    EXPECT_THAT(c.error().message, HasSubstr("has the wrong type")) << text;
    EXPECT_THAT(c.error().message, HasSubstr("commitbridge.toml")) << text;
  }
}

TEST_F(ConfigTest, OutOfRangeValueIsAnError) {
  auto c = load_file("[server]\nthreads = 0\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(c.error().message, HasSubstr("server.threads: 0 is out of range [1, 64]"));
  EXPECT_THAT(c.error().message, HasSubstr("commitbridge.toml"));
}

TEST_F(ConfigTest, BadLogLevelIsAnError) {
  auto c = load_file("[log]\nlevel = \"verbose\"\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message, HasSubstr("'verbose' is not one of"));
}

TEST_F(ConfigTest, InvalidTomlNamesFileAndLine) {
  auto c = load_file("[server]\nthreads = 4\nthis is not toml\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(c.error().message, HasSubstr((dir_ / "commitbridge.toml").string() + ":3:"));
}

TEST_F(ConfigTest, MissingConfigFileIsAnError) {
  ConfigOverrides o;
  o.config_file = dir_ / "absent.toml";
  auto c = load_config(o, env_of({}));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(c.error().message, HasSubstr("absent.toml does not exist"));
}

TEST_F(ConfigTest, BadListenIsAnErrorFromFileEnvOrCommandLine) {
  auto from_file = load_file("[server]\nlisten = \"localhost\"\n");
  ASSERT_FALSE(from_file.has_value());
  EXPECT_EQ(from_file.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(from_file.error().message, HasSubstr("is not HOST:PORT"));

  auto from_env =
      load_config(ConfigOverrides{}, env_of({{"COMMITBRIDGE_SERVER_LISTEN", "host:99999"}}));
  ASSERT_FALSE(from_env.has_value());
  EXPECT_THAT(from_env.error().message, HasSubstr("COMMITBRIDGE_SERVER_LISTEN"));
  EXPECT_THAT(from_env.error().message, HasSubstr("'99999'"));

  ConfigOverrides o;
  o.listen = "127.0.0.1:http";
  auto from_cli = load_config(o, env_of({}));
  ASSERT_FALSE(from_cli.has_value());
  EXPECT_EQ(from_cli.error().code, ErrorCode::invalid_argument);
}

TEST_F(ConfigTest, BadEnvironmentValueNamesTheVariable) {
  auto c = load_config(ConfigOverrides{}, env_of({{"COMMITBRIDGE_WORKER_MAX_ATTEMPTS", "many"}}));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(c.error().message, HasSubstr("COMMITBRIDGE_WORKER_MAX_ATTEMPTS"));
  EXPECT_THAT(c.error().message, HasSubstr("'many' is not a whole number"));
}

// ---- parse_listen -------------------------------------------------------------------------------

TEST(ParseListenTest, Variants) {
  struct Case {
    std::string_view text;
    std::string host;
    std::uint16_t port;
  };
  for (const auto& c : {Case{"127.0.0.1:8080", "127.0.0.1", 8080}, Case{"[::1]:9000", "::1", 9000},
                        Case{":8080", "0.0.0.0", 8080}, Case{"localhost:1", "127.0.0.1", 1},
                        Case{"0.0.0.0:0", "0.0.0.0", 0}, Case{"10.1.2.3:65535", "10.1.2.3", 65535},
                        Case{"[::]:443", "::", 443}}) {
    auto r = parse_listen(c.text);
    ASSERT_TRUE(r.has_value()) << c.text << ": " << r.error().message;
    EXPECT_EQ(r->first, c.host) << c.text;
    EXPECT_EQ(r->second, c.port) << c.text;
  }
}

TEST(ParseListenTest, Rejects) {
  for (const std::string_view text :
       {"", "8080", "host:", "host:-1", "host:65536", "host:80x", "[::1]9000", "[::1",
        "[::1]:", "host: 80", "::1", "::1:8080", "[]:80"}) {
    auto r = parse_listen(text);
    ASSERT_FALSE(r.has_value()) << "'" << text << "'";
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << text;
  }
}

TEST(ParseListenTest, BareIpv6AddressAsksForBrackets) {
  auto r = parse_listen("::1:8080");
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message, HasSubstr("[::1]:8080"));
  EXPECT_THAT(r.error().message, HasSubstr("brackets"));
}

// ---- effective_public_url -----------------------------------------------------------------------

TEST(EffectivePublicUrlTest, DerivedFromListenOrTakenAsGiven) {
  Config c;
  EXPECT_EQ(c.effective_public_url(), "http://127.0.0.1:8080");
  c.listen_host = "0.0.0.0";
  c.listen_port = 9000;
  EXPECT_EQ(c.effective_public_url(), "http://127.0.0.1:9000");
  c.listen_host = "::1";
  EXPECT_EQ(c.effective_public_url(), "http://[::1]:9000");
  c.listen_host = "hooks.internal";
  EXPECT_EQ(c.effective_public_url(), "http://hooks.internal:9000");
  c.public_url = "https://ci.example.com/commitbridge///";
  EXPECT_EQ(c.effective_public_url(), "https://ci.example.com/commitbridge");
}

}  // namespace
}  // namespace cb::app
