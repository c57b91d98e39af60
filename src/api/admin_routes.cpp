#include "api/admin_routes.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "admin/json_views.hpp"
#include "api/admin_handler.hpp"
#include "api/error_mapping.hpp"
#include "auth/token_format.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using admin::audit_json;
using admin::org_json;
using admin::page_json;
using admin::token_json;

using admin_handler::authenticated;
using admin_handler::authorized_org;
using admin_handler::body_object;
using admin_handler::Call;
using admin_handler::int_field;
using admin_handler::ok;
using admin_handler::Outcome;
using admin_handler::page_request;
using admin_handler::require_server_admin;
using admin_handler::string_field;

}  // namespace

void add_admin_routes(http::Router& router, admin::AdminService& admin, asio::thread_pool& pool) {
  const std::string base = "/api/v2";
  auto now = [&admin] { return admin.now_ms(); };  // the service's clock decides token states

  router.add(bhttp::verb::get, base + "/openapi.json",
             [](http::Request& req, http::RequestContext&) -> asio::awaitable<http::Response> {
               co_return json_response(bhttp::status::ok, std::string(openapi_document()),
                                       req.version(), req.keep_alive());
             });

  router.add(bhttp::verb::post, base + "/orgs",
             authenticated(admin, pool, [&admin](Call& c) -> Outcome {
               if (auto r = require_server_admin(c); !r) return std::unexpected(r.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto name = string_field(*body, "name");
               if (!name) return std::unexpected(name.error());
               auto org = admin.create_org(*name, c.actor());
               if (!org) return std::unexpected(org.error());
               return ok(org_json(*org), bhttp::status::created);
             }));

  router.add(bhttp::verb::get, base + "/orgs",
             authenticated(admin, pool, [&admin](Call& c) -> Outcome {
               if (auto r = require_server_admin(c); !r) return std::unexpected(r.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto orgs = admin.list_orgs(*page);
               if (!orgs) return std::unexpected(orgs.error());
               return ok(page_json(*orgs, org_json));
             }));

  router.add(bhttp::verb::get, base + "/orgs/{org}",
             authenticated(admin, pool, [&admin](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               return ok(org_json(*org));
             }));

  router.add(bhttp::verb::delete_, base + "/orgs/{org}",
             authenticated(admin, pool, [&admin](Call& c) -> Outcome {
               if (auto r = require_server_admin(c); !r) return std::unexpected(r.error());
               if (auto r = admin.delete_org(std::string(c.ctx.param("org")), c.actor()); !r) {
                 return std::unexpected(r.error());
               }
               return ok(json::value(), bhttp::status::no_content);
             }));

  router.add(bhttp::verb::post, base + "/orgs/{org}/tokens",
             authenticated(admin, pool, [&admin, now](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto name = string_field(*body, "name");
               if (!name) return std::unexpected(name.error());
               auto type_text = string_field(*body, "type", "webhook");
               if (!type_text) return std::unexpected(type_text.error());
               auto type = auth::parse_token_type(*type_text);
               if (!type) return fail(ErrorCode::invalid_argument, "type: must be webhook or api");
               auto description = string_field(*body, "description");
               if (!description) return std::unexpected(description.error());
               auto expires_text = string_field(*body, "expires_at");
               if (!expires_text) return std::unexpected(expires_text.error());
               std::optional<UnixMillis> expires;
               if (!expires_text->empty()) {
                 auto t = admin::parse_utc_time(*expires_text);
                 if (!t)
                   return fail(ErrorCode::invalid_argument, "expires_at: " + t.error().message);
                 expires = *t;
               }
               auto created =
                   admin.create_token(org->name, *name, *type, *description, expires, c.actor());
               if (!created) return std::unexpected(created.error());
               auto out = token_json(created->record, now());
               out["token"] = created->token;
               return ok(std::move(out), bhttp::status::created);
             }));

  router.add(bhttp::verb::get, base + "/orgs/{org}/tokens",
             authenticated(admin, pool, [&admin, now](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto tokens = admin.list_tokens_page(org->name, *page);
               if (!tokens) return std::unexpected(tokens.error());
               const UnixMillis t = now();
               return ok(page_json(*tokens,
                                   [t](const store::TokenRecord& r) { return token_json(r, t); }));
             }));

  router.add(bhttp::verb::get, base + "/orgs/{org}/tokens/{token}",
             authenticated(admin, pool, [&admin, now](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto token = admin.get_token(org->name, std::string(c.ctx.param("token")));
               if (!token) return std::unexpected(token.error());
               return ok(token_json(*token, now()));
             }));

  router.add(bhttp::verb::post, base + "/orgs/{org}/tokens/{token}/revoke",
             authenticated(admin, pool, [&admin, now](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto token =
                   admin.revoke_token(org->name, std::string(c.ctx.param("token")), c.actor());
               if (!token) return std::unexpected(token.error());
               return ok(token_json(*token, now()));
             }));

  router.add(bhttp::verb::post, base + "/orgs/{org}/tokens/{token}/rotate",
             authenticated(admin, pool, [&admin, now](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto grace = int_field(*body, "grace_period_seconds");
               if (!grace) return std::unexpected(grace.error());
               auto rotated = admin.rotate_token(org->name, std::string(c.ctx.param("token")),
                                                 grace->value_or(0), c.actor());
               if (!rotated) return std::unexpected(rotated.error());
               auto out = token_json(rotated->record, now());
               out["token"] = rotated->token;
               return ok(std::move(out));
             }));

  router.add(bhttp::verb::get, base + "/orgs/{org}/audit",
             authenticated(admin, pool, [&admin](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto events = admin.audit(org->name, *page);
               if (!events) return std::unexpected(events.error());
               return ok(page_json(*events, audit_json));
             }));
}

}  // namespace cb::api
