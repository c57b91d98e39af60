#include "pipeline/org_pattern_cache.hpp"

namespace cb::pipeline {

Result<smartcommit::PatternSet> OrgPatternCache::get(std::int64_t org_id) {
  auto version = store_.smart_commit_patterns_version(org_id);
  if (!version) return std::unexpected(version.error());
  // The project keys of the org's Jira connections: the default allow-list of `jira` patterns
  // that name none (empty until a connection's first refresh: then every project counts).
  auto listed = store_.jira_project_keys(org_id);
  if (!listed) return std::unexpected(listed.error());
  std::vector<std::string> jira_keys = listed->value_or(std::vector<std::string>{});
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(org_id); it != entries_.end() && it->second.version == *version &&
                                         it->second.jira_keys == jira_keys) {
      return it->second.set;
    }
  }
  // Compile outside the lock: other orgs' lookups do not wait for it.
  auto records = store_.list_smart_commit_patterns(org_id);
  if (!records) return std::unexpected(records.error());
  std::vector<smartcommit::PatternSpec> specs;
  for (const auto& r : *records) {
    const auto kind = smartcommit::parse_pattern_kind(r.kind);
    if (!kind) {
      return fail(ErrorCode::internal, "stored smart-commit pattern " + std::to_string(r.id) +
                                           " has an unknown kind '" + r.kind + "'");
    }
    specs.push_back(smartcommit::PatternSpec{*kind, r.regex, r.allowed_projects});
  }
  if (specs.empty() && !jira_keys.empty()) {
    specs.push_back(smartcommit::PatternSpec{smartcommit::PatternKind::jira, "", {}});
  }
  for (auto& spec : specs) {
    if (spec.kind == smartcommit::PatternKind::jira && spec.allowed_projects.empty()) {
      spec.allowed_projects = jira_keys;
    }
  }
  auto set = specs.empty()
                 ? Result<smartcommit::PatternSet>(smartcommit::PatternSet::jira_default())
                 : smartcommit::PatternSet::compile(specs);
  if (!set) return set;
  std::lock_guard lock(mutex_);
  entries_.insert_or_assign(org_id, Entry{*version, std::move(jira_keys), *set});
  return set;
}

}  // namespace cb::pipeline
