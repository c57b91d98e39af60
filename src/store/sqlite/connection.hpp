#pragma once
// Thin RAII wrappers over the SQLite C API: a connection and a prepared statement.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace cb::store::sqlite {

class StatementCache;

/// A prepared statement. Bind indexes are 1-based, column indexes 0-based (SQLite's convention).
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  /// A statement that goes back to `cache` (reset, bindings cleared) instead of being finalized.
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::shared_ptr<StatementCache> cache)
      : db_(db), stmt_(stmt), cache_(std::move(cache)) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_), cache_(std::move(o.cache_)) {
    o.stmt_ = nullptr;
  }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int i, std::int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, std::string_view text);
  Statement& bind(int i, const char* text) { return bind(i, std::string_view(text)); }
  Statement& bind(int i, const std::string& text) { return bind(i, std::string_view(text)); }
  Statement& bind_blob(int i, std::string_view bytes);
  Statement& bind_null(int i);
  /// Binds NULL when the optional is empty.
  Statement& bind(int i, const std::optional<std::int64_t>& v);
  /// Binds NULL when text is empty.
  Statement& bind_or_null(int i, std::string_view text);

  /// Steps once: true when a row is available, false when done; error store_unavailable,
  /// or conflict on a UNIQUE constraint violation.
  [[nodiscard]] Result<bool> step();
  /// Steps to completion.
  [[nodiscard]] Result<void> run();
  void reset();

  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] std::optional<std::int64_t> optional_int64(int col) const;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] std::string blob(int col) const;
  [[nodiscard]] bool is_null(int col) const;

 private:
  void release() noexcept;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<StatementCache> cache_;
};

/// The prepared statements of one connection that are not in use, by SQL text, so that a
/// statement is compiled once per connection instead of once per call (SQLite re-prepares it by
/// itself after a schema change). Used under the same lock as its connection.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;
  ~StatementCache() { clear(); }

  /// A cached statement for `sql`, taken out of the cache; nullptr when none is free.
  [[nodiscard]] sqlite3_stmt* take(std::string_view sql) noexcept;
  /// Gives a statement back (it must be reset); finalizes it when the cache is full or closed.
  void give_back(sqlite3_stmt* stmt) noexcept;
  /// Finalizes every cached statement; later give_back() calls finalize too.
  void clear() noexcept;

  /// Distinct statements kept at most (the queries are fixed strings; this bounds a mistake).
  static constexpr std::size_t kMaxStatements = 256;

 private:
  sqlite3* db_;
  bool closed_ = false;
  std::size_t size_ = 0;
  std::vector<std::pair<std::string, sqlite3_stmt*>> free_;
};

/// One SQLite connection in WAL mode with synchronous=FULL and foreign keys on.
///
/// Waiting for a lock held by another connection polls every 0.1–1 ms for at most 10 s, instead
/// of SQLite's default busy handler that sleeps for up to 100 ms per try (it cannot be woken
/// when the lock frees, so a short wait became a long one).
class Connection {
 public:
  /// Opens (creating) the database file. Errors: store_unavailable with SQLite's message.
  [[nodiscard]] static Result<Connection> open(const std::filesystem::path& file);
  Connection() = default;
  Connection(Connection&& o) noexcept
      : db_(o.db_), cache_(std::move(o.cache_)), busy_(std::move(o.busy_)) {
    o.db_ = nullptr;
  }
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs one or more statements without results. A single statement (no ';') is prepared once
  /// and cached.
  [[nodiscard]] Result<void> exec(std::string_view sql);
  /// Prepares one statement, or takes the cached one for the same text: the returned Statement
  /// goes back to the connection's cache when destroyed. It must not outlive the connection's
  /// lock (or thread) and must not be used after the connection is closed.
  [[nodiscard]] Result<Statement> prepare(std::string_view sql);
  /// Rows changed by the last statement.
  [[nodiscard]] int changes() const { return sqlite3_changes(db_); }
  [[nodiscard]] std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  [[nodiscard]] sqlite3* handle() const { return db_; }

  /// State of the busy handler: when the current wait for a lock began.
  struct BusyState {
    std::chrono::steady_clock::time_point started;
  };

 private:
  explicit Connection(sqlite3* db);
  void close() noexcept;

  sqlite3* db_ = nullptr;
  std::shared_ptr<StatementCache> cache_;
  std::unique_ptr<BusyState> busy_;
};

/// Builds a store error from the connection's last SQLite error.
[[nodiscard]] Error sqlite_error(sqlite3* db, std::string_view what);

}  // namespace cb::store::sqlite
