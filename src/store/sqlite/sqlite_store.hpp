#pragma once
// SQLite implementation of Store: WAL + synchronous=FULL, one group-commit writer thread for
// deliveries (persisting them, and the worker's claims and outcomes), one mutex-guarded
// connection for everything else.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/shared_counter.hpp"
#include "store/store.hpp"

namespace cb::store::sqlite {

/// Longest time token_epoch() answers from memory without reading the database (bounds how long
/// a token change made by another program than commitbridge goes unnoticed).
inline constexpr std::chrono::milliseconds kEpochRecheck{100};

/// WAL size (pages, 2 MiB) from which a commit asks for a checkpoint. Half SQLite's default:
/// under the ingest benchmark, larger checkpoints (1,000 and 16,000 pages were measured) made the
/// database file's fsync stall the commits' WAL fsync now and then (p99 of 27-110 ms instead of
/// about 11 ms) for a CPU saving of at most 6 microseconds per delivery.
inline constexpr int kCheckpointPages = 500;

/// Tuning of the group-commit writer.
struct WriterOptions {
  std::size_t max_batch = 256;    ///< deliveries committed together at most
  std::size_t max_queue = 10000;  ///< pending deliveries before queue_full
};

/// Store on one SQLite file. Thread-safe.
class SqliteStore final : public Store {
 public:
  /// Opens (creating) the database, applies pending migrations and starts the writer thread.
  /// Errors: store_unavailable when the file cannot be opened or migrated.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& file,
                                                                 WriterOptions options = {});
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// Stops the writer after committing everything queued. Idempotent.
  void close();

  Result<OrgRecord> create_org(const std::string& name, UnixMillis now) override;
  Result<std::optional<OrgRecord>> find_org(const std::string& name) override;
  Result<std::vector<OrgRecord>> list_orgs() override;
  Result<std::vector<OrgRecord>> list_orgs_page(const PageQuery& page) override;
  Result<void> delete_org(std::int64_t org_id, UnixMillis now) override;
  Result<TokenRecord> create_token(const TokenRecord& token) override;
  Result<std::vector<TokenRecord>> list_tokens(std::int64_t org_id) override;
  Result<TokenRecord> revoke_token(std::int64_t org_id, const std::string& name,
                                   UnixMillis now) override;
  Result<std::vector<TokenRecord>> list_tokens_page(std::int64_t org_id,
                                                    const PageQuery& page) override;
  Result<std::optional<TokenRecord>> find_token(const std::string& public_id) override;
  Result<TokenRecord> revoke_token_by_id(std::int64_t token_id, UnixMillis now) override;
  Result<TokenRecord> rotate_token(std::int64_t token_id, const std::string& secret_sealed,
                                   const std::string& secret_sha256,
                                   UnixMillis previous_valid_until, UnixMillis now) override;
  Result<void> touch_tokens(const std::vector<std::pair<std::int64_t, UnixMillis>>& uses) override;
  /// Served from memory while no commitbridge process committed a change to tokens or orgs
  /// since the last read (see token_changes_), re-read from the database at most
  /// kEpochRecheck later in any case (a change made by another program).
  Result<std::int64_t> token_epoch() override;
  Result<AdminTokenRecord> create_admin_token(const AdminTokenRecord& token) override;
  Result<std::optional<AdminTokenRecord>> find_admin_token(const std::string& public_id) override;
  Result<std::vector<AdminTokenRecord>> list_admin_tokens() override;
  Result<AdminTokenRecord> revoke_admin_token(const std::string& name, UnixMillis now) override;
  Result<AuditEvent> append_audit(const AuditEvent& event) override;
  Result<std::vector<AuditEvent>> list_audit(std::optional<std::int64_t> org_id,
                                             std::optional<std::int64_t> before_id,
                                             std::size_t limit) override;
  Result<std::size_t> rewrap_secrets(
      const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap,
      const std::string& key_fingerprint) override;
  Result<std::optional<std::string>> meta(const std::string& key) override;
  Result<void> set_meta(const std::string& key, const std::string& value) override;
  Result<RepositoryRecord> create_repository(const RepositoryRecord& r) override;
  Result<std::optional<RepositoryRecord>> find_repository(std::int64_t org_id,
                                                          const std::string& provider,
                                                          const std::string& project_key,
                                                          const std::string& slug) override;
  Result<std::vector<RepositoryRecord>> list_repositories(std::int64_t org_id) override;
  Result<std::optional<RepositoryRecord>> get_repository(std::int64_t org_id,
                                                         std::int64_t repository_id) override;
  Result<std::vector<RepositoryRecord>> list_repositories_page(std::int64_t org_id,
                                                               const PageQuery& page) override;
  Result<RepositoryRecord> update_repository(const RepositoryRecord& r) override;
  Result<std::int64_t> delete_repository(std::int64_t org_id, std::int64_t repository_id) override;
  Result<JobRecord> create_job(const JobRecord& job) override;
  Result<std::vector<JobRecord>> list_jobs(std::int64_t repository_id) override;
  Result<std::vector<JobRecord>> list_org_jobs(std::int64_t org_id, const PageQuery& page) override;
  Result<std::optional<JobRecord>> get_job(std::int64_t job_id) override;
  Result<JobRecord> update_job(const JobRecord& job) override;
  Result<void> delete_job(std::int64_t job_id) override;
  void persist_delivery(NewDelivery delivery,
                        std::function<void(Result<PersistOutcome>)> done) override;
  Result<std::optional<DeliveryRecord>> claim_next_delivery(UnixMillis now) override;
  Result<void> finish_delivery(const std::string& delivery_id, std::string_view status,
                               const std::string& reason, UnixMillis now,
                               UnixMillis next_attempt_ms) override;
  Result<int> recover_after_restart(UnixMillis now) override;
  Result<std::vector<DeliveryRecord>> list_deliveries(const DeliveryQuery& q) override;
  Result<std::optional<DeliveryRecord>> get_delivery(const std::string& delivery_id) override;
  Result<std::int64_t> pending_deliveries() override;
  /// Runs on the writer thread, in the transaction of the next group commit: one fdatasync
  /// covers ingest, claims and outcomes, and no other connection of this process competes
  /// with the writer for SQLite's write lock on the delivery path.
  Result<std::vector<DeliveryRecord>> settle_and_claim(const std::vector<DeliveryOutcome>& outcomes,
                                                       UnixMillis now, std::size_t max) override;
  Result<std::pair<JobRunRecord, bool>> create_job_run(const JobRunRecord& run) override;
  Result<std::vector<CreatedRun>> create_job_runs(const std::vector<JobRunRecord>& runs,
                                                  UnixMillis now) override;
  Result<std::optional<JobRunRecord>> claim_next_run(
      UnixMillis now, const std::function<std::string(std::int64_t)>& log_path_of) override;
  Result<void> mark_run_started(std::int64_t run_id, UnixMillis now,
                                const std::string& log_path) override;
  Result<void> finish_run(std::int64_t run_id, std::string_view status,
                          std::optional<int> exit_code, UnixMillis now,
                          const std::string& output_tail) override;
  Result<void> set_run_reason(std::int64_t run_id, const std::string& reason) override;
  Result<std::vector<JobRunRecord>> list_runs(const RunQuery& q) override;
  // Stories (sqlite_store_stories.cpp).
  Result<std::optional<JobRunRecord>> get_run(std::int64_t run_id) override;
  Result<JobRunRecord> cancel_run(std::int64_t run_id, UnixMillis now,
                                  const std::string& reason) override;
  Result<std::vector<std::int64_t>> cancel_requested_runs() override;
  Result<JobRunRecord> rerun(std::int64_t run_id, UnixMillis now) override;
  Result<std::optional<JobRunRecord>> requeue_interrupted_run(std::int64_t run_id,
                                                              UnixMillis now) override;
  Result<RunRecovery> recover_runs(UnixMillis now) override;
  // Process groups of running runs (sqlite_store_run_process.cpp).
  Result<void> set_run_process(const RunProcessRecord& process) override;
  Result<std::vector<RunProcessRecord>> running_run_processes() override;
  Result<bool> link_story(std::int64_t org_id, std::int64_t repository_id,
                          const StoryCommit& commit, const std::string& branch,
                          const std::string& delivery_id, UnixMillis now) override;
  Result<std::vector<StoryLinkRecord>> story_links(std::optional<std::int64_t> org_id,
                                                   const std::string& story_key) override;
  // ALM connections and outbox (sqlite_store_alm.cpp).
  Result<AlmConnectionRecord> create_alm_connection(const AlmConnectionRecord& c) override;
  Result<std::optional<AlmConnectionRecord>> find_alm_connection(
      std::int64_t org_id, const std::string& public_id) override;
  Result<std::vector<AlmConnectionRecord>> list_alm_connections(std::int64_t org_id,
                                                                const PageQuery& page) override;
  Result<AlmConnectionRecord> update_alm_connection(const AlmConnectionRecord& c) override;
  Result<void> delete_alm_connection(std::int64_t connection_id) override;
  Result<void> set_alm_project_keys(std::int64_t connection_id,
                                    const std::vector<std::string>& keys, const std::string& error,
                                    UnixMillis now) override;
  Result<std::optional<std::vector<std::string>>> jira_project_keys(std::int64_t org_id) override;
  Result<std::vector<AlmConnectionRecord>> alm_connections_to_refresh(
      UnixMillis refreshed_before) override;
  Result<std::size_t> enqueue_outbox(const std::vector<NewOutboxEntry>& entries,
                                     UnixMillis now) override;
  Result<std::optional<std::pair<OutboxEntryRecord, AlmConnectionRecord>>> claim_outbox_entry(
      UnixMillis now) override;
  Result<void> finish_outbox_entry(std::int64_t entry_id, std::string_view status,
                                   const std::string& last_error, UnixMillis now,
                                   UnixMillis next_attempt_ms) override;
  Result<int> recover_outbox(UnixMillis now) override;
  Result<std::vector<OutboxEntryRecord>> list_outbox(const OutboxQuery& q) override;
  Result<std::optional<OutboxEntryRecord>> get_outbox_entry(std::int64_t org_id,
                                                            std::int64_t entry_id) override;
  Result<OutboxEntryRecord> retry_outbox_entry(std::int64_t org_id, std::int64_t entry_id,
                                               UnixMillis now) override;
  Result<std::int64_t> outbox_backlog() override;
  Result<std::optional<UnixMillis>> next_outbox_due() override;
  Result<std::vector<StoryLinkRecord>> story_links_page(const StoryLinkQuery& q) override;
  Result<std::vector<StoryLinkRecord>> commit_story_links(std::int64_t org_id,
                                                          const std::string& commit_hash,
                                                          const std::string& after_story_key,
                                                          std::size_t limit) override;
  Result<std::vector<std::string>> find_linked_commits(std::int64_t org_id,
                                                       const std::string& hash_prefix,
                                                       std::size_t limit) override;
  Result<std::vector<StorySummary>> list_stories(std::int64_t org_id,
                                                 const std::string& after_story_key,
                                                 std::size_t limit) override;
  Result<std::size_t> mark_commits_unreachable(std::int64_t org_id, std::int64_t repository_id,
                                               const std::string& branch,
                                               const std::vector<std::string>& commit_hashes,
                                               const std::string& delivery_id,
                                               UnixMillis now) override;
  Result<std::size_t> mark_branch_unreachable(std::int64_t org_id, std::int64_t repository_id,
                                              const std::string& branch,
                                              const std::string& delivery_id,
                                              UnixMillis now) override;
  // Smart-commit patterns (sqlite_store_patterns.cpp).
  Result<SmartCommitPatternRecord> create_smart_commit_pattern(
      const SmartCommitPatternRecord& pattern) override;
  Result<std::vector<SmartCommitPatternRecord>> list_smart_commit_patterns(
      std::int64_t org_id) override;
  Result<std::vector<SmartCommitPatternRecord>> list_smart_commit_patterns_page(
      std::int64_t org_id, const PageQuery& page) override;
  Result<SmartCommitPatternRecord> delete_smart_commit_pattern(std::int64_t org_id,
                                                               std::int64_t pattern_id) override;
  Result<SmartCommitPatternsVersion> smart_commit_patterns_version(std::int64_t org_id) override;

 private:
  struct Pending {
    NewDelivery delivery;
    std::string headers_json;  ///< delivery.headers as stored, serialized by the caller's thread
    std::function<void(Result<PersistOutcome>)> done;
  };

  /// A settle_and_claim call waiting for the writer.
  struct Settle {
    const std::vector<DeliveryOutcome>* outcomes;
    UnixMillis now;
    std::size_t max;
    std::promise<Result<std::vector<DeliveryRecord>>> result;
  };

  SqliteStore(Connection main, Connection writer, Connection epoch, Connection checkpoint,
              Connection payloads, std::unique_ptr<SharedCounter> token_changes,
              WriterOptions options);
  /// Asks the checkpoint thread for a checkpoint (from a WAL hook: `pages` in the WAL).
  void request_checkpoint(int pages);
  void checkpoint_loop();
  static int on_writer_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  // Hooks of the main connection (the one every token and org change goes through).
  static void on_main_update(void* self, int op, const char* db, const char* table,
                             sqlite3_int64 rowid);
  static void on_main_rollback(void* self);
  static int on_main_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  void writer_loop();
  /// Records the outcomes and claims, on the writer connection inside its transaction. The
  /// claimed records come without their headers and body (see load_payloads).
  Result<std::vector<DeliveryRecord>> settle_on_writer(const Settle& settle);
  /// Fills in the headers and body of claimed deliveries from delivery_payloads (rows written
  /// once, at ingest), on the caller's thread and payload_conn_: not on the writer thread, whose
  /// time every commit waits for.
  Result<void> load_payloads(std::vector<DeliveryRecord>& deliveries);
  /// Runs `work` in one IMMEDIATE transaction on the main connection (lock held by caller).
  template <class T, class F>
  Result<T> in_transaction(F&& work);
  void commit_batch(std::deque<Pending>& batch, std::vector<Settle*>& settles);
  /// Re-seals the ALM connection secrets inside rewrap_secrets' transaction (lock held).
  Result<std::size_t> rewrap_alm_secrets(
      const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap);
  /// Reads the links selected by `s` (columns as kStoryLinkColumns in
  /// sqlite_store_stories.cpp) with their sightings (lock held by caller).
  Result<std::vector<StoryLinkRecord>> read_story_links(Statement& s);
  /// Re-seals the repository credential secrets inside rewrap_secrets' transaction (lock held).
  Result<std::size_t> rewrap_repository_secrets(
      const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap);
  /// Re-seals the sealed header values of HTTP actions (main_mutex_ held, in a transaction).
  Result<std::size_t> rewrap_job_secrets(
      const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap);

  WriterOptions options_;
  std::mutex main_mutex_;
  Connection main_;
  Connection writer_conn_;
  /// Bumped after every commit of a main connection that changed the meta table (where triggers
  /// count token and org changes in token_epoch), by any process that opens this database:
  /// the file `<database>-epoch` mapped shared. nullptr when that file cannot be mapped.
  std::unique_ptr<SharedCounter> token_changes_;
  bool meta_changed_ = false;  ///< by main_'s open transaction (under main_mutex_)

  std::mutex payload_mutex_;
  Connection payload_conn_;  ///< read-only use by load_payloads()

  std::mutex epoch_mutex_;
  Connection epoch_conn_;  ///< read-only use: token_epoch() never waits for main_mutex_
  // The last token epoch read (under epoch_mutex_): its value, token_changes_ before the read,
  // and when the read began.
  bool epoch_cached_ = false;
  std::uint64_t epoch_changes_ = 0;
  std::int64_t epoch_value_ = 0;
  std::chrono::steady_clock::time_point epoch_read_at_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  std::vector<Settle*> settles_;  ///< owned by their waiting callers
  bool stopping_ = false;
  bool writer_done_ = false;
  std::thread writer_;

  // Checkpoints run on their own thread and connection (PASSIVE: they never hold the write
  // lock), so that copying the WAL back into the database and its fsync never delay a commit.
  Connection checkpoint_conn_;
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;
  bool checkpoint_stopping_ = false;
  std::thread checkpointer_;
};

/// Applies every embedded migration newer than the database's user_version, each in its own
/// transaction, with foreign keys not enforced while they run and checked (PRAGMA
/// foreign_key_check) before each commits. Errors: the failing statement's error, or internal
/// for a foreign key violation; the migration that failed is rolled back, earlier ones stay.
[[nodiscard]] Result<void> migrate(Connection& db);

}  // namespace cb::store::sqlite
