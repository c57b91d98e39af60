#pragma once
// Story views of the admin REST API under /api/v2/orgs/{org}: a story's commits, a commit's
// stories and the org's story keys (docs/openapi.json, docs/admin-api.md).

#include <boost/asio/thread_pool.hpp>

#include "admin/admin_service.hpp"
#include "admin/story_service.hpp"
#include "http/router.hpp"

namespace cb::api {

/// Registers
///   GET /api/v2/orgs/{org}/stories                  (story keys with commit counts)
///   GET /api/v2/orgs/{org}/stories/{key}/commits    (a story's commits, newest authored first)
///   GET /api/v2/orgs/{org}/commits/{hash}/stories   (a commit's stories; hash: 40 hex or a
///                                                     unique prefix of at least 7)
/// each paginated with `limit` and `cursor` and authenticated like the rest of the admin API
/// (a server admin token, or an api token of that org). Store work runs on `pool`.
void add_story_routes(http::Router& router, admin::AdminService& admin,
                      admin::StoryService& stories, boost::asio::thread_pool& pool);

}  // namespace cb::api
