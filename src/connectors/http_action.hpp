#pragma once
// The HTTP job action: one templated request, retried with exponential backoff, logged with
// secrets redacted.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/http_client.hpp"
#include "connectors/template_expansion.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"

namespace cb::connectors {

/// What to send. Templates use {{name}} placeholders (see template_expansion.hpp).
struct HttpActionSpec {
  /// HTTP method, an RFC 9110 token such as "POST", "PUT", "GET".
  std::string method = "POST";
  /// Absolute http(s) URL template; values are percent-encoded (TemplateEscape::url).
  std::string url_template{};
  /// Request headers; values are templates expanded with TemplateEscape::none. Values may be
  /// secrets: those of Authorization, Proxy-Authorization, Cookie and of any header whose name
  /// contains token, secret, key, password or signature (see is_secret_header) are never
  /// logged or returned.
  std::vector<std::pair<std::string, std::string>> headers{};
  /// Body template. Expanded with TemplateEscape::json when the Content-Type header is JSON
  /// (application/json or a +json type), else with none. A non-empty body without a
  /// Content-Type header is sent as application/json (and expanded as JSON).
  std::string body_template{};
  /// Deadline of each attempt, in milliseconds. Must be > 0.
  std::chrono::milliseconds timeout{30000};
  /// Attempts in all, 1 to 100. Retried: 5xx, 429, timeouts and connection failures
  /// (refused, DNS, reset). Not retried: other statuses, TLS failures, invalid requests.
  int max_attempts = 5;
  /// Backoff before attempt n+1: a uniformly random delay in [0, min(max_backoff,
  /// base_backoff * 2^(n-1))] ("full jitter"). A Retry-After header of a 429/5xx answer
  /// replaces it, capped at max_backoff. Both >= 0.
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  /// Log of the attempts (UTC time, method, URL without userinfo, status, duration, a
  /// response excerpt, waits); truncated first, parent directories created, mode 0640; empty =
  /// no log file. Secrets are redacted.
  std::filesystem::path log_file{};
  /// When set and it becomes true, no further attempt is made: checked before each attempt,
  /// during an attempt (libcurl progress callback) and during backoff waits (every <= 100 ms).
  const std::atomic<bool>* cancel = nullptr;

  // Optional settings (defaults suit jobs).
  /// Bytes of the end of the log kept in HttpActionResult::output_tail.
  std::size_t tail_bytes = 4096;
  /// Bytes of a response body kept per attempt (the log shows at most 512 of them).
  std::size_t max_response_bytes = 64 * 1024;
  /// Verify TLS certificates (https).
  bool verify_tls = true;
  /// Prefix of the server log lines (spdlog) of this action, e.g. "run 42 job deploy".
  std::string log_context{};
};

/// The outcome of an HTTP action (a peer that never answers 2xx is an outcome, not an error).
struct HttpActionResult {
  bool succeeded = false;     ///< a 2xx was received
  int attempts = 0;           ///< attempts made (requests sent or tried)
  int last_status = 0;        ///< status of the last response; 0 when the last attempt got none
  std::string error{};        ///< last error text, e.g. "HTTP 404 from https://host/p: <excerpt>";
                              ///< "" on success; never contains a secret
  std::string output_tail{};  ///< the last tail_bytes bytes of the log, secrets redacted
  bool cancelled = false;     ///< HttpActionSpec::cancel stopped the action
  UnixMillis started_at_ms = 0, finished_at_ms = 0;  ///< from the Clock, ms since epoch (UTC)
};

/// Waits between attempts. Replaceable so that tests never sleep for real.
class RetrySleeper {
 public:
  virtual ~RetrySleeper() = default;
  /// Waits for `duration` (ms). Returns false, possibly early, when `cancel` (may be null) is
  /// or becomes true; implementations check it at least every 100 ms.
  virtual bool sleep_for(std::chrono::milliseconds duration, const std::atomic<bool>* cancel) = 0;
};

/// Sleeps on the steady clock in slices of at most 100 ms.
class SystemRetrySleeper final : public RetrySleeper {
 public:
  bool sleep_for(std::chrono::milliseconds duration, const std::atomic<bool>* cancel) override;
};

/// Source of the random factor of the backoff: a number in [0, 1].
using JitterSource = std::function<double()>;

/// Checks a job's HTTP action before it is saved, without sending anything: method and header
/// names are RFC 9110 tokens, the URL template starts with http:// or https://, max_attempts is
/// 1-100, timeout > 0, backoffs >= 0, the templates are well-formed and use only
/// `known_placeholders`. Errors: invalid_argument naming the field and, for templates, the
/// placeholder (e.g. "header X-Ref: unknown placeholder {{brnch}} in template").
[[nodiscard]] Result<void> validate_http_action(const HttpActionSpec& spec,
                                                const std::vector<std::string>& known_placeholders);

/// Expands the templates of `spec` with `values`, then sends the request through `client`
/// until it gets a 2xx, a response or failure that is not retried, max_attempts is reached or
/// `spec.cancel` is set. Blocks the calling thread (backoff waits included).
///
/// Errors (nothing was sent): invalid_argument for what validate_http_action refuses (an
/// unknown placeholder is one without a value in `values`); internal when the log file cannot
/// be created. Every other outcome is an HttpActionResult.
[[nodiscard]] Result<HttpActionResult> run_http_action(const HttpActionSpec& spec,
                                                       const TemplateValues& values,
                                                       HttpClient& client, const Clock& clock);

/// Same, with the backoff waits and their random factor injected (tests).
[[nodiscard]] Result<HttpActionResult> run_http_action(const HttpActionSpec& spec,
                                                       const TemplateValues& values,
                                                       HttpClient& client, const Clock& clock,
                                                       RetrySleeper& sleeper,
                                                       const JitterSource& jitter);

/// Replaces every occurrence of each non-empty string of `secrets` in `text` by "***"
/// (longest first). Used for everything an action logs or returns.
[[nodiscard]] std::string redact_secrets(std::string text, const std::vector<std::string>& secrets);

}  // namespace cb::connectors
