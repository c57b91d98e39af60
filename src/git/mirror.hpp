#pragma once
// A bare libgit2 mirror of a repository's clone URL: the authoritative source of the commits of a
// push (payload commit lists are only a preview, see DESIGN.md "Commits and stories").

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "git/credential_selection.hpp"

struct git_repository;

namespace cb::git {

/// One commit read from a mirror.
struct CommitInfo {
  std::string hash;     ///< 40 lowercase hex digits
  std::string message;  ///< full raw message (summary, body, trailers), as stored in the commit
  std::string author_name;
  std::string author_email;
  UnixMillis author_time_ms = 0;  ///< author date, ms since the Unix epoch, UTC
  std::string committer_name;
  std::string committer_email;
  UnixMillis commit_time_ms = 0;     ///< committer date, ms since the Unix epoch, UTC
  std::vector<std::string> parents;  ///< parent hashes (40 hex) in parent order; 2+ for merges
};

/// A bare repository on local disk that mirrors the branches and tags of one remote ("origin").
///
/// Movable, not copyable. Like libgit2 itself, one Mirror must not be used by several threads at
/// once (const member functions included), and two Mirror objects, in this process or another,
/// must not fetch into the same directory at the same time: callers serialize per directory.
class Mirror {
 public:
  /// Opens the bare repository at `dir`, or creates it (and missing parent directories) when `dir`
  /// does not exist or is empty. Ensures the remote "origin" exists with `clone_url` (the URL is
  /// updated when it changed) and exactly the fetch refspecs `+refs/heads/*:refs/heads/*` and
  /// `+refs/tags/*:refs/tags/*`. Nothing is fetched: call fetch().
  ///
  /// `clone_url` may be https://, http://, ssh://, file:// or a local path (tests). It is stored
  /// in the mirror's config file, so pass secrets as FetchCredentials, not inside the URL.
  /// Errors: `invalid_argument` when `clone_url` is empty or holds a line break or NUL, or when
  /// `dir` exists, is not empty and is not a bare git repository; `internal` when the repository or
  /// its config cannot be created or written.
  [[nodiscard]] static Result<Mirror> open_or_create(const std::filesystem::path& dir,
                                                     const std::string& clone_url);

  Mirror(Mirror&&) noexcept;
  Mirror& operator=(Mirror&&) noexcept;
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;
  ~Mirror();

  /// Fetches all branches and tags of the clone URL given to open_or_create() (git's
  /// url.*.insteadOf rewriting is not applied) into refs/heads/* and refs/tags/*, force-updating
  /// refs that moved (including non-fast-forward) and pruning refs that were deleted on the
  /// remote. `creds`, when given and non-empty, answers the remote's request for credentials
  /// (see select_credential: HTTP basic user/password, or an SSH key file with its passphrase);
  /// they are offered once, rejected credentials are not retried.
  ///
  /// Errors: `peer_unavailable` when the remote cannot be reached (unknown host, connection
  /// refused, no repository at a local path), refuses the credentials or the transfer fails; the
  /// message names the URL (without user info) and carries libgit2's message, with any password
  /// or passphrase removed. `internal` when libgit2 cannot be initialized or another fetch holds
  /// the mirror's ref locks.
  [[nodiscard]] Result<void> fetch(const std::optional<FetchCredentials>& creds = {});

  /// The commits that a ref change (one element of a push) brought to `ref_name`, newest first
  /// (topological order, ties by commit time), at most `max_commits`. Reads the mirror only:
  /// fetch() first.
  ///
  /// `ref_name` is a full ref ("refs/heads/main", "refs/tags/v1") or a branch's short name
  /// ("main", taken as refs/heads/main). `from_hash`/`to_hash` are full 40-hex hashes (shorter
  /// unique prefixes of at least 4 hex digits work too); an empty or all-zero hash is the "zero
  /// hash". Annotated tag hashes are peeled to their commit.
  ///  - `to_hash` zero (ref deleted): no commits.
  ///  - `from_hash` non-zero (ref updated): the commits reachable from `to_hash` and not from
  ///    `from_hash`. When `from_hash` is not in the mirror (a force push replaced history the
  ///    mirror never saw, or that the remote has since garbage-collected), nothing is hidden: the
  ///    whole history of `to_hash`, newest first, cut at `max_commits`. Effects downstream are
  ///    unique per story × commit, so re-listing old commits does not repeat them.
  ///  - `from_hash` zero (ref created): the commits reachable from `to_hash` and not reachable
  ///    from the tip of any OTHER branch (refs/heads/*) of the mirror; `ref_name` itself is not
  ///    hidden. A new tag on an existing branch therefore yields no commits, and two branches
  ///    created in one push from the same new commits hide each other's commits.
  ///
  /// Errors: `invalid_argument` when a hash is not 4-40 hex digits or is ambiguous; `not_found`
  /// ("commit <hash> is not in the mirror of <url>") when `to_hash` is not in the mirror or does
  /// not peel to a commit; `internal` on a libgit2 failure while walking.
  [[nodiscard]] Result<std::vector<CommitInfo>> commits_for_ref_change(
      std::string_view ref_name, std::string_view from_hash, std::string_view to_hash,
      std::size_t max_commits = 10000) const;

  /// The hashes (40 hex) of the commits that a ref update took away from the ref: reachable from
  /// `from_hash` and not from `to_hash` (what a force push or a reset left behind), newest first,
  /// at most `max_commits`. Reads the mirror only. Empty when either hash is the zero hash (a
  /// created or deleted ref: see commits_for_ref_change) or when `from_hash` is not in the mirror
  /// (history the mirror never saw cannot have been linked from it).
  ///
  /// Errors: `invalid_argument` when a hash is not 4-40 hex digits or is ambiguous; `not_found`
  /// when `to_hash` is not in the mirror; `internal` on a libgit2 failure while walking.
  [[nodiscard]] Result<std::vector<std::string>> commits_removed_by_ref_change(
      std::string_view from_hash, std::string_view to_hash, std::size_t max_commits = 10000) const;

  /// The commit with the given hash (full 40 hex or a unique prefix of at least 4 hex digits; an
  /// annotated tag's hash is peeled), or std::nullopt when the mirror does not hold it.
  /// Errors: `invalid_argument` when `hash` is not 4-40 hex digits or the prefix is ambiguous;
  /// `internal` on a libgit2 failure.
  [[nodiscard]] Result<std::optional<CommitInfo>> find_commit(std::string_view hash) const;

  /// The commit hash (40 hex) the mirror's ref `ref_name` points to, peeled through annotated
  /// tags, or std::nullopt when the mirror has no such ref (e.g. it was pruned). `ref_name` as in
  /// commits_for_ref_change(). Errors: `internal` on a libgit2 failure.
  [[nodiscard]] Result<std::optional<std::string>> resolve_ref(std::string_view ref_name) const;

  /// The directory of the bare repository.
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }

  /// The URL of origin as given to open_or_create(); may contain user info, so never log it
  /// directly (use redacted_clone_url()).
  [[nodiscard]] const std::string& clone_url() const noexcept { return clone_url_; }

  /// clone_url() with any user info ("user:password@") replaced by "***@": safe for messages.
  [[nodiscard]] std::string redacted_clone_url() const;

 private:
  struct RepoDeleter {
    void operator()(git_repository* repo) const noexcept;
  };
  using RepoPtr = std::unique_ptr<git_repository, RepoDeleter>;

  Mirror(RepoPtr repo, std::filesystem::path dir, std::string clone_url);

  RepoPtr repo_;
  std::filesystem::path dir_;
  std::string clone_url_;
};

/// `url` with the user-info part of an URL ("https://user:secret@host/..." →
/// "https://***@host/...") replaced; other strings are returned unchanged.
[[nodiscard]] std::string redact_url_credentials(std::string_view url);

}  // namespace cb::git
