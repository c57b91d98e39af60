#pragma once
// Helpers shared by the SqliteStore source files: early-return macros for functions returning
// cb::Result<T>, reading every row of a statement, one IMMEDIATE transaction, and the check
// that a delete takes no running job run away.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
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

/// The runs now running of the jobs whose column `job_column` of `jobs` ("id",
/// "repository_id") is `value`, in id order: "12, 14", or with `name_jobs` "12 (job build), 14
/// (job deploy)"; empty when there are none. Called inside the transaction of a delete that
/// must not take a running run's rows away (the runner cannot start a run in between).
/// Errors: store_unavailable.
Result<std::string> running_runs(Connection& db, std::string_view job_column, std::int64_t value,
                                 bool name_jobs);

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
