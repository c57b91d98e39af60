#include "admin/smart_commit_service.hpp"

#include "admin/page_cursor.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>

#include "smartcommit/pattern_spec_json.hpp"

namespace cb::admin {
namespace {}  // namespace

Result<smartcommit::PatternSpec> pattern_spec(const store::SmartCommitPatternRecord& record) {
  const auto kind = smartcommit::parse_pattern_kind(record.kind);
  if (!kind) {
    return fail(ErrorCode::internal, "stored smart-commit pattern " + std::to_string(record.id) +
                                         " has an unknown kind '" + record.kind + "'");
  }
  return smartcommit::PatternSpec{*kind, record.regex, record.allowed_projects};
}

Result<smartcommit::PatternSet> compile_patterns(
    const std::vector<store::SmartCommitPatternRecord>& records) {
  if (records.empty()) return smartcommit::PatternSet::jira_default();
  std::vector<smartcommit::PatternSpec> specs;
  for (const auto& r : records) {
    auto spec = pattern_spec(r);
    if (!spec) return std::unexpected(spec.error());
    specs.push_back(std::move(*spec));
  }
  return smartcommit::PatternSet::compile(specs);
}

boost::json::object smart_commit_pattern_json(const store::SmartCommitPatternRecord& record) {
  boost::json::object o{{"id", record.id}, {"kind", record.kind}};
  if (record.kind == "custom") o["regex"] = record.regex;
  boost::json::array allowed;
  for (const auto& p : record.allowed_projects) allowed.emplace_back(p);
  o["allowed_projects"] = std::move(allowed);
  o["created_at"] = format_utc(record.created_at_ms);
  o["created_by"] = record.created_by;
  return o;
}

Result<store::OrgRecord> SmartCommitService::org(const std::string& name) {
  auto org = store_.find_org(name);
  if (!org) return std::unexpected(org.error());
  if (!*org) return fail(ErrorCode::not_found, "no org named '" + name.substr(0, 100) + "'");
  return **org;
}

void SmartCommitService::audit(std::int64_t org_id, const Actor& actor, std::string action,
                               std::string target, std::string detail) {
  store::AuditEvent e;
  e.org_id = org_id;
  e.actor = actor.name.empty() ? "unknown" : actor.name;
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote_address = actor.remote_address;
  e.created_at_ms = clock_.now_ms();
  if (auto r = store_.append_audit(e); !r) {
    spdlog::error("audit event {} {} not written: {}", e.action, e.target, r.error().detail);
  }
}

Result<store::SmartCommitPatternRecord> SmartCommitService::add_pattern(
    const std::string& org_name, const smartcommit::PatternSpec& spec, const Actor& actor) {
  if (spec.regex.size() > kMaxPatternRegexBytes) {
    return fail(ErrorCode::invalid_argument,
                "regex: longer than " + std::to_string(kMaxPatternRegexBytes) + " bytes");
  }
  if (spec.allowed_projects.size() > kMaxAllowedProjects) {
    return fail(
        ErrorCode::invalid_argument,
        "allowed_projects: more than " + std::to_string(kMaxAllowedProjects) + " project keys");
  }
  auto o = org(org_name);
  if (!o) return std::unexpected(o.error());
  auto existing = store_.list_smart_commit_patterns(o->id);
  if (!existing) return std::unexpected(existing.error());
  if (existing->size() >= kMaxSmartCommitPatterns) {
    return fail(ErrorCode::conflict, "the org has " + std::to_string(kMaxSmartCommitPatterns) +
                                         " smart-commit patterns, the most it may have");
  }
  // The pattern alone first (its error names it as pattern 0), then the org's whole set.
  if (auto alone = smartcommit::PatternSet::compile({spec}); !alone) {
    Error e = alone.error();
    const std::string prefix =
        "pattern 0 (" + std::string(smartcommit::pattern_kind_name(spec.kind)) + "): ";
    if (e.message.starts_with(prefix)) e.message = e.message.substr(prefix.size());
    return std::unexpected(std::move(e));
  }
  store::SmartCommitPatternRecord record;
  record.org_id = o->id;
  record.kind = std::string(smartcommit::pattern_kind_name(spec.kind));
  record.regex = spec.regex;
  record.allowed_projects = spec.allowed_projects;
  record.created_at_ms = clock_.now_ms();
  record.created_by = actor.name;
  auto all = *existing;
  all.push_back(record);
  if (auto set = compile_patterns(all); !set) return std::unexpected(set.error());
  auto created = store_.create_smart_commit_pattern(record);
  if (!created) return created;
  audit(o->id, actor, "smart_commit_pattern.add", std::to_string(created->id),
        boost::json::serialize(smartcommit::pattern_spec_json(spec)));
  return created;
}

Result<Page<store::SmartCommitPatternRecord>> SmartCommitService::list_patterns(
    const std::string& org_name, const PageRequest& page) {
  if (page.limit < 1 || page.limit > 200) {
    return fail(ErrorCode::invalid_argument, "limit: must be from 1 to 200");
  }
  auto after = decode_cursor(page.cursor);
  if (!after) return std::unexpected(after.error());
  auto o = org(org_name);
  if (!o) return std::unexpected(o.error());
  auto rows =
      store_.list_smart_commit_patterns_page(o->id, store::PageQuery{*after, page.limit + 1});
  if (!rows) return std::unexpected(rows.error());
  Page<store::SmartCommitPatternRecord> out;
  if (rows->size() > page.limit) {
    rows->resize(page.limit);
    out.next_cursor = std::to_string(rows->back().id);
  }
  out.items = std::move(*rows);
  return out;
}

Result<void> SmartCommitService::remove_pattern(const std::string& org_name,
                                                std::int64_t pattern_id, const Actor& actor) {
  auto o = org(org_name);
  if (!o) return std::unexpected(o.error());
  auto removed = store_.delete_smart_commit_pattern(o->id, pattern_id);
  if (!removed) return std::unexpected(removed.error());
  audit(o->id, actor, "smart_commit_pattern.remove", std::to_string(pattern_id),
        boost::json::serialize(boost::json::object{{"kind", removed->kind}}));
  return {};
}

Result<smartcommit::PatternSet> SmartCommitService::pattern_set(const std::string& org_name) {
  auto o = org(org_name);
  if (!o) return std::unexpected(o.error());
  auto records = store_.list_smart_commit_patterns(o->id);
  if (!records) return std::unexpected(records.error());
  return compile_patterns(*records);
}

}  // namespace cb::admin
