#pragma once
// A webhook request as received, before any parsing: what providers parse and auth verifies.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"

namespace cb {

/// One HTTP header as received (name in the sender's case).
struct Header {
  std::string name;
  std::string value;
};

/// A webhook delivery as it arrived: the org named in the URL, the request headers, the raw
/// body bytes (exactly as received, before any decoding) and the receive time.
/// Providers parse it and auth verifies it without touching sockets or the store.
struct RawDelivery {
  std::string org;
  std::vector<Header> headers;
  std::string body;
  UnixMillis received_at_ms = 0;

  /// Value of the first header named `name` (ASCII case-insensitive), or empty when absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
  /// True when a header named `name` (ASCII case-insensitive) is present.
  [[nodiscard]] bool has_header(std::string_view name) const;
};

/// ASCII case-insensitive equality.
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace cb
