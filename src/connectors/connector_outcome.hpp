#pragma once
// The classified outcome of a call to an outbound peer (Jira, outbound webhook), which tells
// the ALM outbox whether to retry later or to dead-letter the work.

#include <chrono>
#include <expected>
#include <string>

#include "connectors/http_client.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"

namespace cb::connectors {

/// Whether a failed call may succeed if repeated later.
enum class FailureKind {
  retryable,  ///< 5xx, 408, 429, timeout, connection refused/reset, DNS failure
  permanent,  ///< other statuses (4xx, unexpected 3xx), TLS failure, invalid request or config
};

/// Why a connector call failed.
struct ConnectorFailure {
  FailureKind kind = FailureKind::permanent;
  /// HTTP status of the peer's answer; 0 when there was none.
  int status = 0;
  /// What happened, safe to store and show (never a secret), e.g. "Jira answered HTTP 400 to
  /// POST /rest/api/2/issue/ABC-1/worklog: Worklog must not be null."
  std::string message{};
  /// How long the peer asked to wait (Retry-After of a 429/503), in milliseconds; 0 = not said.
  std::chrono::milliseconds retry_after{0};

  [[nodiscard]] bool retryable() const noexcept { return kind == FailureKind::retryable; }
};

/// Success (a value, or void) or a classified failure.
template <class T>
using ConnectorResult = std::expected<T, ConnectorFailure>;

/// True for HTTP statuses worth retrying: 408, 429 and 5xx.
[[nodiscard]] bool is_retryable_status(int status) noexcept;

/// The failure for an HttpClient error (no response): retryable when is_transient, else
/// permanent; message = "<what>: <error message>".
[[nodiscard]] ConnectorFailure failure_from_transport(const Error& error, std::string_view what);

/// The failure for a non-2xx response: kind from is_retryable_status, retry_after from its
/// Retry-After header (relative to `now_ms`, ms since the Unix epoch UTC), the given message.
[[nodiscard]] ConnectorFailure failure_from_response(const HttpResponse& response,
                                                     UnixMillis now_ms, std::string message);

/// A permanent failure without a response (bad input or configuration).
[[nodiscard]] ConnectorFailure permanent_failure(std::string message);

}  // namespace cb::connectors
