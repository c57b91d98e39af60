#pragma once
// The one mapping from Error to HTTP status and JSON error body.

#include <boost/beast/http/status.hpp>

#include "core/error.hpp"
#include "http/types.hpp"

namespace cb::api {

/// HTTP status of an error code (e.g. invalid_signature → 401, unknown_org → 404,
/// method_not_allowed → 405, payload_too_large → 413, queue_full → 503).
[[nodiscard]] boost::beast::http::status http_status(ErrorCode code) noexcept;

/// A JSON response `{"error": {"code": "...", "message": "..."}}` with the mapped status;
/// 429/503 carry `Retry-After`. Only the public message is sent; the detail is never.
[[nodiscard]] http::Response error_response(const Error& error, unsigned version, bool keep_alive);

/// A JSON response with the given status and already serialized body.
[[nodiscard]] http::Response json_response(boost::beast::http::status status, std::string body,
                                           unsigned version, bool keep_alive);

}  // namespace cb::api
