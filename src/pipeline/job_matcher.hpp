#pragma once
// Build on commit, step 1: which jobs a push or pull-request event asks to run, and, for every
// job and ref change that runs nothing, why (event not selected, branch excluded by a rule,
// skip marker). Pure: no store, no I/O (commit messages come from a callback).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "store/records.hpp"

namespace cb::pipeline {

/// The message of the commit with this hash (40 hex), or nullopt when it cannot be found.
using CommitMessageLookup = std::function<std::optional<std::string>(const std::string& hash)>;

/// What matching produced: the runs to queue (status queued, attempt 0, not stored yet) and
/// one sentence per reason a job or ref change ran nothing, in event order.
struct JobMatch {
  std::vector<store::JobRunRecord> runs;
  std::vector<std::string> not_run;
};

/// The skip marker of `message` ("[skip ci]" or "[ci skip]", case-insensitive), or nullopt.
[[nodiscard]] std::optional<std::string> skip_marker_in(std::string_view message);

/// The job event name (store::kJobEvent*) of a pull-request action; nullopt for actions no job
/// can select (a pr:modified that changed only the title or description).
[[nodiscard]] std::optional<std::string_view> job_event_of(PullRequestAction action);

/// True when `name` is one of the store::kJobEvent* names.
[[nodiscard]] bool is_job_event(std::string_view name);

/// Matches a push's ref changes against `jobs` (all jobs of the repository, disabled included,
/// so the reasons can name them). A ref listed twice is one ref change. Branch ADD/UPDATE
/// selects jobs with event "push" whose `branches` rules match; tag ADD/UPDATE selects jobs
/// with event "tag" whose `tags` rules match (empty = every tag); deletions run nothing. A
/// job with skip_marker on runs nothing when the head commit's message (from `message_of`)
/// carries a skip marker; the reason then names the jobs it skipped. "no job matches <ref>" is
/// given only when no job's rules match the ref (not when matching jobs were disabled or
/// skipped).
[[nodiscard]] JobMatch match_push(const std::vector<store::JobRecord>& jobs,
                                  const std::string& repository, const PushEvent& push,
                                  const std::string& delivery_id, UnixMillis now,
                                  const CommitMessageLookup& message_of);

/// Matches a pull-request change. A job runs when it selects the action's event, its target
/// rules (`target_branches`, or `branches` when empty) match the target branch and its
/// `source_branches` (empty = any) match the source branch. The run's ref is
/// "refs/pull-requests/<id>/from", its branch the source branch; from/to hash are the previous
/// and new source hash (source_updated), otherwise target and source hash (merged: the merge
/// commit as to hash when known).
[[nodiscard]] JobMatch match_pull_request(const std::vector<store::JobRecord>& jobs,
                                          const std::string& repository, const PullRequestEvent& pr,
                                          const std::string& delivery_id, UnixMillis now,
                                          const CommitMessageLookup& message_of);

}  // namespace cb::pipeline
