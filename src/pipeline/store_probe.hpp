#pragma once
// A background check of the store: a cheap query about once a second, off the I/O threads.
// Its last result answers GET /readyz and feeds the queue-depth and store-up gauges, so that
// neither a scrape nor a readiness probe ever waits on the database.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// The outcome of the last store check.
struct StoreHealth {
  bool checked = false;          ///< false until the first check finished
  bool ok = false;               ///< the store answered
  UnixMillis checked_at_ms = 0;  ///< when the last check finished (Clock time)
  std::int64_t pending = 0;      ///< deliveries queued or processing (when ok)
  std::string error;             ///< why the store did not answer (when !ok; for logs)
};

/// Runs Store::pending_deliveries() every `interval` on its own thread. Thread-safe.
class StoreProbe {
 public:
  /// `metrics` (optional, not owned) gets queue_depth and store_up updated on each check.
  StoreProbe(store::Store& store, const Clock& clock,
             std::chrono::milliseconds interval = std::chrono::seconds(1),
             const PipelineMetrics* metrics = nullptr);
  ~StoreProbe();
  StoreProbe(const StoreProbe&) = delete;
  StoreProbe& operator=(const StoreProbe&) = delete;

  /// Starts the background thread (which checks at once, then every interval).
  void start();
  /// Stops and joins the thread. Idempotent.
  void stop();
  /// Checks now, on the calling thread, and records the result.
  StoreHealth check_now();
  /// The last recorded result.
  [[nodiscard]] StoreHealth last() const;

  /// Ready when the last check succeeded no longer than `max_age` before `now`. Errors:
  /// store_unavailable, with a message saying why (no check yet, the store did not answer, or
  /// the last answer is too old — a check that hangs shows up this way).
  [[nodiscard]] Result<StoreHealth> ready(UnixMillis now, std::chrono::milliseconds max_age) const;

 private:
  void loop();

  store::Store& store_;
  const Clock& clock_;
  std::chrono::milliseconds interval_;
  const PipelineMetrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  StoreHealth last_;
  std::thread thread_;
};

}  // namespace cb::pipeline
