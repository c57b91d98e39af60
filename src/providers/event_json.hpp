#pragma once
// The stable JSON form of a normalized event, used by golden files and the API.

#include <string>

#include <boost/json/value.hpp>

#include "core/event.hpp"

namespace cb::providers {

/// The stable JSON form of `event` (format defined here; golden files in
/// tests/fixtures/providers/<id>/*.golden.json pin it). Keys appear in a fixed order; every
/// field of the model is present, empty strings and empty arrays included.
///
/// - `{"type": "push", "repository": R, "actor": P, "changes": [C...], "commits": [K...],
///   "to_commit": K or null}`
/// - `{"type": "pull_request", "repository": R, "actor": P, "action": "opened"|...,
///   "id": n, "title", "state", "source_ref_id", "source_branch", "source_hash",
///   "target_ref_id", "target_branch", "target_hash", "previous_source_hash",
///   "previous_target_branch", "merge_commit_hash", "created_at", "created_at_ms",
///   "updated_at", "updated_at_ms"}`
/// - `{"type": "ping"}` and `{"type": "unsupported", "event_key": "..."}`
///
/// where R = `{"provider", "project_key", "slug", "name", "http_clone_url", "ssh_clone_url",
/// "browse_url"}`, P = `{"name", "email", "username"}`, C = `{"ref_id", "display_id",
/// "ref_type": "branch"|"tag"|"other", "type": "add"|"update"|"delete", "from_hash",
/// "to_hash"}`, K = `{"hash", "message", "author": P, "author_time", "author_time_ms",
/// "parents": [hash...]}`. Times are given twice: `*_ms` = milliseconds since the Unix epoch
/// (UTC; 0 = not given by the sender) and the same instant as an ISO-8601 UTC string with
/// milliseconds (cb::format_utc, e.g. "2026-03-01T09:15:00.000Z"), or null when `*_ms` is 0.
/// Never throws except std::bad_alloc.
[[nodiscard]] boost::json::value to_json(const NormalizedEvent& event);

/// `value` serialized with two-space indentation, one member or element per line, keys in
/// their stored order, and a final newline (empty objects/arrays as `{}`/`[]`). Strings and
/// numbers are serialized exactly as boost::json::serialize does. Used for golden files and
/// human-readable API output.
[[nodiscard]] std::string to_pretty_json(const boost::json::value& value);

}  // namespace cb::providers
