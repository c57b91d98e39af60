#pragma once
// The smart-commit commands of a commit message as the ALM outbox plans them: the adapter from
// smartcommit::analyze (protocols.md 7.1) to pipeline::AlmCommand.

#include <string>
#include <vector>

#include "pipeline/alm_writeback.hpp"
#include "pipeline/org_pattern_cache.hpp"
#include "smartcommit/smart_commit.hpp"

namespace cb::pipeline {

/// The commands of `analysis` for `story_key`, in the order written: #comment → comment (its
/// text), #time → worklog (duration as written, seconds, worklog comment), any other word →
/// transition (the command word as written, e.g. "start-progress", and its comment).
[[nodiscard]] std::vector<AlmCommand> commands_for(const smartcommit::Analysis& analysis,
                                                   const std::string& story_key);

/// A CommandSource analysing each message with the org's smart-commit patterns from `patterns`
/// (which must outlive it): the same keys and commands commit sync sees.
[[nodiscard]] CommandSource smart_commit_commands(OrgPatternCache& patterns);

}  // namespace cb::pipeline
