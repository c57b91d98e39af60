#include "pipeline/commit_sync.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <set>

#include "git/mirror.hpp"
#include "git/mirror_locks.hpp"
#include "pipeline/repository_fetch.hpp"

namespace cb::pipeline {
namespace {

/// ", N sightings no longer reachable" for a reason, or "" when none.
std::string removed_note(std::size_t n) {
  if (n == 0) return "";
  return ", " + std::to_string(n) + (n == 1 ? " sighting" : " sightings") + " no longer reachable";
}

/// Calls a fetch hook with true when created and with false at end() or destruction.
class FetchObservation {
 public:
  FetchObservation(const std::function<void(const std::filesystem::path&, bool)>& hook,
                   const std::filesystem::path& dir)
      : hook_(hook), dir_(dir) {
    if (hook_) hook_(dir_, true);
  }
  FetchObservation(const FetchObservation&) = delete;
  FetchObservation& operator=(const FetchObservation&) = delete;
  ~FetchObservation() { end(); }
  void end() {
    if (hook_ && !ended_) hook_(dir_, false);
    ended_ = true;
  }

 private:
  const std::function<void(const std::filesystem::path&, bool)>& hook_;
  const std::filesystem::path& dir_;
  bool ended_ = false;
};

}  // namespace

ProcessOutcome CommitSync::sync(const store::DeliveryRecord& delivery,
                                const store::RepositoryRecord& repo, const PushEvent& push) {
  const std::string repo_name = repo.project_key + "/" + repo.slug;
  if (push.changes.empty()) return ProcessOutcome{"ignored", "the push lists no ref changes"};

  // One user of a mirror at a time (fetches of one repository are serialized); other
  // repositories proceed in parallel.
  const auto mirror_dir = paths_.mirrors / (std::to_string(repo.id) + ".git");
  const auto mirror_lock = locks_.lock(mirror_dir);

  // A deleted branch no longer reaches the commits seen on it.
  std::size_t sightings_removed = 0;
  bool only_deletions = true;
  for (const auto& c : push.changes) {
    if (c.type != RefChangeType::remove) {
      only_deletions = false;
      continue;
    }
    auto removed = store_.mark_branch_unreachable(delivery.org_id, repo.id, c.display_id,
                                                  delivery.delivery_id, clock_.now_ms());
    if (!removed) return ProcessOutcome{"failed", removed.error().message, true};
    sightings_removed += *removed;
  }
  if (only_deletions && sightings_removed > 0) {
    return ProcessOutcome{"done",
                          "every ref of the push was deleted" + removed_note(sightings_removed)};
  }

  bool any_live = false;
  for (const auto& c : push.changes) {
    if (c.type != RefChangeType::remove) any_live = true;
  }
  if (!any_live) return ProcessOutcome{"ignored", "every ref of the push was deleted"};

  std::optional<smartcommit::PatternSet> patterns;
  if (patterns_ != nullptr) {
    auto set = patterns_->get(delivery.org_id);
    if (!set) {
      return ProcessOutcome{"failed", "smart-commit patterns: " + set.error().message,
                            set.error().code == ErrorCode::store_unavailable};
    }
    patterns = std::move(*set);
  }
  auto story_keys = [&](const std::string& message) {
    if (!patterns) return pattern_->extract_keys(message);
    std::vector<std::string> keys;
    for (auto& m : patterns->extract(message)) keys.push_back(std::move(m.key));
    return keys;
  };

  auto plan = plan_repository_fetch(repo, box_);
  if (!plan) return ProcessOutcome{"failed", plan.error().message};
  auto mirror =
      git::Mirror::open_or_create(paths_.mirrors / (std::to_string(repo.id) + ".git"), plan->url);
  if (!mirror) return ProcessOutcome{"failed", mirror.error().message, true};
  FetchObservation observed(fetch_hook_, mirror_dir);
  if (auto fetched = mirror->fetch(plan->credentials); !fetched) {
    spdlog::warn("delivery_id={} fetch of {} failed: {}", delivery.delivery_id, repo_name,
                 fetched.error().message);
    return ProcessOutcome{"failed", "git " + fetched.error().message, true};
  }
  observed.end();

  std::size_t commits_seen = 0;
  std::size_t links_new = 0;
  std::set<std::string> stories;
  std::set<std::string> linked_commits;
  std::set<std::string> seen_refs;  // a ref listed twice in one push is one ref change
  // The links stored below, for the ALM outbox (enqueued right after them, idempotently).
  std::vector<LinkedCommit> written;
  for (const auto& change : push.changes) {
    if (change.type == RefChangeType::remove || !seen_refs.insert(change.ref_id).second) continue;
    // Commits a force push took away from the branch stay linked, marked unreachable there. A
    // failure here (bad or missing hash) is reported by commits_for_ref_change below.
    auto left = mirror->commits_removed_by_ref_change(change.from_hash, change.to_hash);
    if (left && !left->empty()) {
      auto removed = store_.mark_commits_unreachable(delivery.org_id, repo.id, change.display_id,
                                                     *left, delivery.delivery_id, clock_.now_ms());
      if (!removed) return ProcessOutcome{"failed", removed.error().message, true};
      sightings_removed += *removed;
    }
    auto commits = mirror->commits_for_ref_change(change.ref_id, change.from_hash, change.to_hash);
    if (!commits) {
      return ProcessOutcome{
          "failed", "reading commits of " + change.display_id + ": " + commits.error().message,
          commits.error().code == ErrorCode::not_found};
    }
    for (const auto& commit : *commits) {
      ++commits_seen;
      for (const auto& key : story_keys(commit.message)) {
        store::StoryCommit sc{key,
                              commit.hash,
                              commit.author_name,
                              commit.author_email,
                              commit.message,
                              commit.author_time_ms};
        auto linked = store_.link_story(delivery.org_id, repo.id, sc, change.display_id,
                                        delivery.delivery_id, clock_.now_ms());
        if (!linked) return ProcessOutcome{"failed", linked.error().message, true};
        if (*linked) ++links_new;
        stories.insert(key);
        linked_commits.insert(commit.hash);
        if (writeback_ != nullptr) written.push_back(LinkedCommit{change.display_id, sc});
      }
    }
  }
  if (writeback_ != nullptr) {
    auto queued = writeback_->write_back(delivery, repo, written);
    if (!queued) return ProcessOutcome{"failed", "ALM outbox: " + queued.error().message, true};
  }
  if (stories.empty()) {
    return ProcessOutcome{"done", "no story keys in " + std::to_string(commits_seen) +
                                      (commits_seen == 1 ? " commit" : " commits") +
                                      removed_note(sightings_removed)};
  }
  std::string keys;
  for (const auto& k : stories) keys += (keys.empty() ? "" : ", ") + k;
  auto count = [](std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
  };
  return ProcessOutcome{"done", "linked " + std::to_string(linked_commits.size()) + " of " +
                                    count(commits_seen, "commit", "commits") + " to " +
                                    count(stories.size(), "story", "stories") + " (" + keys +
                                    "), " + count(links_new, "new link", "new links") +
                                    removed_note(sightings_removed)};
}

}  // namespace cb::pipeline
