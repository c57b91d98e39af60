#include "connectors/http_client.hpp"

#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>

namespace cb::connectors {

namespace {

constexpr std::string_view kUserAgent = "commitbridge/0.1";
constexpr long kMaxRedirects = 5;

constexpr std::array<std::string_view, 8> kFailureNames = {
    "timeout",   "connection_refused", "dns",  "tls", "connection",
    "cancelled", "invalid_request",    "other"};

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool icontains(std::string_view haystack, std::string_view needle) noexcept {
  if (needle.size() > haystack.size()) {
    return false;
  }
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    bool match = true;
    for (std::size_t j = 0; j < needle.size() && match; ++j) {
      match = lower(haystack[i + j]) == lower(needle[j]);
    }
    if (match) {
      return true;
    }
  }
  return false;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

/// RFC 9110 token characters (method names, header names).
bool is_token(std::string_view s) noexcept {
  if (s.empty()) {
    return false;
  }
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

bool has_line_break_or_nul(std::string_view s) noexcept {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

/// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the only HTTP-date form senders
/// must produce (RFC 9110 §5.6.7). Returns ms since the epoch.
std::optional<UnixMillis> parse_http_date(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  const std::time_t secs = ::timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) {
    return std::nullopt;
  }
  return static_cast<UnixMillis>(secs) * 1000;
}

void ensure_curl_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { ::curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* h) const noexcept { ::curl_easy_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { ::curl_slist_free_all(l); }
};

/// State shared with the libcurl callbacks of one transfer.
struct Transfer {
  HttpResponse response;
  std::size_t max_body = 0;
  const std::atomic<bool>* cancel = nullptr;
  bool cancelled = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::size_t room = t->max_body - std::min(t->max_body, t->response.body.size());
  if (n > room) {
    t->response.body.append(data, room);
    t->response.body_truncated = true;
    return 0;  // stops the transfer (CURLE_WRITE_ERROR, recognised below)
  }
  t->response.body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new (interim or final) response begins
    return n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    t->response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                     std::string(trim(line.substr(colon + 1))));
  }
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->cancel != nullptr && t->cancel->load()) {
    t->cancelled = true;
    return 1;  // aborts with CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

HttpFailure classify(CURLcode code, long os_errno) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return HttpFailure::timeout;
    case CURLE_COULDNT_CONNECT:
      return os_errno == ECONNREFUSED ? HttpFailure::connection_refused : HttpFailure::connection;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return HttpFailure::dns;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
      return HttpFailure::tls;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return HttpFailure::connection;
    case CURLE_ABORTED_BY_CALLBACK:
      return HttpFailure::cancelled;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return HttpFailure::invalid_request;
    default:
      return HttpFailure::other;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// HttpResponse

std::optional<std::string_view> HttpResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (header_name_equals(n, name)) {
      return trim(v);
    }
  }
  return std::nullopt;
}

std::string_view HttpResponse::content_type() const { return header("Content-Type").value_or(""); }

std::optional<std::chrono::milliseconds> HttpResponse::retry_after(UnixMillis now_ms) const {
  const auto value = header("Retry-After");
  if (!value || value->empty()) {
    return std::nullopt;
  }
  if (std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::uint64_t secs = 0;
    const auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), secs);
    if (ec == std::errc::result_out_of_range || secs > 100ull * 365 * 24 * 3600) {
      secs = 100ull * 365 * 24 * 3600;  // absurdly large: clamp, the caller caps it anyway
    } else if (ec != std::errc()) {
      return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(secs) * 1000);
  }
  const auto date = parse_http_date(*value);
  if (!date) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::max<UnixMillis>(0, *date - now_ms));
}

// ---------------------------------------------------------------------------------------------
// Failures

std::string_view to_string(HttpFailure failure) noexcept {
  return kFailureNames[static_cast<std::size_t>(failure)];
}

HttpFailure http_failure_of(const Error& error) noexcept {
  for (std::size_t i = 0; i < kFailureNames.size(); ++i) {
    const auto name = kFailureNames[i];
    if (error.message.size() > name.size() + 1 && error.message.starts_with(name) &&
        error.message[name.size()] == ':' && error.message[name.size() + 1] == ' ') {
      return static_cast<HttpFailure>(i);
    }
  }
  return HttpFailure::other;
}

bool is_transient(HttpFailure failure) noexcept {
  return failure == HttpFailure::timeout || failure == HttpFailure::connection_refused ||
         failure == HttpFailure::dns || failure == HttpFailure::connection;
}

Error make_http_error(HttpFailure failure, std::string text, std::string detail) {
  const ErrorCode code = failure == HttpFailure::invalid_request ? ErrorCode::invalid_argument
                                                                 : ErrorCode::peer_unavailable;
  return make_error(code, std::string(to_string(failure)) + ": " + std::move(text),
                    std::move(detail));
}

// ---------------------------------------------------------------------------------------------
// Helpers

bool header_name_equals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool is_secret_header(std::string_view name) noexcept {
  for (std::string_view exact : {"authorization", "proxy-authorization", "cookie", "set-cookie"}) {
    if (header_name_equals(name, exact)) {
      return true;
    }
  }
  for (std::string_view part : {"token", "secret", "key", "password", "signature"}) {
    if (icontains(name, part)) {
      return true;
    }
  }
  return false;
}

std::string redact_url(std::string_view url) {
  auto parsed = boost::urls::parse_uri_reference(url);
  if (!parsed) {
    return "<invalid URL>";
  }
  boost::urls::url u(*parsed);
  if (u.has_userinfo()) {
    u.set_userinfo("***");
  }
  auto params = u.params();
  for (auto it = params.begin(); it != params.end(); ++it) {
    const auto param = *it;
    bool secret = false;
    for (std::string_view part : {"token", "secret", "key", "password", "sig", "auth"}) {
      secret = secret || icontains(param.key, part);
    }
    if (secret && param.has_value) {
      it = params.set(it, "***");
    }
  }
  return std::string(u.buffer());
}

// ---------------------------------------------------------------------------------------------
// CurlHttpClient

Result<HttpResponse> CurlHttpClient::send(const HttpRequest& request) {
  const std::string shown_url = redact_url(request.url);
  if (!is_token(request.method)) {
    return std::unexpected(make_http_error(HttpFailure::invalid_request,
                                           "invalid HTTP method \"" + request.method + "\""));
  }
  if (request.timeout <= std::chrono::milliseconds::zero()) {
    return std::unexpected(
        make_http_error(HttpFailure::invalid_request, "request timeout must be positive"));
  }
  if (!request.url.starts_with("http://") && !request.url.starts_with("https://")) {
    return std::unexpected(make_http_error(
        HttpFailure::invalid_request, "URL must start with http:// or https://: " + shown_url));
  }
  if (has_line_break_or_nul(request.url)) {
    return std::unexpected(
        make_http_error(HttpFailure::invalid_request, "URL contains a line break or NUL byte"));
  }

  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  auto add_header = [&](const std::string& line) {
    curl_slist* next = ::curl_slist_append(header_list.get(), line.c_str());
    if (next == nullptr) {
      return false;
    }
    (void)header_list.release();
    header_list.reset(next);
    return true;
  };
  bool has_user_agent = false;
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name)) {
      return std::unexpected(
          make_http_error(HttpFailure::invalid_request, "invalid header name \"" + name + "\""));
    }
    if (has_line_break_or_nul(value)) {
      return std::unexpected(make_http_error(HttpFailure::invalid_request,
                                             "value of header " + name + " contains a line break"));
    }
    has_user_agent = has_user_agent || header_name_equals(name, "User-Agent");
    // "Name;" is libcurl's way to send a header with an empty value.
    if (!add_header(value.empty() ? name + ";" : name + ": " + value)) {
      return std::unexpected(make_http_error(HttpFailure::other, "out of memory"));
    }
  }
  if (!add_header("Expect:") ||
      (!has_user_agent && !add_header("User-Agent: " + std::string(kUserAgent)))) {
    return std::unexpected(make_http_error(HttpFailure::other, "out of memory"));
  }

  // Here, not at construction: a server that never sends (no ALM, no HTTP action) leaves
  // libcurl's TLS and protocol libraries uninitialised, about 2 MB less idle memory.
  ensure_curl_initialised();
  std::unique_ptr<CURL, CurlDeleter> handle(::curl_easy_init());
  if (!handle) {
    return std::unexpected(make_http_error(HttpFailure::other, "cannot create a libcurl handle"));
  }
  CURL* h = handle.get();
  Transfer transfer;
  transfer.max_body = request.max_response_bytes;
  transfer.cancel = request.cancel;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  const long timeout_ms = static_cast<long>(
      std::min<std::int64_t>(request.timeout.count(), std::numeric_limits<long>::max()));
  const long connect_ms =
      std::max<long>(1, std::min<long>(timeout_ms, static_cast<long>(std::max<std::int64_t>(
                                                       1, request.connect_timeout.count()))));
  const bool send_body = !request.body.empty() || request.method == "POST" ||
                         request.method == "PUT" || request.method == "PATCH";

  ::curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  ::curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  ::curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  ::curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  ::curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  ::curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  ::curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
  ::curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
  ::curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  ::curl_easy_setopt(h, CURLOPT_MAXREDIRS, kMaxRedirects);
  ::curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());
  ::curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer.data());
  ::curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  ::curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  ::curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  ::curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  ::curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  ::curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress);
  ::curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  if (send_body) {
    ::curl_easy_setopt(h, CURLOPT_POST, 1L);
    ::curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    ::curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    if (request.method != "POST") {
      ::curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  } else if (request.method == "HEAD") {
    ::curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    ::curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const auto started = std::chrono::steady_clock::now();
  const CURLcode code = ::curl_easy_perform(h);
  transfer.response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);

  long status = 0;
  ::curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && transfer.response.body_truncated)) {
    transfer.response.status = static_cast<int>(status);
    return std::move(transfer.response);
  }

  long os_errno = 0;
  ::curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
  const HttpFailure failure =
      transfer.cancelled ? HttpFailure::cancelled : classify(code, os_errno);
  const std::string curl_text =
      error_buffer[0] != '\0' ? std::string(error_buffer.data()) : ::curl_easy_strerror(code);
  std::string text;
  switch (failure) {
    case HttpFailure::timeout:
      text = "no complete response from " + shown_url + " within " +
             std::to_string(request.timeout.count()) + " ms";
      break;
    case HttpFailure::cancelled:
      text = "request to " + shown_url + " cancelled";
      break;
    default:
      text = request.method + " " + shown_url + " failed: " + curl_text;
      break;
  }
  return std::unexpected(
      make_http_error(failure, std::move(text),
                      "curl code " + std::to_string(static_cast<int>(code)) + ": " + curl_text));
}

}  // namespace cb::connectors
