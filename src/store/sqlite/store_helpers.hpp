#pragma once
// Helpers shared by the SqliteStore source files: early-return macros for functions returning
// cb::Result<T>, reading every row of a statement, and one IMMEDIATE transaction.

#include <expected>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "store/sqlite/connection.hpp"

/// Declares `var` = the value of the Result `expr`, or returns its error.
#define CB_TRY_ASSIGN(var, expr)                                   \
  auto var##_result = (expr);                                      \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)

/// Evaluates the Result `expr`; returns its error when it failed.
#define CB_TRY(expr)                                                     \
  do {                                                                   \
    auto cb_try_result_ = (expr);                                        \
    if (!cb_try_result_) return std::unexpected(cb_try_result_.error()); \
  } while (false)

namespace cb::store::sqlite {

/// Steps `s` to the end and reads every row with `read` (a function of `const Statement&`).
/// Errors: those of Statement::step (store_unavailable).
template <class T, class Read>
Result<std::vector<T>> collect_rows(Statement& s, Read&& read) {
  std::vector<T> out;
  while (true) {
    auto row = s.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.push_back(read(s));
  }
  return out;
}

/// Runs `work` (returning Result<T>) in one IMMEDIATE transaction on `db`: COMMIT when it
/// succeeds, ROLLBACK when it fails (its error is returned). The caller holds `db`'s lock.
template <class T, class F>
Result<T> transaction(Connection& db, F&& work) {
  CB_TRY(db.exec("BEGIN IMMEDIATE"));
  Result<T> r = work();
  if (!r) {
    (void)db.exec("ROLLBACK");
    return r;
  }
  CB_TRY(db.exec("COMMIT"));
  return r;
}

}  // namespace cb::store::sqlite
