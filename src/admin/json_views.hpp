#pragma once
// The JSON shapes of orgs, tokens and audit events shared by the admin API and the CLI's
// --json output (documented in docs/openapi.json). Never contains a secret.

#include <boost/json/object.hpp>

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

}  // namespace cb::admin
