#pragma once
// Building blocks of the admin REST API's handlers (admin_routes.cpp, story_routes.cpp):
// bearer-token authentication, org authorization, query and body fields, pages, answers.

#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "admin/admin_service.hpp"
#include "http/router.hpp"

namespace cb::api::admin_http {

/// What a handler sees: the request, its context and the authenticated principal.
struct Call {
  http::Request& req;
  http::RequestContext& ctx;
  admin::Principal principal;
  [[nodiscard]] admin::Actor actor() const {
    return admin::Actor{principal.actor_name(), ctx.remote_address};
  }
};

/// A handler's result: a status and a JSON body, or an error.
using Outcome = Result<std::pair<boost::beast::http::status, boost::json::value>>;

/// A handler's work, run on the admin thread pool.
using Work = std::function<Outcome(Call&)>;

/// A successful answer (200 unless `status` says otherwise; 204 sends no body).
[[nodiscard]] Outcome ok(boost::json::value body,
                         boost::beast::http::status status = boost::beast::http::status::ok);

/// The percent-decoded value of query parameter `name`; nullopt when absent.
[[nodiscard]] std::optional<std::string> query_param(const http::Request& req,
                                                     std::string_view name);

/// `limit` and `cursor` query parameters. Errors: invalid_argument when limit is not a whole
/// number (its range is checked by the service).
[[nodiscard]] Result<admin::PageRequest> page_request(const http::Request& req);

/// The body as a JSON object ({} when empty). Errors: invalid_argument when not an object.
[[nodiscard]] Result<boost::json::object> body_object(const http::Request& req);

/// A string field: absent → fallback; present but not a string → invalid_argument naming it.
[[nodiscard]] Result<std::string> string_field(const boost::json::object& o, std::string_view key,
                                               std::string fallback = {});

/// A whole-number field; absent or null → nullopt; otherwise invalid_argument naming it.
[[nodiscard]] Result<std::optional<std::int64_t>> int_field(const boost::json::object& o,
                                                            std::string_view key);

/// The org in the path ({org}), checked against the principal: forbidden (403) for another
/// org's token, also when the org does not exist; not_found for a server admin.
[[nodiscard]] Result<store::OrgRecord> authorized_org(admin::AdminService& admin, const Call& call);

/// forbidden unless the principal is a server admin token.
[[nodiscard]] Result<void> require_server_admin(const Call& call);

/// A handler that authenticates `Authorization: Bearer <api token>` (401 with a Bearer challenge
/// otherwise), runs `work` on `pool` (never on the I/O threads) and answers its outcome as JSON
/// or as the mapped error.
[[nodiscard]] http::Handler authenticated(admin::AdminService& admin,
                                          boost::asio::thread_pool& pool, Work work);

}  // namespace cb::api::admin_http
