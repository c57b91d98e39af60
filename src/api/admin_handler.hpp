#pragma once
// The pieces every admin REST route shares: bearer-token authentication (server admin token or
// org api token), the org-scope check, JSON body and query helpers, and the handler wrapper that
// runs store work on the admin thread pool and maps errors (see admin_routes.hpp).

#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "admin/admin_service.hpp"
#include "http/router.hpp"

namespace cb::api::admin_handler {

/// What a handler sees: the request, its context and the authenticated principal.
struct Call {
  http::Request& req;
  http::RequestContext& ctx;
  admin::Principal principal;
  /// The audit-log actor of the request: the token and the client address.
  [[nodiscard]] admin::Actor actor() const {
    return admin::Actor{principal.actor_name(), ctx.remote_address};
  }
};

/// A handler's result: a status and a JSON body (ignored for 204), or an error.
using Outcome = Result<std::pair<boost::beast::http::status, boost::json::value>>;

/// A successful outcome (200 unless given).
[[nodiscard]] Outcome ok(boost::json::value body,
                         boost::beast::http::status status = boost::beast::http::status::ok);

/// The decoded value of a query parameter of the request target; nullopt when absent.
[[nodiscard]] std::optional<std::string> query_param(const http::Request& req,
                                                     std::string_view name);

/// `limit` (whole number) and `cursor` query parameters. Errors: invalid_argument naming limit.
[[nodiscard]] Result<admin::PageRequest> page_request(const http::Request& req);

/// The body as a JSON object; an empty body is an empty object. Errors: invalid_argument.
[[nodiscard]] Result<boost::json::object> body_object(const http::Request& req);

/// A string field: absent or null → fallback; not a string → invalid_argument naming it.
[[nodiscard]] Result<std::string> string_field(const boost::json::object& o, std::string_view key,
                                               std::string fallback = {});

/// A whole-number field: absent or null → nullopt; otherwise invalid_argument naming it.
[[nodiscard]] Result<std::optional<std::int64_t>> int_field(const boost::json::object& o,
                                                            std::string_view key);

/// The org in the path ({org}), checked against the principal: 403 for another org's token (also
/// when the org does not exist, so that a token cannot probe other orgs' names).
[[nodiscard]] Result<store::OrgRecord> authorized_org(admin::AdminService& admin, const Call& call);

/// forbidden unless the principal is a server admin token.
[[nodiscard]] Result<void> require_server_admin(const Call& call);

/// The work of one route, run on the admin pool after authentication.
using Work = std::function<Outcome(Call&)>;

/// Wraps `work` into a route handler: reads `Authorization: Bearer <token>`, authenticates it
/// (401 with a Bearer challenge, 403), runs `work` on `pool`, turns exceptions into 500 and
/// serializes the outcome.
[[nodiscard]] http::Handler authenticated(admin::AdminService& admin,
                                          boost::asio::thread_pool& pool, Work work);

/// An optional string field: absent or null → nullopt; not a string → invalid_argument naming it.
[[nodiscard]] Result<std::optional<std::string>> optional_string(const boost::json::object& o,
                                                                 std::string_view key);
/// An optional boolean field: absent or null → nullopt; not a boolean → invalid_argument.
[[nodiscard]] Result<std::optional<bool>> optional_bool(const boost::json::object& o,
                                                        std::string_view key);
/// An optional whole-number field: absent or null → nullopt; otherwise invalid_argument.
[[nodiscard]] Result<std::optional<std::int64_t>> optional_int(const boost::json::object& o,
                                                               std::string_view key);
/// invalid_argument naming the first field of `o` that is not in `known`.
[[nodiscard]] Result<void> only_fields(const boost::json::object& o,
                                       std::initializer_list<std::string_view> known);

}  // namespace cb::api::admin_handler
