#pragma once
// Maps a method and a path with {param} segments to a handler.

#include <string>
#include <vector>

#include "http/types.hpp"

namespace cb::http {

/// Routes by method and path. Patterns are '/'-separated segments where `{name}` matches one
/// non-empty segment (percent-decoded into RequestContext::params). Not thread-safe to modify;
/// build it before the server starts, then only match().
class Router {
 public:
  /// Adds a route, e.g. add(verb::post, "/api/webhook/v2/{org}/enterprise/{endpoint}", h).
  /// `check`, when given, runs on the header block before the body is read (see HeaderCheck).
  void add(boost::beast::http::verb method, std::string pattern, Handler handler,
           HeaderCheck check = {});

  /// Result of matching a request target.
  struct Match {
    const Handler* handler = nullptr;    ///< null when nothing matched
    const HeaderCheck* check = nullptr;  ///< the route's header check, null when it has none
    bool path_matched = false;           ///< a route has this path but another method
    /// When path_matched: the methods the path has, in registration order (for `Allow`).
    std::vector<boost::beast::http::verb> allowed;
    std::vector<std::pair<std::string, std::string>> params;
  };

  /// Finds the route for a method and a target (query string ignored).
  [[nodiscard]] Match match(boost::beast::http::verb method, std::string_view target) const;

  /// Every registered (method, pattern), in registration order.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    HeaderCheck check;
  };
  std::vector<Route> routes_;
};

}  // namespace cb::http
