#pragma once
// Admin API routes of smart commits: an org's story-key patterns (list, add, remove) and a test
// of a commit message against them. Same authentication and errors as the rest of /api/v2
// (api/admin_handler.hpp); documented in docs/openapi.json and docs/admin-api.md.

#include <boost/asio/thread_pool.hpp>

#include "admin/admin_service.hpp"
#include "admin/smart_commit_service.hpp"
#include "http/router.hpp"

namespace cb::api {

/// Registers
///   GET    /api/v2/orgs/{org}/smart-commits/patterns          one page of the org's patterns
///   POST   /api/v2/orgs/{org}/smart-commits/patterns          add one (201)
///   DELETE /api/v2/orgs/{org}/smart-commits/patterns/{id}     remove one (204)
///   POST   /api/v2/orgs/{org}/smart-commits/test              {"message"} → the analysis
/// An org api token acts on its own org, a server admin token on every org.
void add_smart_commit_routes(http::Router& router, admin::AdminService& admin,
                             admin::SmartCommitService& smart_commits,
                             boost::asio::thread_pool& pool);

}  // namespace cb::api
