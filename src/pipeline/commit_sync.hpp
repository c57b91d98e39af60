#pragma once
// ALM commit sync: read a push's commits from a libgit2 mirror and link them to the stories
// their messages name.

#include "auth/secret_box.hpp"
#include "core/clock.hpp"
#include "core/event.hpp"
#include "pipeline/outcome.hpp"
#include "pipeline/paths.hpp"
#include "smartcommit/story_key_pattern.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// Links the commits of a push to stories.
class CommitSync {
 public:
  /// `box` opens the repositories' sealed credential secrets (null: credentials with a secret
  /// cannot be used).
  CommitSync(store::Store& store, const Clock& clock, PipelinePaths paths,
             const smartcommit::StoryKeyPattern& pattern, const auth::SecretBox* box = nullptr)
      : store_(store), clock_(clock), paths_(std::move(paths)), pattern_(pattern), box_(box) {}

  /// Fetches the repository's mirror (see plan_repository_fetch: clone URL and credentials), walks
  /// each ref change's commits (DESIGN "Commits and stories"), extracts story keys and stores one
  /// link per story × commit with the branch where it was seen. A remote that cannot be fetched
  /// gives a retry.
  [[nodiscard]] ProcessOutcome sync(const store::DeliveryRecord& delivery,
                                    const store::RepositoryRecord& repo, const PushEvent& push);

 private:
  store::Store& store_;
  const Clock& clock_;
  PipelinePaths paths_;
  const smartcommit::StoryKeyPattern& pattern_;
  const auth::SecretBox* box_;
};

}  // namespace cb::pipeline
