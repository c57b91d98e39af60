#pragma once
// Outbound HTTP: the HttpClient interface every connector talks through (Jira, outbound
// webhooks, HTTP job actions) and its libcurl implementation.
//
// Higher layers depend only on HttpClient, so they are tested against a local stub server (see
// tests/support/http_stub.hpp) or a fake implementation. CurlHttpClient is the production one.
//
// Usage:
//   CurlHttpClient client;
//   HttpRequest req;
//   req.method = "POST";
//   req.url = "https://jira.example.com/rest/api/2/issue/ABC-1/comment";
//   req.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer ..."}};
//   req.body = R"({"body":"text"})";
//   req.timeout = std::chrono::seconds(10);
//   auto res = client.send(req);
//   if (!res) { HttpFailure kind = http_failure_of(res.error()); ... }     // no response
//   else if (res->status / 100 == 2) { ... res->body ... }                  // any status is a
//   value

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace cb::connectors {

/// Header fields in order, as (name, value) pairs. Names compare case-insensitively (RFC 9110
/// §5.1); a name may appear more than once.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// One outbound request.
struct HttpRequest {
  /// Method token, upper-case by convention ("GET", "POST", "PUT", "PATCH", "DELETE", ...).
  /// Must be a non-empty RFC 9110 token.
  std::string method = "GET";
  /// Absolute http:// or https:// URL. User information in it ("https://user:pass@host/") is
  /// sent as Basic credentials by libcurl and never appears in error messages.
  std::string url{};
  /// Request headers, sent as given. Names must be RFC 9110 tokens; values must not contain
  /// CR, LF or NUL (header injection). `Expect: 100-continue` is never sent. libcurl adds
  /// Host, Content-Length and, unless given here, `Accept: */*`; a User-Agent
  /// "commitbridge/<version>" is added when none is given.
  HttpHeaders headers{};
  /// Request body bytes; sent when non-empty (or always for POST, PUT and PATCH).
  std::string body{};
  /// Whole-request deadline (connect, send, wait and receive), in milliseconds. Must be > 0.
  std::chrono::milliseconds timeout{30000};
  /// Deadline for the TCP + TLS connection alone, in milliseconds (capped by `timeout`).
  std::chrono::milliseconds connect_timeout{10000};
  /// Verify the server certificate and host name (https). Turn off only for a test peer.
  bool verify_tls = true;
  /// Follow 3xx redirects (at most 5, http/https only). Off by default: a redirect is returned
  /// as the response, so credentials are never replayed to another host.
  bool follow_redirects = false;
  /// At most this many bytes of the response body are kept; the transfer stops there and
  /// HttpResponse::body_truncated is set. Protects memory against huge answers.
  std::size_t max_response_bytes = 1024 * 1024;
  /// When set and it becomes true, the transfer is aborted (checked by libcurl's progress
  /// callback, at least about once per second); the result is an HttpFailure::cancelled error.
  const std::atomic<bool>* cancel = nullptr;
};

/// A response: any HTTP status, 1xx excluded (interim responses are skipped).
struct HttpResponse {
  /// Final HTTP status code (e.g. 200, 404, 503).
  int status = 0;
  /// Response header fields of the final response, in order, names as received.
  HttpHeaders headers{};
  /// Up to HttpRequest::max_response_bytes bytes of the body (decoded transfer encoding;
  /// content encodings are not requested).
  std::string body{};
  /// True when the body was longer than max_response_bytes and was cut.
  bool body_truncated = false;
  /// Wall time of the exchange, in milliseconds.
  std::chrono::milliseconds elapsed{0};

  /// Value of the first header named `name` (case-insensitive), without surrounding spaces.
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
  /// The Content-Type header, or "" when absent.
  [[nodiscard]] std::string_view content_type() const;
  /// The delay the Retry-After header asks for (RFC 9110 §10.2.3: delay-seconds or an
  /// HTTP-date, relative to `now_ms`, ms since the Unix epoch UTC), or nullopt when absent or
  /// unreadable. A date in the past gives 0.
  [[nodiscard]] std::optional<std::chrono::milliseconds> retry_after(UnixMillis now_ms) const;
};

/// Why a request got no HTTP response. Returned as the prefix of Error::message (see
/// http_failure_of) so it survives being carried as a cb::Error.
enum class HttpFailure {
  timeout,             ///< HttpRequest::timeout (or connect_timeout) expired
  connection_refused,  ///< the peer actively refused the TCP connection (ECONNREFUSED)
  dns,                 ///< the host name could not be resolved
  tls,                 ///< TLS handshake or certificate verification failed
  connection,          ///< other network failure: unreachable, reset, closed without answer
  cancelled,           ///< HttpRequest::cancel became true
  invalid_request,     ///< bad URL, unsupported scheme, bad method or header (never retry)
  other,               ///< anything else libcurl reports
};

/// The stable name of a failure: "timeout", "connection_refused", "dns", "tls", "connection",
/// "cancelled", "invalid_request", "other".
[[nodiscard]] std::string_view to_string(HttpFailure failure) noexcept;

/// The failure class of an Error returned by HttpClient::send: its message starts with
/// "<name>: " (to_string above). Errors not made by an HttpClient give HttpFailure::other.
[[nodiscard]] HttpFailure http_failure_of(const Error& error) noexcept;

/// True for failures worth retrying later: timeout, connection_refused, dns, connection.
[[nodiscard]] bool is_transient(HttpFailure failure) noexcept;

/// Builds the Error an HttpClient returns for `failure`: code peer_unavailable
/// (invalid_argument for invalid_request), message "<name>: <text>". For implementations of
/// HttpClient (curl, test fakes).
[[nodiscard]] Error make_http_error(HttpFailure failure, std::string text, std::string detail = {});

/// Sends HTTP requests. Implementations are thread-safe: send may be called from several
/// threads at once.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Performs `request` and returns the response, whatever its status (4xx and 5xx are
  /// values, not errors). Errors (no response at all) are made with make_http_error:
  /// peer_unavailable for timeout, connection_refused, dns, tls, connection, cancelled, other;
  /// invalid_argument for invalid_request. Messages name the URL without user information or
  /// query string and never contain header values.
  [[nodiscard]] virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

/// HttpClient over libcurl: one easy handle per request (no shared connection cache, so
/// nothing is shared between threads), CURLOPT_NOSIGNAL, http/https only, system CA store.
/// The first send of the process initialises libcurl globally (once, whichever thread sends
/// first; constructing a client does not). Like every libcurl program it honours the
/// http_proxy, https_proxy and no_proxy environment variables.
class CurlHttpClient final : public HttpClient {
 public:
  [[nodiscard]] Result<HttpResponse> send(const HttpRequest& request) override;
};

/// `url` safe to show in logs and errors: user information replaced by "***" and the values of
/// query parameters whose name contains token, secret, key, password, sig or auth replaced by
/// "***". Unparseable input gives "<invalid URL>".
[[nodiscard]] std::string redact_url(std::string_view url);

/// True when a header's value must be treated as a secret: Authorization,
/// Proxy-Authorization, Cookie, Set-Cookie, or a name containing "token", "secret", "key",
/// "password" or "signature" (case-insensitive).
[[nodiscard]] bool is_secret_header(std::string_view name) noexcept;

/// Case-insensitive ASCII comparison of header names.
[[nodiscard]] bool header_name_equals(std::string_view a, std::string_view b) noexcept;

}  // namespace cb::connectors
