#include "core/error.hpp"

namespace cb {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::unknown_org:
      return "unknown_org";
    case ErrorCode::missing_credentials:
      return "missing_credentials";
    case ErrorCode::malformed_credentials:
      return "malformed_credentials";
    case ErrorCode::invalid_signature:
      return "invalid_signature";
    case ErrorCode::invalid_token:
      return "invalid_token";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::payload_too_large:
      return "payload_too_large";
    case ErrorCode::headers_too_large:
      return "headers_too_large";
    case ErrorCode::unsupported_media_type:
      return "unsupported_media_type";
    case ErrorCode::malformed_payload:
      return "malformed_payload";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::store_unavailable:
      return "store_unavailable";
    case ErrorCode::queue_full:
      return "queue_full";
    case ErrorCode::rate_limited:
      return "rate_limited";
    case ErrorCode::overloaded:
      return "overloaded";
    case ErrorCode::peer_unavailable:
      return "peer_unavailable";
    case ErrorCode::method_not_allowed:
      return "method_not_allowed";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace cb
