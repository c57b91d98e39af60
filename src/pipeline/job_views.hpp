#pragma once
// The JSON shapes of jobs, runs and deliveries shared by the admin API and the CLI's --json
// output (documented in docs/openapi.json). Never contains a secret: HTTP header values are
// shown as "(sealed)".

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "pipeline/job_service.hpp"
#include "store/records.hpp"

namespace cb::pipeline {

/// {"id", "name", "repository", "repository_id", "enabled", "events", "branches", "tags",
/// "target_branches", "source_branches", "skip_marker", "max_concurrent", "supersede",
/// "requeue_interrupted", "timeout_ms", "action": {"type": "command", "argv"} |
/// {"type": "http", "method", "url", "headers": [{"name", "value": "(sealed)"}], "body",
/// "timeout_ms", "max_attempts", "base_backoff_ms", "max_backoff_ms"}, "created_at",
/// "updated_at"}.
[[nodiscard]] boost::json::object job_json(const store::JobRecord& job);

/// {"id", "org", "job", "job_id", "repository", "delivery_id", "event", "event_key", "ref",
/// "branch", "from_hash", "to_hash", "pull_request": {"id", "title", "source_branch",
/// "target_branch"} | null, "status", "status_reason", "exit_code", "attempt", "rerun_of",
/// "superseded_by", "cancel_requested", "created_at", "started_at", "finished_at",
/// "output_tail", "log_path"}; times ISO-8601 UTC or null.
[[nodiscard]] boost::json::object run_json(const store::JobRunRecord& run);

/// {"seq", "delivery_id", "org", "endpoint", "provider", "event_key", "external_id", "status",
/// "reason", "attempts", "received_at", "updated_at"}.
[[nodiscard]] boost::json::object delivery_json(const store::DeliveryRecord& delivery);

/// {"items": [to_json(item)...], "next_cursor": "..." | null}: the envelope of every list.
template <class T, class F>
[[nodiscard]] boost::json::object page_json(const JobPage<T>& page, F&& to_json) {
  boost::json::array items;
  for (const auto& item : page.items) items.push_back(to_json(item));
  return boost::json::object{
      {"items", std::move(items)},
      {"next_cursor",
       page.next_cursor.empty() ? boost::json::value() : boost::json::value(page.next_cursor)}};
}

}  // namespace cb::pipeline
