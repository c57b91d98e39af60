#pragma once
// Administrative operations shared by the CLI and the admin REST API: orgs, tokens, server
// admin tokens, repositories, jobs, the audit log and admin-API authentication. Validates input,
// writes the audit log, and never returns a stored secret.

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/secret_box.hpp"
#include "auth/token_format.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace cb::admin {

/// A token just created: the clear token text is here and nowhere else, ever.
struct CreatedToken {
  store::TokenRecord record;  ///< secret fields cleared
  std::string token;          ///< the clear token, shown once
};

/// A server admin token just created: the clear token is here and nowhere else, ever.
struct CreatedAdminToken {
  store::AdminTokenRecord record;  ///< secret hash cleared
  std::string token;
};

/// Who asks for a change, for the audit log: e.g. {"token:3f2a…", "203.0.113.9"} or
/// {"cli:alice", ""}.
struct Actor {
  std::string name;
  std::string remote_address;
};

/// One page of a list and the cursor of the next page (empty when this is the last page).
template <class T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;
};

/// A page request as the API and CLI take it: `limit` 1..200 (default 50) and the opaque
/// `cursor` of the previous page (empty for the first).
struct PageRequest {
  std::size_t limit = 50;
  std::string cursor;
};

/// Who an admin-API request acts as.
struct Principal {
  bool server_admin = false;           ///< a server admin token: may manage every org
  std::optional<std::int64_t> org_id;  ///< the org of an org api token
  std::int64_t token_id = 0;
  std::string public_id;
  /// The audit-log actor name, e.g. "admin-token:<public id>" or "token:<public id>".
  [[nodiscard]] std::string actor_name() const;
};

/// Input of add_repository.
struct RepositorySpec {
  std::string org;
  std::string provider;
  std::string project_key;
  std::string slug;
  std::string clone_url;  ///< HTTP(S) or SSH form (see RepositoryService)
  bool auto_update_alm = false;
  Actor actor;  ///< for the audit log
};

/// Input of add_job.
struct JobSpec {
  std::string org;
  std::string repository;  ///< "PROJECT/slug"
  std::string name;
  std::string branches;
  std::vector<std::string> argv;
};

/// The admin operations. Errors: invalid_argument naming the field, not_found, conflict,
/// store_unavailable.
class AdminService {
 public:
  AdminService(store::Store& store, const auth::SecretBox& box, const Clock& clock)
      : store_(store), box_(box), clock_(clock) {}

  /// The time of the service's clock (what expiry, grace periods and token states are judged by).
  [[nodiscard]] UnixMillis now_ms() const { return clock_.now_ms(); }

  // Orgs.
  [[nodiscard]] Result<store::OrgRecord> create_org(const std::string& name,
                                                    const Actor& actor = {});
  /// The live org with this name (case-insensitive); not_found otherwise.
  [[nodiscard]] Result<store::OrgRecord> get_org(const std::string& name);
  [[nodiscard]] Result<Page<store::OrgRecord>> list_orgs(const PageRequest& page);
  /// Deletes the org and revokes all its tokens at once. Its deliveries, runs and links stay.
  [[nodiscard]] Result<void> delete_org(const std::string& name, const Actor& actor = {});

  // Tokens of an org.
  /// Creates a token; webhook secrets are sealed with AES-256-GCM, api secrets hashed. Errors:
  /// invalid_argument (name empty or over 100 characters, description over 1000, expiry not in
  /// the future), not_found (org), conflict (name taken).
  [[nodiscard]] Result<CreatedToken> create_token(const std::string& org, const std::string& name,
                                                  auth::TokenType type,
                                                  const std::string& description,
                                                  std::optional<UnixMillis> expires_at_ms,
                                                  const Actor& actor = {});
  /// The org's tokens with secret fields cleared.
  [[nodiscard]] Result<std::vector<store::TokenRecord>> list_tokens(const std::string& org);
  /// One page of the org's tokens (ordered by creation), secret fields cleared.
  [[nodiscard]] Result<Page<store::TokenRecord>> list_tokens_page(const std::string& org,
                                                                  const PageRequest& page);
  /// The token named by public id or by name; not_found when the org has none such.
  [[nodiscard]] Result<store::TokenRecord> get_token(const std::string& org,
                                                     const std::string& id_or_name);
  /// Revokes a token (by public id or name) at once; idempotent.
  [[nodiscard]] Result<store::TokenRecord> revoke_token(const std::string& org,
                                                        const std::string& id_or_name,
                                                        const Actor& actor = {});
  /// Gives the token a new secret, same public id; the old secret stays valid for
  /// `grace_seconds` (0..30 days). Returns the new clear token, shown once.
  [[nodiscard]] Result<CreatedToken> rotate_token(const std::string& org,
                                                  const std::string& id_or_name,
                                                  std::int64_t grace_seconds,
                                                  const Actor& actor = {});
  /// The org's audit log, newest first; cursor = the id of the last event seen.
  [[nodiscard]] Result<Page<store::AuditEvent>> audit(const std::string& org,
                                                      const PageRequest& page);

  // Server admin tokens.
  [[nodiscard]] Result<CreatedAdminToken> create_admin_token(
      const std::string& name, std::optional<UnixMillis> expires_at_ms, const Actor& actor = {});

  /// Authenticates an admin-API bearer token. Errors: invalid_token (401: not a token, unknown,
  /// wrong secret, revoked, expired), forbidden (403: a webhook token). Records the use for the
  /// batched last_used_at update.
  [[nodiscard]] Result<Principal> authenticate_api(std::string_view token);

  /// Token ids used since the last call, with the time of their latest use; admin token ids
  /// are negated (see Store::touch_tokens). Thread-safe.
  [[nodiscard]] std::vector<std::pair<std::int64_t, UnixMillis>> take_token_uses();
  /// Records a use of an org token (webhook or api) for the batched last_used_at update.
  void record_token_use(std::int64_t token_id);
  /// Registers a repository through RepositoryService::create (same validation and audit); an
  /// SSH-form clone URL becomes the SSH clone URL.
  [[nodiscard]] Result<store::RepositoryRecord> add_repository(const RepositorySpec& spec);
  [[nodiscard]] Result<std::vector<store::RepositoryRecord>> list_repositories(
      const std::string& org);
  [[nodiscard]] Result<store::JobRecord> add_job(const JobSpec& spec);

 private:
  void audit_event(std::optional<std::int64_t> org_id, const Actor& actor, std::string action,
                   std::string target, std::string detail);

  store::Store& store_;
  const auth::SecretBox& box_;
  const Clock& clock_;
  std::mutex uses_mutex_;
  std::unordered_map<std::int64_t, UnixMillis> uses_;
};

/// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC) into milliseconds since the epoch. Errors:
/// invalid_argument.
[[nodiscard]] Result<UnixMillis> parse_utc_time(std::string_view text);

/// Provider ids accepted for repositories.
[[nodiscard]] const std::vector<std::string>& known_provider_ids();

}  // namespace cb::admin
