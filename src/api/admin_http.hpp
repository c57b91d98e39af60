#pragma once
// Building blocks of admin-API routes outside admin_routes.cpp: bearer authentication on the
// admin pool, the org check of a principal, JSON body fields and the page query.
// (admin_routes.cpp has the same helpers in its own anonymous namespace; it can switch to
// these.)

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>

#include "admin/admin_service.hpp"
#include "http/router.hpp"

namespace cb::api::admin_http {

/// What a handler sees: the request, its context and the authenticated principal.
struct Call {
  http::Request& req;
  http::RequestContext& ctx;
  admin::Principal principal;
  /// The audit-log actor of this request.
  [[nodiscard]] admin::Actor actor() const {
    return admin::Actor{principal.actor_name(), ctx.remote_address};
  }
};

/// A handler's result: a status and a JSON body (ignored for 204), or an error.
using Outcome = Result<std::pair<boost::beast::http::status, boost::json::value>>;
/// A handler body, run on the admin pool.
using Work = std::function<Outcome(Call&)>;

/// A successful outcome.
[[nodiscard]] Outcome ok(boost::json::value body,
                         boost::beast::http::status status = boost::beast::http::status::ok);
/// The decoded query parameter `name`, or nullopt.
[[nodiscard]] std::optional<std::string> query_param(const http::Request& req,
                                                     std::string_view name);
/// `limit` and `cursor` of the query. Errors: invalid_argument.
[[nodiscard]] Result<admin::PageRequest> page_request(const http::Request& req);
/// The body as a JSON object ({} when empty). Errors: invalid_argument.
[[nodiscard]] Result<boost::json::object> body_object(const http::Request& req);
/// A string field: nullopt when absent or null; invalid_argument naming it when not a string.
[[nodiscard]] Result<std::optional<std::string>> optional_string(const boost::json::object& o,
                                                                 std::string_view key);
/// A boolean field: nullopt when absent or null; invalid_argument when not a boolean.
[[nodiscard]] Result<std::optional<bool>> optional_bool(const boost::json::object& o,
                                                        std::string_view key);
/// A whole-number field: nullopt when absent or null; invalid_argument otherwise.
[[nodiscard]] Result<std::optional<std::int64_t>> optional_int(const boost::json::object& o,
                                                               std::string_view key);
/// Refuses (invalid_argument) a body with a field not in `known`.
[[nodiscard]] Result<void> only_fields(const boost::json::object& o,
                                       std::initializer_list<std::string_view> known);
/// The org in the path ({org}), checked against the principal: forbidden for another org's
/// token (also when the org does not exist, so that a token cannot probe org names).
[[nodiscard]] Result<store::OrgRecord> authorized_org(admin::AdminService& admin, const Call& call);
/// A handler that authenticates `Authorization: Bearer <api token>` and runs `work` on `pool`;
/// errors become the JSON error answer (401 with a Bearer challenge).
[[nodiscard]] http::Handler authenticated(admin::AdminService& admin,
                                          boost::asio::thread_pool& pool, Work work);

}  // namespace cb::api::admin_http
