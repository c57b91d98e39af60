#pragma once
// Plans the write-back of one commit linked to one story: which outbox entries each ALM
// connection of the org gets (DESIGN "Commits and stories").

#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/alm_records.hpp"
#include "store/records.hpp"

namespace cb::pipeline {

/// A smart-commit command of a commit message for one story (protocols.md 7.1), as the
/// smart-commit parser reports it.
struct AlmCommand {
  enum class Kind { comment, worklog, transition };
  Kind kind = Kind::comment;
  std::string text;  ///< comment: the comment; worklog: the worklog comment; transition: comment
  std::string time_spent;       ///< worklog: as written, e.g. "1h 30m"
  std::int64_t seconds = 0;     ///< worklog: the same in seconds
  std::string transition_name;  ///< transition: the name as written, e.g. "start-progress"
};

/// What is known of the commit being written back.
struct PlannedCommit {
  std::int64_t org_id = 0;
  const store::RepositoryRecord* repository = nullptr;
  std::string branch;
  std::string delivery_id;
  store::StoryCommit commit;
  std::vector<AlmCommand> commands;  ///< the commands for this story, in message order
  std::string commit_url;            ///< the commit's web page; "" when unknown
};

/// The outbox entries for `commit` on each enabled connection, at `now`:
/// - jira: remote_link (option add_remote_link), comment ordinal 0 describing the commit
///   (option add_comment), and, when run_commands is on and the commit was authored less than
///   max_commit_age_ms before `now`, one entry per command: comment / worklog / transition
///   with ordinal = its position (1-based) among the commands of that action;
/// - webhook: one webhook entry (ordinal 0) carrying the commit and its commands.
/// Nothing for a repository whose auto_update_alm is off.
///
/// payload_json is an object: {"repository": "PROJECT/slug", "provider", "branch", "commit",
/// "commit_url" (the web page of the commit, "" when unknown), "clone_url" (without user
/// information),
/// "author_name", "author_email", "authored_at" (ISO-8601 UTC), "authored_at_ms", "message",
/// "story_key", "global_id" (remote_link: see remote_link_global_id), "text" (comment, worklog,
/// transition), "time_spent" and "seconds" (worklog), "transition" (transition), "commands"
/// (webhook: [{"action", "text", "time_spent", "seconds", "transition"}])}.
[[nodiscard]] std::vector<store::NewOutboxEntry> plan_outbox(
    const PlannedCommit& commit, const std::vector<store::AlmConnectionRecord>& connections,
    UnixMillis now);

/// The Jira remote-link global id of a commit of a repository: stable, so that sending the link
/// again updates it instead of adding a second one.
/// connectors::remote_link_global_id of "<provider>:<PROJECT>/<slug>" and the hash:
/// "commitbridge:<provider>:<PROJECT>/<slug>:<commit hash>" (hashed when over 255 characters).
[[nodiscard]] std::string remote_link_global_id(const store::RepositoryRecord& repository,
                                                const std::string& commit_hash);

}  // namespace cb::pipeline
