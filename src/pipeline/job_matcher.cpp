#include "pipeline/job_matcher.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "core/branch_rules.hpp"

namespace cb::pipeline {
namespace {

constexpr std::array<std::string_view, 8> kEvents{store::kJobEventPush,
                                                  store::kJobEventTag,
                                                  store::kJobEventPrOpened,
                                                  store::kJobEventPrSourceUpdated,
                                                  store::kJobEventPrTargetChanged,
                                                  store::kJobEventPrMerged,
                                                  store::kJobEventPrDeclined,
                                                  store::kJobEventPrDeleted};

bool selects(const store::JobRecord& job, std::string_view event) {
  return std::find(job.events.begin(), job.events.end(), event) != job.events.end();
}

std::string short_hash(const std::string& hash) { return hash.substr(0, 7); }

/// Appends `reason` unless already present (several jobs often give the same one).
void note(std::vector<std::string>& out, std::string reason) {
  if (std::find(out.begin(), out.end(), reason) == out.end()) out.push_back(std::move(reason));
}

/// "skip marker M in head commit H of WHAT skipped job a" (or "jobs a, b"): the jobs whose
/// rules matched but that run nothing because of the marker.
std::string skipped_by_marker(const std::string& marker, const std::string& hash,
                              const std::string& what, const std::vector<std::string>& jobs) {
  std::string out = "skip marker " + marker + " in head commit " + short_hash(hash) + " of " +
                    what + " skipped " + (jobs.size() == 1 ? "job " : "jobs ");
  for (std::size_t i = 0; i < jobs.size(); ++i) out += (i == 0 ? "" : ", ") + jobs[i];
  return out;
}

/// Result of checking one spec against one name.
enum class RuleCheck { matched, excluded, unmatched, invalid };

struct Checked {
  RuleCheck result = RuleCheck::unmatched;
  std::string detail;  ///< the excluding rule, or the parse error
};

Checked check(std::string_view spec, std::string_view name) {
  auto rules = BranchRules::parse(spec);
  if (!rules) return {RuleCheck::invalid, rules.error().message};
  if (rules->matches(name)) return {RuleCheck::matched, {}};
  if (auto rule = rules->excluding_rule(name)) return {RuleCheck::excluded, *rule};
  return {RuleCheck::unmatched, {}};
}

/// Caches commit messages per hash and answers whether a skip marker is present.
class SkipCheck {
 public:
  explicit SkipCheck(const CommitMessageLookup& lookup) : lookup_(lookup) {}
  std::optional<std::string> marker(const std::string& hash) {
    if (hash.empty() || is_zero_hash(hash) || !lookup_) return std::nullopt;
    auto it = cache_.find(hash);
    if (it == cache_.end()) it = cache_.emplace(hash, lookup_(hash)).first;
    if (!it->second) return std::nullopt;
    return skip_marker_in(*it->second);
  }

 private:
  const CommitMessageLookup& lookup_;
  std::map<std::string, std::optional<std::string>> cache_;
};

}  // namespace

std::optional<std::string> skip_marker_in(std::string_view message) {
  std::string lower(message);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view marker : {"[skip ci]", "[ci skip]"}) {
    if (lower.find(marker) != std::string::npos) return std::string(marker);
  }
  return std::nullopt;
}

std::optional<std::string_view> job_event_of(PullRequestAction action) {
  switch (action) {
    case PullRequestAction::opened:
      return store::kJobEventPrOpened;
    case PullRequestAction::source_updated:
      return store::kJobEventPrSourceUpdated;
    case PullRequestAction::target_changed:
      return store::kJobEventPrTargetChanged;
    case PullRequestAction::merged:
      return store::kJobEventPrMerged;
    case PullRequestAction::declined:
      return store::kJobEventPrDeclined;
    case PullRequestAction::deleted:
      return store::kJobEventPrDeleted;
    case PullRequestAction::modified:
    case PullRequestAction::other:
      break;
  }
  return std::nullopt;
}

bool is_job_event(std::string_view name) {
  return std::find(kEvents.begin(), kEvents.end(), name) != kEvents.end();
}

JobMatch match_push(const std::vector<store::JobRecord>& jobs, const std::string& repository,
                    const PushEvent& push, const std::string& delivery_id, UnixMillis now,
                    const CommitMessageLookup& message_of) {
  JobMatch out;
  if (jobs.empty()) {
    out.not_run.push_back("no job for repository " + repository);
    return out;
  }
  SkipCheck skip(message_of);
  std::set<std::string> seen_refs;  // a ref listed twice in one push is one ref change
  for (const auto& change : push.changes) {
    if (!seen_refs.insert(change.ref_id).second) continue;
    const bool is_tag = change.ref_type == RefType::tag;
    const std::string kind = is_tag ? "tag " : "branch ";
    const std::string what = kind + change.display_id;
    if (change.type == RefChangeType::remove) {
      note(out.not_run, what + " was deleted");
      continue;
    }
    if (change.ref_type == RefType::other) {
      note(out.not_run, "ref " + change.ref_id + " is neither a branch nor a tag");
      continue;
    }
    const std::string_view event = is_tag ? store::kJobEventTag : store::kJobEventPush;
    std::vector<std::string> quiet;    // reasons shown only when nothing ran for this ref
    std::vector<std::string> skipped;  // jobs matched, but the head commit has a skip marker
    std::string skip_marker;
    bool unmatched = false;
    bool matched = false;  // some job's rules match this ref, whether it runs or not
    bool ran = false;
    for (const auto& job : jobs) {
      if (!selects(job, event)) {
        if (is_tag && selects(job, store::kJobEventPush)) {
          note(quiet, what + ": job " + job.name + " runs on branch pushes only");
        } else {
          note(quiet, what + ": event " + std::string(event) + " not selected by job " + job.name);
        }
        continue;
      }
      const Checked c =
          check(is_tag ? (job.tags.empty() ? std::string("**") : job.tags) : job.branches,
                change.display_id);
      if (c.result == RuleCheck::invalid) {
        note(out.not_run, "job " + job.name + " has invalid rules: " + c.detail);
        continue;
      }
      if (c.result == RuleCheck::excluded) {
        note(out.not_run, what + " excluded by rule " + c.detail + " of job " + job.name);
        continue;
      }
      if (c.result == RuleCheck::unmatched) {
        unmatched = true;
        continue;
      }
      matched = true;
      if (!job.enabled) {
        note(quiet, "job " + job.name + " is disabled");
        continue;
      }
      if (job.skip_marker) {
        if (auto marker = skip.marker(change.to_hash)) {
          skip_marker = *marker;
          skipped.push_back(job.name);
          continue;
        }
      }
      store::JobRunRecord run;
      run.job_id = job.id;
      run.job_name = job.name;
      run.delivery_id = delivery_id;
      run.ref_id = change.ref_id;
      run.event = std::string(event);
      run.branch = change.display_id;
      run.from_hash = change.from_hash;
      run.to_hash = change.to_hash;
      run.status = std::string(store::kRunQueued);
      run.created_at_ms = now;
      out.runs.push_back(std::move(run));
      ran = true;
    }
    if (!skipped.empty()) {
      note(out.not_run, skipped_by_marker(skip_marker, change.to_hash, what, skipped));
    }
    if (!ran) {
      if (unmatched && !matched) note(out.not_run, "no job matches " + what);
      for (auto& q : quiet) note(out.not_run, std::move(q));
    }
  }
  return out;
}

JobMatch match_pull_request(const std::vector<store::JobRecord>& jobs,
                            const std::string& repository, const PullRequestEvent& pr,
                            const std::string& delivery_id, UnixMillis now,
                            const CommitMessageLookup& message_of) {
  JobMatch out;
  const std::string pr_name = "pull request #" + std::to_string(pr.id);
  const auto event = job_event_of(pr.action);
  if (!event) {
    out.not_run.push_back(pr_name + " was modified without a target change (" +
                          std::string(to_string(pr.action)) + "): no job event");
    return out;
  }
  if (jobs.empty()) {
    out.not_run.push_back("no job for repository " + repository);
    return out;
  }
  SkipCheck skip(message_of);
  std::vector<std::string> quiet;
  std::vector<std::string> skipped;  // jobs matched, but the head commit has a skip marker
  std::string skip_marker;
  bool ran = false;
  std::string to_hash = pr.source_hash;
  std::string from_hash = pr.target_hash;
  if (pr.action == PullRequestAction::source_updated && !pr.previous_source_hash.empty()) {
    from_hash = pr.previous_source_hash;
  }
  if (pr.action == PullRequestAction::merged && !pr.merge_commit_hash.empty()) {
    to_hash = pr.merge_commit_hash;
  }
  for (const auto& job : jobs) {
    if (!selects(job, *event)) {
      note(quiet, "event " + std::string(*event) + " not selected by job " + job.name);
      continue;
    }
    const std::string target_spec =
        job.target_branches.empty() ? job.branches : job.target_branches;
    const Checked t = check(target_spec, pr.target_branch);
    if (t.result == RuleCheck::invalid) {
      note(out.not_run, "job " + job.name + " has invalid rules: " + t.detail);
      continue;
    }
    if (t.result == RuleCheck::excluded) {
      note(out.not_run, pr_name + ": target branch " + pr.target_branch + " excluded by rule " +
                            t.detail + " of job " + job.name);
      continue;
    }
    if (t.result == RuleCheck::unmatched) {
      note(quiet,
           pr_name + ": target branch " + pr.target_branch + " matches no rule of job " + job.name);
      continue;
    }
    if (!job.source_branches.empty()) {
      const Checked s = check(job.source_branches, pr.source_branch);
      if (s.result == RuleCheck::invalid) {
        note(out.not_run, "job " + job.name + " has invalid rules: " + s.detail);
        continue;
      }
      if (s.result == RuleCheck::excluded) {
        note(out.not_run, pr_name + ": source branch " + pr.source_branch + " excluded by rule " +
                              s.detail + " of job " + job.name);
        continue;
      }
      if (s.result == RuleCheck::unmatched) {
        note(quiet, pr_name + ": source branch " + pr.source_branch + " matches no rule of job " +
                        job.name);
        continue;
      }
    }
    if (!job.enabled) {
      note(quiet, "job " + job.name + " is disabled");
      continue;
    }
    if (job.skip_marker) {
      if (auto marker = skip.marker(to_hash)) {
        skip_marker = *marker;
        skipped.push_back(job.name);
        continue;
      }
    }
    store::JobRunRecord run;
    run.job_id = job.id;
    run.job_name = job.name;
    run.delivery_id = delivery_id;
    run.ref_id = "refs/pull-requests/" + std::to_string(pr.id) + "/from";
    run.event = std::string(*event);
    run.branch = pr.source_branch;
    run.from_hash = from_hash;
    run.to_hash = to_hash;
    run.pull_request_id = pr.id;
    run.pull_request_title = pr.title;
    run.source_branch = pr.source_branch;
    run.target_branch = pr.target_branch;
    run.status = std::string(store::kRunQueued);
    run.created_at_ms = now;
    out.runs.push_back(std::move(run));
    ran = true;
  }
  if (!skipped.empty())
    note(out.not_run, skipped_by_marker(skip_marker, to_hash, pr_name, skipped));
  if (!ran) {
    for (auto& q : quiet) note(out.not_run, std::move(q));
  }
  return out;
}

}  // namespace cb::pipeline
