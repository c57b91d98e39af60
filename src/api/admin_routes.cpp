#include "api/admin_routes.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "admin/json_views.hpp"
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
using Outcome = Result<std::pair<bhttp::status, json::value>>;

Outcome ok(json::value body, bhttp::status status = bhttp::status::ok) {
  return std::pair<bhttp::status, json::value>{status, std::move(body)};
}

std::optional<std::string> query_param(const http::Request& req, std::string_view name) {
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return std::nullopt;
  auto it = url->params().find(name);
  if (it == url->params().end()) return std::nullopt;
  return std::string((*it).value);
}

Result<admin::PageRequest> page_request(const http::Request& req) {
  admin::PageRequest page;
  if (auto limit = query_param(req, "limit")) {
    std::size_t v = 0;
    auto [ptr, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
    if (ec != std::errc{} || ptr != limit->data() + limit->size()) {
      return fail(ErrorCode::invalid_argument, "limit: must be a whole number from 1 to 200");
    }
    page.limit = v;
  }
  if (auto cursor = query_param(req, "cursor")) page.cursor = *cursor;
  return page;
}

Result<json::object> body_object(const http::Request& req) {
  if (req.body().empty()) return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) {
    return fail(ErrorCode::invalid_argument, "the body must be a JSON object");
  }
  return std::move(v.as_object());
}

/// A string field: absent → fallback; present but not a string → invalid_argument naming it.
Result<std::string> string_field(const json::object& o, std::string_view key,
                                 std::string fallback = {}) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_string())
    return fail(ErrorCode::invalid_argument, std::string(key) + ": must be a string");
  return std::string(v->as_string());
}

Result<std::optional<std::int64_t>> int_field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>{};
  if (v->is_int64()) return std::optional<std::int64_t>{v->as_int64()};
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>{static_cast<std::int64_t>(v->as_uint64())};
  }
  return fail(ErrorCode::invalid_argument, std::string(key) + ": must be a whole number");
}

/// The org in the path, checked against the principal: 403 for another org's token.
Result<store::OrgRecord> authorized_org(admin::AdminService& admin, const Call& call) {
  const std::string name(call.ctx.param("org"));
  auto org = admin.get_org(name);
  if (!org) {
    if (org.error().code == ErrorCode::not_found && !call.principal.server_admin) {
      return fail(ErrorCode::forbidden, "this token may act on its own org only");
    }
    return std::unexpected(org.error());
  }
  if (!call.principal.server_admin && call.principal.org_id != org->id) {
    return fail(ErrorCode::forbidden, "this token may act on its own org only");
  }
  return org;
}

Result<void> require_server_admin(const Call& call) {
  if (!call.principal.server_admin) {
    return fail(ErrorCode::forbidden,
                "only a server admin token (commitbridge admin-token create) may manage orgs");
  }
  return {};
}

using Work = std::function<Outcome(Call&)>;

/// An error answer of the admin API. A 401 challenges for the scheme this API takes (Bearer),
/// not the Basic challenge of the webhook endpoints.
http::Response admin_error(const Error& error, const http::Request& req) {
  auto res = error_response(error, req.version(), req.keep_alive());
  if (res.result() == bhttp::status::unauthorized) {
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"commitbridge admin API\"");
  }
  return res;
}

http::Handler authenticated(admin::AdminService& admin, asio::thread_pool& pool, Work work) {
  return [&admin, &pool, work = std::move(work)](
             http::Request& req, http::RequestContext& ctx) -> asio::awaitable<http::Response> {
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    auto run = [&admin, &req, &ctx, &work]() -> http::Response {
      const std::string_view header = req[bhttp::field::authorization];
      std::string_view token;
      if (header.size() > 7 && iequals(header.substr(0, 7), "Bearer ")) token = header.substr(7);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      if (token.empty()) {
        return admin_error(make_error(ErrorCode::missing_credentials,
                                      "send an api token as 'Authorization: Bearer <token>'"),
                           req);
      }
      auto principal = admin.authenticate_api(token);
      if (!principal) return admin_error(principal.error(), req);
      Call call{req, ctx, std::move(*principal)};
      Outcome out = [&]() -> Outcome {
        try {
          return work(call);
        } catch (const std::exception& e) {
          return fail(ErrorCode::internal, "internal error", e.what());
        }
      }();
      if (!out) return admin_error(out.error(), req);
      if (out->first == bhttp::status::no_content) {
        http::Response res{bhttp::status::no_content, req.version()};
        res.keep_alive(req.keep_alive());
        return res;
      }
      return json_response(out->first, json::serialize(out->second), req.version(),
                           req.keep_alive());
    };
    (void)version;
    (void)keep_alive;
    co_return co_await asio::co_spawn(
        pool, [run]() -> asio::awaitable<http::Response> { co_return run(); }, asio::use_awaitable);
  };
}

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
