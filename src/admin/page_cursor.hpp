#pragma once
// The page parameters shared by the admin services: `limit` bounds and id cursors.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace cb::admin {

/// The cursor of a page that ends at row `id`: its decimal text.
[[nodiscard]] std::string encode_cursor(std::int64_t id);

/// The row id a cursor names; 0 for an empty cursor (the first page). Errors: invalid_argument
/// ("cursor: not a cursor returned by this API") for anything but a non-negative integer.
[[nodiscard]] Result<std::int64_t> decode_cursor(const std::string& cursor);

/// `limit` when it is 1–200. Errors: invalid_argument ("limit: must be from 1 to 200").
[[nodiscard]] Result<std::size_t> check_limit(std::size_t limit);

}  // namespace cb::admin
