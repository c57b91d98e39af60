#pragma once
// Webhook ingress routes:
//   POST /api/webhook/v2/{org}/enterprise/{endpoint}   Bitbucket Data Center / Server
//   POST /api/webhook/v2/{org}/{endpoint}              any provider, detected from headers
// where {endpoint} is trigger-scm-push-request or sync-alm-commits.

#include <functional>

#include "http/router.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "store/store.hpp"

namespace cb::api {

/// Registers the webhook routes. `on_persisted` is called after each delivery is committed
/// (it wakes the worker). The ingest path answers 202 only after the store has committed.
/// `metrics` (optional, not owned) counts deliveries (queued, duplicate, ignored) and refusals.
void add_webhook_routes(http::Router& router, const pipeline::Ingest& ingest, store::Store& store,
                        std::function<void()> on_persisted,
                        const pipeline::PipelineMetrics* metrics = nullptr);

/// Registers GET /healthz (always 200 while the process serves HTTP).
void add_health_routes(http::Router& router);

}  // namespace cb::api
