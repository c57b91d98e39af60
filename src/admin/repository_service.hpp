#pragma once
// The repository registry's administrative operations, shared by the admin REST API and the CLI:
// validation, sealing of credential secrets, audit log. Never returns a credential secret.

#include <optional>
#include <string>

#include "admin/admin_service.hpp"
#include "auth/secret_box.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace cb::admin {

/// Credentials for private clones as a caller gives them.
struct RepositoryCredentialsInput {
  std::string type;      ///< "none", "http" or "ssh"
  std::string username;  ///< HTTP user name; SSH user (default "git")
  /// HTTP password or access token, or SSH key passphrase. nullopt on an update keeps the
  /// stored secret when the type does not change.
  std::optional<std::string> secret;
  std::string ssh_key_path;  ///< absolute path of the private key file (ssh)
};

/// Fields of a repository as a caller gives them. On create, provider, project_key, slug and one
/// clone URL are required; on update, only the fields present change (an empty string clears an
/// optional field).
struct RepositoryInput {
  std::optional<std::string> provider;
  std::optional<std::string> project_key;
  std::optional<std::string> slug;
  std::optional<std::string> display_name;
  std::optional<std::string> http_clone_url;
  std::optional<std::string> ssh_clone_url;
  std::optional<std::string> browse_url;
  std::optional<std::string> default_branch;
  std::optional<bool> auto_update_alm;
  std::optional<RepositoryCredentialsInput> credentials;
};

/// Create, read, update and delete an org's repositories. Errors: invalid_argument with a
/// message that starts with the field name ("http_clone_url: ..."), not_found (org, repository),
/// conflict (provider × project key × slug taken in the org), store_unavailable.
class RepositoryService {
 public:
  RepositoryService(store::Store& store, const auth::SecretBox& box, const Clock& clock)
      : store_(store), box_(box), clock_(clock) {}

  /// Registers a repository; a credential secret is sealed with AES-256-GCM. Audit
  /// "repository.create".
  [[nodiscard]] Result<store::RepositoryRecord> create(const std::string& org,
                                                       const RepositoryInput& input,
                                                       const Actor& actor = {});
  /// The org's repository with this id.
  [[nodiscard]] Result<store::RepositoryRecord> get(const std::string& org, std::int64_t id);
  /// The org's repository named by id ("12") or by "PROJECT/slug" (case-insensitive; the project
  /// part may contain '/' for GitLab). `provider` narrows a name registered for several
  /// providers; without it such a name is invalid_argument.
  [[nodiscard]] Result<store::RepositoryRecord> find(const std::string& org,
                                                     const std::string& id_or_name,
                                                     const std::string& provider = {});
  /// One page of the org's repositories, oldest first; cursor = id of the last item seen.
  [[nodiscard]] Result<Page<store::RepositoryRecord>> list(const std::string& org,
                                                           const PageRequest& page);
  /// Changes the fields present in `input`. Audit "repository.update" naming the changed fields
  /// (never their secret values); a no-op change writes no audit entry.
  [[nodiscard]] Result<store::RepositoryRecord> update(const std::string& org, std::int64_t id,
                                                       const RepositoryInput& input,
                                                       const Actor& actor = {});
  /// Deletes the repository with its jobs (and their runs) and story-link sightings. Audit
  /// "repository.delete".
  [[nodiscard]] Result<void> remove(const std::string& org, std::int64_t id,
                                    const Actor& actor = {});

 private:
  Result<store::OrgRecord> org_named(const std::string& name);
  Result<void> apply(store::RepositoryRecord& r, const RepositoryInput& input, bool creating,
                     std::vector<std::string>& changed);
  void audit(std::int64_t org_id, const Actor& actor, std::string action,
             const store::RepositoryRecord& r, std::string extra_key = {},
             std::string extra_value = {});

  store::Store& store_;
  const auth::SecretBox& box_;
  const Clock& clock_;
};

/// True when `url` is an SSH clone URL: ssh://... or git's scp-like user@host:path.
[[nodiscard]] bool is_ssh_clone_url(std::string_view url);

/// The webhook URLs of a repository under `public_base_url` (no trailing slash): the trigger URL
/// always; the sync URL only when auto update on webhook is on (empty otherwise). Bitbucket Data
/// Center / Server repositories get the /enterprise/ form (DESIGN "The URLs a user pastes into
/// the SCM").
struct RepositoryWebhookUrls {
  std::string trigger;
  std::string sync;
};
[[nodiscard]] RepositoryWebhookUrls repository_webhook_urls(const std::string& public_base_url,
                                                            const std::string& org,
                                                            const store::RepositoryRecord& repo);

}  // namespace cb::admin
