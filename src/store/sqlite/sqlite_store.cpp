#include "store/sqlite/sqlite_store.hpp"
#include "core/thread_name.hpp"
#include "store/sqlite/store_helpers.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "store/migrations.hpp"

namespace cb::store::sqlite {
namespace {

namespace json = boost::json;

std::string headers_to_json(const std::vector<Header>& headers) {
  json::array a;
  for (const auto& h : headers)
    a.push_back(json::array{json::string(h.name), json::string(h.value)});
  return json::serialize(a);
}

std::vector<Header> headers_from_json(const std::string& text) {
  std::vector<Header> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.as_array()) {
    if (!item.is_array() || item.as_array().size() != 2) continue;
    const auto& pair = item.as_array();
    if (!pair[0].is_string() || !pair[1].is_string()) continue;
    out.push_back(Header{std::string(pair[0].as_string()), std::string(pair[1].as_string())});
  }
  return out;
}

constexpr std::string_view kTokenColumns =
    "id, org_id, name, type, description, public_id, secret_sealed, secret_sha256, "
    "created_at_ms, created_by, last_used_at_ms, expires_at_ms, revoked_at_ms, "
    "previous_secret_sealed, previous_secret_sha256, previous_valid_until_ms, rotated_at_ms";

TokenRecord read_token(const Statement& s) {
  TokenRecord t;
  t.id = s.int64(0);
  t.org_id = s.int64(1);
  t.name = s.text(2);
  t.type = s.text(3);
  t.description = s.text(4);
  t.public_id = s.text(5);
  t.secret_sealed = s.blob(6);
  t.secret_sha256 = s.blob(7);
  t.created_at_ms = s.int64(8);
  t.created_by = s.text(9);
  t.last_used_at_ms = s.optional_int64(10);
  t.expires_at_ms = s.optional_int64(11);
  t.revoked_at_ms = s.optional_int64(12);
  t.previous_secret_sealed = s.blob(13);
  t.previous_secret_sha256 = s.blob(14);
  t.previous_valid_until_ms = s.optional_int64(15);
  t.rotated_at_ms = s.optional_int64(16);
  return t;
}

/// Bodies claimed in one settle_and_claim call, at most (beyond the first delivery).
constexpr std::size_t kClaimBodyBytes = 4 * 1024 * 1024;

constexpr std::string_view kDeliveryColumns =
    "d.seq, d.delivery_id, d.org_id, o.name, d.endpoint, d.provider, d.event_key, "
    "COALESCE(d.external_id, ''), d.received_at_ms, d.status, d.reason, d.attempts, "
    "d.updated_at_ms";

DeliveryRecord read_delivery(const Statement& s) {
  DeliveryRecord d;
  d.seq = s.int64(0);
  d.delivery_id = s.text(1);
  d.org_id = s.int64(2);
  d.org_name = s.text(3);
  d.endpoint = s.text(4);
  d.provider = s.text(5);
  d.event_key = s.text(6);
  d.external_id = s.text(7);
  d.received_at_ms = s.int64(8);
  d.status = s.text(9);
  d.reason = s.text(10);
  d.attempts = static_cast<int>(s.int64(11));
  d.updated_at_ms = s.int64(12);
  return d;
}

}  // namespace

Result<void> migrate(Connection& db) {
  CB_TRY_ASSIGN(version_stmt, db.prepare("PRAGMA user_version"));
  CB_TRY_ASSIGN(has_row, version_stmt.step());
  const std::int64_t current = has_row ? version_stmt.int64(0) : 0;
  version_stmt.reset();  // an active statement would make DROP TABLE in a migration fail
  // SQLite's procedure for schema changes: foreign keys are not enforced while a migration
  // rebuilds a table (dropping a parent table would otherwise delete its children through ON
  // DELETE CASCADE), and are checked before the migration commits. The pragma has no effect
  // inside a transaction, so it is set around them.
  CB_TRY(db.exec("PRAGMA foreign_keys = OFF"));
  auto apply = [&](const Migration& m) -> Result<void> {
    CB_TRY(db.exec("BEGIN IMMEDIATE"));
    auto applied = db.exec(m.sql);
    if (applied) {
      auto check = db.prepare("PRAGMA foreign_key_check");
      if (!check) {
        applied = std::unexpected(check.error());
      } else if (auto row = check->step(); !row) {
        applied = std::unexpected(row.error());
      } else if (*row) {
        applied = fail(ErrorCode::internal, "the store could not be upgraded",
                       "foreign key violation in table " + check->text(0) + " (rowid " +
                           std::to_string(check->int64(1)) + ")");
      }
    }
    if (applied) applied = db.exec("PRAGMA user_version = " + std::to_string(m.version));
    if (!applied) {
      (void)db.exec("ROLLBACK");
      Error e = applied.error();
      e.detail = "migration " + std::string(m.name) + ": " + e.detail;
      return std::unexpected(std::move(e));
    }
    return db.exec("COMMIT");
  };
  Result<void> result;
  for (const auto& m : embedded_migrations()) {
    if (m.version <= current) continue;
    result = apply(m);
    if (!result) break;
  }
  CB_TRY(db.exec("PRAGMA foreign_keys = ON"));
  return result;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::filesystem::path& file,
                                                       WriterOptions options) {
  CB_TRY_ASSIGN(main, Connection::open(file));
  CB_TRY(migrate(main));
  CB_TRY_ASSIGN(writer, Connection::open(file));
  // The writer's page cache: 16 MiB at most (SQLite's default is 2 MiB), so that the index pages
  // every group commit changes stay in memory instead of being read again from the file.
  CB_TRY(writer.exec("PRAGMA cache_size = -16384"));
  CB_TRY_ASSIGN(epoch, Connection::open(file));
  CB_TRY_ASSIGN(checkpoint, Connection::open(file));
  CB_TRY_ASSIGN(payloads, Connection::open(file));
  auto token_changes = SharedCounter::open(std::filesystem::path(file.string() + "-epoch"));
  if (!token_changes) {
    spdlog::debug(
        "no shared token change counter next to {}: the token epoch is read from the "
        "database on every lookup",
        file.string());
  }
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(std::move(main), std::move(writer), std::move(epoch), std::move(checkpoint),
                      std::move(payloads), std::move(token_changes), options));
}

SqliteStore::SqliteStore(Connection main, Connection writer, Connection epoch,
                         Connection checkpoint, Connection payloads,
                         std::unique_ptr<SharedCounter> token_changes, WriterOptions options)
    : options_(options),
      main_(std::move(main)),
      writer_conn_(std::move(writer)),
      token_changes_(std::move(token_changes)),
      payload_conn_(std::move(payloads)),
      epoch_conn_(std::move(epoch)),
      checkpoint_conn_(std::move(checkpoint)) {
  // These hooks replace SQLite's automatic checkpoints of the two writing connections.
  sqlite3_update_hook(main_.handle(), &SqliteStore::on_main_update, this);
  sqlite3_rollback_hook(main_.handle(), &SqliteStore::on_main_rollback, this);
  sqlite3_wal_hook(main_.handle(), &SqliteStore::on_main_wal_commit, this);
  sqlite3_wal_hook(writer_conn_.handle(), &SqliteStore::on_writer_wal_commit, this);
  checkpointer_ = std::thread([this] {
    set_thread_name("cb-checkpoint");
    checkpoint_loop();
  });
  writer_ = std::thread([this] {
    set_thread_name("cb-writer");
    writer_loop();
  });
}

void SqliteStore::request_checkpoint(int pages) {
  if (pages < kCheckpointPages) return;
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_wanted_ = true;
  }
  checkpoint_cv_.notify_one();
}

int SqliteStore::on_writer_wal_commit(void* self, sqlite3* /*db*/, const char* /*name*/,
                                      int pages) {
  static_cast<SqliteStore*>(self)->request_checkpoint(pages);
  return SQLITE_OK;
}

void SqliteStore::checkpoint_loop() {
  while (true) {
    {
      std::unique_lock lock(checkpoint_mutex_);
      checkpoint_cv_.wait(lock, [this] { return checkpoint_wanted_ || checkpoint_stopping_; });
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
    }
    int log = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(checkpoint_conn_.handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("WAL checkpoint failed: {}", sqlite3_errmsg(checkpoint_conn_.handle()));
    }
  }
}

void SqliteStore::on_main_update(void* self, int /*op*/, const char* /*db*/, const char* table,
                                 sqlite3_int64 /*rowid*/) {
  // Also called for the rows that triggers change: the token_epoch row of meta.
  if (table != nullptr && std::string_view(table) == "meta") {
    static_cast<SqliteStore*>(self)->meta_changed_ = true;
  }
}

void SqliteStore::on_main_rollback(void* self) {
  static_cast<SqliteStore*>(self)->meta_changed_ = false;
}

int SqliteStore::on_main_wal_commit(void* self, sqlite3* db, const char* name, int pages) {
  // Called after a commit in WAL mode, once it is visible to new readers.
  auto* store = static_cast<SqliteStore*>(self);
  if (store->meta_changed_) {
    store->meta_changed_ = false;
    if (store->token_changes_) store->token_changes_->bump();
  }
  (void)db;
  (void)name;
  store->request_checkpoint(pages);
  return SQLITE_OK;
}

SqliteStore::~SqliteStore() { close(); }

void SqliteStore::close() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(checkpoint_mutex_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void SqliteStore::persist_delivery(NewDelivery delivery,
                                   std::function<void(Result<PersistOutcome>)> done) {
  std::string headers_json = headers_to_json(delivery.headers);  // here, not on the writer
  std::optional<Error> refused;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) {
      refused = make_error(ErrorCode::store_unavailable, "the server is shutting down");
    } else if (queue_.size() >= options_.max_queue) {
      refused = make_error(ErrorCode::queue_full, "the write queue is full; retry shortly");
    } else {
      queue_.push_back(Pending{std::move(delivery), std::move(headers_json), std::move(done)});
    }
  }
  if (refused) {
    done(std::unexpected(std::move(*refused)));  // outside the lock: it may call the store
    return;
  }
  queue_cv_.notify_one();
}

void SqliteStore::writer_loop() {
  std::deque<Pending> batch;
  std::vector<Settle*> settles;
  while (true) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || !settles_.empty(); });
      if (queue_.empty() && settles_.empty() && stopping_) {
        writer_done_ = true;
        return;
      }
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      settles.swap(settles_);
    }
    commit_batch(batch, settles);
    batch.clear();
    settles.clear();
  }
}

Result<std::vector<DeliveryRecord>> SqliteStore::settle_and_claim(
    const std::vector<DeliveryOutcome>& outcomes, UnixMillis now, std::size_t max) {
  Settle settle{&outcomes, now, max, {}};
  auto result = settle.result.get_future();
  {
    std::lock_guard lock(queue_mutex_);
    if (writer_done_) return fail(ErrorCode::store_unavailable, "the store is closed");
    settles_.push_back(&settle);
  }
  queue_cv_.notify_one();
  auto claimed = result.get();
  if (!claimed || claimed->empty()) return claimed;
  if (auto loaded = load_payloads(*claimed); !loaded) {
    // Give the claims back rather than leave them `processing` until the next restart.
    std::vector<DeliveryOutcome> releases;
    for (const auto& d : *claimed) {
      releases.push_back(DeliveryOutcome{d.delivery_id, "", "", now, 0, true});
    }
    (void)settle_and_claim(releases, now, 0);
    return std::unexpected(loaded.error());
  }
  return claimed;
}

Result<void> SqliteStore::load_payloads(std::vector<DeliveryRecord>& deliveries) {
  std::lock_guard lock(payload_mutex_);
  CB_TRY_ASSIGN(
      s, payload_conn_.prepare("SELECT headers_json, body FROM delivery_payloads WHERE seq = ?"));
  for (auto& d : deliveries) {
    s.reset();
    s.bind(1, d.seq);
    CB_TRY_ASSIGN(row, s.step());
    if (!row) {
      return fail(ErrorCode::internal, "claimed delivery has no payload row",
                  "delivery " + d.delivery_id + " (seq " + std::to_string(d.seq) + ")");
    }
    d.headers = headers_from_json(s.text(0));
    d.body = s.blob(1);
  }
  s.reset();  // ends the read transaction
  return {};
}

Result<std::vector<DeliveryRecord>> SqliteStore::settle_on_writer(const Settle& settle) {
  if (!settle.outcomes->empty()) {
    CB_TRY_ASSIGN(finish, writer_conn_.prepare("UPDATE deliveries SET status = ?, reason = ?, "
                                               "updated_at_ms = ?, next_attempt_ms = ? WHERE "
                                               "delivery_id = ?"));
    CB_TRY_ASSIGN(release,
                  writer_conn_.prepare("UPDATE deliveries SET status = 'queued', attempts = "
                                       "MAX(attempts - 1, 0), updated_at_ms = ? WHERE "
                                       "delivery_id = ? AND status = 'processing'"));
    for (const auto& o : *settle.outcomes) {
      if (o.release) {
        release.reset();
        release.bind(1, o.updated_at_ms).bind(2, o.delivery_id);
        CB_TRY(release.run());
      } else {
        finish.reset();
        finish.bind(1, o.status)
            .bind(2, o.reason)
            .bind(3, o.updated_at_ms)
            .bind(4, o.next_attempt_ms)
            .bind(5, o.delivery_id);
        CB_TRY(finish.run());
      }
    }
  }
  std::vector<DeliveryRecord> claimed;
  if (settle.max == 0) return claimed;
  {
    // The repeated status term lets SQLite use the partial index deliveries_open (migration
    // 0012): it reads the open deliveries in seq order instead of the whole table.
    CB_TRY_ASSIGN(s,
                  writer_conn_.prepare("SELECT " + std::string(kDeliveryColumns) +
                                       ", length(p.body) FROM deliveries d JOIN orgs "
                                       "o ON o.id = d.org_id JOIN delivery_payloads p ON "
                                       "p.seq = d.seq WHERE d.status IN ('queued', 'processing') "
                                       "AND d.status = 'queued' AND d.next_attempt_ms <= ? "
                                       "ORDER BY d.seq LIMIT ?"));
    s.bind(1, settle.now).bind(2, static_cast<std::int64_t>(settle.max));
    std::size_t body_bytes = 0;
    while (body_bytes < kClaimBodyBytes) {
      CB_TRY_ASSIGN(row, s.step());
      if (!row) break;
      body_bytes += static_cast<std::size_t>(s.int64(13));  // the length only: no blob read
      claimed.push_back(read_delivery(s));
    }
  }  // the scan ends before its rows change
  CB_TRY_ASSIGN(u, writer_conn_.prepare("UPDATE deliveries SET status = 'processing', attempts = "
                                        "attempts + 1, updated_at_ms = ? WHERE seq = ?"));
  for (auto& d : claimed) {
    u.reset();
    u.bind(1, settle.now).bind(2, d.seq);
    CB_TRY(u.run());
    d.status = kStatusProcessing;
    d.attempts += 1;
    d.updated_at_ms = settle.now;
  }
  return claimed;
}

void SqliteStore::commit_batch(std::deque<Pending>& batch, std::vector<Settle*>& settles) {
  std::vector<Result<PersistOutcome>> outcomes;
  outcomes.reserve(batch.size());
  std::vector<Result<std::vector<DeliveryRecord>>> settled;
  settled.reserve(settles.size());
  auto fail_all = [&](const Error& e) {
    outcomes.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) outcomes.emplace_back(std::unexpected(e));
    settled.clear();
    for (std::size_t i = 0; i < settles.size(); ++i) settled.emplace_back(std::unexpected(e));
  };
  // `isolated`: one savepoint per delivery and per worker call, so that one that cannot be
  // stored fails alone instead of rolling back the whole batch. A batch is first tried without
  // them (they cost about a tenth of the writer's time), and again with them only if one of its
  // deliveries or worker calls failed (not when the transaction itself could not begin or end).
  bool item_failed = false;
  auto work = [&](bool isolated) -> Result<void> {
    outcomes.clear();
    settled.clear();
    CB_TRY(writer_conn_.exec("BEGIN IMMEDIATE"));
    CB_TRY_ASSIGN(insert, writer_conn_.prepare(
                              "INSERT INTO deliveries (delivery_id, org_id, endpoint, provider, "
                              "event_key, external_id, received_at_ms, status, reason, "
                              "updated_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?) "
                              "ON CONFLICT (org_id, endpoint, external_id) DO NOTHING"));
    CB_TRY_ASSIGN(insert_payload, writer_conn_.prepare("INSERT INTO delivery_payloads (seq, "
                                                       "headers_json, body) VALUES (?,?,?)"));
    CB_TRY_ASSIGN(existing, writer_conn_.prepare(
                                "SELECT delivery_id, status FROM deliveries WHERE org_id = ? "
                                "AND endpoint = ? AND external_id = ?"));
    // One savepoint per delivery: a delivery that cannot be stored fails alone instead of
    // rolling back the whole batch.
    auto store_one = [&](const NewDelivery& d,
                         const std::string& headers_json) -> Result<PersistOutcome> {
      insert.reset();
      insert.bind(1, d.delivery_id)
          .bind(2, d.org_id)
          .bind(3, d.endpoint)
          .bind(4, d.provider)
          .bind(5, d.event_key)
          .bind_or_null(6, d.external_id)
          .bind(7, d.received_at_ms)
          .bind(8, d.status)
          .bind(9, d.reason)
          .bind(10, d.received_at_ms);
      CB_TRY(insert.run());
      if (writer_conn_.changes() == 1) {
        insert_payload.reset();
        insert_payload.bind(1, writer_conn_.last_insert_rowid())
            .bind(2, headers_json)
            .bind_blob(3, d.body);
        CB_TRY(insert_payload.run());
        return PersistOutcome{d.delivery_id, false, d.status};
      }
      existing.reset();
      existing.bind(1, d.org_id).bind(2, d.endpoint).bind(3, d.external_id);
      CB_TRY_ASSIGN(row, existing.step());
      if (!row) return fail(ErrorCode::internal, "delivery conflict without a row");
      PersistOutcome dup{existing.text(0), true, existing.text(1)};
      existing.reset();
      return dup;
    };
    for (auto& p : batch) {
      if (!isolated) {
        auto one = store_one(p.delivery, p.headers_json);
        if (!one) {
          item_failed = true;
          return std::unexpected(one.error());
        }
        outcomes.emplace_back(std::move(*one));
        continue;
      }
      CB_TRY(writer_conn_.exec("SAVEPOINT delivery"));
      auto one = store_one(p.delivery, p.headers_json);
      if (!one) {
        CB_TRY(writer_conn_.exec("ROLLBACK TO delivery"));
        spdlog::error("delivery {} not stored: {}", p.delivery.delivery_id, one.error().detail);
        outcomes.emplace_back(fail(ErrorCode::store_unavailable,
                                   "the store could not commit the delivery; retry shortly",
                                   one.error().detail));
      } else {
        outcomes.emplace_back(std::move(*one));
      }
      CB_TRY(writer_conn_.exec("RELEASE delivery"));
    }
    // The worker's outcomes and claims, after the new deliveries so that it can claim them at
    // once; each call fails alone.
    for (Settle* settle : settles) {
      if (!isolated) {
        auto one = settle_on_writer(*settle);
        if (!one) {
          item_failed = true;
          return std::unexpected(one.error());
        }
        settled.emplace_back(std::move(*one));
        continue;
      }
      CB_TRY(writer_conn_.exec("SAVEPOINT settle"));
      auto one = settle_on_writer(*settle);
      if (!one) {
        CB_TRY(writer_conn_.exec("ROLLBACK TO settle"));
        settled.emplace_back(fail(ErrorCode::store_unavailable,
                                  "the store could not record the worker's progress",
                                  one.error().detail));
      } else {
        settled.emplace_back(std::move(*one));
      }
      CB_TRY(writer_conn_.exec("RELEASE settle"));
    }
    return writer_conn_.exec("COMMIT");
  };
  auto r = work(false);
  if (!r && item_failed) {
    (void)writer_conn_.exec("ROLLBACK");
    r = work(true);
  }
  if (!r) {
    (void)writer_conn_.exec("ROLLBACK");
    spdlog::error("group commit of {} deliveries and {} worker calls failed: {}", batch.size(),
                  settles.size(), r.error().detail);
    fail_all(make_error(ErrorCode::store_unavailable,
                        "the store could not commit the delivery; retry shortly",
                        r.error().detail));
  }
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(outcomes[i]));
  for (std::size_t i = 0; i < settles.size(); ++i)
    settles[i]->result.set_value(std::move(settled[i]));
}

Result<OrgRecord> SqliteStore::create_org(const std::string& name, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("INSERT INTO orgs (name, created_at_ms) VALUES (?, ?)"));
  s.bind(1, name).bind(2, now);
  if (auto r = s.run(); !r) {
    if (r.error().code == ErrorCode::conflict) {
      return fail(ErrorCode::conflict, "org '" + name + "' already exists");
    }
    return std::unexpected(r.error());
  }
  return OrgRecord{main_.last_insert_rowid(), name, now};
}

Result<std::optional<OrgRecord>> SqliteStore::find_org(const std::string& name) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(
      s, main_.prepare("SELECT id, name, created_at_ms FROM orgs WHERE name = ? AND deleted_at_ms "
                       "IS NULL"));
  s.bind(1, name);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<OrgRecord>{};
  return std::optional<OrgRecord>{OrgRecord{s.int64(0), s.text(1), s.int64(2)}};
}

Result<std::vector<OrgRecord>> SqliteStore::list_orgs() {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(
      s, main_.prepare("SELECT id, name, created_at_ms FROM orgs WHERE deleted_at_ms IS NULL ORDER "
                       "BY name"));
  return collect_rows<OrgRecord>(s, [](const Statement& r) {
    return OrgRecord{r.int64(0), r.text(1), r.int64(2)};
  });
}

Result<TokenRecord> SqliteStore::create_token(const TokenRecord& t) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("INSERT INTO tokens (org_id, name, type, description, public_id, "
                                 "secret_sealed, secret_sha256, created_at_ms, created_by, "
                                 "expires_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, t.org_id).bind(2, t.name).bind(3, t.type).bind(4, t.description).bind(5, t.public_id);
  if (t.secret_sealed.empty()) {
    s.bind_null(6);
  } else {
    s.bind_blob(6, t.secret_sealed);
  }
  if (t.secret_sha256.empty()) {
    s.bind_null(7);
  } else {
    s.bind_blob(7, t.secret_sha256);
  }
  s.bind(8, t.created_at_ms).bind(9, t.created_by).bind(10, t.expires_at_ms);
  if (auto r = s.run(); !r) {
    if (r.error().code == ErrorCode::conflict) {
      return fail(ErrorCode::conflict, "a token named '" + t.name + "' already exists in this org");
    }
    return std::unexpected(r.error());
  }
  TokenRecord out = t;
  out.id = main_.last_insert_rowid();
  return out;
}

Result<std::vector<TokenRecord>> SqliteStore::list_tokens(std::int64_t org_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kTokenColumns) +
                                 " FROM tokens WHERE org_id = ? ORDER BY name"));
  s.bind(1, org_id);
  return collect_rows<TokenRecord>(s, read_token);
}

Result<TokenRecord> SqliteStore::revoke_token(std::int64_t org_id, const std::string& name,
                                              UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(u, main_.prepare("UPDATE tokens SET revoked_at_ms = COALESCE(revoked_at_ms, ?) "
                                 "WHERE org_id = ? AND name = ?"));
  u.bind(1, now).bind(2, org_id).bind(3, name);
  CB_TRY(u.run());
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kTokenColumns) +
                                 " FROM tokens WHERE org_id = ? AND name = ?"));
  s.bind(1, org_id).bind(2, name);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return fail(ErrorCode::not_found, "no token named '" + name + "' in this org");
  return read_token(s);
}

Result<std::optional<DeliveryRecord>> SqliteStore::claim_next_delivery(UnixMillis now) {
  CB_TRY_ASSIGN(claimed, settle_and_claim({}, now, 1));
  if (claimed.empty()) return std::optional<DeliveryRecord>{};
  return std::optional<DeliveryRecord>{std::move(claimed.front())};
}

Result<void> SqliteStore::finish_delivery(const std::string& delivery_id, std::string_view status,
                                          const std::string& reason, UnixMillis now,
                                          UnixMillis next_attempt_ms) {
  const std::vector<DeliveryOutcome> outcome{
      DeliveryOutcome{delivery_id, std::string(status), reason, now, next_attempt_ms, false}};
  CB_TRY(settle_and_claim(outcome, now, 0));
  return {};
}

Result<int> SqliteStore::recover_after_restart(UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  CB_TRY(main_.exec("BEGIN IMMEDIATE"));
  auto work = [&]() -> Result<int> {
    // The repeated status term: see settle_on_writer.
    CB_TRY_ASSIGN(d, main_.prepare("UPDATE deliveries SET status = 'queued', updated_at_ms = ? "
                                   "WHERE status IN ('queued', 'processing') AND status = "
                                   "'processing'"));
    d.bind(1, now);
    CB_TRY(d.run());
    const int requeued = main_.changes();
    CB_TRY_ASSIGN(r, main_.prepare("UPDATE job_runs SET status = 'interrupted', finished_at_ms = ? "
                                   "WHERE status = 'running'"));
    r.bind(1, now);
    CB_TRY(r.run());
    return requeued;
  };
  auto r = work();
  if (!r) {
    (void)main_.exec("ROLLBACK");
    return r;
  }
  CB_TRY(main_.exec("COMMIT"));
  return r;
}

Result<std::vector<DeliveryRecord>> SqliteStore::list_deliveries(const DeliveryQuery& q) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kDeliveryColumns) +
                                 " FROM deliveries d JOIN orgs o ON o.id = d.org_id WHERE "
                                 "(?1 IS NULL OR d.org_id = ?1) AND (?2 IS NULL OR d.seq < ?2) "
                                 "ORDER BY d.seq DESC LIMIT ?3"));
  s.bind(1, q.org_id).bind(2, q.before_seq).bind(3, static_cast<std::int64_t>(q.limit));
  return collect_rows<DeliveryRecord>(s, read_delivery);
}

Result<std::optional<DeliveryRecord>> SqliteStore::get_delivery(const std::string& delivery_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kDeliveryColumns) +
                                 ", p.headers_json, p.body FROM deliveries d JOIN orgs o ON "
                                 "o.id = d.org_id JOIN delivery_payloads p ON p.seq = d.seq "
                                 "WHERE d.delivery_id = ?"));
  s.bind(1, delivery_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<DeliveryRecord>{};
  DeliveryRecord d = read_delivery(s);
  d.headers = headers_from_json(s.text(13));
  d.body = s.blob(14);
  return std::optional<DeliveryRecord>{std::move(d)};
}

Result<std::int64_t> SqliteStore::pending_deliveries() {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', "
                                 "'processing')"));
  CB_TRY_ASSIGN(row, s.step());
  return row ? s.int64(0) : 0;
}

template <class T, class F>
Result<T> SqliteStore::in_transaction(F&& work) {
  CB_TRY(main_.exec("BEGIN IMMEDIATE"));
  Result<T> r = work();
  if (!r) {
    (void)main_.exec("ROLLBACK");
    return r;
  }
  CB_TRY(main_.exec("COMMIT"));
  return r;
}

Result<std::vector<OrgRecord>> SqliteStore::list_orgs_page(const PageQuery& page) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT id, name, created_at_ms FROM orgs WHERE deleted_at_ms IS "
                                 "NULL AND id > ? ORDER BY id LIMIT ?"));
  s.bind(1, page.after_id).bind(2, static_cast<std::int64_t>(page.limit));
  return collect_rows<OrgRecord>(s, [](const Statement& r) {
    return OrgRecord{r.int64(0), r.text(1), r.int64(2)};
  });
}

Result<void> SqliteStore::delete_org(std::int64_t org_id, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return in_transaction<void>([&]() -> Result<void> {
    // '#' is not allowed in org names, so the freed name can be reused by a new org.
    CB_TRY_ASSIGN(d, main_.prepare("UPDATE orgs SET deleted_at_ms = ?, name = name || '#deleted-' "
                                   "|| id WHERE id = ? AND deleted_at_ms IS NULL"));
    d.bind(1, now).bind(2, org_id);
    CB_TRY(d.run());
    if (main_.changes() != 1) return fail(ErrorCode::not_found, "no such org");
    CB_TRY_ASSIGN(t, main_.prepare("UPDATE tokens SET revoked_at_ms = ? WHERE org_id = ? AND "
                                   "revoked_at_ms IS NULL"));
    t.bind(1, now).bind(2, org_id);
    return t.run();
  });
}

Result<std::vector<TokenRecord>> SqliteStore::list_tokens_page(std::int64_t org_id,
                                                               const PageQuery& page) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kTokenColumns) +
                                 " FROM tokens WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?"));
  s.bind(1, org_id).bind(2, page.after_id).bind(3, static_cast<std::int64_t>(page.limit));
  return collect_rows<TokenRecord>(s, read_token);
}

Result<std::optional<TokenRecord>> SqliteStore::find_token(const std::string& public_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kTokenColumns) +
                                 " FROM tokens WHERE public_id = ?"));
  s.bind(1, public_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<TokenRecord>{};
  return std::optional<TokenRecord>{read_token(s)};
}

Result<TokenRecord> SqliteStore::revoke_token_by_id(std::int64_t token_id, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(u, main_.prepare("UPDATE tokens SET revoked_at_ms = COALESCE(revoked_at_ms, ?) "
                                 "WHERE id = ?"));
  u.bind(1, now).bind(2, token_id);
  CB_TRY(u.run());
  CB_TRY_ASSIGN(
      s, main_.prepare("SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?"));
  s.bind(1, token_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return fail(ErrorCode::not_found, "no such token");
  return read_token(s);
}

Result<TokenRecord> SqliteStore::rotate_token(std::int64_t token_id,
                                              const std::string& secret_sealed,
                                              const std::string& secret_sha256,
                                              UnixMillis previous_valid_until, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  return in_transaction<TokenRecord>([&]() -> Result<TokenRecord> {
    CB_TRY_ASSIGN(
        u, main_.prepare("UPDATE tokens SET previous_secret_sealed = secret_sealed, "
                         "previous_secret_sha256 = secret_sha256, previous_valid_until_ms = ?, "
                         "secret_sealed = ?, secret_sha256 = ?, rotated_at_ms = ? WHERE id = ? "
                         "AND revoked_at_ms IS NULL"));
    u.bind(1, previous_valid_until);
    if (secret_sealed.empty()) {
      u.bind_null(2);
    } else {
      u.bind_blob(2, secret_sealed);
    }
    if (secret_sha256.empty()) {
      u.bind_null(3);
    } else {
      u.bind_blob(3, secret_sha256);
    }
    u.bind(4, now).bind(5, token_id);
    CB_TRY(u.run());
    if (main_.changes() != 1) {
      return fail(ErrorCode::not_found, "no such token, or it is revoked");
    }
    CB_TRY_ASSIGN(
        s, main_.prepare("SELECT " + std::string(kTokenColumns) + " FROM tokens WHERE id = ?"));
    s.bind(1, token_id);
    CB_TRY_ASSIGN(row, s.step());
    if (!row) return fail(ErrorCode::not_found, "no such token");
    return read_token(s);
  });
}

Result<void> SqliteStore::touch_tokens(
    const std::vector<std::pair<std::int64_t, UnixMillis>>& uses) {
  if (uses.empty()) return {};
  std::lock_guard lock(main_mutex_);
  return in_transaction<void>([&]() -> Result<void> {
    CB_TRY_ASSIGN(t, main_.prepare("UPDATE tokens SET last_used_at_ms = MAX(COALESCE("
                                   "last_used_at_ms, 0), ?) WHERE id = ?"));
    CB_TRY_ASSIGN(a, main_.prepare("UPDATE admin_tokens SET last_used_at_ms = MAX(COALESCE("
                                   "last_used_at_ms, 0), ?) WHERE id = ?"));
    for (const auto& [id, at] : uses) {
      // Admin token ids are negated by the caller so that one batch can carry both kinds.
      auto& stmt = id >= 0 ? t : a;
      stmt.reset();
      stmt.bind(1, at).bind(2, id >= 0 ? id : -id);
      CB_TRY(stmt.run());
    }
    return {};
  });
}

Result<std::int64_t> SqliteStore::token_epoch() {
  // Both taken before the read: a change committed meanwhile makes the next call read again.
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(epoch_mutex_);
  const std::uint64_t changes = token_changes_ ? token_changes_->load() : 0;
  if (token_changes_ && epoch_cached_ && changes == epoch_changes_ &&
      now - epoch_read_at_ < kEpochRecheck) {
    return epoch_value_;
  }
  CB_TRY_ASSIGN(s, epoch_conn_.prepare("SELECT value FROM meta WHERE key = 'token_epoch'"));
  CB_TRY_ASSIGN(row, s.step());
  const std::int64_t epoch = row ? s.int64(0) : 0;
  epoch_cached_ = true;
  epoch_changes_ = changes;
  epoch_value_ = epoch;
  epoch_read_at_ = now;
  return epoch;
}

namespace {
constexpr std::string_view kAdminTokenColumns =
    "id, name, public_id, secret_sha256, created_at_ms, created_by, last_used_at_ms, "
    "expires_at_ms, revoked_at_ms";

AdminTokenRecord read_admin_token(const Statement& s) {
  AdminTokenRecord t;
  t.id = s.int64(0);
  t.name = s.text(1);
  t.public_id = s.text(2);
  t.secret_sha256 = s.blob(3);
  t.created_at_ms = s.int64(4);
  t.created_by = s.text(5);
  t.last_used_at_ms = s.optional_int64(6);
  t.expires_at_ms = s.optional_int64(7);
  t.revoked_at_ms = s.optional_int64(8);
  return t;
}

AuditEvent read_audit(const Statement& s) {
  AuditEvent e;
  e.id = s.int64(0);
  e.org_id = s.optional_int64(1);
  e.actor = s.text(2);
  e.action = s.text(3);
  e.target = s.text(4);
  e.detail = s.text(5);
  e.remote_address = s.text(6);
  e.created_at_ms = s.int64(7);
  return e;
}
}  // namespace

Result<AdminTokenRecord> SqliteStore::create_admin_token(const AdminTokenRecord& t) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("INSERT INTO admin_tokens (name, public_id, secret_sha256, "
                                 "created_at_ms, created_by, expires_at_ms) VALUES (?,?,?,?,?,?)"));
  s.bind(1, t.name)
      .bind(2, t.public_id)
      .bind_blob(3, t.secret_sha256)
      .bind(4, t.created_at_ms)
      .bind(5, t.created_by)
      .bind(6, t.expires_at_ms);
  if (auto r = s.run(); !r) {
    if (r.error().code == ErrorCode::conflict) {
      return fail(ErrorCode::conflict, "an admin token named '" + t.name + "' already exists");
    }
    return std::unexpected(r.error());
  }
  AdminTokenRecord out = t;
  out.id = main_.last_insert_rowid();
  return out;
}

Result<std::optional<AdminTokenRecord>> SqliteStore::find_admin_token(
    const std::string& public_id) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kAdminTokenColumns) +
                                 " FROM admin_tokens WHERE public_id = ?"));
  s.bind(1, public_id);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<AdminTokenRecord>{};
  return std::optional<AdminTokenRecord>{read_admin_token(s)};
}

Result<std::vector<AdminTokenRecord>> SqliteStore::list_admin_tokens() {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kAdminTokenColumns) +
                                 " FROM admin_tokens ORDER BY id"));
  return collect_rows<AdminTokenRecord>(s, read_admin_token);
}

Result<AdminTokenRecord> SqliteStore::revoke_admin_token(const std::string& name, UnixMillis now) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(u, main_.prepare("UPDATE admin_tokens SET revoked_at_ms = COALESCE(revoked_at_ms, "
                                 "?) WHERE name = ?"));
  u.bind(1, now).bind(2, name);
  CB_TRY(u.run());
  CB_TRY_ASSIGN(s, main_.prepare("SELECT " + std::string(kAdminTokenColumns) +
                                 " FROM admin_tokens WHERE name = ?"));
  s.bind(1, name);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return fail(ErrorCode::not_found, "no admin token named '" + name + "'");
  return read_admin_token(s);
}

Result<AuditEvent> SqliteStore::append_audit(const AuditEvent& e) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("INSERT INTO audit_events (org_id, actor, action, target, "
                                 "detail, remote_address, created_at_ms) VALUES (?,?,?,?,?,?,?)"));
  s.bind(1, e.org_id)
      .bind(2, e.actor)
      .bind(3, e.action)
      .bind(4, e.target)
      .bind(5, e.detail)
      .bind(6, e.remote_address)
      .bind(7, e.created_at_ms);
  CB_TRY(s.run());
  AuditEvent out = e;
  out.id = main_.last_insert_rowid();
  return out;
}

Result<std::vector<AuditEvent>> SqliteStore::list_audit(std::optional<std::int64_t> org_id,
                                                        std::optional<std::int64_t> before_id,
                                                        std::size_t limit) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT id, org_id, actor, action, target, detail, "
                                 "remote_address, created_at_ms FROM audit_events WHERE "
                                 "((?1 IS NULL AND org_id IS NULL) OR org_id = ?1) AND (?2 IS "
                                 "NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"));
  s.bind(1, org_id).bind(2, before_id).bind(3, static_cast<std::int64_t>(limit));
  return collect_rows<AuditEvent>(s, read_audit);
}

Result<std::size_t> SqliteStore::rewrap_secrets(
    const std::function<Result<std::string>(const std::string&, const std::string&)>& rewrap,
    const std::string& key_fingerprint) {
  std::lock_guard lock(main_mutex_);
  return in_transaction<std::size_t>([&]() -> Result<std::size_t> {
    CB_TRY_ASSIGN(s, main_.prepare("SELECT id, public_id, secret_sealed, previous_secret_sealed "
                                   "FROM tokens WHERE secret_sealed IS NOT NULL OR "
                                   "previous_secret_sealed IS NOT NULL"));
    struct Row {
      std::int64_t id;
      std::string public_id, current, previous;
    };
    std::vector<Row> rows;
    while (true) {
      CB_TRY_ASSIGN(row, s.step());
      if (!row) break;
      rows.push_back(Row{s.int64(0), s.text(1), s.blob(2), s.blob(3)});
    }
    CB_TRY_ASSIGN(u, main_.prepare("UPDATE tokens SET secret_sealed = ?, previous_secret_sealed = "
                                   "? WHERE id = ?"));
    std::size_t count = 0;
    for (const auto& r : rows) {
      std::string current, previous;
      if (!r.current.empty()) {
        CB_TRY_ASSIGN(c, rewrap(r.current, r.public_id));
        current = std::move(c);
        ++count;
      }
      if (!r.previous.empty()) {
        CB_TRY_ASSIGN(p, rewrap(r.previous, r.public_id));
        previous = std::move(p);
        ++count;
      }
      u.reset();
      if (current.empty()) {
        u.bind_null(1);
      } else {
        u.bind_blob(1, current);
      }
      if (previous.empty()) {
        u.bind_null(2);
      } else {
        u.bind_blob(2, previous);
      }
      u.bind(3, r.id);
      CB_TRY(u.run());
    }
    CB_TRY_ASSIGN(alm, rewrap_alm_secrets(rewrap));
    count += alm;
    CB_TRY_ASSIGN(repositories, rewrap_repository_secrets(rewrap));
    count += repositories;
    CB_TRY_ASSIGN(job_secrets, rewrap_job_secrets(rewrap));  // sqlite_store_jobs.cpp
    count += job_secrets;
    CB_TRY_ASSIGN(m, main_.prepare("INSERT INTO meta (key, value) VALUES ('key_fingerprint', ?) ON "
                                   "CONFLICT (key) DO UPDATE SET value = excluded.value"));
    m.bind(1, key_fingerprint);
    CB_TRY(m.run());
    return count;
  });
}

Result<std::optional<std::string>> SqliteStore::meta(const std::string& key) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT value FROM meta WHERE key = ?"));
  s.bind(1, key);
  CB_TRY_ASSIGN(row, s.step());
  if (!row) return std::optional<std::string>{};
  return std::optional<std::string>{s.text(0)};
}

Result<void> SqliteStore::set_meta(const std::string& key, const std::string& value) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) "
                                 "DO UPDATE SET value = excluded.value"));
  s.bind(1, key).bind(2, value);
  return s.run();
}

}  // namespace cb::store::sqlite
