#pragma once
// Build on commit: match a push's ref changes against the repository's jobs, create one run
// per job × delivery × ref change, and run them.

#include <atomic>
#include <chrono>
#include <functional>
#include <string_view>

#include "core/clock.hpp"
#include "core/event.hpp"
#include "pipeline/outcome.hpp"
#include "pipeline/paths.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// Creates and runs the job runs of a push delivery.
class JobDispatch {
 public:
  /// `job_timeout` bounds each command (SIGTERM, then SIGKILL).
  /// When `stop` becomes true a running command is stopped, its run marked interrupted, and
  /// the delivery handed back as queued (runs not yet started then start after a restart).
  JobDispatch(store::Store& store, const Clock& clock, PipelinePaths paths,
              std::chrono::milliseconds job_timeout, const std::atomic<bool>* stop = nullptr)
      : store_(store),
        clock_(clock),
        paths_(std::move(paths)),
        job_timeout_(job_timeout),
        stop_(stop) {}

  /// For each ADD/UPDATE of a branch, every enabled job of `repo` whose branch rules match gets
  /// one run (idempotent across redeliveries and restarts: a run that already exists is not
  /// started again). Returns done with the runs created, or ignored with why none ran
  /// (branch deleted, tag, no job matches branch X).
  [[nodiscard]] ProcessOutcome dispatch(const store::DeliveryRecord& delivery,
                                        const store::RepositoryRecord& repo, const PushEvent& push,
                                        const std::string& payload_json);

  /// Called with the status (succeeded, failed, interrupted) of every run this dispatcher
  /// finished and recorded (for metrics). Set before the worker starts.
  void set_on_run_finished(std::function<void(std::string_view status)> f) {
    on_run_finished_ = std::move(f);
  }

 private:
  store::Store& store_;
  const Clock& clock_;
  PipelinePaths paths_;
  std::chrono::milliseconds job_timeout_;
  const std::atomic<bool>* stop_;
  std::function<void(std::string_view)> on_run_finished_;
};

}  // namespace cb::pipeline
