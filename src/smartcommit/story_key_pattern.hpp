#pragma once
// Story-key extraction from commit messages with RE2 (linear time: user-supplied patterns cannot
// cause ReDoS).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace re2 {
class RE2;
}

namespace cb::smartcommit {

/// A compiled pattern that finds story keys (e.g. Jira `ABC-123`) in commit messages.
///
/// Immutable once built; copies share the compiled RE2 and may be used from several threads at
/// once.
class StoryKeyPattern {
 public:
  /// The RE2 source of jira_default(): Jira's default key format (protocols.md 7.1), a capital
  /// letter, one or more capitals, digits or underscores, a hyphen and a number without leading
  /// zero, delimited by ASCII word boundaries.
  static constexpr std::string_view kJiraDefaultPattern =
      R"(\b(?P<key>[A-Z][A-Z0-9_]+-[1-9][0-9]*)\b)";

  /// Jira's default issue-key format, e.g. `ABC-123`, `JRA-9`, `A1_B-42`.
  ///
  /// Matches: keys delimited by anything that is not an ASCII letter, digit or underscore
  /// (spaces, punctuation as in `(ABC-1)`, `ABC-2:`, `ABC-3.`, URL paths such as
  /// `https://jira.example/browse/ABC-4`, non-ASCII letters). Does not match: lowercase `abc-5`,
  /// `ABC-0` or `ABC-012` (number with leading zero), one-letter projects `A-1`, keys glued to a
  /// word (`xABC-12`, `ABC-12x`). Words that merely look like keys, such as `UTF-8` or `SHA-256`,
  /// DO match: restricting keys to the projects that exist is the job of a project allow-list,
  /// not of this pattern.
  /// Errors: `internal` only if RE2 rejects the built-in pattern (a bug).
  [[nodiscard]] static Result<StoryKeyPattern> jira_default();

  /// Compiles a custom RE2 pattern (RE2 syntax, UTF-8, case-sensitive unless the pattern says
  /// `(?i)`). The pattern must contain a named group `key`, e.g. `(?P<key>US[0-9]+)`; the text
  /// that group captures is the story key. An empty capture is ignored.
  /// Errors: `invalid_argument` when RE2 cannot compile the pattern (the message carries RE2's
  /// error text) or when it has no group named `key`.
  [[nodiscard]] static Result<StoryKeyPattern> compile(std::string_view re2_pattern);

  /// The story keys named in `message`, each once, in order of first appearance. Runs in time
  /// linear in the message size; never fails (invalid UTF-8 is tolerated).
  [[nodiscard]] std::vector<std::string> extract_keys(std::string_view message) const;

  /// The RE2 source this pattern was compiled from.
  [[nodiscard]] const std::string& pattern() const noexcept { return pattern_; }

 private:
  StoryKeyPattern(std::shared_ptr<const re2::RE2> re, int key_group, std::string pattern);

  std::shared_ptr<const re2::RE2> re_;
  int key_group_ = 0;          ///< capturing-group index of `key`
  bool key_is_match_ = false;  ///< `key` always spans the whole match (jira_default)
  std::string pattern_;
};

}  // namespace cb::smartcommit
