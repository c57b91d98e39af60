// SqliteStore: smart-commit patterns per org (migration 0008).

#include <boost/json.hpp>

#include "store/sqlite/sqlite_store.hpp"

namespace cb::store::sqlite {
namespace {

namespace json = boost::json;

constexpr std::string_view kPatternColumns =
    "id, org_id, kind, regex, allowed_projects, created_at_ms, created_by";

std::string projects_to_json(const std::vector<std::string>& projects) {
  json::array a;
  for (const auto& p : projects) a.emplace_back(p);
  return json::serialize(a);
}

std::vector<std::string> projects_from_json(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

SmartCommitPatternRecord read_pattern(const Statement& s) {
  SmartCommitPatternRecord p;
  p.id = s.int64(0);
  p.org_id = s.int64(1);
  p.kind = s.text(2);
  p.regex = s.text(3);
  p.allowed_projects = projects_from_json(s.text(4));
  p.created_at_ms = s.int64(5);
  p.created_by = s.text(6);
  return p;
}

Result<std::vector<SmartCommitPatternRecord>> read_patterns(Statement& s) {
  std::vector<SmartCommitPatternRecord> out;
  while (true) {
    auto row = s.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return out;
    out.push_back(read_pattern(s));
  }
}

}  // namespace

Result<SmartCommitPatternRecord> SqliteStore::create_smart_commit_pattern(
    const SmartCommitPatternRecord& pattern) {
  std::lock_guard lock(main_mutex_);
  auto s = main_.prepare(
      "INSERT INTO smart_commit_patterns (org_id, kind, regex, allowed_projects, created_at_ms, "
      "created_by) VALUES (?,?,?,?,?,?)");
  if (!s) return std::unexpected(s.error());
  s->bind(1, pattern.org_id)
      .bind(2, pattern.kind)
      .bind(3, pattern.regex)
      .bind(4, projects_to_json(pattern.allowed_projects))
      .bind(5, pattern.created_at_ms)
      .bind(6, pattern.created_by);
  if (auto r = s->run(); !r) return std::unexpected(r.error());
  SmartCommitPatternRecord out = pattern;
  out.id = main_.last_insert_rowid();
  return out;
}

Result<std::vector<SmartCommitPatternRecord>> SqliteStore::list_smart_commit_patterns(
    std::int64_t org_id) {
  std::lock_guard lock(main_mutex_);
  auto s = main_.prepare("SELECT " + std::string(kPatternColumns) +
                         " FROM smart_commit_patterns WHERE org_id = ? ORDER BY id");
  if (!s) return std::unexpected(s.error());
  s->bind(1, org_id);
  return read_patterns(*s);
}

Result<std::vector<SmartCommitPatternRecord>> SqliteStore::list_smart_commit_patterns_page(
    std::int64_t org_id, const PageQuery& page) {
  std::lock_guard lock(main_mutex_);
  auto s = main_.prepare("SELECT " + std::string(kPatternColumns) +
                         " FROM smart_commit_patterns WHERE org_id = ? AND id > ? ORDER BY id "
                         "LIMIT ?");
  if (!s) return std::unexpected(s.error());
  s->bind(1, org_id).bind(2, page.after_id).bind(3, static_cast<std::int64_t>(page.limit));
  return read_patterns(*s);
}

Result<SmartCommitPatternRecord> SqliteStore::delete_smart_commit_pattern(std::int64_t org_id,
                                                                          std::int64_t pattern_id) {
  std::lock_guard lock(main_mutex_);
  auto s = main_.prepare(
      "DELETE FROM smart_commit_patterns WHERE org_id = ? AND id = ? "
      "RETURNING " +
      std::string(kPatternColumns));
  if (!s) return std::unexpected(s.error());
  s->bind(1, org_id).bind(2, pattern_id);
  auto rows = read_patterns(*s);
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) {
    return fail(ErrorCode::not_found,
                "no smart-commit pattern " + std::to_string(pattern_id) + " in this org");
  }
  return rows->front();
}

Result<SmartCommitPatternsVersion> SqliteStore::smart_commit_patterns_version(std::int64_t org_id) {
  std::lock_guard lock(main_mutex_);
  auto s = main_.prepare(
      "SELECT count(*), coalesce(max(id), 0) FROM smart_commit_patterns WHERE org_id = ?");
  if (!s) return std::unexpected(s.error());
  s->bind(1, org_id);
  auto row = s->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return SmartCommitPatternsVersion{};
  return SmartCommitPatternsVersion{s->int64(0), s->int64(1)};
}

}  // namespace cb::store::sqlite
