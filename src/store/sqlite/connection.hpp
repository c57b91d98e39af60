#pragma once
// Thin RAII wrappers over the SQLite C API: a connection and a prepared statement.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace cb::store::sqlite {

/// A prepared statement. Bind indexes are 1-based, column indexes 0-based (SQLite's convention).
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
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
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

/// One SQLite connection in WAL mode with synchronous=FULL and foreign keys on.
class Connection {
 public:
  /// Opens (creating) the database file. Errors: store_unavailable with SQLite's message.
  [[nodiscard]] static Result<Connection> open(const std::filesystem::path& file);
  Connection() = default;
  Connection(Connection&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Connection& operator=(Connection&& o) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs one or more statements without results.
  [[nodiscard]] Result<void> exec(std::string_view sql);
  /// Prepares one statement.
  [[nodiscard]] Result<Statement> prepare(std::string_view sql);
  /// Rows changed by the last statement.
  [[nodiscard]] int changes() const { return sqlite3_changes(db_); }
  [[nodiscard]] std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  [[nodiscard]] sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

/// Builds a store error from the connection's last SQLite error.
[[nodiscard]] Error sqlite_error(sqlite3* db, std::string_view what);

}  // namespace cb::store::sqlite
