#pragma once
// Plain records read from and written to the store. Times are milliseconds since the Unix epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/raw_delivery.hpp"

namespace cb::store {

/// An org: the tenant named in webhook URLs (matched case-insensitively).
struct OrgRecord {
  std::int64_t id = 0;
  std::string name;
  UnixMillis created_at_ms = 0;
};

/// A page request: items after `after_id` in ascending id order, at most `limit`.
struct PageQuery {
  std::int64_t after_id = 0;
  std::size_t limit = 50;
};

/// A token row. Exactly one of secret_sealed (webhook: AES-256-GCM sealed secret) and
/// secret_sha256 (api: SHA-256 of the secret) is set. Neither is ever shown to a user.
struct TokenRecord {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string name;
  std::string type;  ///< "webhook" or "api"
  std::string description;
  std::string public_id;
  std::string secret_sealed;
  std::string secret_sha256;
  UnixMillis created_at_ms = 0;
  std::string created_by;
  std::optional<UnixMillis> last_used_at_ms;
  std::optional<UnixMillis> expires_at_ms;
  std::optional<UnixMillis> revoked_at_ms;
  /// After a rotation: the previous secret (sealed or hashed like the current one), accepted
  /// until previous_valid_until_ms (exclusive).
  std::string previous_secret_sealed;
  std::string previous_secret_sha256;
  std::optional<UnixMillis> previous_valid_until_ms;
  std::optional<UnixMillis> rotated_at_ms;
};

/// A server admin token (manages orgs); created on the host with `commitbridge admin-token
/// create`. Only the SHA-256 of the secret is stored.
struct AdminTokenRecord {
  std::int64_t id = 0;
  std::string name;
  std::string public_id;
  std::string secret_sha256;
  UnixMillis created_at_ms = 0;
  std::string created_by;
  std::optional<UnixMillis> last_used_at_ms;
  std::optional<UnixMillis> expires_at_ms;
  std::optional<UnixMillis> revoked_at_ms;
};

/// One entry of the audit log of org and token changes.
struct AuditEvent {
  std::int64_t id = 0;
  std::optional<std::int64_t> org_id;
  std::string actor;           ///< e.g. "token:3f2a…", "admin-token:…", "cli:alice"
  std::string action;          ///< e.g. "org.create", "token.revoke"
  std::string target;          ///< e.g. the token's public id
  std::string detail;          ///< JSON object text with non-secret facts
  std::string remote_address;  ///< client address, empty from the CLI
  UnixMillis created_at_ms = 0;
};

/// Credential kinds of a repository (credential_type).
inline constexpr std::string_view kCredentialNone = "none";
inline constexpr std::string_view kCredentialHttp = "http";
inline constexpr std::string_view kCredentialSsh = "ssh";

/// A registered repository; payloads are matched by provider, project key and slug
/// (case-insensitive), then by clone URL (see pipeline/repository_match.hpp). For providers
/// without Bitbucket's projects, project_key holds the owner (GitHub, Gitea), the namespace path
/// (GitLab, may contain '/'), the workspace (Bitbucket Cloud) or the project (Azure DevOps), and
/// slug the repository name.
struct RepositoryRecord {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string provider;
  std::string project_key;
  std::string slug;
  std::string clone_url;  ///< HTTP(S) clone URL (or a local path / file:// URL); may be empty
  bool auto_update_alm = false;
  UnixMillis created_at_ms = 0;
  std::string display_name;
  std::string ssh_clone_url;  ///< may be empty
  std::string browse_url;     ///< may be empty
  std::string default_branch;
  std::string credential_type{kCredentialNone};  ///< "none", "http" or "ssh"
  std::string credential_username;               ///< HTTP user name or SSH user (e.g. "git")
  std::string ssh_key_path;                      ///< private key file, ssh credentials only
  /// The HTTP password/token or SSH key passphrase sealed with AES-256-GCM, AAD
  /// repository_credential_aad(credential_id); empty when none. Never shown to a user.
  std::string credential_secret_sealed;
  std::string credential_id;  ///< random id bound into the sealed secret
  /// True when a credential secret is stored (set when read, kept when the sealed bytes are
  /// cleared before the record leaves the admin layer; not a column).
  bool credential_secret_set = false;
  UnixMillis updated_at_ms = 0;
};

/// The additional authenticated data of a repository's sealed credential secret.
[[nodiscard]] inline std::string repository_credential_aad(const std::string& credential_id) {
  return "repository-credential:" + credential_id;
}

/// Events a job can select (JobRecord::events): a branch push, a tag push, and the
/// pull-request changes. Names as stored, shown and accepted by the API and the CLI.
inline constexpr std::string_view kJobEventPush = "push";
inline constexpr std::string_view kJobEventTag = "tag";
inline constexpr std::string_view kJobEventPrOpened = "pr:opened";
inline constexpr std::string_view kJobEventPrSourceUpdated = "pr:source_updated";
inline constexpr std::string_view kJobEventPrTargetChanged = "pr:target_changed";
inline constexpr std::string_view kJobEventPrMerged = "pr:merged";
inline constexpr std::string_view kJobEventPrDeclined = "pr:declined";
inline constexpr std::string_view kJobEventPrDeleted = "pr:deleted";

/// What a job does when it runs.
enum class JobActionType { command, http };

/// One header of an HTTP action. The value may carry CI credentials: it is stored sealed
/// (AES-256-GCM, see auth::SecretBox) and never shown; `value_sealed` holds the sealed text.
struct JobHttpHeader {
  std::string name;
  std::string value_sealed;
};

/// The additional authenticated data binding a sealed header value to its header name.
[[nodiscard]] inline std::string job_header_aad(std::string_view header_name) {
  return "job-http-header:" + std::string(header_name);
}

/// An HTTP action (e.g. Jenkins' remote build trigger). Templates use {{placeholder}}s, see
/// docs/configuration.md. Durations in milliseconds.
struct JobHttpAction {
  std::string method = "POST";
  std::string url_template;
  std::vector<JobHttpHeader> headers;
  std::string body_template;
  std::int64_t timeout_ms = 30'000;  ///< per attempt
  int max_attempts = 5;              ///< retries on 5xx, 429 and timeouts
  std::int64_t base_backoff_ms = 1'000;
  std::int64_t max_backoff_ms = 60'000;
};

/// A build-on-commit job of one repository.
struct JobRecord {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::int64_t repository_id = 0;
  std::string repository;  ///< "PROJECT/slug" (read only, filled by reads)
  std::string name;
  std::string branches;  ///< BranchRules spec for pushes, e.g. "main,release/*"
  /// Selected events (kJobEvent*), default {"push"}.
  std::vector<std::string> events{std::string(kJobEventPush)};
  /// Tag pushes: BranchRules spec over the tag name (e.g. "v*"); empty = every tag.
  std::string tags;
  /// Pull requests: BranchRules specs over the target / source branch; empty = any.
  std::string target_branches;
  std::string source_branches;
  bool skip_marker = true;           ///< honour [skip ci] / [ci skip] in the head commit message
  int max_concurrent = 1;            ///< runs of this job running at once; more wait queued
  bool supersede = false;            ///< a newer run of a ref supersedes its older queued runs
  bool requeue_interrupted = false;  ///< after a crash, queue a new run for an interrupted one
  JobActionType action = JobActionType::command;
  std::vector<std::string> argv;           ///< command action: program and arguments, no shell
  std::optional<JobHttpAction> http;       ///< http action
  std::optional<std::int64_t> timeout_ms;  ///< command timeout; default worker.job_timeout_ms
  bool enabled = true;
  UnixMillis created_at_ms = 0;
  UnixMillis updated_at_ms = 0;
};

/// Delivery status values.
inline constexpr std::string_view kStatusQueued = "queued";
inline constexpr std::string_view kStatusProcessing = "processing";
inline constexpr std::string_view kStatusDone = "done";
inline constexpr std::string_view kStatusIgnored = "ignored";
inline constexpr std::string_view kStatusFailed = "failed";

/// A delivery to be persisted by the ingest path.
struct NewDelivery {
  std::string delivery_id;  ///< ours, a random UUID
  std::int64_t org_id = 0;
  std::string endpoint;  ///< "trigger-scm-push-request" or "sync-alm-commits"
  std::string provider;  ///< provider id
  std::string event_key;
  std::string external_id;  ///< the sender's delivery id; empty when the sender gave none
  std::vector<Header> headers;
  std::string body;
  UnixMillis received_at_ms = 0;
  std::string status{kStatusQueued};
  std::string reason;
};

/// What persisting a delivery gave: the stored delivery id (the first one when duplicate).
struct PersistOutcome {
  std::string delivery_id;
  bool duplicate = false;
  std::string status;  ///< status of the stored delivery
};

/// A stored delivery. headers and body are loaded only by claim/get.
struct DeliveryRecord {
  std::int64_t seq = 0;
  std::string delivery_id;
  std::int64_t org_id = 0;
  std::string org_name;
  std::string endpoint;
  std::string provider;
  std::string event_key;
  std::string external_id;
  std::vector<Header> headers;
  std::string body;
  UnixMillis received_at_ms = 0;
  std::string status;
  std::string reason;
  int attempts = 0;
  UnixMillis updated_at_ms = 0;
};

/// Job run status values.
inline constexpr std::string_view kRunQueued = "queued";
inline constexpr std::string_view kRunRunning = "running";
inline constexpr std::string_view kRunSucceeded = "succeeded";
inline constexpr std::string_view kRunFailed = "failed";
inline constexpr std::string_view kRunInterrupted = "interrupted";
inline constexpr std::string_view kRunCancelled = "cancelled";
inline constexpr std::string_view kRunSuperseded = "superseded";

/// One run of a job for one ref change of one delivery (attempt 0), or a re-run of one
/// (attempt 1, 2, ... with rerun_of set).
struct JobRunRecord {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  std::string job_name;
  std::string org_name;
  std::string repository;  ///< "PROJECT/slug"
  std::string delivery_id;
  std::string event_key;  ///< the delivery's event key, e.g. "repo:refs_changed" (read only)
  std::string ref_id;     ///< ref of the change; a pull request's "refs/pull-requests/N/from"
  int attempt = 0;
  std::string event{kJobEventPush};  ///< kJobEvent* that created the run
  std::string branch;                ///< branch or tag name; a pull request's source branch
  std::string from_hash;
  std::string to_hash;
  std::optional<std::int64_t> pull_request_id;
  std::string pull_request_title;
  std::string source_branch;  ///< pull requests
  std::string target_branch;  ///< pull requests
  std::string status;
  std::string status_reason;  ///< e.g. "superseded by run 12", "cancelled by token:…"
  std::optional<int> exit_code;
  std::optional<std::int64_t> rerun_of;
  std::optional<std::int64_t> superseded_by;
  bool cancel_requested = false;
  UnixMillis created_at_ms = 0;
  std::optional<UnixMillis> started_at_ms;
  std::optional<UnixMillis> finished_at_ms;
  std::string output_tail;
  std::string log_path;
};

/// A commit that names a story, as linked by ALM commit sync.
struct StoryCommit {
  std::string story_key;
  std::string commit_hash;
  std::string author_name;
  std::string author_email;
  std::string message;
  UnixMillis authored_at_ms = 0;
};

/// Where a linked commit was seen: one repository × branch.
struct StorySighting {
  std::string repository;  ///< "PROJECT/slug"
  std::string branch;
  std::string delivery_id;  ///< the delivery that first showed the commit on this branch
  UnixMillis seen_at_ms = 0;
  /// False once a push took the commit away from the branch (force push, reset, branch
  /// deleted); true again when a later push brings it back.
  bool reachable = true;
  std::optional<UnixMillis> removed_at_ms;  ///< when it became unreachable; empty when reachable
  std::string removed_delivery_id;          ///< the delivery that removed it; empty when reachable
  // The repository, for links to the SCM's web UI.
  std::int64_t repository_id = 0;
  std::string provider;
  std::string project_key;
  std::string slug;
  std::string clone_url;
};

/// A story link with every place the commit was seen.
struct StoryLinkRecord {
  StoryCommit commit;
  UnixMillis created_at_ms = 0;
  std::vector<StorySighting> sightings;
  std::int64_t id = 0;
  std::string org_name;
};

/// A story key of an org with the number of commits linked to it.
struct StorySummary {
  std::string story_key;
  std::int64_t commits = 0;
  UnixMillis last_linked_at_ms = 0;  ///< the newest link's creation time
};

/// A smart-commit pattern of an org (see smartcommit::PatternSpec for the meaning of the fields).
struct SmartCommitPatternRecord {
  std::int64_t id = 0;
  std::int64_t org_id = 0;
  std::string kind;   ///< "jira", "azure_boards", "github_issue", "rally", "versionone", "custom"
  std::string regex;  ///< custom only
  std::vector<std::string> allowed_projects;
  UnixMillis created_at_ms = 0;
  std::string created_by;
};

/// Changes whenever a pattern of the org is added or removed (ids are never reused).
struct SmartCommitPatternsVersion {
  std::int64_t count = 0;
  std::int64_t max_id = 0;
  friend bool operator==(const SmartCommitPatternsVersion&,
                         const SmartCommitPatternsVersion&) = default;
};

}  // namespace cb::store
