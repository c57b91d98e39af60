#include "git/credential_selection.hpp"

#include <git2.h>
#include <gtest/gtest.h>

namespace cb::git {
namespace {

constexpr unsigned kUserpass = GIT_CREDENTIAL_USERPASS_PLAINTEXT;
constexpr unsigned kSshKey = GIT_CREDENTIAL_SSH_KEY;
constexpr unsigned kUsername = GIT_CREDENTIAL_USERNAME;

TEST(CredentialSelectionTest, NoCredentialsPassThrough) {
  EXPECT_EQ(select_credential(nullptr, kUserpass | kSshKey, "git", 0).action,
            CredentialAction::passthrough);
  const FetchCredentials empty;
  EXPECT_EQ(select_credential(&empty, kUserpass, nullptr, 0).action, CredentialAction::passthrough);
}

TEST(CredentialSelectionTest, HttpCredentialsAnswerUserpassOnce) {
  const FetchCredentials creds{"build-bot", "tok-9f2e", "", ""};
  auto first = select_credential(&creds, kUserpass, nullptr, 0);
  EXPECT_EQ(first.action, CredentialAction::userpass);
  EXPECT_EQ(first.username, "build-bot");
  EXPECT_EQ(select_credential(&creds, kUserpass, nullptr, 1).action, CredentialAction::reject);
}

TEST(CredentialSelectionTest, HttpCredentialsWithoutUserTakeTheUrlUser) {
  const FetchCredentials creds{"", "tok-9f2e", "", ""};
  EXPECT_EQ(select_credential(&creds, kUserpass, "marta", 0).username, "marta");
}

TEST(CredentialSelectionTest, HttpCredentialsAreNotOfferedToAnSshRequest) {
  const FetchCredentials creds{"build-bot", "tok-9f2e", "", ""};
  EXPECT_EQ(select_credential(&creds, kSshKey | kUsername, "git", 0).action,
            CredentialAction::passthrough);
}

TEST(CredentialSelectionTest, SshKeyIsOfferedOnceWithUserFromCredentialsThenUrlThenGit) {
  const FetchCredentials with_user{"deploy", "passphrase-7", "/etc/cb/id_ed25519", ""};
  auto a = select_credential(&with_user, kSshKey, "git", 0);
  EXPECT_EQ(a.action, CredentialAction::ssh_key);
  EXPECT_EQ(a.username, "deploy");
  EXPECT_EQ(select_credential(&with_user, kSshKey, "git", 1).action, CredentialAction::reject);

  const FetchCredentials no_user{"", "", "/etc/cb/id_ed25519", ""};
  EXPECT_EQ(select_credential(&no_user, kSshKey, "scm-user", 0).username, "scm-user");
  EXPECT_EQ(select_credential(&no_user, kSshKey, nullptr, 0).username, "git");
}

TEST(CredentialSelectionTest, SshAsksForTheUserNameFirstWhenTheUrlHasNone) {
  const FetchCredentials creds{"", "", "/etc/cb/id_ed25519", ""};
  auto choice = select_credential(&creds, kUsername, nullptr, 0);
  EXPECT_EQ(choice.action, CredentialAction::username);
  EXPECT_EQ(choice.username, "git");
  // Answering the user name is not an offer of the key: the key comes next.
  EXPECT_EQ(select_credential(&creds, kSshKey, nullptr, 0).action, CredentialAction::ssh_key);
}

TEST(CredentialSelectionTest, SshKeyIsNotOfferedToAnHttpRequest) {
  const FetchCredentials creds{"deploy", "", "/etc/cb/id_ed25519", ""};
  EXPECT_EQ(select_credential(&creds, kUserpass, nullptr, 0).action, CredentialAction::passthrough);
}

}  // namespace
}  // namespace cb::git
