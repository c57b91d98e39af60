#pragma once
// Turns the story links of a commit sync into outbox entries, right after the links are stored
// (idempotently: the outbox's unique key makes a second run add nothing).

#include <functional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "pipeline/outbox_planner.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// The smart-commit commands of `message` (a commit of org `org_id`) that apply to `story_key`,
/// in message order; an error when the org's patterns cannot be read.
using CommandSource = std::function<Result<std::vector<AlmCommand>>(
    std::int64_t org_id, const std::string& message, const std::string& story_key)>;

/// The web page of a commit of a repository ("" when it cannot be derived).
using CommitUrl = std::function<std::string(const store::RepositoryRecord& repository,
                                            const std::string& commit_hash)>;

/// One linked commit of a sync: the branch where it was seen and the link.
struct LinkedCommit {
  std::string branch;
  store::StoryCommit commit;
};

/// Plans and enqueues the write-back of the links of one delivery. Thread-safe if the store is.
class AlmWriteback {
 public:
  AlmWriteback(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  /// Where the smart-commit commands come from; without one, no command is written back
  /// (remote links, commit comments and webhooks still are).
  void set_command_source(CommandSource source) { commands_ = std::move(source); }
  /// How the commit's web page (the target of Jira remote links) is found; none: "".
  void set_commit_url(CommitUrl url) { commit_url_ = std::move(url); }
  /// Called after entries were inserted (wakes the outbox dispatcher).
  void set_on_enqueued(std::function<void()> callback) { on_enqueued_ = std::move(callback); }

  /// Enqueues the entries of every link (see plan_outbox) for the org's connections. Nothing
  /// when the repository's auto_update_alm is off or the org has no connection. Returns how many
  /// entries are new. Errors: store_unavailable.
  [[nodiscard]] Result<std::size_t> write_back(const store::DeliveryRecord& delivery,
                                               const store::RepositoryRecord& repository,
                                               const std::vector<LinkedCommit>& links);

 private:
  store::Store& store_;
  const Clock& clock_;
  CommandSource commands_;
  CommitUrl commit_url_;
  std::function<void()> on_enqueued_;
};

}  // namespace cb::pipeline
