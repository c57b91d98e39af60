#pragma once
// Jobs, runs and deliveries as the admin API and the CLI manage them: validation of job
// definitions (rules, events, templates), sealing of HTTP header values, org scoping, paging,
// cancel and re-run, and the audit log of job changes.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/secret_box.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// An HTTP action as given by a user: header values in clear (sealed before they are stored).
/// Unset fields keep the job's stored HTTP action values on update, and take the defaults below
/// when the job gets its first HTTP action (on create, or when a command job becomes an HTTP
/// job; then the url is required).
struct HttpActionInput {
  std::optional<std::string> method;        ///< default POST
  std::optional<std::string> url_template;  ///< required when the job has no HTTP action yet
  std::optional<std::vector<std::pair<std::string, std::string>>> headers;  ///< none = keep
  std::optional<std::string> body_template;                                 ///< default empty
  std::optional<std::int64_t> timeout_ms;                                   ///< default 30 s
  std::optional<int> max_attempts;                                          ///< default 5
  std::optional<std::int64_t> base_backoff_ms;                              ///< default 1 s
  std::optional<std::int64_t> max_backoff_ms;                               ///< default 60 s
};

/// The fields of a job a user sets. Unset fields keep their value on update and take their
/// default on create (name, repository, branches and one action are required on create).
struct JobInput {
  std::optional<std::string> name;
  std::optional<std::string> repository;  ///< repository id or "PROJECT/slug"
  std::optional<std::string> branches;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> tags;
  std::optional<std::string> target_branches;
  std::optional<std::string> source_branches;
  std::optional<bool> skip_marker;
  std::optional<int> max_concurrent;
  std::optional<bool> supersede;
  std::optional<bool> requeue_interrupted;
  std::optional<bool> enabled;
  std::optional<std::int64_t> timeout_ms;
  /// Update only: the job's own command time limit is removed (worker.job_timeout_ms applies).
  bool clear_timeout_ms = false;
  std::optional<std::vector<std::string>> argv;  ///< sets a command action
  /// Sets an HTTP action, or changes the given fields of the job's HTTP action.
  std::optional<HttpActionInput> http;
};

/// One page of a list and the cursor of the next one (empty on the last page).
template <class T>
struct JobPage {
  std::vector<T> items;
  std::string next_cursor;
};

/// Filters of run lists; times in ms since the epoch (UTC), on the run's creation time.
struct RunFilter {
  std::optional<std::string> job;  ///< job id or name
  std::optional<std::string> status;
  std::optional<std::string> branch;
  std::optional<std::string> delivery_id;
  std::optional<UnixMillis> since;
  std::optional<UnixMillis> until;
};

/// Bytes of the end of a run's log shown as its `log_excerpt` (admin API and `runs get`).
inline constexpr std::size_t kRunLogExcerptBytes = 16 * 1024;

/// A delivery with the runs it created.
struct DeliveryWithRuns {
  store::DeliveryRecord delivery;  ///< headers and body cleared
  std::vector<store::JobRunRecord> runs;
};

/// Who asks, for the audit log: e.g. "token:3f2a…" or "cli:alice", and the client address.
struct JobActor {
  std::string name;
  std::string remote_address;
};

/// The operations. Errors: invalid_argument naming the field, not_found (org, repository, job,
/// run or delivery of another org is not_found too), conflict, store_unavailable.
class JobService {
 public:
  JobService(store::Store& store, const auth::SecretBox& box, const Clock& clock)
      : store_(store), box_(box), clock_(clock) {}

  [[nodiscard]] Result<store::JobRecord> create_job(const std::string& org, const JobInput& in,
                                                    const JobActor& actor = {});
  /// Changes the given fields of a job (by id or name).
  [[nodiscard]] Result<store::JobRecord> update_job(const std::string& org, const std::string& job,
                                                    const JobInput& in, const JobActor& actor = {});
  /// Deletes a job and its runs.
  [[nodiscard]] Result<void> delete_job(const std::string& org, const std::string& job,
                                        const JobActor& actor = {});
  /// The job with this id, or the only job of the org with this name.
  [[nodiscard]] Result<store::JobRecord> get_job(const std::string& org, const std::string& job);
  /// The org's jobs by ascending id; `limit` 1..200, cursor from the previous page.
  [[nodiscard]] Result<JobPage<store::JobRecord>> list_jobs(const std::string& org,
                                                            std::size_t limit,
                                                            const std::string& cursor);

  /// The org's runs, newest first. `filter.job` names the job as get_job() does. Errors:
  /// not_found when no job of the org has that id or name, invalid_argument when the name is
  /// ambiguous or a filter is wrong.
  [[nodiscard]] Result<JobPage<store::JobRunRecord>> list_runs(const std::string& org,
                                                               const RunFilter& filter,
                                                               std::size_t limit,
                                                               const std::string& cursor);
  [[nodiscard]] Result<store::JobRunRecord> get_run(const std::string& org, std::int64_t run_id);
  /// The run's log file: the whole of it, or its last `max_bytes` bytes; the stored output
  /// tail when the file is gone; empty before the run starts.
  [[nodiscard]] Result<std::string> run_log(const store::JobRunRecord& run,
                                            std::optional<std::size_t> max_bytes);
  /// Cancels a queued or running run. Errors: conflict when it has finished.
  [[nodiscard]] Result<store::JobRunRecord> cancel_run(const std::string& org, std::int64_t run_id,
                                                       const JobActor& actor = {});
  /// Queues a new attempt of a run.
  [[nodiscard]] Result<store::JobRunRecord> rerun(const std::string& org, std::int64_t run_id,
                                                  const JobActor& actor = {});

  /// The org's deliveries, newest first (cursor = the seq of the last one seen).
  [[nodiscard]] Result<JobPage<store::DeliveryRecord>> list_deliveries(const std::string& org,
                                                                       std::size_t limit,
                                                                       const std::string& cursor);
  /// A delivery of the org with the runs it created.
  [[nodiscard]] Result<DeliveryWithRuns> get_delivery(const std::string& org,
                                                      const std::string& delivery_id);

 private:
  Result<store::OrgRecord> org_named(const std::string& name);
  Result<void> apply(const store::OrgRecord& org, const JobInput& in, store::JobRecord& job,
                     bool creating);
  void audit(std::int64_t org_id, const JobActor& actor, std::string action, std::string target);

  store::Store& store_;
  const auth::SecretBox& box_;
  const Clock& clock_;
};

/// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" or milliseconds since the epoch. Errors:
/// invalid_argument naming `field`.
[[nodiscard]] Result<UnixMillis> parse_time_filter(std::string_view field, std::string_view text);

}  // namespace cb::pipeline
