#pragma once
// Story-key pattern sets: the built-in kinds (Jira, Azure Boards, GitHub issues, Rally,
// VersionOne) and custom RE2 patterns, compiled once into an immutable object that extracts the
// story keys a commit message names. Reference formats: shared/reference/protocols.md section 7.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace cb::smartcommit {

/// The kind of a story-key pattern. Its word (pattern_kind_name) is the same in the API, the CLI
/// and the database.
enum class PatternKind {
  jira,          ///< `ABC-123`: Jira's default key format (protocols.md 7.1)
  azure_boards,  ///< `AB#123`; `Fixes AB#123` / `Closes AB#123` are closing (protocols.md 7.2)
  github_issue,  ///< `#123`; `fixes #12`, `closes #3`, `resolved: #4` are closing
  rally,         ///< Rally FormattedIDs `US123`, `DE45`, `TA6`, `TC7`, `F7`
  versionone,    ///< VersionOne / Digital.ai Agility `S-01234` (also `D-`, `TK-`; 5+ digits)
  custom,        ///< an RE2 pattern with a named group `key` (and optionally `project`)
};

/// "jira", "azure_boards", "github_issue", "rally", "versionone" or "custom".
[[nodiscard]] std::string_view pattern_kind_name(PatternKind kind);
/// The kind named by `name` (exact, lowercase); nullopt for an unknown word.
[[nodiscard]] std::optional<PatternKind> parse_pattern_kind(std::string_view name);

/// One pattern of a set, as configured.
struct PatternSpec {
  PatternKind kind = PatternKind::jira;
  /// RE2 source, for `custom` only (must be empty for the built-in kinds). UTF-8, RE2 syntax,
  /// case-sensitive unless it says `(?i)`; must contain `(?P<key>...)`.
  std::string regex;
  /// Project keys whose story keys count (exact, case-sensitive); empty = every project. The
  /// project of a key is: jira and versionone the text before the hyphen (`ABC` of `ABC-12`),
  /// azure_boards `AB`, rally the letters (`US` of `US123`), custom the `project` group when the
  /// pattern has one, else the key's text before its first hyphen (the whole key without one).
  /// github_issue keys have no project: an allow-list is refused for that kind.
  std::vector<std::string> allowed_projects;
};

/// A story key found in a message.
struct StoryKeyMatch {
  std::string key;  ///< e.g. "ABC-12", "AB#123", "#12", "US123", "S-01234"
  PatternKind kind = PatternKind::jira;
  std::size_t pattern_index = 0;  ///< index of the pattern in the set that found it first
  bool closing = false;           ///< preceded by a closing keyword (github_issue, azure_boards)
  std::size_t offset = 0;         ///< byte offset of the key's first appearance in the message
};

/// An immutable, compiled set of story-key patterns: one RE2 per pattern, and one RE2::Set over
/// the custom patterns (one linear pass tells which of them occur in a message). RE2 decides
/// every match and runs in time linear in the message size, so a user-supplied pattern cannot
/// cause catastrophic backtracking (ReDoS). The built-in kinds first narrow the message to where
/// their keys can be (a hyphen before a digit, `#` before a digit, a capital letter before a
/// digit), which keeps extraction fast; the result is the same as searching the whole message.
/// Copies share the compiled patterns; the set may be used from several threads at once.
///
/// Keys inside URLs (`scheme://...` up to the next whitespace) are ignored, because host names,
/// paths, query strings and fragments carry text that merely looks like a key (`/v/UTF-8/`,
/// `?ref=PLAT-2-rc`, `.../compare/ABC-1...ABC-2`). The one exception is a Jira issue link, a jira
/// key that is the path segment right after `/browse/` (`https://jira.example/browse/ABC-12`),
/// which names the issue explicitly and counts.
class PatternSet {
 public:
  /// Compiles `specs` in order (earlier patterns win when two find the same key). Errors
  /// (invalid_argument, naming the pattern by its 0-based index): an empty list; RE2 cannot
  /// compile a custom pattern (with RE2's error text); a custom pattern without a `key` group;
  /// a built-in kind given a regex; a custom kind without one; an allow-list on github_issue;
  /// an empty or non-printable project key in an allow-list; custom patterns that together
  /// exceed RE2's memory budget for a set.
  [[nodiscard]] static Result<PatternSet> compile(const std::vector<PatternSpec>& specs);

  /// The default set: the `jira` built-in alone, no allow-list. Compiled once per process.
  [[nodiscard]] static const PatternSet& jira_default();

  /// A set of every built-in kind (jira, azure_boards, github_issue, rally, versionone), in that
  /// order, no allow-lists. Compiled once per process.
  [[nodiscard]] static const PatternSet& all_builtins();

  /// The RE2 source a built-in kind compiles to (empty for `custom`).
  [[nodiscard]] static std::string_view builtin_regex(PatternKind kind);

  /// The story keys named in `message`, each once (by key text), in order of first appearance.
  /// Time linear in the message size; never fails (invalid UTF-8 is tolerated).
  [[nodiscard]] std::vector<StoryKeyMatch> extract(std::string_view message) const;

  /// Every occurrence of a key in `message`, repeated keys included, ordered by offset (keys of
  /// two patterns at the same offset: the earlier pattern first). Same rules as extract().
  [[nodiscard]] std::vector<StoryKeyMatch> occurrences(std::string_view message) const;

  /// The patterns, as given to compile().
  [[nodiscard]] const std::vector<PatternSpec>& specs() const noexcept;

  /// True when a pattern of kind jira or custom is in the set: the kinds that take Jira
  /// smart-commit commands.
  [[nodiscard]] bool takes_commands() const noexcept;

  struct Compiled;  ///< implementation detail (pattern_set.cpp)

 private:
  explicit PatternSet(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace cb::smartcommit
