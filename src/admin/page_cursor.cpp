#include "admin/page_cursor.hpp"

#include <charconv>

namespace cb::admin {

std::string encode_cursor(std::int64_t id) { return std::to_string(id); }

Result<std::int64_t> decode_cursor(const std::string& cursor) {
  if (cursor.empty()) return 0;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), v);
  if (ec != std::errc{} || ptr != cursor.data() + cursor.size() || v < 0) {
    return fail(ErrorCode::invalid_argument, "cursor: not a cursor returned by this API");
  }
  return v;
}

Result<std::size_t> check_limit(std::size_t limit) {
  if (limit < 1 || limit > 200) {
    return fail(ErrorCode::invalid_argument, "limit: must be from 1 to 200");
  }
  return limit;
}

}  // namespace cb::admin
