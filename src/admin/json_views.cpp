#include "admin/json_views.hpp"

#include <boost/json.hpp>

namespace cb::admin {
namespace {

namespace json = boost::json;

json::value time_or_null(const std::optional<UnixMillis>& t) {
  return t ? json::value(format_utc(*t)) : json::value();
}

}  // namespace

json::object org_json(const store::OrgRecord& o) {
  return json::object{{"name", o.name}, {"created_at", format_utc(o.created_at_ms)}};
}

std::string token_state(const store::TokenRecord& t, UnixMillis now) {
  if (t.revoked_at_ms) return "revoked";
  if (t.expires_at_ms && *t.expires_at_ms <= now) return "expired";
  return "active";
}

json::object token_json(const store::TokenRecord& t, UnixMillis now) {
  json::object o{{"id", t.public_id},
                 {"name", t.name},
                 {"type", t.type},
                 {"description", t.description},
                 {"state", token_state(t, now)},
                 {"created_at", format_utc(t.created_at_ms)},
                 {"created_by", t.created_by},
                 {"last_used_at", time_or_null(t.last_used_at_ms)},
                 {"expires_at", time_or_null(t.expires_at_ms)},
                 {"revoked_at", time_or_null(t.revoked_at_ms)},
                 {"rotated_at", time_or_null(t.rotated_at_ms)}};
  const bool grace = t.previous_valid_until_ms && *t.previous_valid_until_ms > now;
  o["previous_secret_valid_until"] =
      grace ? time_or_null(t.previous_valid_until_ms) : json::value();
  return o;
}

json::object audit_json(const store::AuditEvent& e) {
  boost::system::error_code ec;
  json::value detail = json::parse(e.detail, ec);
  if (ec) detail = json::object{};
  return json::object{{"id", e.id},
                      {"actor", e.actor},
                      {"action", e.action},
                      {"target", e.target},
                      {"detail", std::move(detail)},
                      {"remote_address", e.remote_address},
                      {"created_at", format_utc(e.created_at_ms)}};
}

}  // namespace cb::admin
