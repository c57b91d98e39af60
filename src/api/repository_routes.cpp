#include "api/repository_routes.hpp"

#include <array>
#include <boost/json.hpp>
#include <charconv>

#include "admin/json_views.hpp"
#include "admin/repository_json.hpp"
#include "api/admin_handler.hpp"

namespace cb::api {
namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
using admin_handler::authenticated;
using admin_handler::authorized_org;
using admin_handler::body_object;
using admin_handler::Call;
using admin_handler::ok;
using admin_handler::Outcome;
using admin_handler::page_request;

constexpr std::array<std::string_view, 10> kWritableFields = {
    "provider",        "project_key",   "slug",       "name",
    "http_clone_url",  "ssh_clone_url", "browse_url", "default_branch",
    "auto_update_alm", "credentials"};
constexpr std::array<std::string_view, 5> kReadOnlyFields = {"id", "created_at", "updated_at",
                                                             "trigger_url", "sync_url"};
constexpr std::array<std::string_view, 6> kCredentialFields = {
    "type", "username", "password", "passphrase", "key_path", "secret_set"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& a, std::string_view key) {
  for (auto k : a) {
    if (k == key) return true;
  }
  return false;
}

/// Absent → nullopt; null → "" (clears an optional field); a string → it; else invalid_argument.
Result<std::optional<std::string>> optional_text(const json::object& o, std::string_view key,
                                                 std::string_view shown) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) return std::optional<std::string>{};
  if (v->is_null()) return std::optional<std::string>{std::string()};
  if (!v->is_string()) {
    return fail(ErrorCode::invalid_argument, std::string(shown) + ": must be a string");
  }
  return std::optional<std::string>{std::string(v->as_string())};
}

Result<admin::RepositoryCredentialsInput> parse_credentials(const json::value& v) {
  if (!v.is_object()) {
    return fail(ErrorCode::invalid_argument,
                "credentials: must be an object such as {\"type\": \"http\", \"username\": ..., "
                "\"password\": ...}");
  }
  const auto& o = v.as_object();
  for (const auto& kv : o) {
    if (!contains(kCredentialFields, kv.key())) {
      return fail(ErrorCode::invalid_argument,
                  "credentials." + std::string(kv.key().substr(0, 50)) + ": unknown field");
    }
  }
  admin::RepositoryCredentialsInput c;
  auto type = optional_text(o, "type", "credentials.type");
  if (!type) return std::unexpected(type.error());
  if (!*type) return fail(ErrorCode::invalid_argument, "credentials.type: is required");
  c.type = **type;
  auto username = optional_text(o, "username", "credentials.username");
  if (!username) return std::unexpected(username.error());
  c.username = username->value_or("");
  auto key_path = optional_text(o, "key_path", "credentials.key_path");
  if (!key_path) return std::unexpected(key_path.error());
  c.ssh_key_path = key_path->value_or("");
  auto password = optional_text(o, "password", "credentials.password");
  if (!password) return std::unexpected(password.error());
  auto passphrase = optional_text(o, "passphrase", "credentials.passphrase");
  if (!passphrase) return std::unexpected(passphrase.error());
  if (*password && *passphrase) {
    return fail(ErrorCode::invalid_argument,
                "credentials.passphrase: give password (http) or passphrase (ssh), not both");
  }
  if (*password && c.type == "ssh") {
    return fail(ErrorCode::invalid_argument,
                "credentials.password: ssh credentials take a passphrase");
  }
  if (*passphrase && c.type == "http") {
    return fail(ErrorCode::invalid_argument,
                "credentials.passphrase: http credentials take a password");
  }
  c.secret = *password ? *password : *passphrase;
  return c;
}

Result<admin::RepositoryInput> parse_input(const json::object& o) {
  for (const auto& kv : o) {
    if (!contains(kWritableFields, kv.key()) && !contains(kReadOnlyFields, kv.key())) {
      return fail(ErrorCode::invalid_argument,
                  std::string(kv.key().substr(0, 50)) + ": unknown field");
    }
  }
  admin::RepositoryInput in;
  struct Text {
    std::string_view key;
    std::optional<std::string>* out;
  };
  const Text texts[] = {{"provider", &in.provider},
                        {"project_key", &in.project_key},
                        {"slug", &in.slug},
                        {"name", &in.display_name},
                        {"http_clone_url", &in.http_clone_url},
                        {"ssh_clone_url", &in.ssh_clone_url},
                        {"browse_url", &in.browse_url},
                        {"default_branch", &in.default_branch}};
  for (const auto& t : texts) {
    auto v = optional_text(o, t.key, t.key);
    if (!v) return std::unexpected(v.error());
    *t.out = std::move(*v);
  }
  if (const auto* v = o.if_contains("auto_update_alm"); v != nullptr && !v->is_null()) {
    if (!v->is_bool()) {
      return fail(ErrorCode::invalid_argument, "auto_update_alm: must be true or false");
    }
    in.auto_update_alm = v->as_bool();
  }
  if (const auto* v = o.if_contains("credentials"); v != nullptr && !v->is_null()) {
    auto c = parse_credentials(*v);
    if (!c) return std::unexpected(c.error());
    in.credentials = std::move(*c);
  }
  return in;
}

Result<std::int64_t> path_id(const Call& c) {
  const std::string_view text = c.ctx.param("id");
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || ptr != text.data() + text.size() || id <= 0) {
    return fail(ErrorCode::not_found,
                "no repository '" + std::string(text.substr(0, 50)) + "' (ids are numbers)");
  }
  return id;
}

/// Local clone URLs (a path or file://) and SSH key paths read files of the server: only the
/// server admin token may set them (an org api token could otherwise read another org's mirror
/// or use the server's keys). Errors: forbidden naming the field.
Result<void> check_server_side_paths(const Call& c, const admin::RepositoryInput& in) {
  if (c.principal.server_admin) return {};
  auto local = [](const std::optional<std::string>& url) {
    return url && (url->starts_with("/") || url->starts_with("file:") || url->starts_with("."));
  };
  if (local(in.http_clone_url)) {
    return fail(ErrorCode::forbidden,
                "http_clone_url: a local path or file:// URL needs the server admin token");
  }
  if (local(in.ssh_clone_url)) {
    return fail(ErrorCode::forbidden,
                "ssh_clone_url: a local path or file:// URL needs the server admin token");
  }
  if (in.credentials && !in.credentials->ssh_key_path.empty()) {
    return fail(ErrorCode::forbidden,
                "credentials.key_path: an SSH key file of the server needs the server admin token");
  }
  return {};
}

}  // namespace

void add_repository_routes(http::Router& router, admin::AdminService& admin,
                           admin::RepositoryService& repositories, boost::asio::thread_pool& pool,
                           std::function<std::string()> public_base_url) {
  const std::string base = "/api/v2/orgs/{org}/repositories";
  auto view = [public_base_url](const store::RepositoryRecord& r, const std::string& org) {
    return admin::repository_json(r, org, public_base_url());
  };

  router.add(bhttp::verb::get, base,
             authenticated(admin, pool, [&admin, &repositories, view](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto page = page_request(c.req);
               if (!page) return std::unexpected(page.error());
               auto repos = repositories.list(org->name, *page);
               if (!repos) return std::unexpected(repos.error());
               return ok(admin::page_json(
                   *repos, [&](const store::RepositoryRecord& r) { return view(r, org->name); }));
             }));

  router.add(bhttp::verb::post, base,
             authenticated(admin, pool, [&admin, &repositories, view](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto input = parse_input(*body);
               if (!input) return std::unexpected(input.error());
               if (auto r = check_server_side_paths(c, *input); !r) {
                 return std::unexpected(r.error());
               }
               auto created = repositories.create(org->name, *input, c.actor());
               if (!created) return std::unexpected(created.error());
               return ok(view(*created, org->name), bhttp::status::created);
             }));

  router.add(bhttp::verb::get, base + "/{id}",
             authenticated(admin, pool, [&admin, &repositories, view](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto id = path_id(c);
               if (!id) return std::unexpected(id.error());
               auto repo = repositories.get(org->name, *id);
               if (!repo) return std::unexpected(repo.error());
               return ok(view(*repo, org->name));
             }));

  router.add(bhttp::verb::patch, base + "/{id}",
             authenticated(admin, pool, [&admin, &repositories, view](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto id = path_id(c);
               if (!id) return std::unexpected(id.error());
               auto body = body_object(c.req);
               if (!body) return std::unexpected(body.error());
               auto input = parse_input(*body);
               if (!input) return std::unexpected(input.error());
               if (auto r = check_server_side_paths(c, *input); !r) {
                 return std::unexpected(r.error());
               }
               auto updated = repositories.update(org->name, *id, *input, c.actor());
               if (!updated) return std::unexpected(updated.error());
               return ok(view(*updated, org->name));
             }));

  router.add(bhttp::verb::delete_, base + "/{id}",
             authenticated(admin, pool, [&admin, &repositories](Call& c) -> Outcome {
               auto org = authorized_org(admin, c);
               if (!org) return std::unexpected(org.error());
               auto id = path_id(c);
               if (!id) return std::unexpected(id.error());
               if (auto r = repositories.remove(org->name, *id, c.actor()); !r) {
                 return std::unexpected(r.error());
               }
               return ok(json::value(), bhttp::status::no_content);
             }));
}

}  // namespace cb::api
