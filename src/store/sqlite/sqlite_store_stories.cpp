// SqliteStore: story links, their sightings (repository × branch, with reachability) and the
// story and commit views.

#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/store_helpers.hpp"

namespace cb::store::sqlite {
namespace {

/// Columns of a story link row, read by read_story_links().
constexpr std::string_view kStoryLinkColumns =
    "l.id, l.story_key, l.commit_hash, l.author_name, l.author_email, l.message, "
    "l.authored_at_ms, l.created_at_ms, o.name";
constexpr std::string_view kStoryLinkFrom = " FROM story_links l JOIN orgs o ON o.id = l.org_id ";

}  // namespace

Result<std::vector<StoryLinkRecord>> SqliteStore::read_story_links(Statement& s) {
  CB_TRY_ASSIGN(sight,
                main_.prepare("SELECT r.project_key || '/' || r.slug, s.branch, s.delivery_id, "
                              "s.seen_at_ms, s.reachable, s.removed_at_ms, "
                              "COALESCE(s.removed_delivery_id, ''), r.id, r.provider, "
                              "r.project_key, r.slug, r.clone_url FROM story_link_sightings s "
                              "JOIN repositories r ON r.id = s.repository_id WHERE "
                              "s.story_link_id = ? ORDER BY s.seen_at_ms, r.id, s.branch"));
  std::vector<StoryLinkRecord> out;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    StoryLinkRecord l;
    l.id = s.int64(0);
    l.commit = StoryCommit{s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.int64(6)};
    l.created_at_ms = s.int64(7);
    l.org_name = s.text(8);
    sight.reset();
    sight.bind(1, l.id);
    while (true) {
      CB_TRY_ASSIGN(srow, sight.step());
      if (!srow) break;
      StorySighting v;
      v.repository = sight.text(0);
      v.branch = sight.text(1);
      v.delivery_id = sight.text(2);
      v.seen_at_ms = sight.int64(3);
      v.reachable = sight.int64(4) != 0;
      v.removed_at_ms = sight.optional_int64(5);
      v.removed_delivery_id = sight.text(6);
      v.repository_id = sight.int64(7);
      v.provider = sight.text(8);
      v.project_key = sight.text(9);
      v.slug = sight.text(10);
      v.clone_url = sight.text(11);
      l.sightings.push_back(std::move(v));
    }
    out.push_back(std::move(l));
  }
  return out;
}

Result<bool> SqliteStore::link_story(std::int64_t org_id, std::int64_t repository_id,
                                     const StoryCommit& c, const std::string& branch,
                                     const std::string& delivery_id, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return transaction<bool>(main_, [&]() -> Result<bool> {
    CB_TRY_ASSIGN(ins, main_.prepare("INSERT INTO story_links (org_id, story_key, commit_hash, "
                                     "author_name, author_email, message, authored_at_ms, "
                                     "created_at_ms) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT "
                                     "(org_id, story_key, commit_hash) DO NOTHING"));
    ins.bind(1, org_id)
        .bind(2, c.story_key)
        .bind(3, c.commit_hash)
        .bind(4, c.author_name)
        .bind(5, c.author_email)
        .bind(6, c.message)
        .bind(7, c.authored_at_ms)
        .bind(8, now);
    CB_TRY(ins.run());
    const bool created = main_.changes() == 1;
    // A sighting seen before keeps its first delivery and time; one that a force push had taken
    // away is reachable again.
    CB_TRY_ASSIGN(
        sight, main_.prepare("INSERT INTO story_link_sightings (story_link_id, repository_id, "
                             "branch, delivery_id, seen_at_ms) SELECT id, ?, ?, ?, ? FROM "
                             "story_links WHERE org_id = ? AND story_key = ? AND commit_hash = ? "
                             "ON CONFLICT (story_link_id, repository_id, branch) DO UPDATE SET "
                             "reachable = 1, removed_at_ms = NULL, removed_delivery_id = NULL "
                             "WHERE reachable = 0"));
    sight.bind(1, repository_id)
        .bind(2, branch)
        .bind(3, delivery_id)
        .bind(4, now)
        .bind(5, org_id)
        .bind(6, c.story_key)
        .bind(7, c.commit_hash);
    CB_TRY(sight.run());
    return created;
  });
}

Result<std::vector<StoryLinkRecord>> SqliteStore::story_links(std::optional<std::int64_t> org_id,
                                                              const std::string& story_key) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(
      s, main_.prepare("SELECT " + std::string(kStoryLinkColumns) + std::string(kStoryLinkFrom) +
                       "WHERE (?1 IS NULL OR l.org_id = ?1) AND l.story_key = ?2 "
                       "ORDER BY l.authored_at_ms DESC, l.id DESC"));
  s.bind(1, org_id).bind(2, story_key);
  return read_story_links(s);
}

Result<std::vector<StoryLinkRecord>> SqliteStore::story_links_page(const StoryLinkQuery& q) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(
      s, main_.prepare("SELECT " + std::string(kStoryLinkColumns) + std::string(kStoryLinkFrom) +
                       "WHERE (?1 IS NULL OR l.org_id = ?1) AND l.story_key = ?2 AND "
                       "(?3 IS NULL OR l.authored_at_ms < ?3 OR (l.authored_at_ms = ?3 "
                       "AND l.id < ?4)) ORDER BY l.authored_at_ms DESC, l.id DESC "
                       "LIMIT ?5"));
  s.bind(1, q.org_id).bind(2, q.story_key);
  if (q.before_authored_at_ms && q.before_id) {
    s.bind(3, *q.before_authored_at_ms).bind(4, *q.before_id);
  } else {
    s.bind_null(3).bind_null(4);
  }
  s.bind(5, static_cast<std::int64_t>(q.limit));
  return read_story_links(s);
}

Result<std::vector<StoryLinkRecord>> SqliteStore::commit_story_links(
    std::int64_t org_id, const std::string& commit_hash, const std::string& after_story_key,
    std::size_t limit) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(
      s, main_.prepare("SELECT " + std::string(kStoryLinkColumns) + std::string(kStoryLinkFrom) +
                       "WHERE l.org_id = ? AND l.commit_hash = ? AND l.story_key > ? "
                       "ORDER BY l.story_key LIMIT ?"));
  s.bind(1, org_id).bind(2, commit_hash).bind(3, after_story_key);
  s.bind(4, static_cast<std::int64_t>(limit));
  return read_story_links(s);
}

Result<std::vector<std::string>> SqliteStore::find_linked_commits(std::int64_t org_id,
                                                                  const std::string& hash_prefix,
                                                                  std::size_t limit) {
  std::lock_guard lock(main_mutex_);
  // A range on the (org_id, commit_hash) index: every hash that starts with the prefix sorts at
  // or after it and before the prefix followed by a character above every hex digit.
  CB_TRY_ASSIGN(s, main_.prepare("SELECT DISTINCT commit_hash FROM story_links WHERE org_id = ? "
                                 "AND commit_hash >= ? AND commit_hash < ? ORDER BY commit_hash "
                                 "LIMIT ?"));
  s.bind(1, org_id).bind(2, hash_prefix).bind(3, hash_prefix + "~");
  s.bind(4, static_cast<std::int64_t>(limit));
  std::vector<std::string> out;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    out.push_back(s.text(0));
  }
  return out;
}

Result<std::vector<StorySummary>> SqliteStore::list_stories(std::int64_t org_id,
                                                            const std::string& after_story_key,
                                                            std::size_t limit) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT story_key, COUNT(*), MAX(created_at_ms) FROM "
                                 "story_links WHERE org_id = ? AND story_key > ? GROUP BY "
                                 "story_key ORDER BY story_key LIMIT ?"));
  s.bind(1, org_id).bind(2, after_story_key).bind(3, static_cast<std::int64_t>(limit));
  std::vector<StorySummary> out;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    out.push_back(StorySummary{s.text(0), s.int64(1), s.int64(2)});
  }
  return out;
}

Result<std::size_t> SqliteStore::mark_commits_unreachable(
    std::int64_t org_id, std::int64_t repository_id, const std::string& branch,
    const std::vector<std::string>& commit_hashes, const std::string& delivery_id, UnixMillis now) {
  if (commit_hashes.empty()) return std::size_t{0};
  std::lock_guard lock(main_mutex_);
  return transaction<std::size_t>(main_, [&]() -> Result<std::size_t> {
    CB_TRY_ASSIGN(s, main_.prepare("UPDATE story_link_sightings SET reachable = 0, "
                                   "removed_at_ms = ?, removed_delivery_id = ? WHERE "
                                   "repository_id = ? AND branch = ? AND reachable = 1 AND "
                                   "story_link_id IN (SELECT id FROM story_links WHERE "
                                   "org_id = ? AND commit_hash = ?)"));
    std::size_t changed = 0;
    for (const auto& hash : commit_hashes) {
      s.reset();
      s.bind(1, now).bind(2, delivery_id).bind(3, repository_id).bind(4, branch);
      s.bind(5, org_id).bind(6, hash);
      CB_TRY(s.run());
      changed += static_cast<std::size_t>(main_.changes());
    }
    return changed;
  });
}

Result<std::size_t> SqliteStore::mark_branch_unreachable(std::int64_t org_id,
                                                         std::int64_t repository_id,
                                                         const std::string& branch,
                                                         const std::string& delivery_id,
                                                         UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE story_link_sightings SET reachable = 0, "
                                 "removed_at_ms = ?, removed_delivery_id = ? WHERE "
                                 "repository_id = ? AND branch = ? AND reachable = 1 AND "
                                 "story_link_id IN (SELECT id FROM story_links WHERE org_id = ?)"));
  s.bind(1, now).bind(2, delivery_id).bind(3, repository_id).bind(4, branch).bind(5, org_id);
  CB_TRY(s.run());
  return static_cast<std::size_t>(main_.changes());
}

}  // namespace cb::store::sqlite
