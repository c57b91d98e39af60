#include "api/smart_commit_routes.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "admin/json_views.hpp"
#include "api/admin_handler.hpp"
#include "smartcommit/analysis_json.hpp"
#include "smartcommit/pattern_spec_json.hpp"

namespace cb::api {
namespace {

using namespace admin_handler;  // NOLINT(google-build-using-namespace): the shared route helpers

namespace bhttp = boost::beast::http;
namespace json = boost::json;

Result<std::int64_t> pattern_id(const Call& c) {
  const std::string_view text = c.ctx.param("id");
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || ptr != text.data() + text.size() || id <= 0) {
    return fail(ErrorCode::not_found,
                "no smart-commit pattern '" + std::string(text.substr(0, 40)) + "' in this org");
  }
  return id;
}

}  // namespace

void add_smart_commit_routes(http::Router& router, admin::AdminService& admin,
                             admin::SmartCommitService& smart_commits,
                             boost::asio::thread_pool& pool) {
  const std::string base = "/api/v2/orgs/{org}/smart-commits";

  router.add(bhttp::verb::get, base + "/patterns",
             authenticated(admin, pool, [&admin, &smart_commits](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto patterns = smart_commits.list_patterns(org->name, *page);
               if (!patterns) return std::unexpected(patterns.error());
               return ok(admin::page_json(*patterns, admin::smart_commit_pattern_json));
             }));

  router.add(bhttp::verb::post, base + "/patterns",
             authenticated(admin, pool, [&admin, &smart_commits](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto spec = smartcommit::pattern_spec_from_json(*body);
               if (!spec) return std::unexpected(spec.error());
               auto created = smart_commits.add_pattern(org->name, *spec, c.actor());
               if (!created) return std::unexpected(created.error());
               return ok(admin::smart_commit_pattern_json(*created), bhttp::status::created);
             }));

  router.add(bhttp::verb::delete_, base + "/patterns/{id}",
             authenticated(admin, pool, [&admin, &smart_commits](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto id = pattern_id(c);
               if (!id) return std::unexpected(id.error());
               if (auto r = smart_commits.remove_pattern(org->name, *id, c.actor()); !r) {
                 return std::unexpected(r.error());
               }
               return ok(json::value(), bhttp::status::no_content);
             }));

  router.add(bhttp::verb::post, base + "/test",
             authenticated(admin, pool, [&admin, &smart_commits](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               const auto* message = body->if_contains("message");
               if (message == nullptr || !message->is_string()) {
                 return fail(ErrorCode::invalid_argument, "message: required, a string");
               }
               auto set = smart_commits.pattern_set(org->name);
               if (!set) return std::unexpected(set.error());
               return ok(smartcommit::analysis_json(
                   smartcommit::analyze(std::string_view(message->as_string()), *set)));
             }));
}

}  // namespace cb::api
