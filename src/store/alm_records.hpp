#pragma once
// Records of ALM connections and of the write-back outbox. Times are milliseconds since the
// Unix epoch (UTC).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace cb::store {

/// An ALM connection of an org: where write-back goes. `type` is "jira" (Jira REST at `url`,
/// Cloud with e-mail + API token or Data Center with a personal access token) or "webhook"
/// (a JSON POST to `url` signed with HMAC-SHA256). The secret (API token, personal access token
/// or signing secret) is stored sealed with AES-256-GCM, the additional data being
/// alm_secret_aad(public_id); it is never shown to a user.
struct AlmConnectionRecord {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string public_id;  ///< "alm_" + 16 hex digits; the id in the API
  std::string name;
  std::string type;             ///< "jira" or "webhook"
  std::string url;              ///< Jira base URL, or the webhook URL
  std::string jira_deployment;  ///< "cloud" or "data_center" (jira only)
  std::string jira_email;       ///< Cloud: the account of the API token
  std::string secret_sealed;
  bool add_remote_link = true;  ///< jira: a remote link to the commit on each story
  bool add_comment = false;     ///< jira: a comment describing the commit on each story
  bool run_commands = true;     ///< jira: the smart-commit commands #comment, #time, #<transition>
  /// Commands are sent only for commits authored less than this long ago (milliseconds).
  std::int64_t max_commit_age_ms = 0;
  bool enabled = true;
  std::optional<UnixMillis> project_keys_refreshed_at_ms;
  std::string project_keys_error;         ///< why the last refresh failed; empty when it worked
  std::vector<std::string> project_keys;  ///< the Jira project keys last listed, ascending
  UnixMillis created_at_ms = 0;
  UnixMillis updated_at_ms = 0;
};

/// The additional authenticated data binding a sealed connection secret to its connection.
[[nodiscard]] inline std::string alm_secret_aad(std::string_view public_id) {
  return "alm-connection:" + std::string(public_id);
}

/// Outbox entry states: pending (waiting for its next attempt), sending (claimed by the
/// dispatcher), sent, dead (gave up; last_error says why).
inline constexpr std::string_view kOutboxPending = "pending";
inline constexpr std::string_view kOutboxSending = "sending";
inline constexpr std::string_view kOutboxSent = "sent";
inline constexpr std::string_view kOutboxDead = "dead";

/// Outbox actions.
inline constexpr std::string_view kActionRemoteLink = "remote_link";
inline constexpr std::string_view kActionComment = "comment";
inline constexpr std::string_view kActionWorklog = "worklog";
inline constexpr std::string_view kActionTransition = "transition";
inline constexpr std::string_view kActionWebhook = "webhook";

/// An outbox entry to insert. Unique per connection × story × commit × action × ordinal
/// (ordinal: 0 for what the connection's options add, n >= 1 for the n-th smart-commit command
/// of that action in the commit message), so the same commit seen again adds nothing.
struct NewOutboxEntry {
  std::int64_t org_id = 0;
  std::int64_t connection_id = 0;
  std::int64_t repository_id = 0;
  std::string story_key;
  std::string commit_hash;
  std::string action;
  int ordinal = 0;
  std::string payload_json;  ///< what the sender needs (see pipeline/outbox_planner.hpp)
  std::string delivery_id;   ///< the delivery that first planned it
};

/// A stored outbox entry.
struct OutboxEntryRecord {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t connection_id = 0;
  std::string connection_public_id;
  std::string connection_name;
  std::int64_t repository_id = 0;
  std::string repository;  ///< "PROJECT/slug"
  std::string story_key;
  std::string commit_hash;
  std::string action;
  int ordinal = 0;
  std::string payload_json;
  std::string status;
  int attempts = 0;
  UnixMillis next_attempt_ms = 0;
  std::string last_error;
  std::string delivery_id;
  UnixMillis created_at_ms = 0;
  UnixMillis updated_at_ms = 0;
  std::optional<UnixMillis> sent_at_ms;
};

/// Filter and page of outbox lists: ascending id after `after_id`.
struct OutboxQuery {
  std::int64_t org_id = 0;
  std::optional<std::string> status;
  std::int64_t after_id = 0;
  std::size_t limit = 50;
};

}  // namespace cb::store
