#include "smartcommit/work_duration.hpp"

#include <array>

namespace cb::smartcommit {
namespace {

constexpr std::size_t kMaxWholeDigits = 6;
constexpr std::size_t kMaxDecimals = 3;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::int64_t unit_seconds(char unit) {
  switch (unit) {
    case 'w':
      return kSecondsPerWeek;
    case 'd':
      return kSecondsPerDay;
    case 'h':
      return kSecondsPerHour;
    default:
      return kSecondsPerMinute;
  }
}

std::size_t unit_index(char unit) {
  switch (unit) {
    case 'w':
      return 0;
    case 'd':
      return 1;
    case 'h':
      return 2;
    default:
      return 3;
  }
}

/// Parses one token such as "1.5h" or "1h30m" into `seconds`, marking units in `used`.
/// Returns false when the token is not a duration; `error` is set when it is malformed in a way
/// that must be reported even though it looks like one (a repeated unit).
bool parse_token(std::string_view token, std::int64_t& seconds, std::array<bool, 4>& used,
                 std::string& error) {
  std::size_t i = 0;
  std::int64_t total = 0;
  std::array<bool, 4> local = used;
  while (i < token.size()) {
    std::int64_t mantissa = 0;
    std::int64_t scale = 1;
    std::size_t whole = 0;
    while (i < token.size() && is_digit(token[i])) {
      if (++whole > kMaxWholeDigits) return false;
      mantissa = mantissa * 10 + (token[i] - '0');
      ++i;
    }
    if (whole == 0) return false;
    if (i < token.size() && token[i] == '.') {
      ++i;
      std::size_t decimals = 0;
      while (i < token.size() && is_digit(token[i])) {
        if (++decimals > kMaxDecimals) return false;
        mantissa = mantissa * 10 + (token[i] - '0');
        scale *= 10;
        ++i;
      }
      if (decimals == 0) return false;
    }
    if (i >= token.size()) return false;
    const char unit = token[i++];
    if (unit != 'w' && unit != 'd' && unit != 'h' && unit != 'm') return false;
    if (local[unit_index(unit)]) {
      error = std::string("the unit '") + unit + "' is given twice";
      return false;
    }
    local[unit_index(unit)] = true;
    total += (mantissa * unit_seconds(unit) + scale / 2) / scale;
  }
  used = local;
  seconds += total;
  return true;
}

}  // namespace

Result<WorkDuration> parse_work_duration(std::string_view argument) {
  WorkDuration out;
  std::array<bool, 4> used{};
  bool any = false;
  std::size_t i = 0;
  while (true) {
    while (i < argument.size() && is_space(argument[i])) ++i;
    if (i >= argument.size()) break;
    std::size_t end = i;
    while (end < argument.size() && !is_space(argument[end])) ++end;
    const std::string_view token = argument.substr(i, end - i);
    std::string error;
    if (parse_token(token, out.seconds, used, error)) {
      if (!out.text.empty()) out.text += ' ';
      out.text += token;
      any = true;
      i = end;
      continue;
    }
    if (!error.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "malformed duration '" + std::string(token) + "': " + error);
    }
    if (is_digit(token.front()) || token.front() == '.') {
      return fail(ErrorCode::invalid_argument,
                  "malformed duration '" + std::string(token.substr(0, 40)) +
                      "': write <n>w <n>d <n>h <n>m, e.g. 1w 2d 1.5h 30m");
    }
    out.comment = std::string(argument.substr(i));
    break;
  }
  if (!any) {
    return fail(ErrorCode::invalid_argument,
                "#time needs a duration such as 2h, 1d 4h or 1.5h before any comment");
  }
  while (!out.comment.empty() && is_space(out.comment.back())) out.comment.pop_back();
  if (out.seconds == 0) {
    return fail(ErrorCode::invalid_argument, "duration '" + out.text + "' is zero");
  }
  return out;
}

}  // namespace cb::smartcommit
