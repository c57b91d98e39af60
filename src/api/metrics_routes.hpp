#pragma once
// Operations routes:
//   GET /metrics   every metric in the Prometheus text format
//   GET /readyz    200 when the store answered recently, else 503 with a JSON error

#include <chrono>

#include "core/clock.hpp"
#include "core/metrics.hpp"
#include "http/router.hpp"
#include "pipeline/store_probe.hpp"

namespace cb::api {

/// Registers GET /metrics: `registry.render()` with Content-Type
/// `text/plain; version=0.0.4; charset=utf-8`. Rendering reads counters in memory only.
void add_metrics_route(http::Router& router, const metrics::Registry& registry);

/// Registers GET /readyz. It reads the StoreProbe's last result (never the database): 200
/// `{"status":"ready","pending_deliveries":N,"checked_at":"<ISO-8601>"}` when the last check
/// succeeded within `max_age`, else 503 `{"error":{"code":"store_unavailable",...}}` with
/// `Retry-After`.
void add_readiness_route(http::Router& router, const pipeline::StoreProbe& probe,
                         const Clock& clock, std::chrono::milliseconds max_age);

}  // namespace cb::api
