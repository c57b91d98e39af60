#include "pipeline/smart_commands.hpp"

namespace cb::pipeline {

std::vector<AlmCommand> commands_for(const smartcommit::Analysis& analysis,
                                     const std::string& story_key) {
  std::vector<AlmCommand> out;
  for (const auto& c : analysis.commands) {
    if (c.key != story_key) continue;
    AlmCommand a;
    a.text = c.comment;
    switch (c.kind) {
      case smartcommit::CommandKind::comment:
        a.kind = AlmCommand::Kind::comment;
        break;
      case smartcommit::CommandKind::time:
        a.kind = AlmCommand::Kind::worklog;
        a.time_spent = c.duration;
        a.seconds = c.seconds;
        break;
      case smartcommit::CommandKind::transition:
        a.kind = AlmCommand::Kind::transition;
        a.transition_name = c.command;
        break;
    }
    out.push_back(std::move(a));
  }
  return out;
}

CommandSource smart_commit_commands(OrgPatternCache& patterns) {
  return [&patterns](std::int64_t org_id, const std::string& message,
                     const std::string& story_key) -> Result<std::vector<AlmCommand>> {
    auto set = patterns.get(org_id);
    if (!set) return std::unexpected(set.error());
    return commands_for(smartcommit::analyze(message, *set), story_key);
  };
}

}  // namespace cb::pipeline
