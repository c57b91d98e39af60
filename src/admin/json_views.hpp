#pragma once
// The JSON shapes of orgs, tokens and audit events shared by the admin API and the CLI's
// --json output (documented in docs/openapi.json). Never contains a secret.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "admin/admin_service.hpp"

#include "core/clock.hpp"
#include "store/records.hpp"

namespace cb::admin {

/// {"name", "created_at"}.
[[nodiscard]] boost::json::object org_json(const store::OrgRecord& org);
/// {"id" (public id), "name", "type", "description", "state" (active/revoked/expired),
/// "created_at", "created_by", "last_used_at", "expires_at", "revoked_at", "rotated_at",
/// "previous_secret_valid_until"}; times ISO-8601 UTC or null. `now` decides the state.
[[nodiscard]] boost::json::object token_json(const store::TokenRecord& token, UnixMillis now);
/// "active", "revoked" or "expired" at `now`.
[[nodiscard]] std::string token_state(const store::TokenRecord& token, UnixMillis now);
/// {"id", "actor", "action", "target", "detail" (object), "remote_address", "created_at"}.
[[nodiscard]] boost::json::object audit_json(const store::AuditEvent& event);

/// {"items": [to_json(item)...], "next_cursor": "..." | null}: the envelope of every list.
template <class T, class F>
[[nodiscard]] boost::json::object page_json(const Page<T>& page, F&& to_json) {
  boost::json::array items;
  for (const auto& item : page.items) items.push_back(to_json(item));
  return boost::json::object{
      {"items", std::move(items)},
      {"next_cursor",
       page.next_cursor.empty() ? boost::json::value() : boost::json::value(page.next_cursor)}};
}

}  // namespace cb::admin
