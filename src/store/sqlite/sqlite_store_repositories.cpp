// SqliteStore: the repository registry (Store's "Repositories" section).

#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/store_helpers.hpp"

namespace cb::store::sqlite {
namespace {

constexpr std::string_view kColumns =
    "id, org_id, provider, project_key, slug, clone_url, auto_update_alm, created_at_ms, "
    "display_name, ssh_clone_url, browse_url, default_branch, credential_type, "
    "credential_username, ssh_key_path, credential_secret_sealed, credential_id, updated_at_ms";

RepositoryRecord read_repository(const Statement& s) {
  RepositoryRecord r;
  r.id = s.int64(0);
  r.org_id = s.int64(1);
  r.provider = s.text(2);
  r.project_key = s.text(3);
  r.slug = s.text(4);
  r.clone_url = s.text(5);
  r.auto_update_alm = s.int64(6) != 0;
  r.created_at_ms = s.int64(7);
  r.display_name = s.text(8);
  r.ssh_clone_url = s.text(9);
  r.browse_url = s.text(10);
  r.default_branch = s.text(11);
  r.credential_type = s.text(12);
  r.credential_username = s.text(13);
  r.ssh_key_path = s.text(14);
  r.credential_secret_sealed = s.blob(15);
  r.credential_secret_set = !r.credential_secret_sealed.empty();
  r.credential_id = s.text(16);
  r.updated_at_ms = s.int64(17);
  return r;
}

template <class T>
Result<std::vector<T>> read_all(Statement& s) {
  std::vector<T> out;
  while (true) {
    auto row = s.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.push_back(read_repository(s));
  }
  return out;
}

/// Binds the mutable fields (everything but id, org and created_at) from index `first` on, in
/// the order of kColumns; returns the next free index.
int bind_fields(Statement& s, int first, const RepositoryRecord& r) {
  int i = first;
  auto text = [&](std::string_view v) { s.bind(i++, v); };
  text(r.provider);
  text(r.project_key);
  text(r.slug);
  text(r.clone_url);
  s.bind(i++, r.auto_update_alm ? 1 : 0);
  text(r.display_name.empty() ? r.slug : r.display_name);
  text(r.ssh_clone_url);
  text(r.browse_url);
  text(r.default_branch);
  text(r.credential_type.empty() ? kCredentialNone : std::string_view(r.credential_type));
  text(r.credential_username);
  text(r.ssh_key_path);
  if (r.credential_secret_sealed.empty()) {
    s.bind_null(i++);
  } else {
    s.bind_blob(i++, r.credential_secret_sealed);
  }
  text(r.credential_id);
  s.bind(i++, r.updated_at_ms);
  return i;
}

Error repository_conflict(const RepositoryRecord& r) {
  return make_error(ErrorCode::conflict, "repository " + r.project_key + "/" + r.slug + " (" +
                                             r.provider + ") is already registered in this org");
}

}  // namespace

Result<RepositoryRecord> SqliteStore::create_repository(const RepositoryRecord& r) {
  std::lock_guard lock(main_mutex_);
  RepositoryRecord in = r;
  if (in.updated_at_ms == 0) in.updated_at_ms = in.created_at_ms;
  if (in.display_name.empty()) in.display_name = in.slug;
  if (in.credential_type.empty()) in.credential_type = std::string(kCredentialNone);
  CB_TRY_ASSIGN(
      s, main_.prepare("INSERT INTO repositories (org_id, created_at_ms, provider, project_key, "
                       "slug, clone_url, auto_update_alm, display_name, ssh_clone_url, browse_url, "
                       "default_branch, credential_type, credential_username, ssh_key_path, "
                       "credential_secret_sealed, credential_id, updated_at_ms) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, in.org_id).bind(2, in.created_at_ms);
  bind_fields(s, 3, in);
  if (auto res = s.run(); !res) {
    if (res.error().code == ErrorCode::conflict) return std::unexpected(repository_conflict(in));
    return std::unexpected(res.error());
  }
  in.id = main_.last_insert_rowid();
  in.credential_secret_set = !in.credential_secret_sealed.empty();
  return in;
}

Result<std::optional<RepositoryRecord>> SqliteStore::find_repository(std::int64_t org_id,
                                                                     const std::string& provider,
                                                                     const std::string& project_key,
                                                                     const std::string& slug) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kColumns) +
                                 " FROM repositories WHERE org_id = ? AND provider = ? AND "
                                 "project_key = ? AND slug = ?"));
  s.bind(1, org_id).bind(2, provider).bind(3, project_key).bind(4, slug);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<RepositoryRecord>{};
  return std::optional<RepositoryRecord>{read_repository(s)};
}

Result<std::vector<RepositoryRecord>> SqliteStore::list_repositories(std::int64_t org_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kColumns) +
                                 " FROM repositories WHERE org_id = ? ORDER BY project_key, "
                                 "slug, provider"));
  s.bind(1, org_id);
  return read_all<RepositoryRecord>(s);
}

Result<std::optional<RepositoryRecord>> SqliteStore::get_repository(std::int64_t org_id,
                                                                    std::int64_t repository_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kColumns) +
                                 " FROM repositories WHERE org_id = ? AND id = ?"));
  s.bind(1, org_id).bind(2, repository_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<RepositoryRecord>{};
  return std::optional<RepositoryRecord>{read_repository(s)};
}

Result<std::vector<RepositoryRecord>> SqliteStore::list_repositories_page(std::int64_t org_id,
                                                                          const PageQuery& page) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kColumns) +
                                 " FROM repositories WHERE org_id = ? AND id > ? ORDER BY "
                                 "id LIMIT ?"));
  s.bind(1, org_id).bind(2, page.after_id).bind(3, static_cast<std::int64_t>(page.limit));
  return read_all<RepositoryRecord>(s);
}

Result<RepositoryRecord> SqliteStore::update_repository(const RepositoryRecord& r) {
  std::lock_guard lock(main_mutex_);
  return transaction<RepositoryRecord>(main_, [&]() -> Result<RepositoryRecord> {
    CB_TRY_ASSIGN(
        u, main_.prepare("UPDATE repositories SET provider = ?, project_key = ?, slug = ?, "
                         "clone_url = ?, auto_update_alm = ?, display_name = ?, ssh_clone_url = "
                         "?, browse_url = ?, default_branch = ?, credential_type = ?, "
                         "credential_username = ?, ssh_key_path = ?, credential_secret_sealed = ?, "
                         "credential_id = ?, updated_at_ms = ? WHERE id = ? AND org_id = ?"));
    const int next = bind_fields(u, 1, r);
    u.bind(next, r.id).bind(next + 1, r.org_id);
    if (auto res = u.run(); !res) {
      if (res.error().code == ErrorCode::conflict) return std::unexpected(repository_conflict(r));
      return std::unexpected(res.error());
    }
    if (main_.changes() != 1) return fail(ErrorCode::not_found, "no such repository");
    CB_TRY_ASSIGN(
        s, main_.prepare("SELECT " + std::string(kColumns) + " FROM repositories WHERE id = ?"));
    s.bind(1, r.id);
    CB_TRY_ASSIGN(row, s.step());
    if (!row) return fail(ErrorCode::not_found, "no such repository");
    return read_repository(s);
  });
}

Result<std::int64_t> SqliteStore::delete_repository(std::int64_t org_id,
                                                    std::int64_t repository_id) {
  std::lock_guard lock(main_mutex_);
  return transaction<std::int64_t>(main_, [&]() -> Result<std::int64_t> {
    // In the same transaction as the delete: the runner cannot start a run in between.
    CB_TRY_ASSIGN(runs, running_runs(main_, "repository_id", repository_id, true));
    if (!runs.empty()) {
      return fail(ErrorCode::conflict,
                  "the repository's jobs have runs in progress: " + runs +
                      "; cancel them (commitbridge runs cancel ID) or wait for them to end, "
                      "then remove the repository");
    }
    CB_TRY_ASSIGN(c, main_.prepare("SELECT COUNT(*) FROM jobs WHERE repository_id = ?"));
    c.bind(1, repository_id);
    CB_TRY_ASSIGN(row, c.step());
    const std::int64_t jobs = row ? c.int64(0) : 0;
    // Jobs, their runs and the sightings go with the repository (ON DELETE CASCADE).
    CB_TRY_ASSIGN(d, main_.prepare("DELETE FROM repositories WHERE id = ? AND org_id = ?"));
    d.bind(1, repository_id).bind(2, org_id);
    CB_TRY(d.run());
    if (main_.changes() != 1) return fail(ErrorCode::not_found, "no such repository");
    return jobs;
  });
}

Result<std::size_t> SqliteStore::rewrap_repository_secrets(
    const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap) {
  CB_TRY_ASSIGN(s, main_.prepare("SELECT id, credential_id, credential_secret_sealed FROM "
                                 "repositories WHERE credential_secret_sealed IS NOT NULL"));
  struct Row {
    std::int64_t id;
    std::string credential_id, sealed;
  };
  std::vector<Row> rows;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    rows.push_back(Row{s.int64(0), s.text(1), s.blob(2)});
  }
  CB_TRY_ASSIGN(u,
                main_.prepare("UPDATE repositories SET credential_secret_sealed = ? WHERE id = ?"));
  std::size_t count = 0;
  for (const auto& r : rows) {
    if (r.sealed.empty()) continue;
    ++count;
    CB_TRY_ASSIGN(resealed, rewrap(r.sealed, repository_credential_aad(r.credential_id)));
    u.reset();
    u.bind_blob(1, resealed).bind(2, r.id);
    CB_TRY(u.run());
  }
  return count;
}

#undef CB_REPO_TRY_ASSIGN
#undef CB_REPO_TRY

}  // namespace cb::store::sqlite
