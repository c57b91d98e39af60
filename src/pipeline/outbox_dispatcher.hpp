#pragma once
// The outbox dispatcher: a thread that claims due outbox entries, performs them with an
// AlmSender, and records the outcome (sent; pending again after a backoff; dead after too many
// attempts or a permanent error). It also refreshes the Jira project keys of each connection
// and keeps the commitbridge_outbox_backlog gauge current.
//
// Delivery guarantee: at least once. An entry is marked sending before the request and sent
// after the answer; a crash in between leaves it sending, and the next start sends it again.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "auth/secret_box.hpp"
#include "core/clock.hpp"
#include "pipeline/alm_sender.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// Retry policy and timing of the dispatcher. Durations in milliseconds.
struct OutboxOptions {
  int max_attempts = 8;                              ///< then the entry is dead
  std::int64_t base_backoff_ms = 5000;               ///< attempt n waits base * 2^(n-1) ...
  std::int64_t max_backoff_ms = 3'600'000;           ///< ... at most this
  std::int64_t poll_interval_ms = 1000;              ///< idle wait when not notified
  std::int64_t project_keys_refresh_ms = 3'600'000;  ///< Jira project keys are listed this often
  /// Gets outbox_backlog set after each round when set (not owned).
  const PipelineMetrics* metrics = nullptr;
};

/// One background thread performing outbox entries in due order.
class OutboxDispatcher {
 public:
  /// `lister` (optional, not owned) refreshes the project keys of Jira connections.
  OutboxDispatcher(store::Store& store, const auth::SecretBox& box, AlmSender& sender,
                   const Clock& clock, OutboxOptions options = {},
                   ProjectKeyLister* lister = nullptr);
  ~OutboxDispatcher();
  OutboxDispatcher(const OutboxDispatcher&) = delete;
  OutboxDispatcher& operator=(const OutboxDispatcher&) = delete;

  /// Puts entries left sending by a previous run back to pending (at-least-once), then starts
  /// the thread.
  void start();
  /// Wakes the thread (entries were just enqueued).
  void notify();
  /// Finishes the entry in progress, then stops. Idempotent.
  void stop();
  /// Performs every due entry on the calling thread until none is left (tests). Returns how
  /// many were attempted.
  std::size_t drain();
  /// Performs the oldest due entry; false when none was due.
  bool process_one();
  /// Lists the project keys of every Jira connection not refreshed for project_keys_refresh_ms.
  void refresh_project_keys();
  /// Sets the backlog gauge from the store.
  void update_backlog();

  /// The wait before attempt `attempts` + 1 after a transient failure: the peer's Retry-After
  /// when given, else base * 2^(attempts-1), at most max_backoff_ms.
  [[nodiscard]] static std::int64_t retry_delay_ms(const OutboxOptions& options, int attempts,
                                                   std::int64_t retry_after_ms);

 private:
  void loop();

  store::Store& store_;
  const auth::SecretBox& box_;
  AlmSender& sender_;
  const Clock& clock_;
  OutboxOptions options_;
  ProjectKeyLister* lister_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cb::pipeline
