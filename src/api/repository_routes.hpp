#pragma once
// The repository registry's admin REST routes under /api/v2/orgs/{org}/repositories
// (docs/admin-api.md, docs/openapi.json).

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>

#include "admin/admin_service.hpp"
#include "admin/repository_service.hpp"
#include "http/router.hpp"

namespace cb::api {

/// Registers GET/POST /api/v2/orgs/{org}/repositories and GET/PATCH/DELETE
/// /api/v2/orgs/{org}/repositories/{id}, authenticated like the other admin routes (server admin
/// token, or an api token of that org). `public_base_url` gives the base of the webhook URLs shown
/// with each repository (no trailing slash); it is called per request.
void add_repository_routes(http::Router& router, admin::AdminService& admin,
                           admin::RepositoryService& repositories, boost::asio::thread_pool& pool,
                           std::function<std::string()> public_base_url);

}  // namespace cb::api
