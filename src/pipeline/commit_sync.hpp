#pragma once
// ALM commit sync: read a push's commits from a libgit2 mirror and link them to the stories
// their messages name.

#include "core/clock.hpp"
#include "core/event.hpp"
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
  /// without any).
  CommitSync(store::Store& store, const Clock& clock, PipelinePaths paths,
             OrgPatternCache& patterns)
      : store_(store), clock_(clock), paths_(std::move(paths)), patterns_(&patterns) {}
  /// Reads story keys with one fixed pattern for every org.
  CommitSync(store::Store& store, const Clock& clock, PipelinePaths paths,
             const smartcommit::StoryKeyPattern& pattern)
      : store_(store), clock_(clock), paths_(std::move(paths)), pattern_(&pattern) {}

  /// Fetches the repository's mirror (clone URL of `repo`), walks each ref change's commits
  /// (DESIGN "Commits and stories"), extracts story keys and stores one link per story ×
  /// commit with the branch where it was seen. A remote that cannot be fetched gives a retry.
  [[nodiscard]] ProcessOutcome sync(const store::DeliveryRecord& delivery,
                                    const store::RepositoryRecord& repo, const PushEvent& push);

 private:
  store::Store& store_;
  const Clock& clock_;
  PipelinePaths paths_;
  const smartcommit::StoryKeyPattern* pattern_ = nullptr;
  OrgPatternCache* patterns_ = nullptr;
};

}  // namespace cb::pipeline
