#pragma once
// The Store interface. The SQLite implementation is in sqlite/; nothing here parses payloads.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/alm_records.hpp"
#include "store/records.hpp"

namespace cb::store {

/// Filter and page for delivery lists (newest first).
struct DeliveryQuery {
  std::optional<std::int64_t> org_id;
  std::size_t limit = 50;
  std::optional<std::int64_t> before_seq;  ///< cursor: only deliveries with seq < before_seq
};

/// Filter and page for job run lists (newest first). Times are created_at, in ms, UTC.
struct RunQuery {
  std::optional<std::int64_t> org_id;
  std::optional<std::string> delivery_id;
  std::optional<std::int64_t> job_id;
  std::optional<std::string> job_name;  ///< exact job name (any repository of the org)
  std::optional<std::string> status;
  std::optional<std::string> branch;
  std::optional<UnixMillis> since;  ///< created_at >= since
  std::optional<UnixMillis> until;  ///< created_at < until
  std::size_t limit = 50;
  std::optional<std::int64_t> before_id;
};

/// Filter and page of a story's links (newest authored first). The cursor is the last link of
/// the previous page: only links with (authored_at_ms, id) below (before_authored_at_ms,
/// before_id).
struct StoryLinkQuery {
  std::optional<std::int64_t> org_id;  ///< all orgs when empty
  std::string story_key;
  std::size_t limit = 50;
  std::optional<UnixMillis> before_authored_at_ms;  ///< set together with before_id
  std::optional<std::int64_t> before_id;
};

/// One run a delivery asked for, as create_job_runs() reports it.
struct CreatedRun {
  JobRunRecord run;  ///< the stored run (the existing one when not created now)
  bool created = false;
  std::vector<std::int64_t> superseded;  ///< older queued runs this one superseded
};

/// What recover_runs() did after a restart.
struct RunRecovery {
  int interrupted = 0;   ///< runs found running, now interrupted
  int requeued = 0;      ///< new queued runs for jobs with requeue_interrupted
  int not_requeued = 0;  ///< interrupted runs not re-queued: a newer run exists (supersede)
};

/// The process group of a running command run (migration 0011), as recorded when it started.
struct RunProcessRecord {
  std::int64_t run_id = 0;
  std::int64_t process_group = 0;  ///< pgid = pid of the group's leader
  std::uint64_t start_ticks = 0;   ///< leader's start, clock ticks since boot
  std::string boot_id;             ///< /proc/sys/kernel/random/boot_id of that boot
};

/// What the worker did with a claimed delivery, recorded by Store::settle_and_claim.
struct DeliveryOutcome {
  std::string delivery_id;
  /// done, ignored, failed, or queued again (with next_attempt_ms) for a retry.
  std::string status;
  std::string reason;
  UnixMillis updated_at_ms = 0;
  UnixMillis next_attempt_ms = 0;
  /// Not processed at all (the worker stopped first): back to queued, its claim's attempt not
  /// counted, reason and next attempt time unchanged; status and reason above are ignored.
  bool release = false;
};

/// Durable state of commitbridge. Every method is thread-safe. Errors: store_unavailable when the
/// database cannot be read or written, conflict on a unique violation, not_found where named.
class Store {
 public:
  virtual ~Store() = default;

  // Orgs.
  [[nodiscard]] virtual Result<OrgRecord> create_org(const std::string& name, UnixMillis now) = 0;
  [[nodiscard]] virtual Result<std::optional<OrgRecord>> find_org(const std::string& name) = 0;
  [[nodiscard]] virtual Result<std::vector<OrgRecord>> list_orgs() = 0;
  /// Live orgs by ascending id, one page.
  [[nodiscard]] virtual Result<std::vector<OrgRecord>> list_orgs_page(const PageQuery& page) = 0;
  /// Deletes an org (soft: its name is freed, its data kept) and revokes all its tokens, in one
  /// transaction. not_found when absent.
  [[nodiscard]] virtual Result<void> delete_org(std::int64_t org_id, UnixMillis now) = 0;

  // Tokens.
  [[nodiscard]] virtual Result<TokenRecord> create_token(const TokenRecord& token) = 0;
  [[nodiscard]] virtual Result<std::vector<TokenRecord>> list_tokens(std::int64_t org_id) = 0;
  /// Sets revoked_at_ms of the token named `name` of the org; not_found when absent.
  [[nodiscard]] virtual Result<TokenRecord> revoke_token(std::int64_t org_id,
                                                         const std::string& name,
                                                         UnixMillis now) = 0;
  /// The org's tokens by ascending id, one page.
  [[nodiscard]] virtual Result<std::vector<TokenRecord>> list_tokens_page(
      std::int64_t org_id, const PageQuery& page) = 0;
  /// The token with this public id (any org); nullopt when absent.
  [[nodiscard]] virtual Result<std::optional<TokenRecord>> find_token(
      const std::string& public_id) = 0;
  /// Revokes the token with this id (idempotent: the first revocation time stays).
  [[nodiscard]] virtual Result<TokenRecord> revoke_token_by_id(std::int64_t token_id,
                                                               UnixMillis now) = 0;
  /// Replaces the token's secret: the current one becomes the previous one, accepted until
  /// `previous_valid_until` (which may equal `now`: no grace).
  [[nodiscard]] virtual Result<TokenRecord> rotate_token(std::int64_t token_id,
                                                         const std::string& secret_sealed,
                                                         const std::string& secret_sha256,
                                                         UnixMillis previous_valid_until,
                                                         UnixMillis now) = 0;
  /// Sets last_used_at of many tokens in one transaction (token id, time).
  [[nodiscard]] virtual Result<void> touch_tokens(
      const std::vector<std::pair<std::int64_t, UnixMillis>>& uses) = 0;
  /// A number that changes whenever a token or org changes (also from another process). Called
  /// on every webhook request: implementations answer from memory when they can tell that
  /// nothing changed (see SqliteStore::token_epoch).
  [[nodiscard]] virtual Result<std::int64_t> token_epoch() = 0;

  // Server admin tokens.
  [[nodiscard]] virtual Result<AdminTokenRecord> create_admin_token(
      const AdminTokenRecord& token) = 0;
  [[nodiscard]] virtual Result<std::optional<AdminTokenRecord>> find_admin_token(
      const std::string& public_id) = 0;
  [[nodiscard]] virtual Result<std::vector<AdminTokenRecord>> list_admin_tokens() = 0;
  [[nodiscard]] virtual Result<AdminTokenRecord> revoke_admin_token(const std::string& name,
                                                                    UnixMillis now) = 0;

  // Audit log.
  [[nodiscard]] virtual Result<AuditEvent> append_audit(const AuditEvent& event) = 0;
  /// Events of an org (or of the server when org_id is empty), newest first, ids below
  /// `before_id` when given.
  [[nodiscard]] virtual Result<std::vector<AuditEvent>> list_audit(
      std::optional<std::int64_t> org_id, std::optional<std::int64_t> before_id,
      std::size_t limit) = 0;

  // Key rotation.
  /// Re-seals every stored webhook secret, repository credential secret (AAD
  /// repository_credential_aad) and ALM connection secret (AAD alm_secret_aad) with
  /// `rewrap(sealed, aad)` in one transaction and
  /// records `key_fingerprint` in the same transaction; any failure changes nothing.
  /// Returns how many secrets were re-sealed.
  [[nodiscard]] virtual Result<std::size_t> rewrap_secrets(
      const std::function<Result<std::string>(const std::string& sealed, const std::string& aad)>&
          rewrap,
      const std::string& key_fingerprint) = 0;
  /// A value of the meta table; nullopt when unset.
  [[nodiscard]] virtual Result<std::optional<std::string>> meta(const std::string& key) = 0;
  [[nodiscard]] virtual Result<void> set_meta(const std::string& key, const std::string& value) = 0;

  // Repositories (implemented in sqlite/sqlite_store_repositories.cpp).
  /// Inserts a repository; updated_at_ms defaults to created_at_ms, display_name to the slug.
  /// Errors: conflict when the org already has provider × project key × slug (case-insensitive).
  [[nodiscard]] virtual Result<RepositoryRecord> create_repository(const RepositoryRecord& r) = 0;
  /// The repository of the org with this provider, project key and slug (case-insensitive).
  [[nodiscard]] virtual Result<std::optional<RepositoryRecord>> find_repository(
      std::int64_t org_id, const std::string& provider, const std::string& project_key,
      const std::string& slug) = 0;
  /// The org's repositories, ordered by project key and slug.
  [[nodiscard]] virtual Result<std::vector<RepositoryRecord>> list_repositories(
      std::int64_t org_id) = 0;
  /// The repository with this id if it belongs to the org; nullopt otherwise.
  [[nodiscard]] virtual Result<std::optional<RepositoryRecord>> get_repository(
      std::int64_t org_id, std::int64_t repository_id) = 0;
  /// The org's repositories by ascending id, one page.
  [[nodiscard]] virtual Result<std::vector<RepositoryRecord>> list_repositories_page(
      std::int64_t org_id, const PageQuery& page) = 0;
  /// Replaces every field of the repository `r.id` of `r.org_id` but id, org and created_at
  /// (all at once: callers read, change and write back). Errors: not_found, conflict.
  [[nodiscard]] virtual Result<RepositoryRecord> update_repository(const RepositoryRecord& r) = 0;
  /// Deletes the repository with its jobs, their runs and its story-link sightings (the story
  /// links stay). Returns how many jobs were deleted with it. Errors: not_found; conflict,
  /// naming the runs, while a run of one of its jobs is running.
  [[nodiscard]] virtual Result<std::int64_t> delete_repository(std::int64_t org_id,
                                                               std::int64_t repository_id) = 0;

  // Jobs.
  [[nodiscard]] virtual Result<JobRecord> create_job(const JobRecord& job) = 0;
  [[nodiscard]] virtual Result<std::vector<JobRecord>> list_jobs(std::int64_t repository_id) = 0;

  // Deliveries.
  /// Persists a delivery durably, committed together with other pending ones (group commit).
  /// `done` is called exactly once, from a store thread, after the commit (or with
  /// store_unavailable / queue_full). A delivery whose (org, endpoint, external id) was seen
  /// before is not stored again; the outcome names the first one and duplicate = true.
  virtual void persist_delivery(NewDelivery delivery,
                                std::function<void(Result<PersistOutcome>)> done) = 0;
  /// Claims the oldest queued delivery due at `now` (status -> processing, attempts + 1) and
  /// returns it with headers and body; nullopt when none.
  [[nodiscard]] virtual Result<std::optional<DeliveryRecord>> claim_next_delivery(
      UnixMillis now) = 0;
  /// Records the outcome of processing: status done/ignored/failed, or queued again with a time
  /// for the next attempt.
  [[nodiscard]] virtual Result<void> finish_delivery(const std::string& delivery_id,
                                                     std::string_view status,
                                                     const std::string& reason, UnixMillis now,
                                                     UnixMillis next_attempt_ms = 0) = 0;
  /// After a crash: deliveries left in processing go back to queued; runs left running become
  /// interrupted. Returns how many deliveries were re-queued.
  [[nodiscard]] virtual Result<int> recover_after_restart(UnixMillis now) = 0;
  [[nodiscard]] virtual Result<std::vector<DeliveryRecord>> list_deliveries(
      const DeliveryQuery& q) = 0;
  [[nodiscard]] virtual Result<std::optional<DeliveryRecord>> get_delivery(
      const std::string& delivery_id) = 0;
  /// Number of deliveries in queued or processing state.
  [[nodiscard]] virtual Result<std::int64_t> pending_deliveries() = 0;

  // Ingest performance: the worker's outcomes and claims in batches.
  /// Records `outcomes` (as finish_delivery does, or a release), then claims the oldest queued
  /// deliveries due at `now`, at most `max` of them and, beyond the first, at most about 4 MiB
  /// of bodies (as claim_next_delivery does each); all in one transaction where the store
  /// can. `max` = 0 only records. Oldest first; empty when none is due. This default records
  /// and claims one at a time.
  [[nodiscard]] virtual Result<std::vector<DeliveryRecord>> settle_and_claim(
      const std::vector<DeliveryOutcome>& outcomes, UnixMillis now, std::size_t max) {
    for (const auto& o : outcomes) {
      auto r = o.release
                   ? finish_delivery(o.delivery_id, kStatusQueued,
                                     "not processed before the worker stopped", o.updated_at_ms, 0)
                   : finish_delivery(o.delivery_id, o.status, o.reason, o.updated_at_ms,
                                     o.next_attempt_ms);
      if (!r) return std::unexpected(r.error());
    }
    std::vector<DeliveryRecord> claimed;
    while (claimed.size() < max) {
      auto next = claim_next_delivery(now);
      if (!next) return std::unexpected(next.error());
      if (!*next) break;
      claimed.push_back(std::move(**next));
    }
    return claimed;
  }

  // Jobs and runs (see also create_job and list_jobs above).
  /// The org's jobs by ascending id, one page.
  [[nodiscard]] virtual Result<std::vector<JobRecord>> list_org_jobs(std::int64_t org_id,
                                                                     const PageQuery& page) = 0;
  /// The job with this id; nullopt when absent.
  [[nodiscard]] virtual Result<std::optional<JobRecord>> get_job(std::int64_t job_id) = 0;
  /// Replaces every field of job `job.id` but org, repository and created_at (updated_at from
  /// the record). Errors: not_found, conflict (name taken in the repository).
  [[nodiscard]] virtual Result<JobRecord> update_job(const JobRecord& job) = 0;
  /// Deletes a job with its runs (queued ones included) and headers, in one transaction.
  /// not_found when absent; conflict, naming the run ids, while one of its runs is running
  /// (its command or HTTP call would go on with no run to record it or to cancel it).
  [[nodiscard]] virtual Result<void> delete_job(std::int64_t job_id) = 0;

  /// Inserts a queued run (attempt 0) unless one exists for job × delivery × ref; returns the
  /// run and whether it was created now.
  [[nodiscard]] virtual Result<std::pair<JobRunRecord, bool>> create_job_run(
      const JobRunRecord& run) = 0;
  /// create_job_run for every element, in one transaction, in order. A run created now for a
  /// job with supersede on marks the job's older queued runs of the same ref superseded (with
  /// superseded_by and finished_at = now).
  [[nodiscard]] virtual Result<std::vector<CreatedRun>> create_job_runs(
      const std::vector<JobRunRecord>& runs, UnixMillis now) = 0;
  /// Claims the oldest queued run whose job has fewer running runs than its max_concurrent
  /// (status -> running, started_at = now, log_path set by `log_path_of(run id)`); nullopt
  /// when none may start.
  [[nodiscard]] virtual Result<std::optional<JobRunRecord>> claim_next_run(
      UnixMillis now, const std::function<std::string(std::int64_t)>& log_path_of) = 0;
  [[nodiscard]] virtual Result<void> mark_run_started(std::int64_t run_id, UnixMillis now,
                                                      const std::string& log_path) = 0;
  /// Records the end of a run.
  [[nodiscard]] virtual Result<void> finish_run(std::int64_t run_id, std::string_view status,
                                                std::optional<int> exit_code, UnixMillis now,
                                                const std::string& output_tail) = 0;
  /// Sets the human-readable reason of a run's status (e.g. why it failed to start).
  [[nodiscard]] virtual Result<void> set_run_reason(std::int64_t run_id,
                                                    const std::string& reason) = 0;
  [[nodiscard]] virtual Result<std::vector<JobRunRecord>> list_runs(const RunQuery& q) = 0;
  /// The run with this id; nullopt when absent.
  [[nodiscard]] virtual Result<std::optional<JobRunRecord>> get_run(std::int64_t run_id) = 0;
  /// Cancels a run: a queued run becomes cancelled at once; a running one gets cancel_requested
  /// (the runner stops its action and records cancelled). Returns the run after the change.
  /// Errors: not_found, conflict when the run has already finished.
  [[nodiscard]] virtual Result<JobRunRecord> cancel_run(std::int64_t run_id, UnixMillis now,
                                                        const std::string& reason) = 0;
  /// Ids of running runs whose cancellation was requested.
  [[nodiscard]] virtual Result<std::vector<std::int64_t>> cancel_requested_runs() = 0;
  /// Queues a new run with the same job, delivery, ref and hashes as `run_id`, the next attempt
  /// number and rerun_of = run_id. Errors: not_found.
  [[nodiscard]] virtual Result<JobRunRecord> rerun(std::int64_t run_id, UnixMillis now) = 0;
  /// Queues the next attempt (rerun_of = run_id) of an interrupted run, as done for jobs with
  /// requeue_interrupted. When the job has supersede on and another delivery has created a
  /// newer run of the same job and ref (queued, running or finished), nothing is queued: the
  /// attempt would build an older commit after a newer one. The run then stays interrupted and
  /// "not re-queued: run N is newer" (N the newest such run) is added to its reason. Returns
  /// the queued attempt, or nullopt. Errors: not_found; conflict when the run is not
  /// interrupted.
  [[nodiscard]] virtual Result<std::optional<JobRunRecord>> requeue_interrupted_run(
      std::int64_t run_id, UnixMillis now) = 0;
  /// After a crash: runs left running become interrupted; for jobs with requeue_interrupted
  /// each is re-queued as requeue_interrupted_run() does (a new queued run, next attempt,
  /// rerun_of = the interrupted run, unless a newer run supersedes it). One transaction.
  [[nodiscard]] virtual Result<RunRecovery> recover_runs(UnixMillis now) = 0;

  // Process groups of running command runs (sqlite_store_run_process.cpp). finish_run and
  // recover_runs clear them.
  /// Records the process group of a running run. Errors: not_found when the run is absent.
  [[nodiscard]] virtual Result<void> set_run_process(const RunProcessRecord& process) = 0;
  /// The recorded process groups of runs whose status is still running, by run id.
  [[nodiscard]] virtual Result<std::vector<RunProcessRecord>> running_run_processes() = 0;

  // Stories.
  /// Links a commit to a story (unique per org × story × commit) and records the sighting
  /// (unique per link × repository × branch); a sighting that a force push had made unreachable
  /// becomes reachable again. Returns true when the link is new.
  [[nodiscard]] virtual Result<bool> link_story(std::int64_t org_id, std::int64_t repository_id,
                                                const StoryCommit& commit,
                                                const std::string& branch,
                                                const std::string& delivery_id, UnixMillis now) = 0;
  /// The commits linked to a story (all orgs when org_id is empty), newest first.
  [[nodiscard]] virtual Result<std::vector<StoryLinkRecord>> story_links(
      std::optional<std::int64_t> org_id, const std::string& story_key) = 0;
  // ALM connections and outbox (implemented in sqlite/sqlite_store_alm.cpp).
  /// Inserts a connection; conflict when the org has one with this name.
  [[nodiscard]] virtual Result<AlmConnectionRecord> create_alm_connection(
      const AlmConnectionRecord& c) = 0;
  /// The org's connection with this public id (with its project keys); nullopt when absent.
  [[nodiscard]] virtual Result<std::optional<AlmConnectionRecord>> find_alm_connection(
      std::int64_t org_id, const std::string& public_id) = 0;
  /// The org's connections by ascending id, one page (project keys not loaded).
  [[nodiscard]] virtual Result<std::vector<AlmConnectionRecord>> list_alm_connections(
      std::int64_t org_id, const PageQuery& page) = 0;
  /// Replaces every mutable field (name, url, deployment, e-mail, secret, options, age,
  /// enabled, updated_at) of the connection with c.id; not_found, conflict (name).
  [[nodiscard]] virtual Result<AlmConnectionRecord> update_alm_connection(
      const AlmConnectionRecord& c) = 0;
  /// Deletes the connection, its project keys and its outbox entries; not_found when absent.
  [[nodiscard]] virtual Result<void> delete_alm_connection(std::int64_t connection_id) = 0;
  /// Replaces the connection's project keys (when `error` is empty) and records the refresh
  /// time and error.
  [[nodiscard]] virtual Result<void> set_alm_project_keys(std::int64_t connection_id,
                                                          const std::vector<std::string>& keys,
                                                          const std::string& error,
                                                          UnixMillis now) = 0;
  /// The union of the project keys listed by the org's enabled Jira connections, ascending;
  /// nullopt when the org has no enabled Jira connection. This is the default allow-list of the
  /// org's `jira` story-key pattern (when the pattern names none itself).
  [[nodiscard]] virtual Result<std::optional<std::vector<std::string>>> jira_project_keys(
      std::int64_t org_id) = 0;
  /// Enabled Jira connections (of every org) whose project keys were never refreshed or were
  /// refreshed before `refreshed_before`.
  [[nodiscard]] virtual Result<std::vector<AlmConnectionRecord>> alm_connections_to_refresh(
      UnixMillis refreshed_before) = 0;
  /// Inserts the entries due at `now`, skipping each one whose unique key exists, in one
  /// transaction. Returns how many were inserted.
  [[nodiscard]] virtual Result<std::size_t> enqueue_outbox(
      const std::vector<NewOutboxEntry>& entries, UnixMillis now) = 0;
  /// Claims the oldest pending entry due at `now` whose connection is enabled and whose org is
  /// not deleted (status -> sending, attempts + 1) and returns it with its connection; nullopt
  /// when none.
  [[nodiscard]] virtual Result<std::optional<std::pair<OutboxEntryRecord, AlmConnectionRecord>>>
  claim_outbox_entry(UnixMillis now) = 0;
  /// Records the outcome of an attempt: status sent, dead, or pending again at `next_attempt_ms`.
  [[nodiscard]] virtual Result<void> finish_outbox_entry(std::int64_t entry_id,
                                                         std::string_view status,
                                                         const std::string& last_error,
                                                         UnixMillis now,
                                                         UnixMillis next_attempt_ms = 0) = 0;
  /// After a crash: entries left in sending (sent or not: nobody knows) go back to pending,
  /// due at once. Returns how many.
  [[nodiscard]] virtual Result<int> recover_outbox(UnixMillis now) = 0;
  /// The org's entries by ascending id, optionally of one status.
  [[nodiscard]] virtual Result<std::vector<OutboxEntryRecord>> list_outbox(
      const OutboxQuery& q) = 0;
  /// The org's entry with this id; nullopt when absent.
  [[nodiscard]] virtual Result<std::optional<OutboxEntryRecord>> get_outbox_entry(
      std::int64_t org_id, std::int64_t entry_id) = 0;
  /// Makes a dead or pending entry pending and due at `now` with its attempts reset to 0;
  /// not_found when absent, conflict when it is sending or sent.
  [[nodiscard]] virtual Result<OutboxEntryRecord> retry_outbox_entry(std::int64_t org_id,
                                                                     std::int64_t entry_id,
                                                                     UnixMillis now) = 0;
  /// Entries pending or sending (all orgs).
  [[nodiscard]] virtual Result<std::int64_t> outbox_backlog() = 0;
  /// The earliest next_attempt_ms of a pending entry; nullopt when none.
  [[nodiscard]] virtual Result<std::optional<UnixMillis>> next_outbox_due() = 0;
  /// One page of the commits linked to a story: newest authored first (ties: newest link
  /// first), with their sightings.
  [[nodiscard]] virtual Result<std::vector<StoryLinkRecord>> story_links_page(
      const StoryLinkQuery& q) = 0;
  /// One page of the links of one commit (full 40-hex hash) in an org, by story key.
  [[nodiscard]] virtual Result<std::vector<StoryLinkRecord>> commit_story_links(
      std::int64_t org_id, const std::string& commit_hash, const std::string& after_story_key,
      std::size_t limit) = 0;
  /// The distinct linked commit hashes of an org that start with `hash_prefix` (lowercase hex),
  /// ascending, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<std::string>> find_linked_commits(
      std::int64_t org_id, const std::string& hash_prefix, std::size_t limit) = 0;
  /// One page of an org's story keys (ascending, after `after_story_key`) with commit counts.
  [[nodiscard]] virtual Result<std::vector<StorySummary>> list_stories(
      std::int64_t org_id, const std::string& after_story_key, std::size_t limit) = 0;
  /// Marks the sightings of `commit_hashes` on repository × branch as no longer reachable
  /// (removed at `now` by `delivery_id`), in one transaction. Sightings already unreachable keep
  /// their first removal. Returns how many sightings changed.
  [[nodiscard]] virtual Result<std::size_t> mark_commits_unreachable(
      std::int64_t org_id, std::int64_t repository_id, const std::string& branch,
      const std::vector<std::string>& commit_hashes, const std::string& delivery_id,
      UnixMillis now) = 0;
  /// Marks every reachable sighting on repository × branch as no longer reachable (the branch
  /// was deleted). Returns how many sightings changed.
  [[nodiscard]] virtual Result<std::size_t> mark_branch_unreachable(std::int64_t org_id,
                                                                    std::int64_t repository_id,
                                                                    const std::string& branch,
                                                                    const std::string& delivery_id,
                                                                    UnixMillis now) = 0;
  // Smart-commit patterns.
  /// Adds a pattern to the org (the caller validates it); returns it with its id.
  [[nodiscard]] virtual Result<SmartCommitPatternRecord> create_smart_commit_pattern(
      const SmartCommitPatternRecord& pattern) = 0;
  /// The org's patterns by ascending id (the order they apply in).
  [[nodiscard]] virtual Result<std::vector<SmartCommitPatternRecord>> list_smart_commit_patterns(
      std::int64_t org_id) = 0;
  /// The org's patterns by ascending id, one page.
  [[nodiscard]] virtual Result<std::vector<SmartCommitPatternRecord>>
  list_smart_commit_patterns_page(std::int64_t org_id, const PageQuery& page) = 0;
  /// Deletes the org's pattern with this id and returns it; not_found when the org has none.
  [[nodiscard]] virtual Result<SmartCommitPatternRecord> delete_smart_commit_pattern(
      std::int64_t org_id, std::int64_t pattern_id) = 0;
  /// The version of the org's pattern list (changes on every add and delete, also from another
  /// process), for caches of compiled pattern sets.
  [[nodiscard]] virtual Result<SmartCommitPatternsVersion> smart_commit_patterns_version(
      std::int64_t org_id) = 0;
};

}  // namespace cb::store
