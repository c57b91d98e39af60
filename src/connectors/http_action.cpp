#include "connectors/http_action.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cerrno>
#include <cmath>
#include <random>
#include <system_error>
#include <thread>

#include "auth/digest.hpp"

namespace cb::connectors {

namespace {

using std::chrono::milliseconds;

constexpr int kMaxAttempts = 100;
constexpr std::size_t kExcerptBytes = 512;
constexpr std::size_t kErrorExcerptBytes = 200;
constexpr milliseconds kSleepSlice{100};

bool icontains(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

bool is_json_content_type(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string_view media = content_type.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  if (header_name_equals(media, "application/json")) {
    return true;
  }
  return media.size() > 5 && header_name_equals(media.substr(media.size() - 5), "+json");
}

/// One line of text safe to log: control characters replaced, at most `cap` bytes.
std::string excerpt(std::string_view body, std::size_t cap) {
  std::string out;
  const std::size_t n = std::min(cap, body.size());
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(body[i]);
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back(' ');
    } else if (c < 0x20 || c == 0x7f) {
      out.push_back('?');
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (body.size() > cap) {
    out += "...";
  }
  return out;
}

/// The strings that must never be shown: secret header values (and the credentials after an
/// auth scheme, Basic credentials decoded), URL userinfo, secret query parameter values.
std::vector<std::string> collect_secrets(const HttpHeaders& headers, std::string_view url) {
  std::vector<std::string> secrets;
  for (const auto& [name, value] : headers) {
    if (!is_secret_header(name)) {
      continue;
    }
    secrets.push_back(value);
    const auto space = value.find(' ');
    if (space != std::string::npos) {
      std::string_view credentials = std::string_view(value).substr(space + 1);
      while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
      secrets.emplace_back(credentials);
      if (header_name_equals(std::string_view(value).substr(0, space), "Basic")) {
        if (auto decoded = auth::base64_decode(credentials)) {
          secrets.push_back(*decoded);
          const auto colon = decoded->find(':');
          if (colon != std::string::npos) {
            secrets.push_back(decoded->substr(colon + 1));
          }
        }
      }
    }
  }
  if (auto parsed = boost::urls::parse_uri_reference(url)) {
    const auto& u = *parsed;
    if (u.has_userinfo()) {
      secrets.emplace_back(u.encoded_userinfo());
      secrets.emplace_back(u.userinfo());
      if (u.has_password()) {
        secrets.emplace_back(u.encoded_password());
        secrets.emplace_back(u.password());
      }
    }
    for (const auto param : u.params()) {
      for (std::string_view part : {"token", "secret", "key", "password", "sig", "auth"}) {
        if (icontains(param.key, part) && param.has_value) {
          secrets.emplace_back(param.value);
          break;
        }
      }
    }
    for (const auto param : u.encoded_params()) {
      for (std::string_view part : {"token", "secret", "key", "password", "sig", "auth"}) {
        if (icontains(param.key, part) && param.has_value) {
          secrets.emplace_back(param.value);
          break;
        }
      }
    }
  }
  return secrets;
}

/// Writes the log file (if any) and keeps the whole log text for the tail.
class ActionLog {
 public:
  ActionLog(const Clock& clock, std::vector<std::string> secrets)
      : clock_(clock), secrets_(std::move(secrets)) {}
  ActionLog(const ActionLog&) = delete;
  ActionLog& operator=(const ActionLog&) = delete;
  ~ActionLog() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  Result<void> open(const std::filesystem::path& path) {
    if (path.empty()) {
      return {};
    }
    std::error_code ec;
    if (path.has_parent_path()) {
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec) {
        return fail(ErrorCode::internal, "cannot create the directory of the action log",
                    path.parent_path().string() + ": " + ec.message());
      }
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd_ < 0) {
      const int err = errno;
      return fail(ErrorCode::internal, "cannot open the action log",
                  path.string() + ": " + std::generic_category().message(err));
    }
    return {};
  }

  /// Appends one line, prefixed with the UTC time, secrets redacted.
  void line(std::string_view text) {
    std::string out = format_utc(clock_.now_ms()) + " " + redact(std::string(text)) + "\n";
    text_ += out;
    if (fd_ >= 0) {
      std::string_view rest = out;
      while (!rest.empty()) {
        const ssize_t n = ::write(fd_, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n <= 0) {
          break;  // disk full or similar: the in-memory log still feeds the tail
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
    }
  }

  [[nodiscard]] std::string redact(std::string text) const {
    return redact_secrets(std::move(text), secrets_);
  }

  [[nodiscard]] std::string tail(std::size_t bytes) const {
    return text_.size() <= bytes ? text_ : text_.substr(text_.size() - bytes);
  }

 private:
  const Clock& clock_;
  std::vector<std::string> secrets_;
  int fd_ = -1;
  std::string text_;
};

milliseconds jittered_backoff(const HttpActionSpec& spec, int attempt, const JitterSource& jitter) {
  // base * 2^(attempt-1), computed in double to avoid overflow, capped at max_backoff.
  const double exp = static_cast<double>(spec.base_backoff.count()) *
                     std::pow(2.0, static_cast<double>(std::max(0, attempt - 1)));
  const double cap = std::min(exp, static_cast<double>(spec.max_backoff.count()));
  const double factor = std::clamp(jitter ? jitter() : 1.0, 0.0, 1.0);
  return milliseconds(static_cast<std::int64_t>(std::llround(cap * factor)));
}

bool is_token(std::string_view s) {
  constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kExtra.find(c) != std::string_view::npos;
  });
}

/// The checks that need no placeholder values.
Result<void> check_structure(const HttpActionSpec& spec) {
  if (!is_token(spec.method)) {
    return fail(ErrorCode::invalid_argument, "invalid HTTP method \"" + spec.method + "\"");
  }
  if (!spec.url_template.starts_with("http://") && !spec.url_template.starts_with("https://")) {
    return fail(ErrorCode::invalid_argument, "URL must start with http:// or https://");
  }
  for (const auto& header : spec.headers) {
    if (!is_token(header.first)) {
      return fail(ErrorCode::invalid_argument, "invalid header name \"" + header.first + "\"");
    }
  }
  if (spec.max_attempts < 1 || spec.max_attempts > kMaxAttempts) {
    return fail(ErrorCode::invalid_argument, "max_attempts must be between 1 and " +
                                                 std::to_string(kMaxAttempts) + ", not " +
                                                 std::to_string(spec.max_attempts));
  }
  if (spec.timeout <= milliseconds::zero()) {
    return fail(ErrorCode::invalid_argument, "HTTP action timeout must be positive");
  }
  if (spec.base_backoff < milliseconds::zero() || spec.max_backoff < milliseconds::zero()) {
    return fail(ErrorCode::invalid_argument, "HTTP action backoff must not be negative");
  }
  return {};
}

/// invalid_argument naming `where` and the first placeholder of `tmpl` not in `known`.
Result<void> check_placeholders(std::string_view where, std::string_view tmpl,
                                const std::vector<std::string>& known) {
  auto names = template_placeholders(tmpl);
  if (!names) {
    names.error().message = std::string(where) + ": " + names.error().message;
    return std::unexpected(std::move(names.error()));
  }
  for (const auto& name : *names) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return fail(ErrorCode::invalid_argument,
                  std::string(where) + ": unknown placeholder {{" + name + "}} in template");
    }
  }
  return {};
}

double default_jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

std::string redact_secrets(std::string text, const std::vector<std::string>& secrets) {
  std::vector<const std::string*> ordered;
  for (const auto& s : secrets) {
    if (!s.empty()) ordered.push_back(&s);
  }
  std::sort(ordered.begin(), ordered.end(),
            [](const std::string* a, const std::string* b) { return a->size() > b->size(); });
  for (const std::string* secret : ordered) {
    std::size_t pos = 0;
    while ((pos = text.find(*secret, pos)) != std::string::npos) {
      text.replace(pos, secret->size(), "***");
      pos += 3;
    }
  }
  return text;
}

bool SystemRetrySleeper::sleep_for(milliseconds duration, const std::atomic<bool>* cancel) {
  const auto until = std::chrono::steady_clock::now() + duration;
  for (;;) {
    if (cancel != nullptr && cancel->load()) {
      return false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) {
      return true;
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(until - now, kSleepSlice));
  }
}

Result<void> validate_http_action(const HttpActionSpec& spec,
                                  const std::vector<std::string>& known_placeholders) {
  if (auto valid = check_structure(spec); !valid) {
    return valid;
  }
  if (auto ok = check_placeholders("URL", spec.url_template, known_placeholders); !ok) {
    return ok;
  }
  for (const auto& [name, value] : spec.headers) {
    if (auto ok = check_placeholders("header " + name, value, known_placeholders); !ok) {
      return ok;
    }
  }
  return check_placeholders("body", spec.body_template, known_placeholders);
}

Result<HttpActionResult> run_http_action(const HttpActionSpec& spec, const TemplateValues& values,
                                         HttpClient& client, const Clock& clock) {
  SystemRetrySleeper sleeper;
  return run_http_action(spec, values, client, clock, sleeper, &default_jitter);
}

Result<HttpActionResult> run_http_action(const HttpActionSpec& spec, const TemplateValues& values,
                                         HttpClient& client, const Clock& clock,
                                         RetrySleeper& sleeper, const JitterSource& jitter) {
  // Validate and expand everything before anything is sent.
  if (auto valid = check_structure(spec); !valid) {
    return std::unexpected(std::move(valid.error()));
  }
  HttpRequest request;
  request.method = spec.method;
  request.timeout = spec.timeout;
  request.connect_timeout = std::min(spec.timeout, request.connect_timeout);
  request.verify_tls = spec.verify_tls;
  request.max_response_bytes = spec.max_response_bytes;
  request.cancel = spec.cancel;
  auto url = expand_template(spec.url_template, values, TemplateEscape::url);
  if (!url) {
    url.error().message = "URL: " + url.error().message;
    return std::unexpected(std::move(url.error()));
  }
  request.url = std::move(*url);
  std::optional<std::string> content_type;
  for (const auto& [name, value] : spec.headers) {
    auto expanded = expand_template(value, values, TemplateEscape::none);
    if (!expanded) {
      // The message names the placeholder, never the (possibly secret) value.
      expanded.error().message = "header " + name + ": " + expanded.error().message;
      return std::unexpected(std::move(expanded.error()));
    }
    if (header_name_equals(name, "Content-Type")) {
      content_type = *expanded;
    }
    request.headers.emplace_back(name, std::move(*expanded));
  }
  if (!content_type && !spec.body_template.empty()) {
    content_type = "application/json";
    request.headers.emplace_back("Content-Type", *content_type);
  }
  const bool json_body = content_type && is_json_content_type(*content_type);
  auto body = expand_template(spec.body_template, values,
                              json_body ? TemplateEscape::json : TemplateEscape::none);
  if (!body) {
    body.error().message = "body: " + body.error().message;
    return std::unexpected(std::move(body.error()));
  }
  request.body = std::move(*body);

  ActionLog log(clock, collect_secrets(request.headers, request.url));
  if (auto opened = log.open(spec.log_file); !opened) {
    return std::unexpected(std::move(opened.error()));
  }
  const std::string shown_url = redact_url(request.url);
  const std::string context = spec.log_context.empty() ? "http action" : spec.log_context;

  HttpActionResult result;
  result.started_at_ms = clock.now_ms();
  for (int attempt = 1; attempt <= spec.max_attempts; ++attempt) {
    if (spec.cancel != nullptr && spec.cancel->load()) {
      result.cancelled = true;
      break;
    }
    result.attempts = attempt;
    const std::string prefix =
        "attempt " + std::to_string(attempt) + "/" + std::to_string(spec.max_attempts) + ": ";
    log.line(prefix + request.method + " " + shown_url);

    auto response = client.send(request);
    bool retry = false;
    std::optional<milliseconds> asked_wait;
    if (response) {
      result.last_status = response->status;
      log.line(prefix + "HTTP " + std::to_string(response->status) + " in " +
               std::to_string(response->elapsed.count()) + " ms" +
               (response->body_truncated ? " (body truncated)" : ""));
      if (!response->body.empty()) {
        log.line(prefix + "response: " + excerpt(response->body, kExcerptBytes));
      }
      spdlog::info("{}: {} {} -> HTTP {} (attempt {}/{})", context, request.method, shown_url,
                   response->status, attempt, spec.max_attempts);
      if (response->status >= 200 && response->status < 300) {
        result.succeeded = true;
        result.error.clear();
        break;
      }
      result.error =
          log.redact("HTTP " + std::to_string(response->status) + " from " + shown_url +
                     (response->body.empty() ? std::string()
                                             : ": " + excerpt(response->body, kErrorExcerptBytes)));
      retry = response->status >= 500 || response->status == 429;
      if (retry) {
        if (auto ra = response->retry_after(clock.now_ms())) {
          asked_wait = std::min(*ra, spec.max_backoff);
        }
      }
    } else {
      result.last_status = 0;
      const HttpFailure failure = http_failure_of(response.error());
      result.error = log.redact(response.error().message);
      log.line(prefix + result.error);
      spdlog::warn("{}: {} {} failed (attempt {}/{}): {}", context, request.method, shown_url,
                   attempt, spec.max_attempts, result.error);
      if (failure == HttpFailure::cancelled) {
        result.cancelled = true;
        break;
      }
      retry = is_transient(failure);
    }
    if (!retry) {
      log.line(prefix + "not retried");
      break;
    }
    if (attempt == spec.max_attempts) {
      log.line("giving up after " + std::to_string(attempt) + " attempts");
      break;
    }
    const milliseconds wait = asked_wait.value_or(jittered_backoff(spec, attempt, jitter));
    log.line("waiting " + std::to_string(wait.count()) + " ms before attempt " +
             std::to_string(attempt + 1) + (asked_wait ? " (Retry-After)" : ""));
    if (!sleeper.sleep_for(wait, spec.cancel)) {
      result.cancelled = true;
      break;
    }
  }
  if (result.cancelled) {
    log.line("cancelled");
    result.error = "cancelled";
    result.succeeded = false;
  } else if (result.succeeded) {
    log.line("succeeded after " + std::to_string(result.attempts) + " attempt(s)");
  }
  result.output_tail = log.tail(spec.tail_bytes);
  result.finished_at_ms = clock.now_ms();
  return result;
}

}  // namespace cb::connectors
