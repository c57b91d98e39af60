#include "admin/alm_json_views.hpp"

#include <boost/json.hpp>

namespace cb::admin {
namespace {

namespace json = boost::json;

json::value time_or_null(const std::optional<UnixMillis>& t) {
  return t ? json::value(format_utc(*t)) : json::value();
}

}  // namespace

json::object alm_connection_json(const store::AlmConnectionRecord& c) {
  json::object o{{"id", c.public_id},
                 {"name", c.name},
                 {"type", c.type},
                 {"url", c.url},
                 {"secret_set", true},
                 {"enabled", c.enabled},
                 {"created_at", format_utc(c.created_at_ms)},
                 {"updated_at", format_utc(c.updated_at_ms)}};
  if (c.type == "jira") {
    o["deployment"] = c.jira_deployment;
    o["email"] = c.jira_email.empty() ? json::value() : json::value(c.jira_email);
    o["add_remote_link"] = c.add_remote_link;
    o["add_comment"] = c.add_comment;
    o["run_commands"] = c.run_commands;
    o["max_commit_age_seconds"] = c.max_commit_age_ms / 1000;
    json::array keys;
    for (const auto& k : c.project_keys) keys.push_back(json::string(k));
    o["project_keys"] = std::move(keys);
    o["project_keys_refreshed_at"] = time_or_null(c.project_keys_refreshed_at_ms);
    o["project_keys_error"] =
        c.project_keys_error.empty() ? json::value() : json::value(c.project_keys_error);
  }
  return o;
}

json::object outbox_entry_json(const store::OutboxEntryRecord& e) {
  boost::system::error_code ec;
  json::value payload = json::parse(e.payload_json, ec);
  if (ec) payload = json::object{};
  return json::object{
      {"id", e.id},
      {"connection", e.connection_public_id},
      {"connection_name", e.connection_name},
      {"repository", e.repository},
      {"story_key", e.story_key},
      {"commit", e.commit_hash},
      {"action", e.action},
      {"ordinal", e.ordinal},
      {"status", e.status},
      {"attempts", e.attempts},
      {"next_attempt_at", e.status == store::kOutboxPending
                              ? json::value(format_utc(e.next_attempt_ms))
                              : json::value()},
      {"last_error", e.last_error.empty() ? json::value() : json::value(e.last_error)},
      {"delivery_id", e.delivery_id},
      {"created_at", format_utc(e.created_at_ms)},
      {"updated_at", format_utc(e.updated_at_ms)},
      {"sent_at", time_or_null(e.sent_at_ms)},
      {"payload", std::move(payload)}};
}

}  // namespace cb::admin
