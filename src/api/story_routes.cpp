#include "api/story_routes.hpp"

#include <boost/json.hpp>

#include "admin/json_views.hpp"
#include "admin/story_views.hpp"
#include "api/admin_handler.hpp"

namespace cb::api {

using namespace admin_handler;

void add_story_routes(http::Router& router, admin::AdminService& admin,
                      admin::StoryService& stories, boost::asio::thread_pool& pool) {
  namespace bhttp = boost::beast::http;
  const std::string base = "/api/v2/orgs/{org}";

  router.add(bhttp::verb::get, base + "/stories",
             authenticated(admin, pool, [&admin, &stories](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto rows = stories.list_stories(org->id, *page);
               if (!rows) return std::unexpected(rows.error());
               return ok(admin::page_json(*rows, admin::story_summary_json));
             }));

  router.add(bhttp::verb::get, base + "/stories/{key}/commits",
             authenticated(admin, pool, [&admin, &stories](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto rows = stories.story_commits(org->id, std::string(c.ctx.param("key")), *page);
               if (!rows) return std::unexpected(rows.error());
               return ok(admin::page_json(*rows, admin::story_link_json));
             }));

  router.add(bhttp::verb::get, base + "/commits/{hash}/stories",
             authenticated(admin, pool, [&admin, &stories](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto rows = stories.commit_stories(org->id, std::string(c.ctx.param("hash")), *page);
               if (!rows) return std::unexpected(rows.error());
               return ok(admin::page_json(*rows, admin::story_link_json));
             }));
}

}  // namespace cb::api
