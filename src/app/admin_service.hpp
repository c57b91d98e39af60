#pragma once
// Administrative operations shared by the CLI (and later the admin REST API): orgs, tokens,
// repositories, jobs. Validates input and never returns a stored secret.

#include <optional>
#include <string>
#include <vector>

#include "auth/secret_box.hpp"
#include "auth/token_format.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace cb::app {

/// A token just created: the clear token text is here and nowhere else, ever.
struct CreatedToken {
  store::TokenRecord record;  ///< secret fields cleared
  std::string token;          ///< the clear token, shown once
};

/// Input of add_repository.
struct RepositorySpec {
  std::string org;
  std::string provider;
  std::string project_key;
  std::string slug;
  std::string clone_url;
  bool auto_update_alm = false;
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

  [[nodiscard]] Result<store::OrgRecord> create_org(const std::string& name);
  [[nodiscard]] Result<store::OrgRecord> get_org(const std::string& name);
  /// Creates a token; webhook secrets are sealed with AES-256-GCM, api secrets hashed.
  [[nodiscard]] Result<CreatedToken> create_token(const std::string& org, const std::string& name,
                                                  auth::TokenType type,
                                                  const std::string& description,
                                                  std::optional<UnixMillis> expires_at_ms,
                                                  const std::string& created_by);
  /// The org's tokens with secret fields cleared.
  [[nodiscard]] Result<std::vector<store::TokenRecord>> list_tokens(const std::string& org);
  [[nodiscard]] Result<store::TokenRecord> revoke_token(const std::string& org,
                                                        const std::string& name);
  [[nodiscard]] Result<store::RepositoryRecord> add_repository(const RepositorySpec& spec);
  [[nodiscard]] Result<std::vector<store::RepositoryRecord>> list_repositories(
      const std::string& org);
  [[nodiscard]] Result<store::JobRecord> add_job(const JobSpec& spec);

 private:
  store::Store& store_;
  const auth::SecretBox& box_;
  const Clock& clock_;
};

/// Provider ids accepted for repositories.
[[nodiscard]] const std::vector<std::string>& known_provider_ids();

}  // namespace cb::app
