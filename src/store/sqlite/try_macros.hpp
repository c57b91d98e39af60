#pragma once
// Early-return helpers for functions returning cb::Result<T>, for the SqliteStore files.
// (sqlite_store.cpp defines the same two macros locally; the guards let both coexist.)

#include <expected>
#include <utility>

#ifndef CB_TRY_ASSIGN
/// Declares `var` = the value of the Result `expr`, or returns its error.
#define CB_TRY_ASSIGN(var, expr)                                   \
  auto var##_result = (expr);                                      \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)
#endif

#ifndef CB_TRY
/// Evaluates the Result `expr`; returns its error when it failed.
#define CB_TRY(expr)                                                     \
  do {                                                                   \
    auto cb_try_result_ = (expr);                                        \
    if (!cb_try_result_) return std::unexpected(cb_try_result_.error()); \
  } while (false)
#endif
