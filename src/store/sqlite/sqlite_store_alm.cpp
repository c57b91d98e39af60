// SqliteStore: ALM connections, their Jira project keys and the write-back outbox
// (migration 0009_alm_outbox.sql).

#include <algorithm>

#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/store_helpers.hpp"

namespace cb::store::sqlite {
namespace {

constexpr std::string_view kConnectionColumns =
    "id, org_id, public_id, name, type, url, jira_deployment, jira_email, secret_sealed, "
    "add_remote_link, add_comment, run_commands, max_commit_age_ms, enabled, "
    "project_keys_refreshed_at_ms, project_keys_error, created_at_ms, updated_at_ms";

AlmConnectionRecord read_connection(const Statement& s, int base = 0) {
  AlmConnectionRecord c;
  c.id = s.int64(base + 0);
  c.org_id = s.int64(base + 1);
  c.public_id = s.text(base + 2);
  c.name = s.text(base + 3);
  c.type = s.text(base + 4);
  c.url = s.text(base + 5);
  c.jira_deployment = s.text(base + 6);
  c.jira_email = s.text(base + 7);
  c.secret_sealed = s.blob(base + 8);
  c.add_remote_link = s.int64(base + 9) != 0;
  c.add_comment = s.int64(base + 10) != 0;
  c.run_commands = s.int64(base + 11) != 0;
  c.max_commit_age_ms = s.int64(base + 12);
  c.enabled = s.int64(base + 13) != 0;
  c.project_keys_refreshed_at_ms = s.optional_int64(base + 14);
  c.project_keys_error = s.text(base + 15);
  c.created_at_ms = s.int64(base + 16);
  c.updated_at_ms = s.int64(base + 17);
  return c;
}

constexpr std::string_view kEntryColumns =
    "e.id, e.org_id, e.connection_id, c.public_id, c.name, e.repository_id, "
    "COALESCE(r.project_key || '/' || r.slug, ''), e.story_key, e.commit_hash, e.action, "
    "e.ordinal, e.payload_json, e.status, e.attempts, e.next_attempt_ms, e.last_error, "
    "e.delivery_id, e.created_at_ms, e.updated_at_ms, e.sent_at_ms";

/// Pending entries whose connection is enabled and whose org is not deleted, oldest due first;
/// ?1 = now.
constexpr std::string_view kDueEntries =
    "SELECT e.id FROM alm_outbox e JOIN alm_connections c ON c.id = e.connection_id JOIN orgs o "
    "ON o.id = e.org_id WHERE e.status = 'pending' AND e.next_attempt_ms <= ?1 AND c.enabled = 1 "
    "AND o.deleted_at_ms IS NULL ORDER BY e.next_attempt_ms, e.id LIMIT 1";

constexpr std::string_view kEntryFrom =
    " FROM alm_outbox e JOIN alm_connections c ON c.id = e.connection_id "
    "LEFT JOIN repositories r ON r.id = e.repository_id ";

OutboxEntryRecord read_entry(const Statement& s) {
  OutboxEntryRecord e;
  e.id = s.int64(0);
  e.org_id = s.int64(1);
  e.connection_id = s.int64(2);
  e.connection_public_id = s.text(3);
  e.connection_name = s.text(4);
  e.repository_id = s.int64(5);
  e.repository = s.text(6);
  e.story_key = s.text(7);
  e.commit_hash = s.text(8);
  e.action = s.text(9);
  e.ordinal = static_cast<int>(s.int64(10));
  e.payload_json = s.text(11);
  e.status = s.text(12);
  e.attempts = static_cast<int>(s.int64(13));
  e.next_attempt_ms = s.int64(14);
  e.last_error = s.text(15);
  e.delivery_id = s.text(16);
  e.created_at_ms = s.int64(17);
  e.updated_at_ms = s.int64(18);
  e.sent_at_ms = s.optional_int64(19);
  return e;
}

template <class T, class Read>
Result<std::vector<T>> rows_of(Statement& s, Read&& read) {
  std::vector<T> out;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    out.push_back(read(s));
  }
  return out;
}

Result<std::vector<std::string>> project_keys_of(Connection& db, std::int64_t connection_id) {
  CB_TRY_ASSIGN(s, db.prepare("SELECT project_key FROM alm_project_keys WHERE connection_id = ? "
                              "ORDER BY project_key"));
  s.bind(1, connection_id);
  return rows_of<std::string>(s, [](const Statement& r) { return r.text(0); });
}

Result<std::optional<AlmConnectionRecord>> connection_by_id(Connection& db, std::int64_t id) {
  CB_TRY_ASSIGN(s, db.prepare("SELECT " + std::string(kConnectionColumns) +
                              " FROM alm_connections WHERE id = ?"));
  s.bind(1, id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<AlmConnectionRecord>{};
  auto c = read_connection(s);
  CB_TRY_ASSIGN(keys, project_keys_of(db, c.id));
  c.project_keys = std::move(keys);
  return std::optional<AlmConnectionRecord>{std::move(c)};
}

Result<std::optional<OutboxEntryRecord>> entry_by_id(Connection& db, std::int64_t org_id,
                                                     std::int64_t id) {
  CB_TRY_ASSIGN(s, db.prepare("SELECT " + std::string(kEntryColumns) + std::string(kEntryFrom) +
                              "WHERE e.id = ? AND e.org_id = ?"));
  s.bind(1, id).bind(2, org_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<OutboxEntryRecord>{};
  return std::optional<OutboxEntryRecord>{read_entry(s)};
}

void bind_connection_fields(Statement& s, const AlmConnectionRecord& c) {
  // Parameters ?1..?13 in the order of the INSERT and UPDATE statements below.
  s.bind(1, c.name)
      .bind(2, c.url)
      .bind(3, c.jira_deployment)
      .bind(4, c.jira_email)
      .bind(6, c.add_remote_link ? 1 : 0)
      .bind(7, c.add_comment ? 1 : 0)
      .bind(8, c.run_commands ? 1 : 0)
      .bind(9, c.max_commit_age_ms)
      .bind(10, c.enabled ? 1 : 0)
      .bind(11, c.updated_at_ms);
  if (c.secret_sealed.empty()) {
    s.bind_null(5);
  } else {
    s.bind_blob(5, c.secret_sealed);
  }
}

}  // namespace

Result<AlmConnectionRecord> SqliteStore::create_alm_connection(const AlmConnectionRecord& c) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("INSERT INTO alm_connections (name, url, jira_deployment, "
                                 "jira_email, secret_sealed, add_remote_link, add_comment, "
                                 "run_commands, max_commit_age_ms, enabled, updated_at_ms, "
                                 "org_id, public_id, type, created_at_ms) VALUES "
                                 "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"));
  bind_connection_fields(s, c);
  s.bind(12, c.org_id).bind(13, c.public_id).bind(14, c.type).bind(15, c.created_at_ms);
  CB_TRY(s.run());
  AlmConnectionRecord out = c;
  out.id = main_.last_insert_rowid();
  out.project_keys.clear();
  out.project_keys_refreshed_at_ms.reset();
  out.project_keys_error.clear();
  return out;
}

Result<std::optional<AlmConnectionRecord>> SqliteStore::find_alm_connection(
    std::int64_t org_id, const std::string& public_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT id FROM alm_connections WHERE org_id = ? AND "
                                 "public_id = ?"));
  s.bind(1, org_id).bind(2, public_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<AlmConnectionRecord>{};
  return connection_by_id(main_, s.int64(0));
}

Result<std::vector<AlmConnectionRecord>> SqliteStore::list_alm_connections(std::int64_t org_id,
                                                                           const PageQuery& page) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kConnectionColumns) +
                                 " FROM alm_connections WHERE org_id = ? AND id > ? ORDER BY id "
                                 "LIMIT ?"));
  s.bind(1, org_id).bind(2, page.after_id).bind(3, static_cast<std::int64_t>(page.limit));
  return rows_of<AlmConnectionRecord>(s, [](const Statement& r) { return read_connection(r); });
}

Result<AlmConnectionRecord> SqliteStore::update_alm_connection(const AlmConnectionRecord& c) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE alm_connections SET name = ?1, url = ?2, "
                                 "jira_deployment = ?3, jira_email = ?4, secret_sealed = ?5, "
                                 "add_remote_link = ?6, add_comment = ?7, run_commands = ?8, "
                                 "max_commit_age_ms = ?9, enabled = ?10, updated_at_ms = ?11 "
                                 "WHERE id = ?12"));
  bind_connection_fields(s, c);
  s.bind(12, c.id);
  CB_TRY(s.run());
  if (main_.changes() == 0) return fail(ErrorCode::not_found, "no such ALM connection");
  CB_TRY_ASSIGN(found, connection_by_id(main_, c.id));
  if (!found) return fail(ErrorCode::not_found, "no such ALM connection");
  return std::move(*found);
}

Result<void> SqliteStore::delete_alm_connection(std::int64_t connection_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("DELETE FROM alm_connections WHERE id = ?"));
  s.bind(1, connection_id);
  CB_TRY(s.run());
  if (main_.changes() == 0) return fail(ErrorCode::not_found, "no such ALM connection");
  return {};
}

Result<void> SqliteStore::set_alm_project_keys(std::int64_t connection_id,
                                               const std::vector<std::string>& keys,
                                               const std::string& error, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return transaction<void>(main_, [&]() -> Result<void> {
    if (error.empty()) {
      CB_TRY_ASSIGN(del, main_.prepare("DELETE FROM alm_project_keys WHERE connection_id = ?"));
      del.bind(1, connection_id);
      CB_TRY(del.run());
      CB_TRY_ASSIGN(ins, main_.prepare("INSERT INTO alm_project_keys (connection_id, "
                                       "project_key) VALUES (?, ?) ON CONFLICT DO NOTHING"));
      for (const auto& k : keys) {
        ins.reset();
        ins.bind(1, connection_id).bind(2, k);
        CB_TRY(ins.run());
      }
    }
    CB_TRY_ASSIGN(u, main_.prepare("UPDATE alm_connections SET project_keys_refreshed_at_ms = ?, "
                                   "project_keys_error = ? WHERE id = ?"));
    u.bind(1, now).bind(2, error).bind(3, connection_id);
    return u.run();
  });
}

Result<std::optional<std::vector<std::string>>> SqliteStore::jira_project_keys(
    std::int64_t org_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(n, main_.prepare("SELECT COUNT(*) FROM alm_connections WHERE org_id = ? AND "
                                 "type = 'jira' AND enabled = 1"));
  n.bind(1, org_id);
  CB_TRY_ASSIGN(row, n.step());
  if (!row || n.int64(0) == 0) return std::optional<std::vector<std::string>>{};
  CB_TRY_ASSIGN(s, main_.prepare("SELECT DISTINCT k.project_key FROM alm_project_keys k JOIN "
                                 "alm_connections c ON c.id = k.connection_id WHERE c.org_id = ? "
                                 "AND c.type = 'jira' AND c.enabled = 1 ORDER BY k.project_key"));
  s.bind(1, org_id);
  CB_TRY_ASSIGN(keys, rows_of<std::string>(s, [](const Statement& r) { return r.text(0); }));
  return std::optional<std::vector<std::string>>{std::move(keys)};
}

Result<std::vector<AlmConnectionRecord>> SqliteStore::alm_connections_to_refresh(
    UnixMillis refreshed_before) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kConnectionColumns) +
                                 " FROM alm_connections WHERE type = 'jira' AND enabled = 1 AND "
                                 "(project_keys_refreshed_at_ms IS NULL OR "
                                 "project_keys_refreshed_at_ms < ?) ORDER BY id"));
  s.bind(1, refreshed_before);
  return rows_of<AlmConnectionRecord>(s, [](const Statement& r) { return read_connection(r); });
}

Result<std::size_t> SqliteStore::enqueue_outbox(const std::vector<NewOutboxEntry>& entries,
                                                UnixMillis now) {
  if (entries.empty()) return std::size_t{0};
  std::lock_guard lock(main_mutex_);
  return transaction<std::size_t>(main_, [&]() -> Result<std::size_t> {
    CB_TRY_ASSIGN(
        s, main_.prepare("INSERT INTO alm_outbox (org_id, connection_id, repository_id, story_key, "
                         "commit_hash, action, ordinal, payload_json, delivery_id, status, "
                         "attempts, next_attempt_ms, created_at_ms, updated_at_ms) VALUES "
                         "(?1,?2,?3,?4,?5,?6,?7,?8,?9,'pending',0,?10,?10,?10) ON CONFLICT "
                         "(connection_id, story_key, commit_hash, action, ordinal) DO NOTHING"));
    std::size_t inserted = 0;
    for (const auto& e : entries) {
      s.reset();
      s.bind(1, e.org_id)
          .bind(2, e.connection_id)
          .bind(3, e.repository_id)
          .bind(4, e.story_key)
          .bind(5, e.commit_hash)
          .bind(6, e.action)
          .bind(7, e.ordinal)
          .bind(8, e.payload_json)
          .bind(9, e.delivery_id)
          .bind(10, now);
      CB_TRY(s.run());
      inserted += static_cast<std::size_t>(main_.changes());
    }
    return inserted;
  });
}

Result<std::optional<std::pair<OutboxEntryRecord, AlmConnectionRecord>>>
SqliteStore::claim_outbox_entry(UnixMillis now) {
  using Claimed = std::optional<std::pair<OutboxEntryRecord, AlmConnectionRecord>>;
  std::lock_guard lock(main_mutex_);
  {
    // Most calls find nothing due: answer those with a read, without taking the write lock.
    CB_TRY_ASSIGN(probe, main_.prepare(kDueEntries));
    probe.bind(1, now);
    CB_TRY_ASSIGN(any, probe.step());
    if (!any) return Claimed{};
  }
  return transaction<Claimed>(main_, [&]() -> Result<Claimed> {
    CB_TRY_ASSIGN(s, main_.prepare(kDueEntries));
    s.bind(1, now);
    CB_TRY_ASSIGN(row, s.step());
    if (!row) return Claimed{};
    const std::int64_t id = s.int64(0);
    CB_TRY_ASSIGN(u, main_.prepare("UPDATE alm_outbox SET status = 'sending', attempts = attempts "
                                   "+ 1, updated_at_ms = ? WHERE id = ?"));
    u.bind(1, now).bind(2, id);
    CB_TRY(u.run());
    CB_TRY_ASSIGN(e, main_.prepare("SELECT " + std::string(kEntryColumns) +
                                   std::string(kEntryFrom) + "WHERE e.id = ?"));
    e.bind(1, id);
    CB_TRY_ASSIGN(erow, e.step());
    if (!erow) return fail(ErrorCode::internal, "claimed outbox entry vanished");
    auto entry = read_entry(e);
    CB_TRY_ASSIGN(conn, connection_by_id(main_, entry.connection_id));
    if (!conn) return fail(ErrorCode::internal, "outbox entry without connection");
    return Claimed{std::pair{std::move(entry), std::move(*conn)}};
  });
}

Result<void> SqliteStore::finish_outbox_entry(std::int64_t entry_id, std::string_view status,
                                              const std::string& last_error, UnixMillis now,
                                              UnixMillis next_attempt_ms) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE alm_outbox SET status = ?1, last_error = ?2, "
                                 "updated_at_ms = ?3, next_attempt_ms = CASE WHEN ?1 = 'pending' "
                                 "THEN ?4 ELSE next_attempt_ms END, sent_at_ms = CASE WHEN ?1 = "
                                 "'sent' THEN ?3 ELSE sent_at_ms END WHERE id = ?5"));
  s.bind(1, status).bind(2, last_error).bind(3, now).bind(4, next_attempt_ms).bind(5, entry_id);
  return s.run();
}

Result<int> SqliteStore::recover_outbox(UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE alm_outbox SET status = 'pending', next_attempt_ms = ?1, "
                                 "updated_at_ms = ?1, last_error = CASE WHEN last_error = '' THEN "
                                 "'interrupted while sending; sent again' ELSE last_error END "
                                 "WHERE status = 'sending'"));
  s.bind(1, now);
  CB_TRY(s.run());
  return main_.changes();
}

Result<std::vector<OutboxEntryRecord>> SqliteStore::list_outbox(const OutboxQuery& q) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kEntryColumns) + std::string(kEntryFrom) +
                                 "WHERE e.org_id = ?1 AND (?2 IS NULL OR e.status = ?2) AND e.id "
                                 "> ?3 ORDER BY e.id LIMIT ?4"));
  s.bind(1, q.org_id);
  if (q.status) {
    s.bind(2, *q.status);
  } else {
    s.bind_null(2);
  }
  s.bind(3, q.after_id).bind(4, static_cast<std::int64_t>(q.limit));
  return rows_of<OutboxEntryRecord>(s, read_entry);
}

Result<std::optional<OutboxEntryRecord>> SqliteStore::get_outbox_entry(std::int64_t org_id,
                                                                       std::int64_t entry_id) {
  std::lock_guard lock(main_mutex_);
  return entry_by_id(main_, org_id, entry_id);
}

Result<OutboxEntryRecord> SqliteStore::retry_outbox_entry(std::int64_t org_id,
                                                          std::int64_t entry_id, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return transaction<OutboxEntryRecord>(main_, [&]() -> Result<OutboxEntryRecord> {
    CB_TRY_ASSIGN(found, entry_by_id(main_, org_id, entry_id));
    if (!found) {
      return fail(ErrorCode::not_found, "no outbox entry " + std::to_string(entry_id));
    }
    if (found->status == kOutboxSent || found->status == kOutboxSending) {
      return fail(ErrorCode::conflict, "outbox entry " + std::to_string(entry_id) + " is " +
                                           found->status +
                                           "; only dead or pending entries can "
                                           "be retried");
    }
    CB_TRY_ASSIGN(u, main_.prepare("UPDATE alm_outbox SET status = 'pending', attempts = 0, "
                                   "next_attempt_ms = ?1, updated_at_ms = ?1 WHERE id = ?2"));
    u.bind(1, now).bind(2, entry_id);
    CB_TRY(u.run());
    CB_TRY_ASSIGN(after, entry_by_id(main_, org_id, entry_id));
    return std::move(*after);
  });
}

Result<std::int64_t> SqliteStore::outbox_backlog() {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT COUNT(*) FROM alm_outbox WHERE status IN ('pending', "
                                 "'sending')"));
  CB_TRY_ASSIGN(row, s.step());
  return row ? s.int64(0) : 0;
}

Result<std::optional<UnixMillis>> SqliteStore::next_outbox_due() {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT MIN(e.next_attempt_ms) FROM alm_outbox e JOIN "
                                 "alm_connections c ON c.id = e.connection_id JOIN orgs o ON o.id "
                                 "= e.org_id WHERE e.status = 'pending' AND c.enabled = 1 AND "
                                 "o.deleted_at_ms IS NULL"));
  CB_TRY_ASSIGN(row, s.step());
  if (!row || s.is_null(0)) return std::optional<UnixMillis>{};
  return std::optional<UnixMillis>{s.int64(0)};
}

Result<std::size_t> SqliteStore::rewrap_alm_secrets(
    const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap) {
  CB_TRY_ASSIGN(s, main_.prepare("SELECT id, public_id, secret_sealed FROM alm_connections WHERE "
                                 "secret_sealed IS NOT NULL"));
  struct Row {
    std::int64_t id;
    std::string public_id, sealed;
  };
  CB_TRY_ASSIGN(rows, rows_of<Row>(s, [](const Statement& r) {
                  return Row{r.int64(0), r.text(1), r.blob(2)};
                }));
  CB_TRY_ASSIGN(u, main_.prepare("UPDATE alm_connections SET secret_sealed = ? WHERE id = ?"));
  for (const auto& r : rows) {
    CB_TRY_ASSIGN(resealed, rewrap(r.sealed, alm_secret_aad(r.public_id)));
    u.reset();
    u.bind_blob(1, resealed).bind(2, r.id);
    CB_TRY(u.run());
  }
  return rows.size();
}

}  // namespace cb::store::sqlite
