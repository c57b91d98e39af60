#pragma once
// How the mirror of a registered repository is fetched: which clone URL, with which credentials.

#include <optional>
#include <string>

#include "auth/secret_box.hpp"
#include "core/error.hpp"
#include "git/credential_selection.hpp"
#include "store/records.hpp"

namespace cb::pipeline {

/// The clone URL to fetch and the credentials to answer the remote with.
struct RepositoryFetch {
  std::string url;
  std::optional<git::FetchCredentials> credentials;  ///< nullopt: anonymous
};

/// Plans the fetch of `repo`: with SSH credentials the SSH clone URL and the key file (the
/// sealed passphrase opened with `box`); otherwise the HTTP clone URL (the SSH one when there is
/// none) and, with HTTP credentials, the user name and the opened password.
/// Errors: invalid_argument when the repository has no clone URL; internal when a sealed secret
/// cannot be opened (another key, or no `box`) — the message never contains the secret.
[[nodiscard]] Result<RepositoryFetch> plan_repository_fetch(const store::RepositoryRecord& repo,
                                                            const auth::SecretBox* box);

}  // namespace cb::pipeline
