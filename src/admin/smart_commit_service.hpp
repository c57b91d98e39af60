#pragma once
// Smart-commit patterns of an org, shared by the admin REST API and the CLI: add (validated by
// compiling the org's whole set), list, remove, and the pattern set an org's commits are read
// with. Writes the audit log.

#include <boost/json/object.hpp>
#include <string>

#include "admin/admin_service.hpp"
#include "smartcommit/pattern_set.hpp"

namespace cb::admin {

/// Most patterns an org may have.
inline constexpr std::size_t kMaxSmartCommitPatterns = 50;
/// Longest custom regex accepted, in bytes.
inline constexpr std::size_t kMaxPatternRegexBytes = 1000;
/// Most project keys in one allow-list.
inline constexpr std::size_t kMaxAllowedProjects = 200;

/// The spec of a stored pattern. Errors: internal when the stored kind is unknown (a newer
/// binary wrote it).
[[nodiscard]] Result<smartcommit::PatternSpec> pattern_spec(
    const store::SmartCommitPatternRecord& record);

/// Compiles an org's stored patterns (in id order) into a set; the `jira` built-in alone when
/// the org has none. Errors: those of the store; invalid_argument when a stored pattern no longer
/// compiles.
[[nodiscard]] Result<smartcommit::PatternSet> compile_patterns(
    const std::vector<store::SmartCommitPatternRecord>& records);

/// {"id", "kind", "regex" (custom only), "allowed_projects", "created_at" (ISO-8601 UTC),
/// "created_by"}: a pattern as the API and the CLI's --json show it.
[[nodiscard]] boost::json::object smart_commit_pattern_json(
    const store::SmartCommitPatternRecord& record);

/// Smart-commit pattern administration. Errors: invalid_argument naming the field, not_found
/// (org, pattern), conflict (too many patterns), store_unavailable.
class SmartCommitService {
 public:
  SmartCommitService(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  /// Adds a pattern to the org after checking that the org's patterns, this one included,
  /// compile (RE2's message when they do not; a custom regex needs a (?P<key>...) group).
  /// Errors: invalid_argument (the regex, the allow-list, over kMaxPatternRegexBytes or
  /// kMaxAllowedProjects), conflict (the org has kMaxSmartCommitPatterns), not_found (org).
  [[nodiscard]] Result<store::SmartCommitPatternRecord> add_pattern(
      const std::string& org, const smartcommit::PatternSpec& spec, const Actor& actor = {});
  /// One page of the org's patterns in the order they apply (ascending id).
  [[nodiscard]] Result<Page<store::SmartCommitPatternRecord>> list_patterns(
      const std::string& org, const PageRequest& page);
  /// Removes the org's pattern `pattern_id`. Errors: not_found (org or pattern).
  [[nodiscard]] Result<void> remove_pattern(const std::string& org, std::int64_t pattern_id,
                                            const Actor& actor = {});
  /// The org's compiled pattern set (the `jira` built-in when it has no pattern).
  [[nodiscard]] Result<smartcommit::PatternSet> pattern_set(const std::string& org);

 private:
  [[nodiscard]] Result<store::OrgRecord> org(const std::string& name);
  void audit(std::int64_t org_id, const Actor& actor, std::string action, std::string target,
             std::string detail);

  store::Store& store_;
  const Clock& clock_;
};

}  // namespace cb::admin
