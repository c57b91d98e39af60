#pragma once
// ALM commit sync: read a push's commits from a libgit2 mirror and link them to the stories
// their messages name.

#include <filesystem>
#include <functional>

#include "auth/secret_box.hpp"
#include "core/clock.hpp"
#include "core/event.hpp"
#include "git/mirror_locks.hpp"
#include "pipeline/alm_writeback.hpp"
#include "pipeline/org_pattern_cache.hpp"
#include "pipeline/outcome.hpp"
#include "pipeline/paths.hpp"
#include "smartcommit/story_key_pattern.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// Links the commits of a push to stories.
class CommitSync {
 public:
  /// Reads story keys with each org's smart-commit patterns (the `jira` built-in for an org
  /// without any). `box` opens the repositories' sealed credential secrets (null: credentials
  /// with a secret cannot be used).
  CommitSync(store::Store& store, const Clock& clock, PipelinePaths paths,
             OrgPatternCache& patterns, const auth::SecretBox* box = nullptr)
      : store_(store), clock_(clock), paths_(std::move(paths)), patterns_(&patterns), box_(box) {}
  /// Reads story keys with one fixed pattern for every org.
  CommitSync(store::Store& store, const Clock& clock, PipelinePaths paths,
             const smartcommit::StoryKeyPattern& pattern, const auth::SecretBox* box = nullptr)
      : store_(store), clock_(clock), paths_(std::move(paths)), pattern_(&pattern), box_(box) {}

  /// Fetches the repository's mirror (see plan_repository_fetch: clone URL and credentials),
  /// walks each ref change's commits (DESIGN "Commits and stories"), extracts story keys and
  /// stores one link per story × commit with the branch where it was seen. Commits that an
  /// update took away from a branch (force push) and every commit seen on a deleted branch stay
  /// linked but are marked no longer reachable from that branch; a later push that lists them
  /// again restores them. A remote that cannot be fetched gives a retry.
  ///
  /// Thread-safe: syncs of one repository hold its mirror's lock (git::MirrorLocks) from opening
  /// to the last read, so they never fetch at once; other repositories proceed in parallel.
  /// Write-back of the links to the ALM connections (not owned; none when unset).
  void set_writeback(AlmWriteback* writeback) { writeback_ = writeback; }

  /// Fetches the repository's mirror (clone URL of `repo`), walks each ref change's commits
  /// (DESIGN "Commits and stories"), extracts story keys and stores one link per story ×
  /// commit with the branch where it was seen. A remote that cannot be fetched gives a retry.
  [[nodiscard]] ProcessOutcome sync(const store::DeliveryRecord& delivery,
                                    const store::RepositoryRecord& repo, const PushEvent& push);

  /// Instrumentation: `hook(mirror_dir, true)` runs just before a fetch, `hook(mirror_dir,
  /// false)` just after it, both with the mirror's lock held. Set before the first sync.
  void set_fetch_hook(std::function<void(const std::filesystem::path&, bool started)> hook) {
    fetch_hook_ = std::move(hook);
  }

 private:
  store::Store& store_;
  const Clock& clock_;
  PipelinePaths paths_;
  const smartcommit::StoryKeyPattern* pattern_ = nullptr;
  AlmWriteback* writeback_ = nullptr;
  OrgPatternCache* patterns_ = nullptr;
  const auth::SecretBox* box_ = nullptr;
  git::MirrorLocks& locks_ = git::MirrorLocks::process_wide();
  std::function<void(const std::filesystem::path&, bool)> fetch_hook_;
};

}  // namespace cb::pipeline
