#include "smartcommit/smart_commit.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "smartcommit/work_duration.hpp"

namespace cb::smartcommit {
namespace {

constexpr std::size_t kMaxCommandText = 200;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }
bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return is_ascii_letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '_' || u >= 0x80;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// A command as written: `#word argument`, [begin, end) in the message.
struct RawCommand {
  std::size_t begin;          ///< offset of '#'
  std::size_t end;            ///< end of its argument
  std::string_view word;      ///< without '#'
  std::string_view argument;  ///< trimmed
  std::size_t line;
};

/// Offsets where lines start, for 1-based line numbers.
class Lines {
 public:
  explicit Lines(std::string_view text) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  [[nodiscard]] std::size_t line_of(std::size_t offset) const {
    return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), offset) -
                                    starts_.begin());
  }

 private:
  std::vector<std::size_t> starts_;
};

/// True when a command starts at `i`: '#' at the start of a line or after whitespace, followed
/// by a letter (ASCII or any non-ASCII byte).
bool command_starts_at(std::string_view m, std::size_t i) {
  if (m[i] != '#' || i + 1 >= m.size()) return false;
  if (i > 0 && !is_space(m[i - 1])) return false;
  const char next = m[i + 1];
  return is_ascii_letter(next) || static_cast<unsigned char>(next) >= 0x80;
}

std::vector<RawCommand> find_commands(std::string_view m, const Lines& lines) {
  std::vector<RawCommand> out;
  std::size_t i = m.find('#');
  while (i != std::string_view::npos && i < m.size()) {
    if (!command_starts_at(m, i)) {
      i = m.find('#', i + 1);
      continue;
    }
    std::size_t w = i + 1;
    while (w < m.size() && is_word_byte(m[w])) ++w;
    // The argument runs to the next command on this line or the end of the line.
    std::size_t end = w;
    std::size_t next = std::string_view::npos;
    while (end < m.size() && m[end] != '\n') {
      if (m[end] == '#' && command_starts_at(m, end)) {
        next = end;
        break;
      }
      ++end;
    }
    out.push_back(RawCommand{i, end, m.substr(i + 1, w - i - 1), trim(m.substr(w, end - w)),
                             lines.line_of(i)});
    i = next != std::string_view::npos ? next : m.find('#', end);
  }
  return out;
}

std::string command_text(const RawCommand& c) {
  std::string text = "#" + std::string(c.word);
  if (!c.argument.empty()) text += " " + std::string(c.argument);
  if (text.size() > kMaxCommandText) text.resize(kMaxCommandText);
  return text;
}

bool is_revert(std::string_view message) { return message.starts_with("Revert \""); }

}  // namespace

std::string_view command_kind_name(CommandKind kind) {
  switch (kind) {
    case CommandKind::comment:
      return "comment";
    case CommandKind::time:
      return "time";
    case CommandKind::transition:
      return "transition";
  }
  return "comment";
}

Analysis analyze(std::string_view message, const PatternSet& patterns) {
  Analysis out;
  out.keys = patterns.extract(message);
  if (!patterns.takes_commands() || message.find('#') == std::string_view::npos) return out;

  const Lines lines(message);
  const std::vector<RawCommand> commands = find_commands(message, lines);
  if (commands.empty()) return out;

  // Key occurrences that can take commands, outside command arguments, in message order.
  struct Target {
    std::size_t offset;
    std::string key;
  };
  std::vector<Target> targets;
  for (auto& occurrence : patterns.occurrences(message)) {
    if (occurrence.kind != PatternKind::jira && occurrence.kind != PatternKind::custom) continue;
    const bool in_argument =
        std::any_of(commands.begin(), commands.end(), [&](const RawCommand& c) {
          return occurrence.offset >= c.begin && occurrence.offset < c.end;
        });
    if (!in_argument) targets.push_back(Target{occurrence.offset, std::move(occurrence.key)});
  }
  const bool any_target_kind = std::any_of(out.keys.begin(), out.keys.end(), [](const auto& k) {
    return k.kind == PatternKind::jira || k.kind == PatternKind::custom;
  });
  if (!any_target_kind) return out;  // no key could take a command: hashtags are just text

  std::vector<SmartCommand> found;
  std::vector<std::string> group;  // the keys the next command applies to
  std::size_t group_line = 0;
  std::size_t t = 0;
  std::set<std::tuple<std::string, std::string, std::string>> given;  // key, word, argument
  for (const RawCommand& c : commands) {
    for (; t < targets.size() && targets[t].offset < c.begin; ++t) {
      const std::size_t line = lines.line_of(targets[t].offset);
      if (line != group_line) {
        group.clear();
        group_line = line;
      }
      if (std::find(group.begin(), group.end(), targets[t].key) == group.end()) {
        group.push_back(targets[t].key);
      }
    }
    if (group.empty()) {
      out.errors.push_back(CommandError{c.line, command_text(c),
                                        "this command comes before any story key; write the "
                                        "key first, e.g. ABC-123 " +
                                            command_text(c)});
      continue;
    }
    SmartCommand cmd;
    cmd.command = std::string(c.word);
    cmd.argument = std::string(c.argument);
    cmd.line = c.line;
    const std::string word = ascii_lower(c.word);
    if (word == "comment") {
      if (c.argument.empty()) {
        out.errors.push_back(CommandError{c.line, command_text(c), "#comment needs a text"});
        continue;
      }
      cmd.kind = CommandKind::comment;
      cmd.comment = cmd.argument;
    } else if (word == "time") {
      auto duration = parse_work_duration(c.argument);
      if (!duration) {
        out.errors.push_back(CommandError{c.line, command_text(c), duration.error().message});
        continue;
      }
      cmd.kind = CommandKind::time;
      cmd.duration = std::move(duration->text);
      cmd.seconds = duration->seconds;
      cmd.comment = std::move(duration->comment);
    } else {
      cmd.kind = CommandKind::transition;
      cmd.transition = word;
      std::replace(cmd.transition.begin(), cmd.transition.end(), '-', ' ');
      cmd.comment = cmd.argument;
    }
    for (const auto& key : group) {
      if (!given.emplace(key, word, cmd.argument).second) continue;  // repeated (squash merge)
      SmartCommand for_key = cmd;
      for_key.key = key;
      found.push_back(std::move(for_key));
    }
  }

  if (is_revert(message) && !found.empty()) {
    out.errors.push_back(CommandError{
        1, "",
        "a revert runs no smart-commit commands (" + std::to_string(found.size()) +
            (found.size() == 1 ? " command" : " commands") + " not run); its keys are linked"});
    return out;
  }
  // Group by key in the order of out.keys, keeping the written order within a key.
  auto rank = [&](const std::string& key) {
    for (std::size_t i = 0; i < out.keys.size(); ++i) {
      if (out.keys[i].key == key) return i;
    }
    return out.keys.size();
  };
  std::stable_sort(found.begin(), found.end(), [&](const SmartCommand& a, const SmartCommand& b) {
    return rank(a.key) < rank(b.key);
  });
  out.commands = std::move(found);
  return out;
}

}  // namespace cb::smartcommit
