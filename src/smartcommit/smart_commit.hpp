#pragma once
// Analysis of a commit message: the story keys it names and the Jira smart-commit commands
// (`#comment`, `#time`, `#<transition>`) it gives them. Grammar: protocols.md 7.1 (Atlassian,
// "Processing issues with Smart Commits" and Bitbucket DC "Use Smart Commits").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smartcommit/pattern_set.hpp"

namespace cb::smartcommit {

/// The three kinds of smart-commit command.
enum class CommandKind { comment, time, transition };

/// "comment", "time" or "transition".
[[nodiscard]] std::string_view command_kind_name(CommandKind kind);

/// One smart-commit command for one story key.
struct SmartCommand {
  std::string key;  ///< the story key it applies to
  CommandKind kind = CommandKind::comment;
  std::string command;   ///< the command word as written, without `#`: "comment", "Start-Progress"
  std::string argument;  ///< the text after the command word up to the next command or the end
                         ///< of the line, trimmed
  std::string comment;   ///< comment: the text; time: the worklog comment; transition: the
                         ///< comment added with the transition (each may be empty but comment's)
  std::string duration;  ///< time: the duration as written, e.g. "1w 2d 1.5h"
  std::int64_t seconds = 0;  ///< time: the duration in seconds (8 h a day, 5 days a week)
  std::string transition;    ///< transition: the name, hyphens as spaces, ASCII lowercased
                             ///< ("start progress"); Jira matches it case-insensitively
  std::size_t line = 0;      ///< 1-based line of the message
};

/// A command that could not be used, or commands deliberately not run.
struct CommandError {
  std::size_t line = 0;  ///< 1-based line of the message
  std::string command;   ///< the command as written (at most 200 bytes), empty for the message
  std::string message;   ///< what is wrong, e.g. "malformed duration '2x': ..."
};

/// What a commit message says.
struct Analysis {
  std::vector<StoryKeyMatch> keys;     ///< each key once, in order of first appearance
  std::vector<SmartCommand> commands;  ///< grouped by key in the order of `keys`, then in the
                                       ///< order written
  std::vector<CommandError> errors;    ///< in the order written
};

/// Analyzes a commit message with a pattern set. Pure: same input, same output; never fails.
///
/// Rules (protocols.md 7.1, and the choices documented here):
/// - Keys: PatternSet::extract (deduplicated, URLs excluded but for Jira `/browse/KEY` links).
/// - A command is `#word` at the start of a line or after whitespace, the word starting with a
///   letter (`#123`, `AB#1`, `x#y`, `# heading` and URL fragments are not commands); its argument
///   runs to the next command on the same line or the end of the line (a command never spans
///   lines). Words are case-insensitive: `comment`, `time`, anything else is a transition.
/// - Commands apply to the keys of kind jira or custom written before them on the closest line
///   that names such keys outside a command argument: `ABC-1 ABC-2 #comment x` gives the
///   comment to both; a later line with only commands continues with the same keys; a key inside
///   an argument (`#comment see ABC-9`) is a link, not a new target.
/// - Errors, reported per command and not guessed: `#comment` without text, a malformed or zero
///   `#time` duration (see parse_work_duration), a command before any key (only when the message
///   names a key that could take it).
/// - The same command (key, word, argument) given twice in one message is kept once: a squash
///   merge that repeats its commits' messages does not log time or transition twice.
/// - A revert (`Revert "…"` as first line) links its keys but runs no command: undoing a commit
///   must not log its time or fire its transition again; one error says how many were skipped.
[[nodiscard]] Analysis analyze(std::string_view message, const PatternSet& patterns);

}  // namespace cb::smartcommit
