#pragma once
// HTTP message types and the request context shared by the router and handlers.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace cb::http {

/// A request with its whole body in memory (bounded by ServerOptions::max_body_bytes).
using Request = boost::beast::http::request<boost::beast::http::string_body>;
/// A response with a string body.
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// Per-request facts that are not in the message itself.
struct RequestContext {
  std::string request_id;                                   ///< generated per request, for logs
  std::string remote_address;                               ///< peer IP address
  std::vector<std::pair<std::string, std::string>> params;  ///< path parameters, e.g. {org}

  /// Value of the path parameter `name`, or empty.
  [[nodiscard]] std::string_view param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return v;
    }
    return {};
  }
};

/// A route handler. It runs on an I/O thread and must not block on disk or network.
using Handler = std::function<boost::asio::awaitable<Response>(Request&, RequestContext&)>;

/// Runs once the header block is read, before the body: returning an Error refuses the request
/// without reading its body (so that a large body from an unknown sender costs nothing). The
/// request passed has headers only. Must not block.
using HeaderCheck = std::function<std::optional<Error>(const Request&, const RequestContext&)>;

/// Turns an Error into a response (the API's one mapping), for errors the server itself
/// detects: unknown route, body over the limit, malformed request.
using ErrorResponder = std::function<Response(const Error&, unsigned version, bool keep_alive)>;

}  // namespace cb::http
