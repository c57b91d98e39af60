#pragma once
// Canonical form of a repository's clone or browse URL, so that the different spellings of one
// repository's address (HTTPS and SSH, scp-like, with or without ".git", Bitbucket Data Center's
// "/scm/" prefix, ...) compare equal.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cb {

/// The identity of a repository address: the host and the path segments that name the
/// repository. Two URLs name the same repository when their keys are equal.
struct RepositoryUrlKey {
  std::string host;                   ///< lower-case host name; empty for a local path
  std::vector<std::string> segments;  ///< decoded path segments, e.g. {"nwa", "flight-planner"}
  friend bool operator==(const RepositoryUrlKey&, const RepositoryUrlKey&) = default;
  /// "host/seg1/seg2", for messages and tests.
  [[nodiscard]] std::string to_string() const;
};

/// The canonical key of a repository URL, or nullopt when `url` is not a URL or local path.
///
/// Accepted forms (RFC 3986 URLs parsed with Boost.URL, plus git's scp-like syntax):
///  - `https://[user[:password]@]host[:port]/path`, `http://...`, `ssh://[user@]host[:port]/path`,
///    `git://host/path`, `file:///path`, an absolute local path `/path`;
///  - scp-like `[user@]host:path` (git's form; the path may start with "~user" or "/").
///
/// Normalization: user info and the port are dropped (one host serves one SCM; its HTTPS and SSH
/// ports differ, e.g. Bitbucket Data Center's 7999), the host is lower-cased, percent-encoding is
/// decoded, empty segments (doubled or trailing slashes) are dropped and a trailing ".git" of the
/// last segment is removed. Provider-specific forms:
///  - Bitbucket Data Center / Server: on http(s) URLs, everything up to and including an "scm"
///    segment followed by exactly two segments is removed (`https://host/scm/PROJ/repo.git`, also
///    under a context path such as `/bitbucket/scm/...`); the browse URLs
///    `.../projects/PROJ/repos/repo[/browse...]` and `.../users/USER/repos/repo[/browse...]`
///    become {"PROJ", "repo"} and {"~USER", "repo"} (a personal repository's project key is
///    "~user", as in its clone URLs);
///  - Azure DevOps: `https://dev.azure.com/org/project/_git/repo` and
///    `git@ssh.dev.azure.com:v3/org/project/repo` both become dev.azure.com {org, project, repo}.
///
/// `provider` (a provider id such as "bitbucket_server", or empty) selects case handling: every
/// known provider matches repository paths case-insensitively (Bitbucket project keys, GitHub
/// owners, GitLab paths...), so their segments are lower-cased; for an empty or unknown provider
/// the segments keep their case (a plain git server's paths are case-sensitive).
[[nodiscard]] std::optional<RepositoryUrlKey> canonical_repository_url(std::string_view url,
                                                                       std::string_view provider);

/// True when `a` and `b` are both valid repository URLs with the same canonical key (see
/// canonical_repository_url).
[[nodiscard]] bool same_repository_url(std::string_view a, std::string_view b,
                                       std::string_view provider);

}  // namespace cb
