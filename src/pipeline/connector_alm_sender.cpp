#include "pipeline/connector_alm_sender.hpp"

#include <boost/json.hpp>

#include "connectors/jira_client.hpp"
#include "connectors/outbound_webhook.hpp"

namespace cb::pipeline {
namespace {

namespace json = boost::json;

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t int_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

template <class T>
SendResult outcome(const connectors::ConnectorResult<T>& r) {
  if (r) return SendResult::ok();
  if (r.error().retryable()) {
    return SendResult::retry_later(r.error().message, r.error().retry_after.count());
  }
  return SendResult::failed(r.error().message);
}

connectors::JiraConfig jira_config(const store::AlmConnectionRecord& c, const std::string& secret,
                                   std::chrono::milliseconds timeout) {
  connectors::JiraConfig config;
  config.base_url = c.url;
  config.timeout = timeout;
  if (c.jira_deployment == "cloud") {
    config.flavour = connectors::JiraFlavour::cloud;
    config.email = c.jira_email;
    config.api_token = secret;
  } else {
    config.flavour = connectors::JiraFlavour::data_center;
    config.personal_access_token = secret;
  }
  return config;
}

/// The comment the connection's add_comment option writes for a commit.
std::string commit_comment(const json::object& p) {
  const std::string hash = text_of(p, "commit");
  const std::string url = text_of(p, "commit_url");
  std::string out = text_of(p, "author_name") + " committed " + hash.substr(0, 11) + " to " +
                    text_of(p, "repository") + " (" + text_of(p, "branch") + ")";
  if (!url.empty()) out += "\n" + url;
  return out + "\n\n" + text_of(p, "message");
}

}  // namespace

SendResult ConnectorAlmSender::send(const store::OutboxEntryRecord& entry,
                                    const store::AlmConnectionRecord& connection,
                                    const std::string& secret) {
  boost::system::error_code ec;
  auto parsed = json::parse(entry.payload_json, ec);
  if (ec || !parsed.is_object())
    return SendResult::failed("the stored payload is not a JSON object");
  const auto& p = parsed.as_object();

  if (connection.type == "webhook") {
    connectors::OutboundWebhookConfig config;
    config.url = connection.url;
    config.secret = secret;
    config.timeout = timeout_;
    connectors::OutboundWebhookSender sender(std::move(config), http_, clock_);
    json::object body = p;
    body["action"] = entry.action;
    return outcome(
        sender.send(json::serialize(body), "commit_linked", "outbox-" + std::to_string(entry.id)));
  }
  if (connection.type != "jira") {
    return SendResult::failed("unknown connection type '" + connection.type + "'");
  }
  connectors::JiraClient jira(jira_config(connection, secret, timeout_), http_, clock_);
  const std::string& key = entry.story_key;
  if (entry.action == store::kActionRemoteLink) {
    connectors::JiraCommitLink link;
    link.repository = text_of(p, "provider") + ":" + text_of(p, "repository");
    link.commit_hash = entry.commit_hash;
    link.url = text_of(p, "commit_url");
    if (link.url.empty()) link.url = text_of(p, "clone_url");
    link.title = text_of(p, "repository") + " " + entry.commit_hash.substr(0, 11);
    link.summary = first_line(text_of(p, "message"));
    return outcome(jira.upsert_commit_link(key, link));
  }
  if (entry.action == store::kActionComment) {
    return outcome(
        jira.add_comment(key, entry.ordinal == 0 ? commit_comment(p) : text_of(p, "text")));
  }
  if (entry.action == store::kActionWorklog) {
    const std::int64_t started = int_of(p, "authored_at_ms");
    return outcome(
        jira.add_worklog(key, text_of(p, "time_spent"), text_of(p, "text"),
                         started > 0 ? std::optional<UnixMillis>(started) : std::nullopt));
  }
  if (entry.action == store::kActionTransition) {
    return outcome(jira.transition(key, text_of(p, "transition"), text_of(p, "text")));
  }
  return SendResult::failed("action '" + entry.action + "' does not apply to a jira connection");
}

Result<std::vector<std::string>> ConnectorAlmSender::list_project_keys(
    const store::AlmConnectionRecord& connection, const std::string& secret) {
  connectors::JiraClient jira(jira_config(connection, secret, timeout_), http_, clock_);
  auto keys = jira.list_project_keys();
  if (!keys) return fail(ErrorCode::peer_unavailable, keys.error().message);
  return std::move(*keys);
}

}  // namespace cb::pipeline
