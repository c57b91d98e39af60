// SqliteStore: jobs and job runs (tables jobs, job_http_headers, job_runs; migration 0006).

#include <boost/json.hpp>

#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/store_helpers.hpp"

namespace cb::store::sqlite {
namespace {

namespace json = boost::json;

std::string strings_to_json(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.push_back(json::string(s));
  return json::serialize(a);
}

std::vector<std::string> strings_from_json(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    if (end > start) out.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

/// The HTTP action without its headers (they live in job_http_headers).
std::string http_to_json(const std::optional<JobHttpAction>& http) {
  if (!http) return "";
  return json::serialize(json::object{{"method", http->method},
                                      {"url", http->url_template},
                                      {"body", http->body_template},
                                      {"timeout_ms", http->timeout_ms},
                                      {"max_attempts", http->max_attempts},
                                      {"base_backoff_ms", http->base_backoff_ms},
                                      {"max_backoff_ms", http->max_backoff_ms}});
}

std::optional<JobHttpAction> http_from_json(const std::string& text) {
  if (text.empty()) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  JobHttpAction h;
  auto str = [&](std::string_view key, std::string& out) {
    if (const auto* f = o.if_contains(key); f != nullptr && f->is_string()) {
      out = std::string(f->as_string());
    }
  };
  auto num = [&](std::string_view key, auto& out) {
    if (const auto* f = o.if_contains(key); f != nullptr && f->is_int64()) {
      out = static_cast<std::remove_reference_t<decltype(out)>>(f->as_int64());
    }
  };
  str("method", h.method);
  str("url", h.url_template);
  str("body", h.body_template);
  num("timeout_ms", h.timeout_ms);
  num("max_attempts", h.max_attempts);
  num("base_backoff_ms", h.base_backoff_ms);
  num("max_backoff_ms", h.max_backoff_ms);
  return h;
}

constexpr std::string_view kJobColumns =
    "j.id, j.org_id, j.repository_id, repo.project_key || '/' || repo.slug, j.name, j.branches, "
    "j.argv_json, j.enabled, j.created_at_ms, j.events, j.target_branches, j.source_branches, "
    "j.skip_marker, j.max_concurrent, j.supersede, j.requeue_interrupted, j.action_type, "
    "j.http_json, j.timeout_ms, j.updated_at_ms, j.tags";
constexpr std::string_view kJobJoins =
    " FROM jobs j JOIN repositories repo ON repo.id = j.repository_id";

JobRecord read_job(const Statement& s) {
  JobRecord j;
  j.id = s.int64(0);
  j.org_id = s.int64(1);
  j.repository_id = s.int64(2);
  j.repository = s.text(3);
  j.name = s.text(4);
  j.branches = s.text(5);
  j.argv = strings_from_json(s.text(6));
  j.enabled = s.int64(7) != 0;
  j.created_at_ms = s.int64(8);
  j.events = split(s.text(9));
  j.target_branches = s.text(10);
  j.source_branches = s.text(11);
  j.skip_marker = s.int64(12) != 0;
  j.max_concurrent = static_cast<int>(s.int64(13));
  j.supersede = s.int64(14) != 0;
  j.requeue_interrupted = s.int64(15) != 0;
  j.action = s.text(16) == "http" ? JobActionType::http : JobActionType::command;
  j.http = http_from_json(s.text(17));
  j.timeout_ms = s.optional_int64(18);
  j.updated_at_ms = s.int64(19);
  j.tags = s.text(20);
  return j;
}

constexpr std::string_view kRunColumns =
    "r.id, r.job_id, j.name, o.name, repo.project_key || '/' || repo.slug, r.delivery_id, "
    "r.ref_id, r.branch, r.from_hash, r.to_hash, r.status, r.exit_code, r.created_at_ms, "
    "r.started_at_ms, r.finished_at_ms, r.output_tail, r.log_path, r.attempt, r.event, "
    "r.pull_request_id, r.pull_request_title, r.source_branch, r.target_branch, "
    "r.status_reason, r.rerun_of, r.superseded_by, r.cancel_requested, "
    "COALESCE(d.event_key, '')";
constexpr std::string_view kRunJoins =
    " FROM job_runs r JOIN jobs j ON j.id = r.job_id JOIN orgs o ON o.id = j.org_id "
    "JOIN repositories repo ON repo.id = j.repository_id "
    "LEFT JOIN deliveries d ON d.delivery_id = r.delivery_id";

JobRunRecord read_run(const Statement& s) {
  JobRunRecord r;
  r.id = s.int64(0);
  r.job_id = s.int64(1);
  r.job_name = s.text(2);
  r.org_name = s.text(3);
  r.repository = s.text(4);
  r.delivery_id = s.text(5);
  r.ref_id = s.text(6);
  r.branch = s.text(7);
  r.from_hash = s.text(8);
  r.to_hash = s.text(9);
  r.status = s.text(10);
  if (auto c = s.optional_int64(11)) r.exit_code = static_cast<int>(*c);
  r.created_at_ms = s.int64(12);
  r.started_at_ms = s.optional_int64(13);
  r.finished_at_ms = s.optional_int64(14);
  r.output_tail = s.text(15);
  r.log_path = s.text(16);
  r.attempt = static_cast<int>(s.int64(17));
  r.event = s.text(18);
  r.pull_request_id = s.optional_int64(19);
  r.pull_request_title = s.text(20);
  r.source_branch = s.text(21);
  r.target_branch = s.text(22);
  r.status_reason = s.text(23);
  r.rerun_of = s.optional_int64(24);
  r.superseded_by = s.optional_int64(25);
  r.cancel_requested = s.int64(26) != 0;
  r.event_key = s.text(27);
  return r;
}

Result<std::optional<JobRunRecord>> select_run(Connection& db, std::int64_t id) {
  CB_TRY_ASSIGN(q, db.prepare("SELECT " + std::string(kRunColumns) + std::string(kRunJoins) +
                              " WHERE r.id = ?"));
  q.bind(1, id);
  CB_TRY_ASSIGN(row, q.step());
  if (!row) return std::optional<JobRunRecord>{};
  return std::optional<JobRunRecord>{read_run(q)};
}

Result<void> write_headers(Connection& db, std::int64_t job_id, const JobRecord& job) {
  CB_TRY_ASSIGN(d, db.prepare("DELETE FROM job_http_headers WHERE job_id = ?"));
  d.bind(1, job_id);
  CB_TRY(d.run());
  if (!job.http) return {};
  CB_TRY_ASSIGN(ins, db.prepare("INSERT INTO job_http_headers (job_id, position, name, "
                                "value_sealed) VALUES (?,?,?,?)"));
  int position = 0;
  for (const auto& h : job.http->headers) {
    ins.reset();
    ins.bind(1, job_id).bind(2, position++).bind(3, h.name).bind_blob(4, h.value_sealed);
    CB_TRY(ins.run());
  }
  return {};
}

Result<void> read_headers(Connection& db, JobRecord& job) {
  if (!job.http) return {};
  CB_TRY_ASSIGN(s, db.prepare("SELECT name, value_sealed FROM job_http_headers WHERE job_id = ? "
                              "ORDER BY position"));
  s.bind(1, job.id);
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    job.http->headers.push_back(JobHttpHeader{s.text(0), s.blob(1)});
  }
  return {};
}

Result<std::vector<JobRecord>> read_jobs(Connection& db, Statement& s) {
  CB_TRY_ASSIGN(jobs, collect_rows<JobRecord>(s, read_job));
  for (auto& j : jobs) CB_TRY(read_headers(db, j));
  return jobs;
}

/// Binds the mutable columns of a job at positions first.. (see the INSERT/UPDATE below).
void bind_job_fields(Statement& s, int first, const JobRecord& job) {
  s.bind(first, job.name);
  s.bind(first + 1, job.branches);
  s.bind(first + 2, strings_to_json(job.argv));
  s.bind(first + 3, job.enabled ? 1 : 0);
  s.bind(first + 4, join(job.events));
  s.bind(first + 5, job.target_branches);
  s.bind(first + 6, job.source_branches);
  s.bind(first + 7, job.skip_marker ? 1 : 0);
  s.bind(first + 8, job.max_concurrent);
  s.bind(first + 9, job.supersede ? 1 : 0);
  s.bind(first + 10, job.requeue_interrupted ? 1 : 0);
  s.bind(first + 11, job.action == JobActionType::http ? "http" : "command");
  s.bind(first + 12, http_to_json(job.http));
  s.bind(first + 13, job.timeout_ms);
  s.bind(first + 14, job.updated_at_ms);
  s.bind(first + 15, job.tags);
}

Result<std::pair<JobRunRecord, bool>> insert_run(Connection& db, const JobRunRecord& run) {
  CB_TRY_ASSIGN(s, db.prepare("INSERT INTO job_runs (job_id, delivery_id, ref_id, attempt, event, "
                              "branch, from_hash, to_hash, pull_request_id, pull_request_title, "
                              "source_branch, target_branch, status, status_reason, rerun_of, "
                              "created_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                              "ON CONFLICT (job_id, delivery_id, ref_id, attempt) DO NOTHING"));
  s.bind(1, run.job_id)
      .bind(2, run.delivery_id)
      .bind(3, run.ref_id)
      .bind(4, run.attempt)
      .bind(5, run.event)
      .bind(6, run.branch)
      .bind(7, run.from_hash)
      .bind(8, run.to_hash)
      .bind(9, run.pull_request_id)
      .bind(10, run.pull_request_title)
      .bind(11, run.source_branch)
      .bind(12, run.target_branch)
      .bind(13, run.status.empty() ? std::string(kRunQueued) : run.status)
      .bind(14, run.status_reason)
      .bind(15, run.rerun_of)
      .bind(16, run.created_at_ms);
  CB_TRY(s.run());
  const bool created = db.changes() == 1;
  CB_TRY_ASSIGN(q, db.prepare("SELECT r.id FROM job_runs r WHERE r.job_id = ? AND "
                              "r.delivery_id = ? AND r.ref_id = ? AND r.attempt = ?"));
  q.bind(1, run.job_id).bind(2, run.delivery_id).bind(3, run.ref_id).bind(4, run.attempt);
  CB_TRY_ASSIGN(row, q.step());
  if (!row) return fail(ErrorCode::internal, "job run vanished after insert");
  const std::int64_t id = q.int64(0);
  CB_TRY_ASSIGN(stored, select_run(db, id));
  if (!stored) return fail(ErrorCode::internal, "job run vanished after insert");
  return std::pair<JobRunRecord, bool>{std::move(*stored), created};
}

/// The next attempt number of the run's job × delivery × ref.
Result<int> next_attempt(Connection& db, const JobRunRecord& run) {
  CB_TRY_ASSIGN(s, db.prepare("SELECT COALESCE(MAX(attempt), 0) + 1 FROM job_runs WHERE job_id = "
                              "? AND delivery_id = ? AND ref_id = ?"));
  s.bind(1, run.job_id).bind(2, run.delivery_id).bind(3, run.ref_id);
  CB_TRY_ASSIGN(row, s.step());
  return row ? static_cast<int>(s.int64(0)) : 1;
}

/// A queued copy of `of` with the next attempt number.
Result<JobRunRecord> insert_retry(Connection& db, const JobRunRecord& of, UnixMillis now,
                                  std::string reason) {
  JobRunRecord again = of;
  CB_TRY_ASSIGN(attempt, next_attempt(db, of));
  again.attempt = attempt;
  again.status = std::string(kRunQueued);
  again.status_reason = std::move(reason);
  again.rerun_of = of.id;
  again.created_at_ms = now;
  CB_TRY_ASSIGN(created, insert_run(db, again));
  return created.first;
}

/// For a job with supersede on, the newest run of `run`'s job and ref that another delivery
/// queued after it (whatever its status now); nullopt when there is none or supersede is off.
Result<std::optional<std::int64_t>> newer_run_of(Connection& db, const JobRunRecord& run) {
  CB_TRY_ASSIGN(s, db.prepare("SELECT MAX(r.id) FROM job_runs r JOIN jobs j ON j.id = r.job_id "
                              "WHERE j.supersede = 1 AND r.job_id = ? AND r.ref_id = ? AND "
                              "r.id > ? AND r.delivery_id <> ?"));
  s.bind(1, run.job_id).bind(2, run.ref_id).bind(3, run.id).bind(4, run.delivery_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<std::int64_t>{};
  return s.optional_int64(0);
}

/// Queues the next attempt of an interrupted run, unless newer_run_of() finds a newer run: a
/// re-queued attempt would then build an older commit after a newer one, so the run stays
/// interrupted and its reason says which run is newer. Returns the queued attempt, or nullopt.
Result<std::optional<JobRunRecord>> requeue_unless_superseded(Connection& db,
                                                              const JobRunRecord& run,
                                                              UnixMillis now) {
  CB_TRY_ASSIGN(newer, newer_run_of(db, run));
  if (newer) {
    CB_TRY_ASSIGN(current, select_run(db, run.id));
    const std::string before = current ? current->status_reason : std::string();
    const std::string why = "not re-queued: run " + std::to_string(*newer) + " is newer";
    // Asked again (the same newer run): said once.
    const std::string reason = before.empty()          ? why
                               : before.ends_with(why) ? before
                                                       : before + "; " + why;
    CB_TRY_ASSIGN(u, db.prepare("UPDATE job_runs SET status_reason = ? WHERE id = ?"));
    u.bind(1, reason).bind(2, run.id);
    CB_TRY(u.run());
    return std::optional<JobRunRecord>{};
  }
  CB_TRY_ASSIGN(again,
                insert_retry(db, run, now,
                             "re-queued after run " + std::to_string(run.id) + " was interrupted"));
  return std::optional<JobRunRecord>{std::move(again)};
}

}  // namespace

Result<std::string> running_runs(Connection& db, std::string_view job_column, std::int64_t value,
                                 bool name_jobs) {
  // The repeated status term lets SQLite use the partial index job_runs_active.
  CB_TRY_ASSIGN(s, db.prepare("SELECT r.id, j.name FROM job_runs r JOIN jobs j ON j.id = "
                              "r.job_id WHERE j." +
                              std::string(job_column) +
                              " = ? AND r.status IN ('queued', 'running') AND r.status = "
                              "'running' ORDER BY r.id"));
  s.bind(1, value);
  std::string out;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    out += (out.empty() ? "" : ", ") + std::to_string(s.int64(0));
    if (name_jobs) out += " (job " + s.text(1) + ")";
  }
  s.reset();
  return out;
}

Result<JobRecord> SqliteStore::create_job(const JobRecord& job) {
  std::lock_guard lock(main_mutex_);
  return transaction<JobRecord>(main_, [&]() -> Result<JobRecord> {
    CB_TRY_ASSIGN(
        s, main_.prepare("INSERT INTO jobs (name, branches, argv_json, enabled, events, "
                         "target_branches, source_branches, skip_marker, "
                         "max_concurrent, supersede, requeue_interrupted, action_type, "
                         "http_json, timeout_ms, updated_at_ms, tags, org_id, repository_id, "
                         "created_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    bind_job_fields(s, 1, job);
    s.bind(17, job.org_id).bind(18, job.repository_id).bind(19, job.created_at_ms);
    if (auto r = s.run(); !r) {
      if (r.error().code == ErrorCode::conflict) {
        return fail(ErrorCode::conflict,
                    "a job named '" + job.name + "' already exists for this repository");
      }
      return std::unexpected(r.error());
    }
    JobRecord out = job;
    out.id = main_.last_insert_rowid();
    CB_TRY(write_headers(main_, out.id, out));
    return out;
  });
}

Result<std::vector<JobRecord>> SqliteStore::list_jobs(std::int64_t repository_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kJobColumns) + std::string(kJobJoins) +
                                 " WHERE j.repository_id = ? ORDER BY j.name"));
  s.bind(1, repository_id);
  return read_jobs(main_, s);
}

Result<std::vector<JobRecord>> SqliteStore::list_org_jobs(std::int64_t org_id,
                                                          const PageQuery& page) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kJobColumns) + std::string(kJobJoins) +
                                 " WHERE j.org_id = ? AND j.id > ? ORDER BY j.id LIMIT ?"));
  s.bind(1, org_id).bind(2, page.after_id).bind(3, static_cast<std::int64_t>(page.limit));
  return read_jobs(main_, s);
}

Result<std::optional<JobRecord>> SqliteStore::get_job(std::int64_t job_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kJobColumns) + std::string(kJobJoins) +
                                 " WHERE j.id = ?"));
  s.bind(1, job_id);
  CB_TRY_ASSIGN(jobs, read_jobs(main_, s));
  if (jobs.empty()) return std::optional<JobRecord>{};
  return std::optional<JobRecord>{std::move(jobs.front())};
}

Result<JobRecord> SqliteStore::update_job(const JobRecord& job) {
  std::lock_guard lock(main_mutex_);
  return transaction<JobRecord>(main_, [&]() -> Result<JobRecord> {
    CB_TRY_ASSIGN(
        s,
        main_.prepare("UPDATE jobs SET name = ?, branches = ?, argv_json = ?, "
                      "enabled = ?, events = ?, target_branches = ?, "
                      "source_branches = ?, skip_marker = ?, max_concurrent = ?, "
                      "supersede = ?, requeue_interrupted = ?, action_type = ?, "
                      "http_json = ?, timeout_ms = ?, updated_at_ms = ?, tags = ? WHERE id = ?"));
    bind_job_fields(s, 1, job);
    s.bind(17, job.id);
    if (auto r = s.run(); !r) {
      if (r.error().code == ErrorCode::conflict) {
        return fail(ErrorCode::conflict,
                    "a job named '" + job.name + "' already exists for this repository");
      }
      return std::unexpected(r.error());
    }
    if (main_.changes() == 0) return fail(ErrorCode::not_found, "no such job");
    CB_TRY(write_headers(main_, job.id, job));
    return job;
  });
}

Result<void> SqliteStore::delete_job(std::int64_t job_id) {
  std::lock_guard lock(main_mutex_);
  return transaction<void>(main_, [&]() -> Result<void> {
    // In the same transaction as the delete: the runner cannot start one in between.
    CB_TRY_ASSIGN(ids, running_runs(main_, "id", job_id, false));
    if (!ids.empty()) {
      return fail(ErrorCode::conflict, "the job has runs in progress: " + ids);
    }
    CB_TRY_ASSIGN(s, main_.prepare("DELETE FROM jobs WHERE id = ?"));
    s.bind(1, job_id);
    CB_TRY(s.run());
    if (main_.changes() == 0) return fail(ErrorCode::not_found, "no such job");
    return {};
  });
}

Result<std::pair<JobRunRecord, bool>> SqliteStore::create_job_run(const JobRunRecord& run) {
  std::lock_guard lock(main_mutex_);
  return insert_run(main_, run);
}

Result<std::vector<CreatedRun>> SqliteStore::create_job_runs(const std::vector<JobRunRecord>& runs,
                                                             UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return transaction<std::vector<CreatedRun>>(main_, [&]() -> Result<std::vector<CreatedRun>> {
    std::vector<CreatedRun> out;
    for (const auto& run : runs) {
      CB_TRY_ASSIGN(inserted, insert_run(main_, run));
      CreatedRun c{std::move(inserted.first), inserted.second, {}};
      if (c.created) {
        CB_TRY_ASSIGN(sel, main_.prepare("SELECT r.id FROM job_runs r JOIN jobs j ON j.id = "
                                         "r.job_id WHERE j.supersede = 1 AND r.job_id = ? AND "
                                         "r.ref_id = ? AND r.status = 'queued' AND r.id < ? "
                                         "ORDER BY r.id"));
        sel.bind(1, c.run.job_id).bind(2, c.run.ref_id).bind(3, c.run.id);
        while (true) {
          CB_TRY_ASSIGN(row, sel.step());
          if (!row) break;
          c.superseded.push_back(sel.int64(0));
        }
        CB_TRY_ASSIGN(upd, main_.prepare("UPDATE job_runs SET status = 'superseded', "
                                         "superseded_by = ?, finished_at_ms = ?, status_reason = "
                                         "? WHERE id = ? AND status = 'queued'"));
        for (const auto id : c.superseded) {
          upd.reset();
          upd.bind(1, c.run.id)
              .bind(2, now)
              .bind(3, "superseded by run " + std::to_string(c.run.id))
              .bind(4, id);
          CB_TRY(upd.run());
        }
      }
      out.push_back(std::move(c));
    }
    return out;
  });
}

Result<std::optional<JobRunRecord>> SqliteStore::claim_next_run(
    UnixMillis now, const std::function<std::string(std::int64_t)>& log_path_of) {
  std::lock_guard lock(main_mutex_);
  return transaction<std::optional<JobRunRecord>>(
      main_, [&]() -> Result<std::optional<JobRunRecord>> {
        // Per job with room (fewer running runs than max_concurrent), its oldest queued run;
        // the oldest of those. Each subquery is one seek in the partial index job_runs_active
        // (the repeated `status IN (...)` lets SQLite use it), so a claim costs O(jobs), not
        // O(runs), however long the queue or the history.
        CB_TRY_ASSIGN(
            s, main_.prepare(
                   "SELECT (SELECT r.id FROM job_runs r WHERE r.job_id = j.id AND r.status = "
                   "'queued' AND r.status IN ('queued', 'running') ORDER BY r.id LIMIT 1) AS rid "
                   "FROM jobs j WHERE (SELECT COUNT(*) FROM job_runs x WHERE x.job_id = j.id AND "
                   "x.status = 'running' AND x.status IN ('queued', 'running')) < "
                   "MAX(j.max_concurrent, 1) AND rid IS NOT NULL ORDER BY rid LIMIT 1"));
        CB_TRY_ASSIGN(row, s.step());
        if (!row) return std::optional<JobRunRecord>{};
        const std::int64_t id = s.int64(0);
        CB_TRY_ASSIGN(u, main_.prepare("UPDATE job_runs SET status = 'running', started_at_ms = "
                                       "?, log_path = ? WHERE id = ?"));
        u.bind(1, now).bind(2, log_path_of ? log_path_of(id) : std::string()).bind(3, id);
        CB_TRY(u.run());
        return select_run(main_, id);
      });
}

Result<void> SqliteStore::mark_run_started(std::int64_t run_id, UnixMillis now,
                                           const std::string& log_path) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE job_runs SET status = 'running', started_at_ms = ?, "
                                 "log_path = ? WHERE id = ?"));
  s.bind(1, now).bind(2, log_path).bind(3, run_id);
  return s.run();
}

Result<void> SqliteStore::finish_run(std::int64_t run_id, std::string_view status,
                                     std::optional<int> exit_code, UnixMillis now,
                                     const std::string& output_tail) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE job_runs SET status = ?, exit_code = ?, finished_at_ms = "
                                 "?, output_tail = ?, process_group = NULL, process_start_ticks "
                                 "= NULL, process_boot_id = NULL WHERE id = ?"));
  s.bind(1, status);
  if (exit_code) {
    s.bind(2, *exit_code);
  } else {
    s.bind_null(2);
  }
  s.bind(3, now).bind(4, output_tail).bind(5, run_id);
  return s.run();
}

Result<void> SqliteStore::set_run_reason(std::int64_t run_id, const std::string& reason) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE job_runs SET status_reason = ? WHERE id = ?"));
  s.bind(1, reason).bind(2, run_id);
  return s.run();
}

Result<std::vector<JobRunRecord>> SqliteStore::list_runs(const RunQuery& q) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(
      s, main_.prepare("SELECT " + std::string(kRunColumns) + std::string(kRunJoins) +
                       " WHERE (?1 IS NULL OR j.org_id = ?1) AND (?2 IS NULL OR r.delivery_id = "
                       "?2) AND (?3 IS NULL OR r.id < ?3) AND (?5 IS NULL OR r.job_id = ?5) AND "
                       "(?6 IS NULL OR j.name = ?6) AND (?7 IS NULL OR r.status = ?7) AND (?8 IS "
                       "NULL OR r.branch = ?8) AND (?9 IS NULL OR r.created_at_ms >= ?9) AND "
                       "(?10 IS NULL OR r.created_at_ms < ?10) ORDER BY r.id DESC LIMIT ?4"));
  auto bind_text = [&s](int i, const std::optional<std::string>& v) {
    if (v) {
      s.bind(i, *v);
    } else {
      s.bind_null(i);
    }
  };
  s.bind(1, q.org_id);
  bind_text(2, q.delivery_id);
  s.bind(3, q.before_id).bind(4, static_cast<std::int64_t>(q.limit)).bind(5, q.job_id);
  bind_text(6, q.job_name);
  bind_text(7, q.status);
  bind_text(8, q.branch);
  s.bind(9, q.since).bind(10, q.until);
  return collect_rows<JobRunRecord>(s, read_run);
}

Result<std::optional<JobRunRecord>> SqliteStore::get_run(std::int64_t run_id) {
  std::lock_guard lock(main_mutex_);
  return select_run(main_, run_id);
}

Result<JobRunRecord> SqliteStore::cancel_run(std::int64_t run_id, UnixMillis now,
                                             const std::string& reason) {
  std::lock_guard lock(main_mutex_);
  return transaction<JobRunRecord>(main_, [&]() -> Result<JobRunRecord> {
    CB_TRY_ASSIGN(run, select_run(main_, run_id));
    if (!run) return fail(ErrorCode::not_found, "no run " + std::to_string(run_id));
    if (run->status == kRunQueued) {
      CB_TRY_ASSIGN(u, main_.prepare("UPDATE job_runs SET status = 'cancelled', finished_at_ms = "
                                     "?, status_reason = ? WHERE id = ?"));
      u.bind(1, now).bind(2, reason).bind(3, run_id);
      CB_TRY(u.run());
    } else if (run->status == kRunRunning) {
      CB_TRY_ASSIGN(u, main_.prepare("UPDATE job_runs SET cancel_requested = 1, status_reason = ? "
                                     "WHERE id = ?"));
      u.bind(1, reason).bind(2, run_id);
      CB_TRY(u.run());
    } else {
      return fail(ErrorCode::conflict,
                  "run " + std::to_string(run_id) + " has already finished (" + run->status + ")");
    }
    CB_TRY_ASSIGN(after, select_run(main_, run_id));
    return *after;
  });
}

Result<std::vector<std::int64_t>> SqliteStore::cancel_requested_runs() {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT id FROM job_runs WHERE status = 'running' AND "
                                 "cancel_requested = 1"));
  return collect_rows<std::int64_t>(s, [](const Statement& st) { return st.int64(0); });
}

Result<JobRunRecord> SqliteStore::rerun(std::int64_t run_id, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return transaction<JobRunRecord>(main_, [&]() -> Result<JobRunRecord> {
    CB_TRY_ASSIGN(run, select_run(main_, run_id));
    if (!run) return fail(ErrorCode::not_found, "no run " + std::to_string(run_id));
    return insert_retry(main_, *run, now, "re-run of run " + std::to_string(run_id));
  });
}

Result<std::optional<JobRunRecord>> SqliteStore::requeue_interrupted_run(std::int64_t run_id,
                                                                         UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return transaction<std::optional<JobRunRecord>>(
      main_, [&]() -> Result<std::optional<JobRunRecord>> {
        CB_TRY_ASSIGN(run, select_run(main_, run_id));
        if (!run) return fail(ErrorCode::not_found, "no run " + std::to_string(run_id));
        if (run->status != kRunInterrupted) {
          return fail(ErrorCode::conflict,
                      "run " + std::to_string(run_id) + " is " + run->status + ", not interrupted");
        }
        return requeue_unless_superseded(main_, *run, now);
      });
}

Result<RunRecovery> SqliteStore::recover_runs(UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return transaction<RunRecovery>(main_, [&]() -> Result<RunRecovery> {
    RunRecovery out;
    CB_TRY_ASSIGN(s,
                  main_.prepare("SELECT " + std::string(kRunColumns) + ", j.requeue_interrupted" +
                                std::string(kRunJoins) + " WHERE r.status = 'running'"));
    std::vector<std::pair<JobRunRecord, bool>> running;
    while (true) {
      CB_TRY_ASSIGN(row, s.step());
      if (!row) break;
      running.emplace_back(read_run(s), s.int64(28) != 0);
    }
    CB_TRY_ASSIGN(u,
                  main_.prepare("UPDATE job_runs SET status = 'interrupted', finished_at_ms = ?, "
                                "status_reason = ?, process_group = NULL, process_start_ticks = "
                                "NULL, process_boot_id = NULL WHERE id = ?"));
    for (const auto& [run, requeue] : running) {
      u.reset();
      u.bind(1, now)
          .bind(2, run.cancel_requested ? "cancelled; the server stopped before it ended"
                                        : "the server stopped while the run was in progress")
          .bind(3, run.id);
      CB_TRY(u.run());
      ++out.interrupted;
      if (requeue && !run.cancel_requested) {
        CB_TRY_ASSIGN(again, requeue_unless_superseded(main_, run, now));
        if (again) {
          ++out.requeued;
        } else {
          ++out.not_requeued;
        }
      }
    }
    return out;
  });
}

Result<std::size_t> SqliteStore::rewrap_job_secrets(
    const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap) {
  CB_TRY_ASSIGN(s, main_.prepare("SELECT job_id, position, name, value_sealed FROM "
                                 "job_http_headers"));
  struct Row {
    std::int64_t job_id;
    std::int64_t position;
    std::string name, sealed;
  };
  std::vector<Row> rows;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    rows.push_back(Row{s.int64(0), s.int64(1), s.text(2), s.blob(3)});
  }
  CB_TRY_ASSIGN(u, main_.prepare("UPDATE job_http_headers SET value_sealed = ? WHERE job_id = ? "
                                 "AND position = ?"));
  for (const auto& r : rows) {
    CB_TRY_ASSIGN(sealed, rewrap(r.sealed, job_header_aad(r.name)));
    u.reset();
    u.bind_blob(1, sealed).bind(2, r.job_id).bind(3, r.position);
    CB_TRY(u.run());
  }
  return rows.size();
}

}  // namespace cb::store::sqlite
