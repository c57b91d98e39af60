#pragma once
// Build on commit, step 2: turn a push or pull-request delivery into queued job runs (one per
// job × delivery × ref change, in one transaction) and say on the delivery which runs it
// created or why none. The runs are executed by the JobRunner, not here.

#include <chrono>
#include <functional>
#include <map>
#include <string_view>

#include "core/clock.hpp"
#include "core/event.hpp"
#include "pipeline/outcome.hpp"
#include "pipeline/paths.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// Creates the job runs of trigger deliveries. Used by the worker thread only.
class JobDispatch {
 public:
  JobDispatch(store::Store& store, const Clock& clock, PipelinePaths paths)
      : store_(store), clock_(clock), paths_(std::move(paths)) {}

  /// Queues one run per matching job and ref change of a push (see match_push). Idempotent
  /// across redeliveries and restarts: a run that exists already is reported, not created
  /// again. Returns done with the runs ("2 job runs queued: build@main (run 12), ..."), or
  /// ignored with why none (no job for this repository, branch excluded by a rule, skip marker,
  /// event not selected, ref-limit-exceeded mirror sync without ref list). The payload is
  /// written to <payloads>/<delivery id>.json for the commands.
  [[nodiscard]] ProcessOutcome dispatch(const store::DeliveryRecord& delivery,
                                        const store::RepositoryRecord& repo, const PushEvent& push,
                                        const std::string& payload_json);

  /// The same for a pull-request change (see match_pull_request).
  [[nodiscard]] ProcessOutcome dispatch_pull_request(const store::DeliveryRecord& delivery,
                                                     const store::RepositoryRecord& repo,
                                                     const PullRequestEvent& pr,
                                                     const std::string& payload_json);

  /// Called after runs were queued (wakes the runner). Set before the worker starts.
  void set_on_runs_queued(std::function<void()> f) { on_runs_queued_ = std::move(f); }

  /// Minimum time between two fetches of one repository's mirror done only to read a head
  /// commit message for the skip marker (a burst of pushes does not fetch once per push).
  static constexpr std::chrono::milliseconds kSkipFetchInterval{2000};

 private:
  ProcessOutcome queue(const store::DeliveryRecord& delivery, std::vector<store::JobRunRecord> runs,
                       std::vector<std::string> not_run, const std::string& payload_json);
  /// The message of commit `hash` from the repository's mirror (fetched when it lacks it, at
  /// most once per kSkipFetchInterval); nullopt when unknown or the mirror is unavailable.
  std::optional<std::string> mirror_message(const store::DeliveryRecord& delivery,
                                            const store::RepositoryRecord& repo,
                                            const std::string& hash);

  store::Store& store_;
  const Clock& clock_;
  PipelinePaths paths_;
  std::function<void()> on_runs_queued_;
  std::map<std::int64_t, UnixMillis> last_skip_fetch_ms_;  ///< repository id → time
};

}  // namespace cb::pipeline
