#include "pipeline/commit_sync.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "git/mirror.hpp"
#include "pipeline/repository_fetch.hpp"

namespace cb::pipeline {

ProcessOutcome CommitSync::sync(const store::DeliveryRecord& delivery,
                                const store::RepositoryRecord& repo, const PushEvent& push) {
  const std::string repo_name = repo.project_key + "/" + repo.slug;
  if (push.changes.empty()) return ProcessOutcome{"ignored", "the push lists no ref changes"};

  bool any_live = false;
  for (const auto& c : push.changes) {
    if (c.type != RefChangeType::remove) any_live = true;
  }
  if (!any_live) return ProcessOutcome{"ignored", "every ref of the push was deleted"};

  auto plan = plan_repository_fetch(repo, box_);
  if (!plan) return ProcessOutcome{"failed", plan.error().message};
  auto mirror =
      git::Mirror::open_or_create(paths_.mirrors / (std::to_string(repo.id) + ".git"), plan->url);
  if (!mirror) return ProcessOutcome{"failed", mirror.error().message, true};
  if (auto fetched = mirror->fetch(plan->credentials); !fetched) {
    spdlog::warn("delivery_id={} fetch of {} failed: {}", delivery.delivery_id, repo_name,
                 fetched.error().message);
    return ProcessOutcome{"failed", "git " + fetched.error().message, true};
  }

  std::size_t commits_seen = 0;
  std::size_t links_new = 0;
  std::set<std::string> stories;
  std::set<std::string> linked_commits;
  std::set<std::string> seen_refs;  // a ref listed twice in one push is one ref change
  for (const auto& change : push.changes) {
    if (change.type == RefChangeType::remove || !seen_refs.insert(change.ref_id).second) continue;
    auto commits = mirror->commits_for_ref_change(change.ref_id, change.from_hash, change.to_hash);
    if (!commits) {
      return ProcessOutcome{
          "failed", "reading commits of " + change.display_id + ": " + commits.error().message,
          commits.error().code == ErrorCode::not_found};
    }
    for (const auto& commit : *commits) {
      ++commits_seen;
      for (const auto& key : pattern_.extract_keys(commit.message)) {
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
      }
    }
  }
  if (stories.empty()) {
    return ProcessOutcome{"done", "no story keys in " + std::to_string(commits_seen) +
                                      (commits_seen == 1 ? " commit" : " commits")};
  }
  std::string keys;
  for (const auto& k : stories) keys += (keys.empty() ? "" : ", ") + k;
  auto count = [](std::size_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
  };
  return ProcessOutcome{"done", "linked " + std::to_string(linked_commits.size()) + " of " +
                                    count(commits_seen, "commit", "commits") + " to " +
                                    count(stories.size(), "story", "stories") + " (" + keys +
                                    "), " + count(links_new, "new link", "new links")};
}

}  // namespace cb::pipeline
