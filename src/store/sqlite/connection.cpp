#include "store/sqlite/connection.hpp"

#include <chrono>
#include <string>
#include <thread>

namespace cb::store::sqlite {

namespace {

/// Longest wait for a lock held by another connection before SQLITE_BUSY is returned.
constexpr auto kBusyTimeout = std::chrono::seconds(10);

}  // namespace

namespace {

/// sqlite3_busy_handler callback: 0.1 ms polls for the first 2 ms, then 1 ms polls, until
/// kBusyTimeout. Returns 0 (give up: SQLITE_BUSY) after that.
int on_busy(void* arg, int count) {
  auto* state = static_cast<Connection::BusyState*>(arg);
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) state->started = now;
  const auto waited = now - state->started;
  if (waited >= kBusyTimeout) return 0;
  std::this_thread::sleep_for(waited < std::chrono::milliseconds(2)
                                  ? std::chrono::microseconds(100)
                                  : std::chrono::microseconds(1000));
  return 1;
}

}  // namespace

sqlite3_stmt* StatementCache::take(std::string_view sql) noexcept {
  for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
    if (it->first == sql) {
      sqlite3_stmt* stmt = it->second;
      free_.erase(std::next(it).base());
      return stmt;
    }
  }
  return nullptr;
}

void StatementCache::give_back(sqlite3_stmt* stmt) noexcept {
  if (closed_ || free_.size() >= kMaxStatements) {
    sqlite3_finalize(stmt);
    return;
  }
  const char* sql = sqlite3_sql(stmt);
  if (sql == nullptr) {
    sqlite3_finalize(stmt);
    return;
  }
  try {
    free_.emplace_back(std::string(sql), stmt);
  } catch (...) {
    sqlite3_finalize(stmt);
  }
}

void StatementCache::clear() noexcept {
  for (auto& [sql, stmt] : free_) sqlite3_finalize(stmt);
  free_.clear();
  closed_ = true;
}

Error sqlite_error(sqlite3* db, std::string_view what) {
  const int code = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  const std::string msg = db != nullptr ? sqlite3_errmsg(db) : "no connection";
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return make_error(ErrorCode::conflict, "already exists", std::string(what) + ": " + msg);
  }
  if ((code & 0xff) == SQLITE_CONSTRAINT) {
    // CHECK, FOREIGN KEY, NOT NULL: the caller passed a record the schema refuses (a bug), not a
    // name that is taken.
    return make_error(ErrorCode::internal, "the store refused the record",
                      std::string(what) + ": " + msg);
  }
  return make_error(ErrorCode::store_unavailable, "the store is unavailable",
                    std::string(what) + ": " + msg);
}

void Statement::release() noexcept {
  if (stmt_ == nullptr) return;
  if (cache_) {
    // Ends the statement's read or write use of the database before it waits in the cache.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    cache_->give_back(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    release();
    db_ = o.db_;
    stmt_ = o.stmt_;
    cache_ = std::move(o.cache_);
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { release(); }

Statement& Statement::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Statement& Statement::bind(int i, std::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_blob(int i, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Statement& Statement::bind(int i, const std::optional<std::int64_t>& v) {
  return v ? bind(i, *v) : bind_null(i);
}

Statement& Statement::bind_or_null(int i, std::string_view text) {
  return text.empty() ? bind_null(i) : bind(i, text);
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error e = sqlite_error(db_, sqlite3_sql(stmt_) != nullptr ? sqlite3_sql(stmt_) : "step");
  sqlite3_reset(stmt_);
  return std::unexpected(std::move(e));
}

Result<void> Statement::run() {
  while (true) {
    auto r = step();
    if (!r) return std::unexpected(r.error());
    if (!*r) break;
  }
  sqlite3_reset(stmt_);
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::optional<std::int64_t> Statement::optional_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                      : std::string();
}

std::string Statement::blob(int col) const {
  const auto* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p != nullptr ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n))
                      : std::string();
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Connection::Connection(sqlite3* db)
    : db_(db), cache_(std::make_shared<StatementCache>(db)), busy_(std::make_unique<BusyState>()) {
  sqlite3_busy_handler(db_, on_busy, busy_.get());
}

void Connection::close() noexcept {
  if (cache_) cache_->clear();
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Connection& Connection::operator=(Connection&& o) noexcept {
  if (this != &o) {
    close();
    db_ = o.db_;
    cache_ = std::move(o.cache_);
    busy_ = std::move(o.busy_);
    o.db_ = nullptr;
  }
  return *this;
}

Connection::~Connection() { close(); }

Result<Connection> Connection::open(const std::filesystem::path& file) {
  // Before SQLite initializes (the first open): no memory statistics, which SQLite otherwise
  // keeps under a global mutex taken on every allocation and free of every connection.
  static const bool configured = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE when already initialized
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = make_error(
        ErrorCode::store_unavailable, "the store is unavailable",
        "open " + file.string() + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    if (db != nullptr) sqlite3_close_v2(db);
    return std::unexpected(std::move(e));
  }
  Connection c(db);
  auto r = c.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
      "PRAGMA temp_store=MEMORY;");
  if (!r) return std::unexpected(r.error());
  return c;
}

Result<void> Connection::exec(std::string_view sql) {
  if (sql.find(';') == std::string_view::npos) {
    // One statement (BEGIN, COMMIT, SAVEPOINT, ...): compiled once, then reused.
    auto stmt = prepare(sql);
    if (!stmt) return std::unexpected(stmt.error());
    return stmt->run();
  }
  const std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "error";
    sqlite3_free(err);
    Error e = sqlite_error(db_, "exec");
    e.detail += " (" + msg + ")";
    return std::unexpected(std::move(e));
  }
  return {};
}

Result<Statement> Connection::prepare(std::string_view sql) {
  if (sqlite3_stmt* cached = cache_->take(sql)) return Statement(db_, cached, cache_);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    return std::unexpected(sqlite_error(db_, sql));
  }
  if (stmt == nullptr) return Statement(db_, stmt);  // only blanks or a comment
  return Statement(db_, stmt, cache_);
}

}  // namespace cb::store::sqlite
