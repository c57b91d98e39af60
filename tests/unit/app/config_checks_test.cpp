// load_config's checks: unknown COMMITBRIDGE_<SECTION>_<KEY> variables, the public base URL and
// its two names, and the source named when the encryption key is malformed.

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/application.hpp"
#include "app/config.hpp"
#include "config_test_util.hpp"
#include "pipeline/job_placeholders.hpp"

namespace cb::app {
namespace {

namespace fs = std::filesystem;

using testing::env_of;

Result<Config> load_env(std::map<std::string, std::string> vars) {
  return load_config(ConfigOverrides{}, env_of(std::move(vars)));
}

class ConfigChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-config-checks-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path file() const { return dir_ / "commitbridge.toml"; }

  Result<Config> load_toml(const std::string& text, std::map<std::string, std::string> env = {}) {
    std::ofstream(file(), std::ios::binary | std::ios::trunc) << text;
    ConfigOverrides o;
    o.config_file = file();
    return load_config(o, env_of(std::move(env)));
  }

  fs::path dir_;
};

// ---- unknown COMMITBRIDGE_<SECTION>_<KEY> variables ---------------------------------------------

TEST_F(ConfigChecksTest, UnknownKeyOfAKnownSectionIsRefused) {
  auto c = load_env({{"COMMITBRIDGE_SERVER_COLOUR", "red"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(c.error().message,
            "environment variable COMMITBRIDGE_SERVER_COLOUR is not a known setting of [server]");
}

TEST_F(ConfigChecksTest, CloseKnownVariableIsSuggested) {
  struct Case {
    const char* var;
    const char* section;
    const char* suggestion;
  };
  for (const auto& [var, section, suggestion] : {
           Case{"COMMITBRIDGE_JOBS_RUNNER_THREAD", "jobs", "COMMITBRIDGE_JOBS_RUNNER_THREADS"},
           Case{"COMMITBRIDGE_SERVER_PUBLIC_BASE_ULR", "server",
                "COMMITBRIDGE_SERVER_PUBLIC_BASE_URL"},
           Case{"COMMITBRIDGE_SECURITY_KEYFILE", "security", "COMMITBRIDGE_SECURITY_KEY_FILE"},
           Case{"COMMITBRIDGE_LOG_LEVL", "log", "COMMITBRIDGE_LOG_LEVEL"},
           Case{"COMMITBRIDGE_server_threads", "server", "COMMITBRIDGE_SERVER_THREADS"},
           Case{"COMMITBRIDGE_Alm_max_attempts", "alm", "COMMITBRIDGE_ALM_MAX_ATTEMPTS"},
       }) {
    auto c = load_env({{var, "4"}});
    ASSERT_FALSE(c.has_value()) << var;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_argument) << var;
    EXPECT_EQ(c.error().message, std::string("environment variable ") + var +
                                     " is not a known setting of [" + section + "]; did you mean " +
                                     suggestion + "?");
  }
}

TEST_F(ConfigChecksTest, EveryKnownSectionIsChecked) {
  for (const std::string section :
       {"SERVER", "STORAGE", "LIMITS", "SECURITY", "WORKER", "ALM", "JOBS", "LOG"}) {
    auto c = load_env({{"COMMITBRIDGE_" + section + "_NO_SUCH_KEY_AT_ALL", "1"}});
    ASSERT_FALSE(c.has_value()) << section;
    EXPECT_THAT(c.error().message,
                ::testing::StartsWith("environment variable COMMITBRIDGE_" + section +
                                      "_NO_SUCH_KEY_AT_ALL is not a known setting of ["))
        << section;
  }
  auto empty_key = load_env({{"COMMITBRIDGE_LOG_", "1"}});
  ASSERT_FALSE(empty_key.has_value());
  EXPECT_EQ(empty_key.error().message,
            "environment variable COMMITBRIDGE_LOG_ is not a known setting of [log]");
}

TEST_F(ConfigChecksTest, UnknownVariableIsRefusedEvenWithAConfigFile) {
  auto c = load_toml("[server]\nthreads = 4\n", {{"COMMITBRIDGE_WORKER_MAX_ATTEMPT", "3"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message,
            "environment variable COMMITBRIDGE_WORKER_MAX_ATTEMPT is not a known setting of "
            "[worker]; did you mean COMMITBRIDGE_WORKER_MAX_ATTEMPTS?");
}

TEST_F(ConfigChecksTest, FirstUnknownVariableInNameOrderIsReported) {
  auto c = load_env({{"COMMITBRIDGE_SERVER_ZZZ", "1"}, {"COMMITBRIDGE_ALM_ZZZ", "1"}});
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message,
            "environment variable COMMITBRIDGE_ALM_ZZZ is not a known setting of [alm]");
}

TEST_F(ConfigChecksTest, VariablesOutsideTheKnownSectionsAreLeftAlone) {
  const auto config_file = dir_ / "empty.toml";
  std::ofstream(config_file) << "";
  // Not a section (or not the whole first word): job command variables, build and test switches,
  // words that merely start like a section, and other tools' variables.
  auto c = load_env({
      {"COMMITBRIDGE_CONFIG", config_file.string()},
      {"COMMITBRIDGE_JOB", "deploy"},
      {"COMMITBRIDGE_RUN_ID", "7"},
      {"COMMITBRIDGE_BRANCH", "main"},
      {"COMMITBRIDGE_PULL_REQUEST_ID", "3"},
      {"COMMITBRIDGE_UPDATE_GOLDENS", "1"},
      {"COMMITBRIDGE_BUILD_BENCH", "ON"},
      {"COMMITBRIDGE_SERVER", "x"},
      {"COMMITBRIDGE_LOG", "x"},
      {"COMMITBRIDGE_LOGS_DIR", "/tmp"},
      {"COMMITBRIDGE_LOGGING_LEVEL", "debug"},
      {"COMMITBRIDGE_SERVERS_LIST", "a,b"},
      {"COMMITBRIDGE_ALMOST_DONE", "1"},
      {"COMMITBRIDGE_JOBSERVER_URL", "x"},
      {"COMMITBRIDGE_STORAGEX_DIR", "x"},
      {"COMMITBRIDGE_", "x"},
      {"COMMITBRIDGE__SERVER_X", "x"},
      {"XCOMMITBRIDGE_SERVER_COLOUR", "red"},
      {"commitbridge_server_colour", "red"},
      {"PATH", "/usr/bin"},
  });
  ASSERT_TRUE(c.has_value()) << c.error().message;
}

TEST_F(ConfigChecksTest, JobCommandVariablesAreNotRefused) {
  // A job command may call the CLI with the variables the job runner gives it.
  store::JobRunRecord run;
  run.id = 12;
  run.org_name = "acme";
  run.repository = "PRJ/repo";
  run.job_name = "deploy";
  run.branch = "main";
  run.pull_request_id = 5;
  std::map<std::string, std::string> vars;
  for (const auto& [name, value] : pipeline::run_environment(run, dir_ / "payload.json")) {
    vars[name] = value;
  }
  ASSERT_TRUE(vars.contains("COMMITBRIDGE_RUN_ID"));
  ASSERT_TRUE(vars.contains("COMMITBRIDGE_PULL_REQUEST_ID"));
  auto c = load_env(vars);
  ASSERT_TRUE(c.has_value()) << c.error().message;
}

TEST_F(ConfigChecksTest, EveryDocumentedVariableIsAccepted) {
  // The names used in docs/configuration.md, scripts, packaging and tests, with valid values.
  auto c = load_env({
      {"COMMITBRIDGE_SERVER_LISTEN", "127.0.0.1:0"},
      {"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", "https://cb.example.com"},
      {"COMMITBRIDGE_SERVER_THREADS", "2"},
      {"COMMITBRIDGE_SERVER_MAX_BODY_BYTES", "4096"},
      {"COMMITBRIDGE_SERVER_MAX_HEADER_BYTES", "4096"},
      {"COMMITBRIDGE_SERVER_MAX_HEADER_COUNT", "50"},
      {"COMMITBRIDGE_SERVER_MAX_CONNECTIONS", "10"},
      {"COMMITBRIDGE_SERVER_HEADER_TIMEOUT_MS", "1000"},
      {"COMMITBRIDGE_SERVER_BODY_TIMEOUT_MS", "1000"},
      {"COMMITBRIDGE_SERVER_IDLE_TIMEOUT_MS", "1000"},
      {"COMMITBRIDGE_STORAGE_DATA_DIR", "/tmp/cb"},
      {"COMMITBRIDGE_STORAGE_WRITE_QUEUE_MAX", "10"},
      {"COMMITBRIDGE_LIMITS_ORG_REQUESTS_PER_SECOND", "0"},
      {"COMMITBRIDGE_LIMITS_ORG_BURST", "10"},
      {"COMMITBRIDGE_SECURITY_KEY_FILE", "/tmp/cb/key"},
      {"COMMITBRIDGE_SECURITY_KEY", std::string(64, 'a')},
      {"COMMITBRIDGE_WORKER_MAX_ATTEMPTS", "2"},
      {"COMMITBRIDGE_WORKER_RETRY_BACKOFF_MS", "10"},
      {"COMMITBRIDGE_WORKER_JOB_TIMEOUT_MS", "1000"},
      {"COMMITBRIDGE_ALM_MAX_ATTEMPTS", "2"},
      {"COMMITBRIDGE_ALM_RETRY_BACKOFF_MS", "10"},
      {"COMMITBRIDGE_ALM_MAX_RETRY_BACKOFF_MS", "100"},
      {"COMMITBRIDGE_ALM_REQUEST_TIMEOUT_MS", "1000"},
      {"COMMITBRIDGE_ALM_PROJECT_KEYS_REFRESH_MS", "1000"},
      {"COMMITBRIDGE_JOBS_RUNNER_THREADS", "2"},
      {"COMMITBRIDGE_LOG_LEVEL", "debug"},
      {"COMMITBRIDGE_LOG_JSON", "true"},
  });
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->runner_threads, 2);
  auto old_name = load_env({{"COMMITBRIDGE_SERVER_PUBLIC_URL", "https://old.example"}});
  ASSERT_TRUE(old_name.has_value()) << old_name.error().message;
  EXPECT_EQ(old_name->effective_public_url(), "https://old.example");
}

TEST_F(ConfigChecksTest, ProcessEnvironmentListsItsVariables) {
  ASSERT_EQ(::setenv("COMMITBRIDGE_TEST_PROCESS_ENV_NAME", "x=y", 1), 0);
  const auto env = process_env();
  const auto names = env.names();
  ::unsetenv("COMMITBRIDGE_TEST_PROCESS_ENV_NAME");
  EXPECT_THAT(names, ::testing::Contains("COMMITBRIDGE_TEST_PROCESS_ENV_NAME"));
  EXPECT_THAT(names, ::testing::Each(::testing::Not(::testing::HasSubstr("="))));
}

// ---- server.public_base_url ---------------------------------------------------------------------

TEST_F(ConfigChecksTest, PublicBaseUrlIsAccepted) {
  struct Case {
    const char* value;
    const char* effective;
  };
  for (const auto& [value, effective] : {
           Case{"https://cb.example.com", "https://cb.example.com"},
           Case{"https://cb.example.com/", "https://cb.example.com"},
           Case{"http://10.0.0.5:8080", "http://10.0.0.5:8080"},
           Case{"http://[::1]:8080/", "http://[::1]:8080"},
           Case{"HTTPS://CB.example.com/hooks/", "HTTPS://CB.example.com/hooks"},
           Case{"https://ci.example.com/commitbridge", "https://ci.example.com/commitbridge"},
       }) {
    auto c = load_env({{"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", value}});
    ASSERT_TRUE(c.has_value()) << value << ": " << c.error().message;
    EXPECT_EQ(c->public_url, value);
    EXPECT_EQ(c->effective_public_url(), effective) << value;
  }
}

TEST_F(ConfigChecksTest, TrailingSlashGivesNoDoubleSlashInWebhookUrls) {
  auto c = load_toml("[server]\npublic_base_url = \"https://cb.example.com/\"\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  // How the CLI and the start-up banner build webhook URLs.
  EXPECT_EQ(c->effective_public_url() + "/api/webhook/v2/acme/enterprise/sync-alm-commits",
            "https://cb.example.com/api/webhook/v2/acme/enterprise/sync-alm-commits");
}

TEST_F(ConfigChecksTest, EmptyPublicBaseUrlMeansUnset) {
  auto from_env = load_env({{"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", ""}});
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message;
  EXPECT_EQ(from_env->effective_public_url(), "http://127.0.0.1:8080");
  auto from_file = load_toml("[server]\nlisten = \"0.0.0.0:9000\"\npublic_base_url = \"\"\n");
  ASSERT_TRUE(from_file.has_value()) << from_file.error().message;
  EXPECT_EQ(from_file->effective_public_url(), "http://127.0.0.1:9000");
}

TEST_F(ConfigChecksTest, BadPublicBaseUrlFromTheEnvironmentIsRefused) {
  struct Case {
    const char* value;
    const char* message;
  };
  for (const auto& [value, message] : {
           Case{"ftp://x y", "'ftp://x y' is not an absolute URL"},
           Case{"not a url", "'not a url' is not an absolute URL"},
           Case{"cb.example.com", "'cb.example.com' is not an absolute URL"},
           Case{"/api", "'/api' is not an absolute URL"},
           Case{"ftp://cb.example.com",
                "'ftp://cb.example.com' must be an http:// or https:// URL"},
           Case{"mailto:ops@example.com", "the value must be an http:// or https:// URL"},
           Case{"https:cb.example.com", "'https:cb.example.com' has no host"},
           Case{"http:///hooks", "'http:///hooks' has no host"},
           Case{"https://cb.example.com/?a=b#x",
                "'https://cb.example.com/?a=b#x' must not have a query ('?')"},
           Case{"https://cb.example.com/?",
                "'https://cb.example.com/?' must not have a query ('?')"},
           Case{"https://cb.example.com/#x",
                "'https://cb.example.com/#x' must not have a fragment ('#')"},
           Case{"https://admin:s3cret@cb.example.com",
                "must not contain user info (user:password@)"},
           Case{"https://admin@cb.example.com", "must not contain user info (user:password@)"},
       }) {
    auto c = load_env({{"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", value}});
    ASSERT_FALSE(c.has_value()) << value;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_argument) << value;
    EXPECT_EQ(
        c.error().message,
        std::string("COMMITBRIDGE_SERVER_PUBLIC_BASE_URL: server.public_base_url: ") + message)
        << value;
  }
}

TEST_F(ConfigChecksTest, BadPublicUrlFromTheFileNamesFileAndKey) {
  auto c = load_toml("[server]\npublic_url = \"not a url\"\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().message,
            file().string() + ": server.public_url: 'not a url' is not an absolute URL");

  auto base = load_toml("[server]\npublic_base_url = \"https://cb.example.com/?a=b#x\"\n");
  ASSERT_FALSE(base.has_value());
  EXPECT_EQ(base.error().message,
            file().string() +
                ": server.public_base_url: 'https://cb.example.com/?a=b#x' must not have a "
                "query ('?')");
}

TEST_F(ConfigChecksTest, PasswordInPublicUrlIsNeverEchoed) {
  for (const std::string value : {"https://admin:s3cret@cb.example.com",
                                  "ftp://admin:s3cret@cb.example.com", "http://a:s3cret@ x"}) {
    auto c = load_env({{"COMMITBRIDGE_SERVER_PUBLIC_URL", value}});
    ASSERT_FALSE(c.has_value()) << value;
    EXPECT_THAT(c.error().message, ::testing::Not(::testing::HasSubstr("s3cret"))) << value;
    EXPECT_THAT(c.error().detail, ::testing::Not(::testing::HasSubstr("s3cret"))) << value;
    EXPECT_THAT(c.error().message,
                ::testing::StartsWith("COMMITBRIDGE_SERVER_PUBLIC_URL: server.public_url: "));
  }
}

// ---- public_url and public_base_url both set ----------------------------------------------------

TEST_F(ConfigChecksTest, BothNamesInTheFileAreRefused) {
  auto c = load_toml(
      "[server]\npublic_url = \"https://old.example\"\n"
      "public_base_url = \"https://new.example\"\n");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(c.error().message,
            file().string() +
                ": server.public_url and server.public_base_url are both set; they are the same "
                "setting (server.public_url is its older name): set only server.public_base_url");
}

TEST_F(ConfigChecksTest, BothNamesInTheEnvironmentAreRefused) {
  for (const char* old_value : {"https://old.example", "https://new.example"}) {
    auto c = load_env({{"COMMITBRIDGE_SERVER_PUBLIC_URL", old_value},
                       {"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", "https://new.example"}});
    ASSERT_FALSE(c.has_value()) << old_value;
    EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(c.error().message,
              "COMMITBRIDGE_SERVER_PUBLIC_URL and COMMITBRIDGE_SERVER_PUBLIC_BASE_URL are both "
              "set; they are the same setting (COMMITBRIDGE_SERVER_PUBLIC_URL is its older "
              "name): set only COMMITBRIDGE_SERVER_PUBLIC_BASE_URL");
  }
}

TEST_F(ConfigChecksTest, OneNameEmptyIsNotAConflict) {
  auto file = load_toml("[server]\npublic_url = \"https://old.example\"\npublic_base_url = \"\"\n");
  ASSERT_TRUE(file.has_value()) << file.error().message;
  EXPECT_EQ(file->effective_public_url(), "https://old.example");

  auto env = load_env({{"COMMITBRIDGE_SERVER_PUBLIC_URL", ""},
                       {"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", "https://new.example"}});
  ASSERT_TRUE(env.has_value()) << env.error().message;
  EXPECT_EQ(env->effective_public_url(), "https://new.example");
}

TEST_F(ConfigChecksTest, EnvironmentOverridesTheFileUnderEitherName) {
  // One name in the file and the other in the environment is the usual precedence.
  auto c = load_toml("[server]\npublic_url = \"https://old.example\"\n",
                     {{"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", "https://new.example"}});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->effective_public_url(), "https://new.example");

  auto d = load_toml("[server]\npublic_base_url = \"https://new.example\"\n",
                     {{"COMMITBRIDGE_SERVER_PUBLIC_URL", "https://env.example"}});
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->effective_public_url(), "https://env.example");
}

// ---- where a malformed encryption key came from -------------------------------------------------

TEST_F(ConfigChecksTest, KeySourceIsRecorded) {
  auto none = load_env({});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->key_source, "");

  auto file_key = load_toml("[security]\nkey = \"abc\"\n");
  ASSERT_TRUE(file_key.has_value()) << file_key.error().message;
  EXPECT_EQ(file_key->key, "abc");
  EXPECT_EQ(file_key->key_source, file().string() + ": security.key");

  auto env_key = load_toml("[security]\nkey = \"abc\"\n", {{"COMMITBRIDGE_SECURITY_KEY", "def"}});
  ASSERT_TRUE(env_key.has_value()) << env_key.error().message;
  EXPECT_EQ(env_key->key, "def");
  EXPECT_EQ(env_key->key_source, "COMMITBRIDGE_SECURITY_KEY");
}

TEST_F(ConfigChecksTest, MalformedKeyFromTheFileNamesFileAndKey) {
  auto c = load_toml("[storage]\ndata_dir = \"" + (dir_ / "data").string() +
                     "\"\n[security]\nkey = \"abc\"\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto app = Application::open(*c, true);
  ASSERT_FALSE(app.has_value());
  EXPECT_EQ(app.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(app.error().message,
            file().string() +
                ": security.key: the encryption key must be 64 hex characters or base64 of 32 "
                "bytes");
}

TEST_F(ConfigChecksTest, MalformedKeyFromTheEnvironmentNamesTheVariable) {
  auto c = load_env({{"COMMITBRIDGE_STORAGE_DATA_DIR", (dir_ / "data").string()},
                     {"COMMITBRIDGE_SECURITY_KEY", "abc"}});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  auto app = Application::open(*c, true);
  ASSERT_FALSE(app.has_value());
  EXPECT_EQ(app.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(app.error().message,
            "COMMITBRIDGE_SECURITY_KEY: the encryption key must be 64 hex characters or base64 "
            "of 32 bytes");
  EXPECT_THAT(app.error().detail, ::testing::Not(::testing::HasSubstr("abc")));
}

}  // namespace
}  // namespace cb::app
