#pragma once
// The metrics of the webhook pipeline, registered once in a metrics::Registry and updated by
// the webhook route, the worker, the job dispatcher and the store probe.

#include <string>
#include <string_view>

#include "core/metrics.hpp"

namespace cb::pipeline {

/// Pointers into a Registry (which owns them and must outlive this struct).
struct PipelineMetrics {
  /// commitbridge_deliveries_total{org, provider, status}: at ingest queued, duplicate or
  /// ignored; after processing done, ignored, failed, or retrying (queued again after a
  /// transient failure).
  metrics::Family<metrics::Counter>* deliveries = nullptr;
  /// commitbridge_webhook_auth_failures_total{reason}: requests refused because the org or the
  /// credentials were wrong; reason is the error code (unknown_org, missing_credentials,
  /// malformed_credentials, invalid_signature, invalid_token).
  metrics::Family<metrics::Counter>* auth_failures = nullptr;
  /// commitbridge_webhook_refused_total{code}: every webhook request refused, by error code.
  metrics::Family<metrics::Counter>* refused = nullptr;
  /// commitbridge_job_runs_total{status}: job runs finished by this process (succeeded,
  /// failed, interrupted).
  metrics::Family<metrics::Counter>* job_runs = nullptr;
  /// commitbridge_queue_depth: deliveries queued or processing in the store (refreshed by the
  /// store probe, about once a second).
  metrics::Gauge* queue_depth = nullptr;
  /// commitbridge_outbox_backlog: ALM write-back entries pending or sending in the outbox (set
  /// by the outbox dispatcher).
  metrics::Gauge* outbox_backlog = nullptr;
  /// commitbridge_store_up: 1 when the last store probe succeeded, else 0.
  metrics::Gauge* store_up = nullptr;

  /// Registers every pipeline metric in `registry`. Throws std::invalid_argument when called
  /// twice on the same registry (start-up only).
  [[nodiscard]] static PipelineMetrics register_in(metrics::Registry& registry);

  /// Counts one delivery outcome; the org label is the org name in lower case (org names match
  /// case-insensitively, so this keeps one series per org whatever case a URL used).
  void count_delivery(std::string_view org, std::string_view provider,
                      std::string_view status) const;
  /// Counts a refused webhook request, and an authentication failure when `code` is one.
  void count_refusal(std::string_view code) const;
  /// Counts a finished job run.
  void count_run(std::string_view status) const;
};

/// ASCII lower case of an org name, as used in the org label.
[[nodiscard]] std::string org_label(std::string_view org);

}  // namespace cb::pipeline
