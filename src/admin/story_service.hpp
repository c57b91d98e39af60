#pragma once
// Read-only views of the commits linked to stories, shared by the admin API and the CLI:
// a story's commits, a commit's stories and an org's story keys, one page at a time.

#include <cstdint>
#include <optional>
#include <string>

#include "admin/admin_service.hpp"
#include "store/store.hpp"

namespace cb::admin {

/// Shortest commit-hash prefix accepted by commit_stories().
inline constexpr std::size_t kMinCommitPrefix = 7;

/// Story views over the store. Thread-safe (the store is). Errors: invalid_argument naming the
/// parameter (limit outside 1..200, a cursor this service did not return, a bad story key or
/// hash), not_found, store_unavailable.
class StoryService {
 public:
  explicit StoryService(store::Store& store) : store_(store) {}

  /// One page of the commits linked to `story_key` (1 to 255 characters, no control characters),
  /// newest authored first, each with every repository × branch where it was seen. `org_id`
  /// empty: every org (the CLI without --org).
  [[nodiscard]] Result<Page<store::StoryLinkRecord>> story_commits(
      std::optional<std::int64_t> org_id, const std::string& story_key, const PageRequest& page);

  /// The full hash of the org's linked commit that `hash` names: 40 hex digits, or a prefix of at
  /// least kMinCommitPrefix hex digits (any case). Errors: invalid_argument when `hash` is not
  /// such a hash or the prefix matches several linked commits (the message names how many);
  /// not_found when no commit linked to a story in the org matches.
  [[nodiscard]] Result<std::string> resolve_commit(std::int64_t org_id, const std::string& hash);

  /// One page of the stories commit `hash` (see resolve_commit) is linked to, by story key.
  [[nodiscard]] Result<Page<store::StoryLinkRecord>> commit_stories(std::int64_t org_id,
                                                                    const std::string& hash,
                                                                    const PageRequest& page);

  /// One page of the org's story keys, ascending, with how many commits each has.
  [[nodiscard]] Result<Page<store::StorySummary>> list_stories(std::int64_t org_id,
                                                               const PageRequest& page);

 private:
  store::Store& store_;
};

}  // namespace cb::admin
