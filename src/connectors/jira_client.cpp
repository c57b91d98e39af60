#include "connectors/jira_client.hpp"

#include <time.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "auth/digest.hpp"
#include "connectors/http_action.hpp"

namespace cb::connectors {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxGlobalId = 255;
constexpr std::size_t kMaxResponseBytes = 4 * 1024 * 1024;  // project lists can be long
constexpr std::size_t kExcerptBytes = 300;

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

/// A command as a transition name: hyphens are spaces, lower case, trimmed.
std::string normalise_command(std::string_view command) {
  std::string out = lower_ascii(command);
  std::replace(out.begin(), out.end(), '-', ' ');
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) {
    return {};
  }
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

std::string join_names(const std::vector<const JiraTransition*>& ts) {
  std::string out;
  for (const auto* t : ts) {
    if (!out.empty()) out += ", ";
    out += t->name;
  }
  return out;
}

std::string string_or_empty(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr) return {};
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  return {};
}

/// Jira's error text: errorMessages (array of strings) and errors (object field -> message),
/// e.g. "Issue does not exist or you do not have permission to see it."; else a body excerpt.
std::string jira_error_text(std::string_view body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  std::string out;
  if (!ec && parsed.is_object()) {
    const auto& obj = parsed.get_object();
    if (const auto* messages = obj.if_contains("errorMessages"); messages && messages->is_array()) {
      for (const auto& m : messages->get_array()) {
        if (m.is_string()) {
          if (!out.empty()) out += "; ";
          out += std::string(m.get_string());
        }
      }
    }
    if (const auto* errors = obj.if_contains("errors"); errors && errors->is_object()) {
      for (const auto& [field, m] : errors->get_object()) {
        if (m.is_string()) {
          if (!out.empty()) out += "; ";
          out += std::string(field) + ": " + std::string(m.get_string());
        }
      }
    }
  }
  if (out.empty() && !body.empty()) {
    out = std::string(body.substr(0, kExcerptBytes));
    std::replace_if(
        out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
    if (body.size() > kExcerptBytes) out += "...";
  }
  return out;
}

/// "2026-03-01T10:15:00.000+0000", Jira's worklog "started" format.
std::string jira_timestamp(UnixMillis ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char millis[16];
  std::snprintf(millis, sizeof millis, ".%03d+0000", static_cast<int>(((ms % 1000) + 1000) % 1000));
  return std::string(buf, n) + millis;
}

}  // namespace

std::string remote_link_global_id(std::string_view repository, std::string_view commit_hash) {
  std::string id = "commitbridge:" + std::string(repository) + ":" + std::string(commit_hash);
  if (id.size() <= kMaxGlobalId) {
    return id;
  }
  return "commitbridge:sha256:" + auth::to_hex(auth::sha256(repository)) + ":" +
         std::string(commit_hash);
}

bool is_valid_issue_key(std::string_view key) noexcept {
  const auto dash = key.rfind('-');
  if (dash == std::string_view::npos || dash < 2 || dash + 1 >= key.size()) {
    return false;
  }
  if (key[0] < 'A' || key[0] > 'Z') {
    return false;
  }
  for (std::size_t i = 1; i < dash; ++i) {
    const char c = key[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  if (key[dash + 1] < '1' || key[dash + 1] > '9') {
    return false;
  }
  return std::all_of(key.begin() + static_cast<std::ptrdiff_t>(dash) + 1, key.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

Result<void> validate_jira_config(const JiraConfig& config) {
  if (!config.base_url.starts_with("http://") && !config.base_url.starts_with("https://")) {
    return fail(ErrorCode::invalid_argument, "Jira base URL must start with http:// or https://");
  }
  if (config.timeout <= std::chrono::milliseconds::zero()) {
    return fail(ErrorCode::invalid_argument, "Jira timeout must be positive");
  }
  if (config.flavour == JiraFlavour::cloud) {
    if (config.email.empty() || config.api_token.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "Jira Cloud needs an account email and an API token");
    }
  } else if (config.personal_access_token.empty()) {
    return fail(ErrorCode::invalid_argument, "Jira Data Center needs a personal access token");
  }
  return {};
}

struct JiraClient::Reply {
  int status = 0;
  json::value body;  // null when the body is empty or not JSON
};

JiraClient::JiraClient(JiraConfig config, HttpClient& http, const Clock& clock)
    : config_(std::move(config)), http_(http), clock_(clock) {
  while (config_.base_url.ends_with('/')) {
    config_.base_url.pop_back();
  }
}

ConnectorResult<JiraClient::Reply> JiraClient::call(std::string_view method, std::string path,
                                                    std::string body) {
  if (auto valid = validate_jira_config(config_); !valid) {
    return std::unexpected(permanent_failure(valid.error().message));
  }
  HttpRequest req;
  req.method = std::string(method);
  req.url = config_.base_url + path;
  req.timeout = config_.timeout;
  req.connect_timeout = std::min(config_.timeout, req.connect_timeout);
  req.verify_tls = config_.verify_tls;
  req.max_response_bytes = kMaxResponseBytes;
  const std::string credential =
      config_.flavour == JiraFlavour::cloud
          ? "Basic " + auth::base64_encode(config_.email + ":" + config_.api_token)
          : "Bearer " + config_.personal_access_token;
  req.headers = {{"Accept", "application/json"}, {"Authorization", credential}};
  if (!body.empty()) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = std::move(body);
  }
  const std::vector<std::string> secrets = {credential, config_.api_token,
                                            config_.personal_access_token};
  const std::string what = "Jira " + req.method + " " + path;

  auto res = http_.send(req);
  if (!res) {
    auto failure = failure_from_transport(res.error(), what);
    failure.message = redact_secrets(std::move(failure.message), secrets);
    return std::unexpected(std::move(failure));
  }
  if (res->status < 200 || res->status > 299) {
    std::string message =
        "Jira answered HTTP " + std::to_string(res->status) + " to " + req.method + " " + path;
    const std::string text = jira_error_text(res->body);
    if (!text.empty()) {
      message += ": " + text;
    }
    return std::unexpected(
        failure_from_response(*res, clock_.now_ms(), redact_secrets(std::move(message), secrets)));
  }
  Reply reply;
  reply.status = res->status;
  if (!res->body.empty()) {
    boost::system::error_code ec;
    reply.body = json::parse(res->body, ec);
    if (ec) {
      reply.body = nullptr;
    }
  }
  return reply;
}

namespace {

std::optional<ConnectorFailure> check_key(std::string_view key) {
  if (is_valid_issue_key(key)) {
    return std::nullopt;
  }
  return permanent_failure("invalid Jira issue key \"" + std::string(key.substr(0, 64)) + "\"");
}

std::string issue_path(std::string_view key, std::string_view tail) {
  return "/rest/api/2/issue/" + std::string(key) + "/" + std::string(tail);
}

}  // namespace

ConnectorResult<void> JiraClient::upsert_commit_link(std::string_view issue_key,
                                                     const JiraCommitLink& link) {
  if (auto bad = check_key(issue_key)) return std::unexpected(std::move(*bad));
  json::object object{{"url", link.url}, {"title", link.title}};
  if (!link.summary.empty()) object["summary"] = link.summary;
  if (!link.icon_url.empty()) {
    object["icon"] = json::object{{"url16x16", link.icon_url}, {"title", "commit"}};
  }
  const json::object body{
      {"globalId", remote_link_global_id(link.repository, link.commit_hash)},
      {"application", json::object{{"type", "com.commitbridge"}, {"name", "commitbridge"}}},
      {"relationship", "commit"},
      {"object", std::move(object)}};
  auto reply = call("POST", issue_path(issue_key, "remotelink"), json::serialize(body));
  if (!reply) return std::unexpected(std::move(reply.error()));
  return {};
}

ConnectorResult<std::string> JiraClient::add_comment(std::string_view issue_key,
                                                     std::string_view text) {
  if (auto bad = check_key(issue_key)) return std::unexpected(std::move(*bad));
  const json::object body{{"body", text}};
  auto reply = call("POST", issue_path(issue_key, "comment"), json::serialize(body));
  if (!reply) return std::unexpected(std::move(reply.error()));
  return reply->body.is_object() ? string_or_empty(reply->body.get_object(), "id") : std::string();
}

ConnectorResult<std::string> JiraClient::add_worklog(std::string_view issue_key,
                                                     std::string_view time_spent,
                                                     std::string_view comment,
                                                     std::optional<UnixMillis> started_ms) {
  if (auto bad = check_key(issue_key)) return std::unexpected(std::move(*bad));
  if (time_spent.empty()) {
    return std::unexpected(
        permanent_failure("worklog for " + std::string(issue_key) + " has no time spent"));
  }
  json::object body{{"timeSpent", time_spent}};
  if (!comment.empty()) body["comment"] = comment;
  if (started_ms) body["started"] = jira_timestamp(*started_ms);
  auto reply = call("POST", issue_path(issue_key, "worklog"), json::serialize(body));
  if (!reply) return std::unexpected(std::move(reply.error()));
  return reply->body.is_object() ? string_or_empty(reply->body.get_object(), "id") : std::string();
}

ConnectorResult<std::vector<JiraTransition>> JiraClient::list_transitions(
    std::string_view issue_key) {
  if (auto bad = check_key(issue_key)) return std::unexpected(std::move(*bad));
  const std::string path = issue_path(issue_key, "transitions");
  auto reply = call("GET", path, {});
  if (!reply) return std::unexpected(std::move(reply.error()));
  const json::value* list =
      reply->body.is_object() ? reply->body.get_object().if_contains("transitions") : nullptr;
  if (list == nullptr || !list->is_array()) {
    return std::unexpected(
        permanent_failure("Jira GET " + path + " answered without a \"transitions\" list"));
  }
  std::vector<JiraTransition> out;
  for (const auto& item : list->get_array()) {
    if (!item.is_object()) continue;
    const auto& obj = item.get_object();
    JiraTransition t{string_or_empty(obj, "id"), string_or_empty(obj, "name"), {}};
    if (const auto* to = obj.if_contains("to"); to && to->is_object()) {
      t.to_status = string_or_empty(to->get_object(), "name");
    }
    if (!t.id.empty()) out.push_back(std::move(t));
  }
  return out;
}

ConnectorResult<JiraTransition> JiraClient::transition(std::string_view issue_key,
                                                       std::string_view command,
                                                       std::string_view comment) {
  auto available = list_transitions(issue_key);
  if (!available) return std::unexpected(std::move(available.error()));
  const std::string wanted = normalise_command(command);
  std::vector<const JiraTransition*> whole;
  std::vector<const JiraTransition*> first_word;
  for (const auto& t : *available) {
    const std::string name = normalise_command(t.name);
    if (name == wanted) {
      whole.push_back(&t);
    } else if (name.substr(0, name.find(' ')) == wanted) {
      first_word.push_back(&t);
    }
  }
  const auto& matches = whole.empty() ? first_word : whole;
  const std::string key(issue_key);
  if (matches.empty() || wanted.empty()) {
    std::vector<const JiraTransition*> all;
    for (const auto& t : *available) all.push_back(&t);
    return std::unexpected(
        permanent_failure("no transition \"" + std::string(command) + "\" on " + key +
                          "; available: " + (all.empty() ? std::string("none") : join_names(all))));
  }
  if (matches.size() > 1) {
    return std::unexpected(permanent_failure("transition \"" + std::string(command) + "\" on " +
                                             key + " is ambiguous: " + join_names(matches)));
  }
  const JiraTransition chosen = *matches.front();
  json::object body{{"transition", json::object{{"id", chosen.id}}}};
  if (!comment.empty()) {
    body["update"] = json::object{
        {"comment", json::array{json::object{{"add", json::object{{"body", comment}}}}}}};
  }
  auto reply = call("POST", issue_path(issue_key, "transitions"), json::serialize(body));
  if (!reply) return std::unexpected(std::move(reply.error()));
  return chosen;
}

ConnectorResult<std::vector<std::string>> JiraClient::list_project_keys() {
  auto reply = call("GET", "/rest/api/2/project", {});
  if (!reply) return std::unexpected(std::move(reply.error()));
  if (!reply->body.is_array()) {
    return std::unexpected(
        permanent_failure("Jira GET /rest/api/2/project answered without a project list"));
  }
  std::vector<std::string> keys;
  for (const auto& p : reply->body.get_array()) {
    if (p.is_object()) {
      std::string key = string_or_empty(p.get_object(), "key");
      if (!key.empty()) keys.push_back(std::move(key));
    }
  }
  return keys;
}

}  // namespace cb::connectors
