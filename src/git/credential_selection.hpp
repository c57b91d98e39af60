#pragma once
// Which credential a fetch answers a remote's request with (the logic of libgit2's credential
// callback, kept free of libgit2 calls so that it is tested directly).

#include <string>

namespace cb::git {

/// Credentials for fetching a private repository. Never logged and never part of an error
/// message.
///  - HTTP(S): `username` and `password` (password or access token), sent as basic auth.
///  - SSH: `ssh_private_key_path` (a key file on the server), `password` is the key's
///    passphrase (may be empty), `username` the SSH user (empty: the URL's user, else "git").
struct FetchCredentials {
  std::string username;
  std::string password;
  std::string ssh_private_key_path;  ///< non-empty: SSH key credentials
  std::string ssh_public_key_path;   ///< optional; libssh2 derives it from the private key
};

/// What the credential callback does for one request of the remote.
enum class CredentialAction {
  passthrough,  ///< nothing to offer: libgit2 fails with its own "authentication required"
  userpass,     ///< offer username + password (git_credential_userpass_plaintext_new)
  ssh_key,      ///< offer the SSH key file (git_credential_ssh_key_new)
  username,     ///< offer only the user name (git_credential_username_new; SSH asks first)
  reject,       ///< the remote refused what was offered: stop (GIT_EAUTH), never retry
};

/// The action and the user name to offer.
struct CredentialChoice {
  CredentialAction action = CredentialAction::passthrough;
  std::string username;
};

/// Chooses the answer to a remote's credential request.
///
/// `allowed_types` is libgit2's bitmask of acceptable credential types (GIT_CREDENTIAL_*:
/// USERPASS_PLAINTEXT = 1, SSH_KEY = 2, USERNAME = 32), `username_from_url` the user of the URL
/// (may be null), `offers` how many userpass / SSH-key credentials this fetch already offered.
/// Credentials are offered once: a second request after an offer is `reject`. No credentials, or
/// none of a type the remote accepts, is `passthrough`.
[[nodiscard]] CredentialChoice select_credential(const FetchCredentials* creds,
                                                 unsigned int allowed_types,
                                                 const char* username_from_url, int offers);

}  // namespace cb::git
