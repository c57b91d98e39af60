#pragma once
// Links to a commit in the web UI of the SCM that hosts its repository.

#include <string>
#include <string_view>

namespace cb::admin {

/// What commit_web_url() needs to know about a repository.
struct RepositoryWebInfo {
  std::string_view provider;     ///< provider id: bitbucket_server, github, gitlab, ...
  std::string_view project_key;  ///< Bitbucket DC project key ("NWA", "~JDOE" for personal)
  std::string_view slug;         ///< repository slug
  std::string_view clone_url;    ///< HTTP(S) or SSH clone URL, may carry user info
  std::string_view browse_url;   ///< the repository's web page when known, else empty
};

/// The web page of commit `hash` (hex, as stored) in the repository's SCM, or "" when it cannot
/// be derived (unknown provider, local path or file:// clone URL, an SSH URL of Bitbucket DC
/// without a browse URL, a hash that is not hex). Never contains user info from the clone URL.
///
/// | provider | URL |
/// | --- | --- |
/// | bitbucket_server | `{base}/projects/{PROJECT}/repos/{slug}/commits/{hash}`; personal
/// repositories (`~USER`) `{base}/users/{user}/repos/{slug}/commits/{hash}`. `{base}`: the browse
/// URL cut before `/projects/` or `/users/` (or the browse URL itself when it has neither), else
/// the HTTP clone URL without `/scm/PROJECT/slug.git` | | github (and GitHub Enterprise Server),
/// gitea | `{repository page}/commit/{hash}` | | gitlab | `{repository page}/-/commit/{hash}` | |
/// bitbucket_cloud | `{repository page}/commits/{hash}` | | azure_devops |
/// `https://dev.azure.com/{org}/{project}/_git/{repo}/commit/{hash}` (or the `*.visualstudio.com`
/// form) |
///
/// `{repository page}`: the browse URL, else the clone URL without user info, port of an SSH URL
/// and trailing `.git`, as https for SSH and scp-like (`git@host:owner/repo.git`) URLs.
/// Azure DevOps SSH URLs (`git@ssh.dev.azure.com:v3/org/project/repo`,
/// `org@vs-ssh.visualstudio.com:v3/org/project/repo`) map to their web form.
[[nodiscard]] std::string commit_web_url(const RepositoryWebInfo& repo, std::string_view hash);

}  // namespace cb::admin
