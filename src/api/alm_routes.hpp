#pragma once
// Admin REST routes of ALM connections and of the write-back outbox:
//   GET/POST   /api/v2/orgs/{org}/alm-connections
//   GET/PATCH/DELETE /api/v2/orgs/{org}/alm-connections/{id}
//   GET        /api/v2/orgs/{org}/outbox?status=&limit=&cursor=
//   POST       /api/v2/orgs/{org}/outbox/{id}/retry
// Authenticated like the other admin routes (server admin token, or the org's api token).

#include <boost/asio/thread_pool.hpp>
#include <functional>

#include "admin/admin_service.hpp"
#include "admin/alm_service.hpp"
#include "http/router.hpp"

namespace cb::api {

/// Registers the routes above; store work runs on `pool`. `on_retry` (may be empty) is called
/// after an entry was made due again (it wakes the outbox dispatcher).
void add_alm_routes(http::Router& router, admin::AdminService& admin, admin::AlmService& alm,
                    boost::asio::thread_pool& pool, std::function<void()> on_retry = {});

}  // namespace cb::api
