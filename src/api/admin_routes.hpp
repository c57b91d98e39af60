#pragma once
// The admin REST API under /api/v2: orgs, tokens (create, list, get, revoke, rotate) and the
// audit log, authenticated by `Authorization: Bearer <api token>`; and the OpenAPI document at
// /api/v2/openapi.json. docs/openapi.json describes every route registered here.

#include <boost/asio/thread_pool.hpp>

#include "admin/admin_service.hpp"
#include "http/router.hpp"

namespace cb::api {

/// Registers the admin API. Handlers run the store work on `pool` so that I/O threads never
/// wait for the disk. An org's api token acts on its own org only (403 otherwise); a server
/// admin token acts on every org and is the only one that may create, list or delete orgs.
void add_admin_routes(http::Router& router, admin::AdminService& admin,
                      boost::asio::thread_pool& pool);

/// The OpenAPI 3 document of the admin API (docs/openapi.json, compiled into the binary).
[[nodiscard]] std::string_view openapi_document();

}  // namespace cb::api
