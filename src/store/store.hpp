#pragma once
// The Store interface. The SQLite implementation is in sqlite/; nothing here parses payloads.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/records.hpp"

namespace cb::store {

/// Filter and page for delivery lists (newest first).
struct DeliveryQuery {
  std::optional<std::int64_t> org_id;
  std::size_t limit = 50;
  std::optional<std::int64_t> before_seq;  ///< cursor: only deliveries with seq < before_seq
};

/// Filter and page for job run lists (newest first).
struct RunQuery {
  std::optional<std::int64_t> org_id;
  std::optional<std::string> delivery_id;
  std::size_t limit = 50;
  std::optional<std::int64_t> before_id;
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
  /// Re-seals every stored webhook secret with `rewrap(sealed, aad)` in one transaction and
  /// records `key_fingerprint` in the same transaction; any failure changes nothing.
  /// Returns how many secrets were re-sealed.
  [[nodiscard]] virtual Result<std::size_t> rewrap_secrets(
      const std::function<Result<std::string>(const std::string& sealed, const std::string& aad)>&
          rewrap,
      const std::string& key_fingerprint) = 0;
  /// A value of the meta table; nullopt when unset.
  [[nodiscard]] virtual Result<std::optional<std::string>> meta(const std::string& key) = 0;
  [[nodiscard]] virtual Result<void> set_meta(const std::string& key, const std::string& value) = 0;

  // Repositories and jobs.
  [[nodiscard]] virtual Result<RepositoryRecord> create_repository(const RepositoryRecord& r) = 0;
  /// The repository of the org with this provider, project key and slug (case-insensitive).
  [[nodiscard]] virtual Result<std::optional<RepositoryRecord>> find_repository(
      std::int64_t org_id, const std::string& provider, const std::string& project_key,
      const std::string& slug) = 0;
  [[nodiscard]] virtual Result<std::vector<RepositoryRecord>> list_repositories(
      std::int64_t org_id) = 0;
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

  // Job runs.
  /// Inserts a queued run unless one exists for job × delivery × ref; returns the run and
  /// whether it was created now.
  [[nodiscard]] virtual Result<std::pair<JobRunRecord, bool>> create_job_run(
      const JobRunRecord& run) = 0;
  [[nodiscard]] virtual Result<void> mark_run_started(std::int64_t run_id, UnixMillis now,
                                                      const std::string& log_path) = 0;
  [[nodiscard]] virtual Result<void> finish_run(std::int64_t run_id, std::string_view status,
                                                std::optional<int> exit_code, UnixMillis now,
                                                const std::string& output_tail) = 0;
  [[nodiscard]] virtual Result<std::vector<JobRunRecord>> list_runs(const RunQuery& q) = 0;

  // Story links.
  /// Links a commit to a story (unique per org × story × commit) and records the sighting
  /// (unique per link × repository × branch). Returns true when the link is new.
  [[nodiscard]] virtual Result<bool> link_story(std::int64_t org_id, std::int64_t repository_id,
                                                const StoryCommit& commit,
                                                const std::string& branch,
                                                const std::string& delivery_id, UnixMillis now) = 0;
  /// The commits linked to a story (all orgs when org_id is empty), newest first.
  [[nodiscard]] virtual Result<std::vector<StoryLinkRecord>> story_links(
      std::optional<std::int64_t> org_id, const std::string& story_key) = 0;
};

}  // namespace cb::store
