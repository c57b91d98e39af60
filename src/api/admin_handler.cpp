#include "api/admin_handler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "api/error_mapping.hpp"

namespace cb::api::admin_handler {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

Outcome ok(json::value body, bhttp::status status) {
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
                                 std::string fallback) {
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

namespace {

/// An error answer of the admin API. A 401 challenges for the scheme this API takes (Bearer),
/// not the Basic challenge of the webhook endpoints.
http::Response admin_error(const Error& error, const http::Request& req) {
  auto res = error_response(error, req.version(), req.keep_alive());
  if (res.result() == bhttp::status::unauthorized) {
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"commitbridge admin API\"");
  }
  return res;
}

}  // namespace

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

Result<std::optional<std::string>> optional_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string())
    return fail(ErrorCode::invalid_argument, std::string(key) + ": must be a string");
  return std::optional<std::string>{std::string(v->as_string())};
}

Result<std::optional<bool>> optional_bool(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<bool>{};
  if (!v->is_bool())
    return fail(ErrorCode::invalid_argument, std::string(key) + ": must be true or false");
  return std::optional<bool>{v->as_bool()};
}

Result<std::optional<std::int64_t>> optional_int(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>{};
  if (v->is_int64()) return std::optional<std::int64_t>{v->as_int64()};
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>{static_cast<std::int64_t>(v->as_uint64())};
  }
  return fail(ErrorCode::invalid_argument, std::string(key) + ": must be a whole number");
}

Result<void> only_fields(const json::object& o, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : o) {
    bool found = false;
    for (auto k : known) found = found || k == key;
    if (!found) {
      return fail(ErrorCode::invalid_argument,
                  "unknown field '" + std::string(key).substr(0, 100) + "'");
    }
  }
  return {};
}

}  // namespace cb::api::admin_handler
