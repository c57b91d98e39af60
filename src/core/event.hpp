#pragma once
// The normalized event model: what every provider parser produces and the pipeline consumes.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.hpp"

namespace cb {

/// The 40-zero hash that SCMs send as from-hash of a new ref and to-hash of a deleted ref.
inline constexpr std::string_view kZeroHash = "0000000000000000000000000000000000000000";

/// True when `hash` is empty or consists only of '0' characters.
[[nodiscard]] bool is_zero_hash(std::string_view hash) noexcept;

/// Kind of a git ref.
enum class RefType { branch, tag, other };

/// What happened to a ref: created, moved, or deleted.
enum class RefChangeType { add, update, remove };

/// A person as the SCM names them (pusher, commit author).
struct Person {
  std::string name;      ///< display name, e.g. "Marta Kowalski"
  std::string email;     ///< may be empty
  std::string username;  ///< SCM login/slug, may be empty
};

/// One ref change of a push. Bitbucket DC: one element of `changes[]` of `repo:refs_changed`.
struct RefChange {
  std::string ref_id;  ///< full ref, e.g. "refs/heads/release/2.1"
  std::string
      display_id;  ///< short name, e.g. "release/2.1" (only the leading refs/heads/ stripped)
  RefType ref_type = RefType::branch;
  RefChangeType type = RefChangeType::update;
  std::string from_hash;  ///< 40 hex; kZeroHash on add
  std::string to_hash;    ///< 40 hex; kZeroHash on remove
};

/// A commit as listed in a payload (a preview: providers cap these lists).
struct CommitPreview {
  std::string hash;
  std::string message;
  Person author;
  UnixMillis author_time_ms = 0;
  std::vector<std::string> parents;
};

/// The repository an event is about, as the payload names it.
struct RepositoryRef {
  std::string provider;        ///< provider id, e.g. "bitbucket_server"
  std::string project_key;     ///< Bitbucket project key ("NWA", "~USER" for personal repositories)
  std::string slug;            ///< repository slug
  std::string name;            ///< display name
  std::string http_clone_url;  ///< may be empty (Bitbucket DC often omits links)
  std::string ssh_clone_url;   ///< may be empty
  std::string browse_url;      ///< may be empty
};

/// A push: one or more ref changes of one repository.
struct PushEvent {
  RepositoryRef repository;
  Person actor;  ///< the pusher, not the commit author
  std::vector<RefChange> changes;
  std::vector<CommitPreview> commits;      ///< payload preview, possibly empty
  std::optional<CommitPreview> to_commit;  ///< tip commit when the payload has it
};

/// What happened to a pull request.
enum class PullRequestAction {
  opened,
  source_updated,
  target_changed,
  modified,
  merged,
  declined,
  deleted,
  other
};

/// A pull-request change.
struct PullRequestEvent {
  RepositoryRef repository;  ///< target repository
  Person actor;
  PullRequestAction action = PullRequestAction::other;
  std::int64_t id = 0;  ///< per-repository number
  std::string title;
  std::string state;  ///< e.g. "OPEN", "MERGED", "DECLINED"
  std::string source_ref_id;
  std::string source_branch;
  std::string source_hash;
  std::string target_ref_id;
  std::string target_branch;
  std::string target_hash;
  std::string previous_source_hash;    ///< source_updated only
  std::string previous_target_branch;  ///< target_changed only
  std::string merge_commit_hash;       ///< merged only
  UnixMillis created_at_ms = 0;
  UnixMillis updated_at_ms = 0;
};

/// A connection test ("Test connection" / ping): nothing is stored.
struct PingEvent {};

/// An event this version does not act on; stored as ignored with this key as reason.
struct UnsupportedEvent {
  std::string event_key;
};

/// What a provider parser produces.
using NormalizedEvent = std::variant<PushEvent, PullRequestEvent, PingEvent, UnsupportedEvent>;

/// Lower-case names used in JSON and logs.
[[nodiscard]] std::string_view to_string(RefType t) noexcept;
[[nodiscard]] std::string_view to_string(RefChangeType t) noexcept;
[[nodiscard]] std::string_view to_string(PullRequestAction a) noexcept;

}  // namespace cb
