#include "pipeline/repository_fetch.hpp"

namespace cb::pipeline {

Result<RepositoryFetch> plan_repository_fetch(const store::RepositoryRecord& repo,
                                              const auth::SecretBox* box) {
  RepositoryFetch plan;
  const bool ssh = repo.credential_type == store::kCredentialSsh;
  if (ssh && !repo.ssh_clone_url.empty()) {
    plan.url = repo.ssh_clone_url;
  } else {
    plan.url = !repo.clone_url.empty() ? repo.clone_url : repo.ssh_clone_url;
  }
  if (plan.url.empty()) {
    return fail(ErrorCode::invalid_argument,
                "repository " + repo.project_key + "/" + repo.slug + " has no clone URL");
  }
  if (repo.credential_type != store::kCredentialHttp && !ssh) return plan;

  git::FetchCredentials creds;
  creds.username = repo.credential_username;
  if (ssh) creds.ssh_private_key_path = repo.ssh_key_path;
  if (!repo.credential_secret_sealed.empty()) {
    if (box == nullptr) {
      return fail(ErrorCode::internal, "the repository's credentials cannot be opened: no key");
    }
    auto secret = box->open(repo.credential_secret_sealed,
                            store::repository_credential_aad(repo.credential_id));
    if (!secret) {
      return fail(ErrorCode::internal, "the credentials of repository " + repo.project_key + "/" +
                                           repo.slug + " cannot be decrypted with the current key");
    }
    creds.password = std::move(*secret);
  }
  plan.credentials = std::move(creds);
  return plan;
}

}  // namespace cb::pipeline
