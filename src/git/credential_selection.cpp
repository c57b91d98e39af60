#include "git/credential_selection.hpp"

#include <git2.h>

namespace cb::git {

CredentialChoice select_credential(const FetchCredentials* creds, unsigned int allowed_types,
                                   const char* username_from_url, int offers) {
  CredentialChoice choice;
  if (creds == nullptr) return choice;
  const std::string url_user = username_from_url != nullptr ? username_from_url : "";
  if (!creds->ssh_private_key_path.empty()) {
    choice.username = !creds->username.empty() ? creds->username
                      : !url_user.empty()      ? url_user
                                               : "git";
    if ((allowed_types & GIT_CREDENTIAL_SSH_KEY) != 0) {
      choice.action = offers > 0 ? CredentialAction::reject : CredentialAction::ssh_key;
    } else if ((allowed_types & GIT_CREDENTIAL_USERNAME) != 0) {
      choice.action = CredentialAction::username;
    }
    return choice;
  }
  if (creds->username.empty() && creds->password.empty()) return choice;
  if ((allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) == 0) return choice;
  choice.username = !creds->username.empty() ? creds->username : url_user;
  choice.action = offers > 0 ? CredentialAction::reject : CredentialAction::userpass;
  return choice;
}

}  // namespace cb::git
