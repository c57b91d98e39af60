#pragma once
// SQL migrations embedded in the binary (generated from src/store/migrations/NNNN_*.sql).

#include <string_view>
#include <vector>

namespace cb::store {

/// One schema migration: applied in ascending version order, each in its own transaction.
struct Migration {
  int version;            ///< NNNN prefix of the file name
  std::string_view name;  ///< file name without extension
  std::string_view sql;   ///< the statements
};

/// All migrations compiled into this binary, ascending by version.
[[nodiscard]] const std::vector<Migration>& embedded_migrations();

}  // namespace cb::store
