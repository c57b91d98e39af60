#pragma once
// The duration of a Jira smart-commit `#time` command: `<n>w <n>d <n>h <n>m`, each value a
// whole or decimal number (protocols.md 7.1, Atlassian "Processing issues with Smart Commits").

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace cb::smartcommit {

/// Seconds per unit under Jira's default time-tracking settings: 8 hours a day, 5 days a week.
inline constexpr std::int64_t kSecondsPerMinute = 60;
inline constexpr std::int64_t kSecondsPerHour = 3600;
inline constexpr std::int64_t kSecondsPerDay = 8 * kSecondsPerHour;
inline constexpr std::int64_t kSecondsPerWeek = 5 * kSecondsPerDay;

/// A parsed `#time` argument.
struct WorkDuration {
  std::string text;          ///< the duration as written, tokens joined by one space: "1w 2d 1.5h"
  std::int64_t seconds = 0;  ///< total seconds under the defaults above, rounded to the nearest
  std::string comment;       ///< the worklog comment after the duration (may be empty)
};

/// Parses the argument of `#time`: one or more duration tokens, then an optional comment.
/// A token is one or more `<number><unit>` parts (`2h`, `1h30m`); a number is 1-6 digits with an
/// optional `.` and 1-3 decimals; a unit is `w`, `d`, `h` or `m` (lowercase), each at most once
/// per command. The comment starts at the first token that is not a duration and does not begin
/// with a digit or `.`. Errors (invalid_argument, the message names the offending text): no
/// duration, a token that begins like a number but is not a duration (`1,5h`, `2x`, `1.5.h`,
/// `30`), a unit given twice, a zero total. Nothing is guessed.
[[nodiscard]] Result<WorkDuration> parse_work_duration(std::string_view argument);

}  // namespace cb::smartcommit
