#pragma once
// Configuration: defaults, then the TOML file, then COMMITBRIDGE_<SECTION>_<KEY> environment
// variables, then command-line flags. Parsed and validated once into an immutable value.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace cb::app {

/// Every setting, with its default. Sizes in bytes, durations in milliseconds.
struct Config {
  // [server]
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  /// Base URL shown in webhook URLs (server.public_base_url, or its older name
  /// server.public_url): empty, or an absolute http(s) URL with a host and no user info, query or
  /// fragment (checked at load); default http://<listen>.
  std::string public_url;
  unsigned threads = 2;  ///< I/O threads
  std::size_t max_body_bytes = 25 * 1024 * 1024;
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_header_count = 100;  ///< more header fields get 431
  std::size_t max_connections = 1024;  ///< more get 503 + Retry-After and are closed
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t body_timeout_ms = 60'000;
  std::int64_t idle_timeout_ms = 60'000;
  // [storage]
  std::filesystem::path data_dir = "commitbridge-data";
  std::size_t write_queue_max = 10'000;
  // [limits]
  std::int64_t org_requests_per_second = 200;  ///< per-org token bucket rate; 0 = no limit
  std::int64_t org_burst = 2000;               ///< per-org bucket capacity
  // [security]
  std::filesystem::path key_file;  ///< default <data_dir>/secret.key
  std::string key;                 ///< 32-byte key as hex or base64 (usually from the environment)
  /// Where `key` was set, for error messages: "<file>: security.key" or
  /// "COMMITBRIDGE_SECURITY_KEY"; empty when it was not set.
  std::string key_source;
  // [worker]
  int max_attempts = 5;
  std::int64_t retry_backoff_ms = 2000;
  std::int64_t job_timeout_ms = 3'600'000;
  // [alm] (write-back outbox)
  int alm_max_attempts = 8;                              ///< then an outbox entry is dead
  std::int64_t alm_retry_backoff_ms = 5000;              ///< attempt n waits base * 2^(n-1)
  std::int64_t alm_max_retry_backoff_ms = 3'600'000;     ///< the longest wait between attempts
  std::int64_t alm_request_timeout_ms = 10'000;          ///< one request to Jira or a webhook
  std::int64_t alm_project_keys_refresh_ms = 3'600'000;  ///< Jira project keys listed this often
  // [jobs]
  int runner_threads = 4;  ///< threads running job actions
  // [log]
  std::string log_level = "info";
  bool log_json = false;

  /// The SQLite database file.
  [[nodiscard]] std::filesystem::path database_file() const { return data_dir / "commitbridge.db"; }
  /// The key file actually used.
  [[nodiscard]] std::filesystem::path effective_key_file() const {
    return key_file.empty() ? data_dir / "secret.key" : key_file;
  }
  /// The public base URL actually used (no trailing slash).
  [[nodiscard]] std::string effective_public_url() const;
};

/// Values given on the command line, which win over file and environment.
struct ConfigOverrides {
  std::optional<std::filesystem::path> config_file;
  std::optional<std::filesystem::path> data_dir;
  std::optional<std::string> listen;  ///< "HOST:PORT"
};

/// Reads an environment variable; empty optional when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// Lists the names of every environment variable set.
using EnvNames = std::function<std::vector<std::string>()>;

/// The environment as load_config reads it (both functions set). Replaceable for tests.
struct Environment {
  EnvLookup lookup;  ///< one variable by name
  EnvNames names;    ///< all names, to refuse unknown COMMITBRIDGE_<SECTION>_<KEY> variables
};

/// The process environment.
[[nodiscard]] Environment process_env();

/// Loads the configuration. Errors (invalid_argument) name the file, key and the problem:
/// unreadable or invalid TOML, unknown key, wrong type, bad HOST:PORT, value out of range, bad
/// public base URL, both names of the public base URL set in one place (file or environment), or
/// an environment variable COMMITBRIDGE_<SECTION>_<KEY> whose SECTION is a known section (any
/// case) but which is not a known setting ("did you mean ...?" when one is close). Variables
/// whose first word after COMMITBRIDGE_ is not a section (COMMITBRIDGE_CONFIG, the variables of
/// job commands such as COMMITBRIDGE_RUN_ID) are not settings and are left alone.
[[nodiscard]] Result<Config> load_config(const ConfigOverrides& overrides, const Environment& env);

/// Parses "HOST:PORT" ("[::1]:8080" for IPv6). Errors: invalid_argument.
[[nodiscard]] Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);

}  // namespace cb::app
