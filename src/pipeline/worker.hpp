#pragma once
// The worker thread: claims deliveries from the store in batches, processes them, records the
// outcomes, and retries transient failures with backoff.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "pipeline/delivery_processor.hpp"
#include "pipeline/pipeline_metrics.hpp"

namespace cb::pipeline {

/// The worker thread's nice value (0 normal, 19 lowest): while the server's CPU is saturated by
/// incoming requests, answering them (and committing them durably) goes first and processing
/// catches up after the burst; on an idle CPU the worker runs at full speed.
inline constexpr int kWorkerNice = 10;

/// Longest wait before a retry, whatever the attempt number.
inline constexpr std::int64_t kMaxRetryDelayMs = 24LL * 3600 * 1000;

/// Retry policy of the worker.
struct WorkerOptions {
  int max_attempts = 5;                 ///< then the delivery is failed for good
  std::int64_t base_backoff_ms = 2000;  ///< attempt n waits base * 2^(n-1), at most 24 h
  std::int64_t poll_interval_ms = 500;  ///< idle wait when not notified
  /// Counts each outcome in commitbridge_deliveries_total when set (not owned).
  const PipelineMetrics* metrics = nullptr;
  /// Deliveries claimed at once (one store round trip per batch). A started worker records each
  /// outcome as soon as it has it, from a recorder thread that joins the next group commit;
  /// drain() records a batch's outcomes with its next claim.
  std::size_t claim_batch = 64;
};

/// One background thread processing deliveries in arrival order.
///
/// Claimed deliveries are `processing` in the store until their outcome is recorded; only this
/// thread claims (a claim takes `queued` ones only), so a delivery is never processed twice by
/// a running server. After a crash, recover_after_restart() puts `processing` ones back.
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
  /// Finishes the delivery in progress, records the outcomes, gives the claimed deliveries not
  /// started back to the queue, then stops. Idempotent.
  void stop();
  /// Processes every due delivery on the calling thread until none is left (for tests and the
  /// CLI). Returns how many were processed; their outcomes are recorded when it returns.
  std::size_t drain();

  /// An outcome waiting to be recorded, with what the metrics need once it is.
  struct Pending {
    store::DeliveryOutcome outcome;
    std::string org_name;
    std::string provider;
  };

 private:
  /// Records the pending outcomes and claims the next batch. False when nothing was claimed.
  bool settle_and_claim();
  /// Processes the claimed batch; returns how many were processed.
  std::size_t process_batch();
  /// Records the pending outcomes (and releases what was not processed) without claiming.
  void settle_only();
  /// Records the pending outcomes now (kept for the next call when the store fails).
  void record_pending();
  /// The recorder thread of a started worker: records handed-over outcomes as they come.
  void record_loop();
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
  std::vector<store::DeliveryRecord> claimed_;  ///< the current batch (worker thread only)
  /// Outcomes not yet recorded (worker thread; drain() records them with the next claim).
  std::vector<Pending> pending_;

  // A started worker hands each outcome to a recorder thread, which records it at once (in the
  // next group commit) while the worker goes on with its batch: a slow delivery never holds back
  // the outcome of one finished before it.
  std::mutex record_mutex_;
  std::condition_variable record_cv_;
  std::vector<Pending> to_record_;  ///< guarded by record_mutex_
  bool recorder_stopping_ = false;  ///< guarded by record_mutex_
  std::thread recorder_;
};

}  // namespace cb::pipeline
