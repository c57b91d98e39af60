#include "api/alm_routes.hpp"

#include <charconv>

#include "admin/alm_json_views.hpp"
#include "admin/json_views.hpp"
#include "api/admin_handler.hpp"

namespace cb::api {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using namespace admin_handler;

/// The connection fields of a POST or PATCH body.
Result<admin::AlmConnectionSpec> connection_spec(const json::object& body, bool creating) {
  if (auto r = only_fields(
          body, {"name", "type", "url", "deployment", "email", "secret", "add_remote_link",
                 "add_comment", "run_commands", "max_commit_age_seconds", "enabled"});
      !r) {
    return std::unexpected(r.error());
  }
  admin::AlmConnectionSpec spec;
  auto text = [&](std::string_view key, std::optional<std::string>& out) -> Result<void> {
    auto v = optional_string(body, key);
    if (!v) return std::unexpected(v.error());
    out = std::move(*v);
    return {};
  };
  auto flag = [&](std::string_view key, std::optional<bool>& out) -> Result<void> {
    auto v = optional_bool(body, key);
    if (!v) return std::unexpected(v.error());
    out = *v;
    return {};
  };
  for (auto r :
       {text("name", spec.name), text("type", spec.type), text("url", spec.url),
        text("deployment", spec.deployment), text("email", spec.email), text("secret", spec.secret),
        flag("add_remote_link", spec.add_remote_link), flag("add_comment", spec.add_comment),
        flag("run_commands", spec.run_commands), flag("enabled", spec.enabled)}) {
    if (!r) return std::unexpected(r.error());
  }
  auto age = optional_int(body, "max_commit_age_seconds");
  if (!age) return std::unexpected(age.error());
  spec.max_commit_age_seconds = *age;
  if (!creating && spec.type) {
    return fail(ErrorCode::invalid_argument,
                "type: a connection's type cannot change; create a new connection");
  }
  return spec;
}

}  // namespace

void add_alm_routes(http::Router& router, admin::AdminService& admin, admin::AlmService& alm,
                    boost::asio::thread_pool& pool, std::function<void()> on_retry) {
  const std::string base = "/api/v2/orgs/{org}";

  router.add(bhttp::verb::post, base + "/alm-connections",
             authenticated(admin, pool, [&admin, &alm](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto spec = connection_spec(*body, /*creating=*/true);
               if (!spec) return std::unexpected(spec.error());
               auto created = alm.create_connection(org->name, *spec, c.actor());
               if (!created) return std::unexpected(created.error());
               return ok(admin::alm_connection_json(*created), bhttp::status::created);
             }));

  router.add(bhttp::verb::get, base + "/alm-connections",
             authenticated(admin, pool, [&admin, &alm](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto list = alm.list_connections(org->name, *page);
               if (!list) return std::unexpected(list.error());
               return ok(admin::page_json(*list, admin::alm_connection_json));
             }));

  router.add(bhttp::verb::get, base + "/alm-connections/{id}",
             authenticated(admin, pool, [&admin, &alm](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto conn = alm.get_connection(org->name, std::string(c.ctx.param("id")));
               if (!conn) return std::unexpected(conn.error());
               return ok(admin::alm_connection_json(*conn));
             }));

  router.add(bhttp::verb::patch, base + "/alm-connections/{id}",
             authenticated(admin, pool, [&admin, &alm](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto spec = connection_spec(*body, /*creating=*/false);
               if (!spec) return std::unexpected(spec.error());
               auto conn = alm.update_connection(org->name, std::string(c.ctx.param("id")), *spec,
                                                 c.actor());
               if (!conn) return std::unexpected(conn.error());
               return ok(admin::alm_connection_json(*conn));
             }));

  router.add(
      bhttp::verb::delete_, base + "/alm-connections/{id}",
      authenticated(admin, pool, [&admin, &alm](Call& c) -> Outcome {
        auto org = authorized_org(admin, c);
        if (!org) return std::unexpected(org.error());
        if (auto r = alm.remove_connection(org->name, std::string(c.ctx.param("id")), c.actor());
            !r) {
          return std::unexpected(r.error());
        }
        return ok(json::value(), bhttp::status::no_content);
      }));

  router.add(bhttp::verb::get, base + "/outbox",
             authenticated(admin, pool, [&admin, &alm](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto status = query_param(c.req, "status");
               if (status && status->empty()) status.reset();
               auto list = alm.list_outbox(org->name, status, *page);
               if (!list) return std::unexpected(list.error());
               return ok(admin::page_json(*list, admin::outbox_entry_json));
             }));

  router.add(bhttp::verb::post, base + "/outbox/{id}/retry",
             authenticated(admin, pool, [&admin, &alm, on_retry](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               const std::string_view text = c.ctx.param("id");
               std::int64_t id = 0;
               auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
               if (ec != std::errc{} || ptr != text.data() + text.size() || id <= 0) {
                 return fail(ErrorCode::not_found,
                             "no outbox entry '" + std::string(text.substr(0, 40)) + "'");
               }
               auto entry = alm.retry_outbox_entry(org->name, id, c.actor());
               if (!entry) return std::unexpected(entry.error());
               if (on_retry) on_retry();
               return ok(admin::outbox_entry_json(*entry));
             }));
}

}  // namespace cb::api
