#pragma once
// A job's branch filter: comma-separated globs over short branch names, with `!` exclusions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace cb {

/// A job's branch filter, built once from its spec and immutable afterwards.
///
/// Spec: a comma-separated list of globs, e.g. `main, release/*, !release/old-*`. Whitespace
/// around each item is trimmed. An item starting with `!` is an exclusion; the rest are
/// inclusions. Globs apply to the short branch name (`release/2.1`, not `refs/heads/release/2.1`):
///
/// - `*` matches any run of characters (possibly empty) that contains no `/`;
/// - `**` matches any run of characters including `/`; when it forms a whole segment followed by
///   `/` (`**/x`, `a/**/x`) it matches zero or more whole segments, so `**/hotfix` matches both
///   `hotfix` and `a/b/hotfix`; three or more `*` in a row count as `**`;
/// - `?` matches exactly one character (one UTF-8 code point) other than `/`;
/// - everything else is literal: bytes compared exactly, case-sensitive, no escapes.
///
/// A branch matches when it matches at least one inclusion and no exclusion; a spec with only
/// exclusions means "every branch except". The empty string is never a branch and matches
/// nothing. Matching costs O(glob length × branch length) with no recursion, whatever the
/// input. Thread-safe for concurrent const use.
class BranchRules {
 public:
  /// Parses a spec as described on the class.
  /// Errors: invalid_argument when the spec is empty, when an item is empty (the message names
  /// its 1-based position and byte offset), or when an item is a bare `!`.
  [[nodiscard]] static Result<BranchRules> parse(std::string_view spec);

  /// True when `branch` (short name, e.g. "release/2.1") matches at least one inclusion (or the
  /// spec has none) and no exclusion. False for an empty `branch`.
  [[nodiscard]] bool matches(std::string_view branch) const;

  /// The normalized spec: items trimmed and joined by "," in their original order, exclusions
  /// written `!glob`, e.g. "main,release/*,!release/old-*". parse(spec()) yields equal rules.
  [[nodiscard]] std::string spec() const;

  /// The first exclusion (as written in spec(), with its leading `!`) that matches `branch`, or
  /// nullopt when none does. Meant for "why nothing ran" messages; it does not say whether an
  /// inclusion matched too.
  [[nodiscard]] std::optional<std::string> excluding_rule(std::string_view branch) const;

 private:
  /// One element of a compiled glob.
  struct Token {
    enum class Kind : std::uint8_t {
      literal,   ///< `text`, compared bytewise
      one,       ///< `?`
      star,      ///< `*`
      any,       ///< `**`
      segments,  ///< `**/` at the start of a segment: zero or more whole segments
    };
    Kind kind = Kind::literal;
    std::string text;
  };

  /// One item of the spec.
  struct Rule {
    std::string glob;  ///< as written, without the `!`
    bool exclude = false;
    std::vector<Token> tokens;
  };

  explicit BranchRules(std::vector<Rule> rules);

  [[nodiscard]] static std::vector<Token> compile(std::string_view glob);
  [[nodiscard]] static bool glob_matches(const std::vector<Token>& tokens, std::string_view name);

  std::vector<Rule> rules_;
  bool has_inclusion_ = false;
};

}  // namespace cb
