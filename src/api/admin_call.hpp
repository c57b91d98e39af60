#pragma once
// What every admin-API route shares: bearer-token authentication, running the handler on the
// admin pool, JSON bodies, page parameters, the org check and the error answer. Used by
// admin_routes.cpp and the topic route files (e.g. smart_commit_routes.cpp).

#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "admin/admin_service.hpp"
#include "http/router.hpp"

namespace cb::api {

/// What a handler sees: the request, its context and the authenticated principal.
struct Call {
  http::Request& req;
  http::RequestContext& ctx;
  admin::Principal principal;
  /// The audit-log actor: the principal's name and the client address.
  [[nodiscard]] admin::Actor actor() const {
    return admin::Actor{principal.actor_name(), ctx.remote_address};
  }
};

/// A handler's result: a status and a JSON body (ignored for 204), or an error.
using Outcome = Result<std::pair<boost::beast::http::status, boost::json::value>>;

/// A handler of an authenticated admin route.
using Work = std::function<Outcome(Call&)>;

/// A successful outcome (200 unless told).
[[nodiscard]] Outcome ok(boost::json::value body,
                         boost::beast::http::status status = boost::beast::http::status::ok);

/// The value of query parameter `name`, percent-decoded; nullopt when absent.
[[nodiscard]] std::optional<std::string> query_param(const http::Request& req,
                                                     std::string_view name);

/// `limit` and `cursor` of a list request. Errors: invalid_argument for a limit that is not a
/// whole number (the range is checked by the service).
[[nodiscard]] Result<admin::PageRequest> page_request(const http::Request& req);

/// The JSON object body ({} when empty). Errors: invalid_argument when it is not an object.
[[nodiscard]] Result<boost::json::object> body_object(const http::Request& req);

/// A string field: absent or null → fallback; not a string → invalid_argument naming it.
[[nodiscard]] Result<std::string> string_field(const boost::json::object& o, std::string_view key,
                                               std::string fallback = {});

/// An integer field: absent or null → nullopt; not a whole number → invalid_argument naming it.
[[nodiscard]] Result<std::optional<std::int64_t>> int_field(const boost::json::object& o,
                                                            std::string_view key);

/// The org named by the path parameter `org`, checked against the principal: forbidden (403)
/// for another org's token (also when the org does not exist, so that names do not leak).
[[nodiscard]] Result<store::OrgRecord> authorized_org(admin::AdminService& admin, const Call& call);

/// forbidden unless the principal is a server admin token.
[[nodiscard]] Result<void> require_server_admin(const Call& call);

/// An error answer of the admin API; a 401 challenges for Bearer.
[[nodiscard]] http::Response admin_error(const Error& error, const http::Request& req);

/// Wraps `work` into a route handler: authenticates `Authorization: Bearer <api token>` (401
/// without or with a bad one), runs `work` on `pool` (never on an I/O thread), answers its JSON
/// or its error through the one error mapping.
[[nodiscard]] http::Handler authenticated(admin::AdminService& admin,
                                          boost::asio::thread_pool& pool, Work work);

}  // namespace cb::api
