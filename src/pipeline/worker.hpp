#pragma once
// The worker thread: claims deliveries from the store, processes them, records the outcome,
// and retries transient failures with backoff.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "pipeline/delivery_processor.hpp"
#include "pipeline/pipeline_metrics.hpp"

namespace cb::pipeline {

/// Longest wait before a retry, whatever the attempt number.
inline constexpr std::int64_t kMaxRetryDelayMs = 24LL * 3600 * 1000;

/// Retry policy of the worker.
struct WorkerOptions {
  int max_attempts = 5;                 ///< then the delivery is failed for good
  std::int64_t base_backoff_ms = 2000;  ///< attempt n waits base * 2^(n-1), at most 24 h
  std::int64_t poll_interval_ms = 500;  ///< idle wait when not notified
  /// Counts each outcome in commitbridge_deliveries_total when set (not owned).
  const PipelineMetrics* metrics = nullptr;
};

/// One background thread processing deliveries in arrival order.
class Worker {
 public:
  Worker(store::Store& store, DeliveryProcessor& processor, const Clock& clock,
         WorkerOptions options = {});
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// Starts the thread.
  void start();
  /// Wakes the thread (a delivery was just persisted).
  void notify();
  /// Finishes the delivery in progress, then stops. Idempotent.
  void stop();
  /// Processes every due delivery on the calling thread until none is left (for tests and the
  /// CLI). Returns how many were processed.
  std::size_t drain();

 private:
  bool process_one();
  void loop();

  store::Store& store_;
  DeliveryProcessor& processor_;
  const Clock& clock_;
  WorkerOptions options_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cb::pipeline
