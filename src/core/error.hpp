#pragma once
// Error values and Result<T> (std::expected) used on every request path.

#include <expected>
#include <string>
#include <string_view>

namespace cb {

/// Machine-readable error codes. The snake_case name of each is what the HTTP API returns as
/// `error.code`; api/error_mapping.cpp maps each to one HTTP status.
enum class ErrorCode {
  invalid_argument,        ///< a field of a request or command is wrong
  not_found,               ///< the named object does not exist
  unknown_org,             ///< the org in a webhook URL does not exist
  missing_credentials,     ///< a webhook carried no signature, Basic or Bearer credential
  malformed_credentials,   ///< a credential header is present but cannot be read
  invalid_signature,       ///< an HMAC signature matches no active webhook token of the org
  invalid_token,           ///< a Basic/Bearer token is unknown, revoked, expired or of another org
  forbidden,               ///< authenticated, but not allowed (another org, wrong token type)
  payload_too_large,       ///< the body exceeds the configured limit
  headers_too_large,       ///< the header block exceeds the configured size or field count
  unsupported_media_type,  ///< the body is neither JSON nor form-encoded `payload=`
  malformed_payload,       ///< the body cannot be parsed as the provider's format
  conflict,                ///< a unique name is already taken
  store_unavailable,       ///< the store cannot be written right now
  queue_full,              ///< the write queue is full (back-pressure)
  rate_limited,            ///< the org sent more requests than its rate limit allows
  overloaded,              ///< the server is at a capacity limit (open connections)
  peer_unavailable,        ///< an outbound peer (git remote, Jira) did not answer
  method_not_allowed,      ///< the path exists, but not with the request's method
  internal,                ///< a bug or an unexpected failure
};

/// The snake_case name of a code, e.g. "invalid_signature".
[[nodiscard]] std::string_view to_string(ErrorCode code) noexcept;

/// An expected failure. `message` is safe to show to the caller (never contains a secret);
/// `detail` is for logs only.
struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::string detail;
  /// Seconds the caller should wait before retrying (HTTP `Retry-After` of a 429 or 503);
  /// 0 means the API's default of 1 s.
  unsigned retry_after_s = 0;
};

/// Builds an Error.
[[nodiscard]] inline Error make_error(ErrorCode code, std::string message,
                                      std::string detail = {}) {
  return Error{code, std::move(message), std::move(detail)};
}

/// Result of an operation that can fail in an expected way.
template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for returning an error from a function returning Result<T>.
[[nodiscard]] inline std::unexpected<Error> fail(ErrorCode code, std::string message,
                                                 std::string detail = {}) {
  return std::unexpected(make_error(code, std::move(message), std::move(detail)));
}

}  // namespace cb
