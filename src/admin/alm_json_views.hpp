#pragma once
// The JSON shapes of ALM connections and outbox entries shared by the admin API and the CLI's
// --json output (documented in docs/openapi.json). Never contains a secret.

#include <boost/json/object.hpp>

#include "store/alm_records.hpp"

namespace cb::admin {

/// {"id", "name", "type", "url", "secret_set", "enabled", "created_at", "updated_at"}, and for
/// jira also "deployment", "email", "add_remote_link", "add_comment", "run_commands",
/// "max_commit_age_seconds", "project_keys", "project_keys_refreshed_at",
/// "project_keys_error". Times ISO-8601 UTC or null. secret_set is true for every stored
/// connection (a secret is required); the secret itself is never shown.
[[nodiscard]] boost::json::object alm_connection_json(const store::AlmConnectionRecord& c);

/// {"id", "connection", "connection_name", "repository", "story_key", "commit", "action",
/// "ordinal", "status", "attempts", "next_attempt_at" (pending only, else null), "last_error",
/// "delivery_id", "created_at", "updated_at", "sent_at", "payload" (object)}.
[[nodiscard]] boost::json::object outbox_entry_json(const store::OutboxEntryRecord& e);

}  // namespace cb::admin
