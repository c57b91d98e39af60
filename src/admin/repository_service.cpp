#include "admin/repository_service.hpp"

#include "admin/page_cursor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "auth/token_format.hpp"
#include "core/repository_url.hpp"

namespace cb::admin {
namespace {

constexpr std::size_t kMaxSecretBytes = 4096;

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

Result<void> check_text(std::string_view field, std::string_view value, std::size_t max,
                        bool required) {
  if (value.empty()) {
    if (required) return fail(ErrorCode::invalid_argument, std::string(field) + ": is empty");
    return {};
  }
  if (has_control(value)) {
    return fail(ErrorCode::invalid_argument, std::string(field) + ": contains a control character");
  }
  if (utf8_length(value) > max) {
    return fail(ErrorCode::invalid_argument,
                std::string(field) + ": longer than " + std::to_string(max) + " characters");
  }
  return {};
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_known_provider(const std::string& provider) {
  const auto& ids = known_provider_ids();
  return std::find(ids.begin(), ids.end(), provider) != ids.end();
}

std::unexpected<Error> invalid(std::string_view field, std::string_view message) {
  return fail(ErrorCode::invalid_argument, std::string(field) + ": " + std::string(message));
}

/// An http(s) (or, for clone URLs, file://) URL with a host, no password in it.
Result<void> check_web_url(std::string_view field, const std::string& value, bool allow_local) {
  if (auto r = check_text(field, value, 2000, false); !r || value.empty()) return r;
  if (allow_local && value.starts_with('/')) return {};  // a local path: mirrors of local repos
  auto parsed = boost::urls::parse_absolute_uri(value);
  if (!parsed) return invalid(field, "not an absolute URL");
  const std::string scheme = lower(std::string(parsed->scheme()));
  if (allow_local && scheme == "file") {
    if (parsed->path().empty()) return invalid(field, "a file URL needs a path");
    return {};
  }
  if (scheme != "https" && scheme != "http") {
    return invalid(field, allow_local ? "must be an http(s) URL, a file URL or an absolute path"
                                      : "must be an http(s) URL");
  }
  if (parsed->host_address().empty()) return invalid(field, "the URL has no host");
  if (parsed->has_password()) {
    return invalid(field, "must not contain a password; give it as credentials");
  }
  return {};
}

/// ssh://[user@]host[:port]/path or scp-like [user@]host:path.
Result<void> check_ssh_url(std::string_view field, const std::string& value) {
  if (auto r = check_text(field, value, 2000, false); !r || value.empty()) return r;
  if (value.find("://") != std::string::npos) {
    auto parsed = boost::urls::parse_absolute_uri(value);
    if (!parsed) return invalid(field, "not an absolute URL");
    if (lower(std::string(parsed->scheme())) != "ssh") {
      return invalid(field, "must be an ssh:// URL or scp-like user@host:path");
    }
    if (parsed->host_address().empty()) return invalid(field, "the URL has no host");
    if (parsed->has_password()) return invalid(field, "must not contain a password");
    if (!canonical_repository_url(value, "")) return invalid(field, "the URL has no path");
    return {};
  }
  if (value.starts_with('/') || !canonical_repository_url(value, "")) {
    return invalid(field, "must be an ssh:// URL or scp-like user@host:path");
  }
  return {};
}

Result<void> check_project_key(const std::string& provider, const std::string& value) {
  if (auto r = check_text("project_key", value, 200, true); !r) return r;
  if (provider == "gitlab") {
    // GitLab namespaces nest: "group/subgroup".
    if (value.front() == '/' || value.back() == '/' || value.find("//") != std::string::npos) {
      return invalid("project_key", "a GitLab namespace path has no empty segment");
    }
    return {};
  }
  if (value.find('/') != std::string::npos) return invalid("project_key", "may not contain '/'");
  return {};
}

Result<void> check_branch(const std::string& value) {
  if (auto r = check_text("default_branch", value, 255, false); !r || value.empty()) return r;
  if (value.starts_with("refs/")) {
    return invalid("default_branch", "a short branch name: write 'main', not 'refs/heads/main'");
  }
  if (value.find(' ') != std::string::npos) return invalid("default_branch", "contains a space");
  return {};
}

Result<void> check_secret(std::string_view field, const std::string& secret) {
  if (secret.size() > kMaxSecretBytes) {
    return invalid(field, "longer than " + std::to_string(kMaxSecretBytes) + " bytes");
  }
  if (secret.find('\0') != std::string::npos || secret.find('\n') != std::string::npos) {
    return invalid(field, "contains a NUL or line break");
  }
  return {};
}

std::string detail_json(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  boost::json::object o;
  for (const auto& [k, v] : fields) {
    if (!k.empty()) o[k] = v;
  }
  return boost::json::serialize(o);
}

void clear_secret(store::RepositoryRecord& r) {
  r.credential_secret_set = r.credential_secret_set || !r.credential_secret_sealed.empty();
  r.credential_secret_sealed.clear();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

bool is_ssh_clone_url(std::string_view url) {
  if (url.find("://") != std::string_view::npos)
    return lower(std::string(url.substr(0, 6))) == "ssh://";
  return !url.empty() && !url.starts_with('/') && canonical_repository_url(url, "").has_value();
}

RepositoryWebhookUrls repository_webhook_urls(const std::string& public_base_url,
                                              const std::string& org,
                                              const store::RepositoryRecord& repo) {
  const std::string prefix = public_base_url + "/api/webhook/v2/" + org +
                             (repo.provider == "bitbucket_server" ? "/enterprise/" : "/");
  RepositoryWebhookUrls urls;
  urls.trigger = prefix + "trigger-scm-push-request";
  if (repo.auto_update_alm) urls.sync = prefix + "sync-alm-commits";
  return urls;
}

Result<store::OrgRecord> RepositoryService::org_named(const std::string& name) {
  auto org = store_.find_org(name);
  if (!org) return std::unexpected(org.error());
  if (!*org) return fail(ErrorCode::not_found, "no org named '" + name.substr(0, 100) + "'");
  return **org;
}

void RepositoryService::audit(std::int64_t org_id, const Actor& actor, std::string action,
                              const store::RepositoryRecord& r, std::string extra_key,
                              std::string extra_value) {
  store::AuditEvent e;
  e.org_id = org_id;
  e.actor = actor.name.empty() ? "unknown" : actor.name;
  e.action = std::move(action);
  e.target = "repository:" + std::to_string(r.id);
  e.detail = detail_json({{"provider", r.provider},
                          {"project_key", r.project_key},
                          {"slug", r.slug},
                          {"credentials", r.credential_type},
                          {extra_key, std::move(extra_value)}});
  e.remote_address = actor.remote_address;
  e.created_at_ms = clock_.now_ms();
  if (auto res = store_.append_audit(e); !res) {
    spdlog::error("audit event {} {} not written: {}", e.action, e.target, res.error().detail);
  }
}

Result<void> RepositoryService::apply(store::RepositoryRecord& r, const RepositoryInput& in,
                                      bool creating, std::vector<std::string>& changed) {
  auto set = [&](const std::optional<std::string>& value, std::string& field,
                 std::string_view name) {
    if (value && *value != field) {
      field = *value;
      changed.emplace_back(name);
    }
  };
  set(in.provider, r.provider, "provider");
  set(in.project_key, r.project_key, "project_key");
  set(in.slug, r.slug, "slug");
  set(in.display_name, r.display_name, "name");
  set(in.http_clone_url, r.clone_url, "http_clone_url");
  set(in.ssh_clone_url, r.ssh_clone_url, "ssh_clone_url");
  set(in.browse_url, r.browse_url, "browse_url");
  set(in.default_branch, r.default_branch, "default_branch");
  if (in.auto_update_alm && *in.auto_update_alm != r.auto_update_alm) {
    r.auto_update_alm = *in.auto_update_alm;
    changed.emplace_back("auto_update_alm");
  }

  if (!is_known_provider(r.provider)) {
    return invalid("provider",
                   "'" + r.provider.substr(0, 50) +
                       "' is not one of bitbucket_server, github, gitlab, bitbucket_cloud, "
                       "azure_devops, gitea");
  }
  if (auto v = check_project_key(r.provider, r.project_key); !v) return v;
  if (auto v = check_text("slug", r.slug, 200, true); !v) return v;
  if (r.slug.find('/') != std::string::npos) return invalid("slug", "may not contain '/'");
  if (auto v = check_text("name", r.display_name, 200, false); !v) return v;
  if (auto v = check_web_url("http_clone_url", r.clone_url, /*allow_local=*/true); !v) return v;
  if (auto v = check_ssh_url("ssh_clone_url", r.ssh_clone_url); !v) return v;
  if (auto v = check_web_url("browse_url", r.browse_url, /*allow_local=*/false); !v) return v;
  if (auto v = check_branch(r.default_branch); !v) return v;
  if (r.clone_url.empty() && r.ssh_clone_url.empty()) {
    return invalid("http_clone_url", "give a clone URL (http_clone_url or ssh_clone_url)");
  }

  if (in.credentials) {
    const RepositoryCredentialsInput& c = *in.credentials;
    const std::string type = c.type.empty() ? std::string(store::kCredentialNone) : c.type;
    if (type != store::kCredentialNone && type != store::kCredentialHttp &&
        type != store::kCredentialSsh) {
      return invalid("credentials.type", "must be none, http or ssh");
    }
    const bool same_type = type == r.credential_type;
    std::string username = c.username;
    if (type == store::kCredentialSsh && username.empty()) username = "git";
    if (auto v = check_text("credentials.username", username, 200, type == store::kCredentialHttp);
        !v) {
      return v;
    }
    if (username.find(':') != std::string::npos && type == store::kCredentialHttp) {
      return invalid("credentials.username", "may not contain ':'");
    }
    if (type == store::kCredentialSsh) {
      if (auto v = check_text("credentials.key_path", c.ssh_key_path, 4096, true); !v) return v;
      if (!c.ssh_key_path.starts_with('/')) {
        return invalid("credentials.key_path", "must be an absolute path on the server");
      }
    } else if (!c.ssh_key_path.empty()) {
      return invalid("credentials.key_path", "only ssh credentials have a key file");
    }
    std::string sealed = r.credential_secret_sealed;
    std::string credential_id = r.credential_id;
    if (type == store::kCredentialNone) {
      if (c.secret && !c.secret->empty()) {
        return invalid("credentials.password", "credentials of type none have no secret");
      }
      sealed.clear();
      credential_id.clear();
    } else if (c.secret) {
      const std::string_view secret_field =
          type == store::kCredentialHttp ? "credentials.password" : "credentials.passphrase";
      if (auto v = check_secret(secret_field, *c.secret); !v) return v;
      if (type == store::kCredentialHttp && c.secret->empty()) {
        return invalid(secret_field, "is empty");
      }
      if (c.secret->empty()) {
        sealed.clear();
        credential_id.clear();
      } else {
        credential_id = auth::random_hex(16);
        sealed = box_.seal(*c.secret, store::repository_credential_aad(credential_id));
      }
    } else if (!same_type) {
      if (type == store::kCredentialHttp) {
        return invalid("credentials.password", "required for http credentials");
      }
      sealed.clear();  // ssh without passphrase
      credential_id.clear();
    }
    const bool credentials_changed = !same_type || username != r.credential_username ||
                                     c.ssh_key_path != r.ssh_key_path ||
                                     sealed != r.credential_secret_sealed;
    r.credential_type = type;
    r.credential_username = type == store::kCredentialNone ? "" : username;
    r.ssh_key_path = c.ssh_key_path;
    r.credential_secret_sealed = std::move(sealed);
    r.credential_id = std::move(credential_id);
    r.credential_secret_set = !r.credential_secret_sealed.empty();
    if (credentials_changed) changed.emplace_back("credentials");
  }
  if (r.credential_type == store::kCredentialSsh && r.ssh_clone_url.empty()) {
    return invalid("ssh_clone_url", "ssh credentials need an ssh_clone_url");
  }
  if (r.credential_type == store::kCredentialHttp && r.clone_url.empty()) {
    return invalid("http_clone_url", "http credentials need an http_clone_url");
  }
  (void)creating;
  return {};
}

Result<store::RepositoryRecord> RepositoryService::create(const std::string& org_name,
                                                          const RepositoryInput& input,
                                                          const Actor& actor) {
  if (!input.provider) return invalid("provider", "is required");
  if (!input.project_key) return invalid("project_key", "is required");
  if (!input.slug) return invalid("slug", "is required");
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  store::RepositoryRecord r;
  r.org_id = org->id;
  std::vector<std::string> changed;
  if (auto v = apply(r, input, /*creating=*/true, changed); !v) return std::unexpected(v.error());
  if (r.display_name.empty()) r.display_name = r.slug;
  r.created_at_ms = clock_.now_ms();
  r.updated_at_ms = r.created_at_ms;
  auto stored = store_.create_repository(r);
  if (!stored) return stored;
  audit(org->id, actor, "repository.create", *stored);
  clear_secret(*stored);
  return stored;
}

Result<store::RepositoryRecord> RepositoryService::get(const std::string& org_name,
                                                       std::int64_t id) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto found = store_.get_repository(org->id, id);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    return fail(ErrorCode::not_found,
                "no repository " + std::to_string(id) + " in org " + org->name);
  }
  clear_secret(**found);
  return **found;
}

Result<store::RepositoryRecord> RepositoryService::find(const std::string& org_name,
                                                        const std::string& id_or_name,
                                                        const std::string& provider) {
  std::int64_t id = 0;
  auto [ptr, ec] = std::from_chars(id_or_name.data(), id_or_name.data() + id_or_name.size(), id);
  if (ec == std::errc{} && ptr == id_or_name.data() + id_or_name.size() && !id_or_name.empty()) {
    return get(org_name, id);
  }
  const auto slash = id_or_name.rfind('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == id_or_name.size()) {
    return fail(ErrorCode::invalid_argument,
                "repository '" + id_or_name.substr(0, 100) + "' is neither an id nor PROJECT/slug");
  }
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  const std::string project = lower(id_or_name.substr(0, slash));
  const std::string slug = lower(id_or_name.substr(slash + 1));
  auto all = store_.list_repositories(org->id);
  if (!all) return std::unexpected(all.error());
  std::vector<store::RepositoryRecord> matches;
  for (auto& r : *all) {
    if (lower(r.project_key) == project && lower(r.slug) == slug &&
        (provider.empty() || r.provider == provider)) {
      matches.push_back(std::move(r));
    }
  }
  if (matches.empty()) {
    return fail(ErrorCode::not_found, "repository " + id_or_name.substr(0, 200) +
                                          " is not registered in org " + org->name);
  }
  if (matches.size() > 1) {
    return fail(ErrorCode::invalid_argument,
                "repository " + id_or_name.substr(0, 200) +
                    " is registered for several providers: name the provider or use the id");
  }
  clear_secret(matches.front());
  return matches.front();
}

Result<Page<store::RepositoryRecord>> RepositoryService::list(const std::string& org_name,
                                                              const PageRequest& page) {
  if (page.limit < 1 || page.limit > 200) {
    return fail(ErrorCode::invalid_argument, "limit: must be from 1 to 200");
  }
  auto after = decode_cursor(page.cursor);
  if (!after) return std::unexpected(after.error());
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto rows = store_.list_repositories_page(org->id, store::PageQuery{*after, page.limit + 1});
  if (!rows) return std::unexpected(rows.error());
  Page<store::RepositoryRecord> out;
  if (rows->size() > page.limit) {
    rows->resize(page.limit);
    out.next_cursor = encode_cursor(rows->back().id);
  }
  for (auto& r : *rows) clear_secret(r);
  out.items = std::move(*rows);
  return out;
}

Result<store::RepositoryRecord> RepositoryService::update(const std::string& org_name,
                                                          std::int64_t id,
                                                          const RepositoryInput& input,
                                                          const Actor& actor) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto found = store_.get_repository(org->id, id);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    return fail(ErrorCode::not_found,
                "no repository " + std::to_string(id) + " in org " + org->name);
  }
  store::RepositoryRecord r = **found;
  std::vector<std::string> changed;
  if (auto v = apply(r, input, /*creating=*/false, changed); !v) {
    return std::unexpected(v.error());
  }
  if (changed.empty()) {
    clear_secret(r);
    return r;
  }
  r.updated_at_ms = clock_.now_ms();
  auto stored = store_.update_repository(r);
  if (!stored) return stored;
  audit(org->id, actor, "repository.update", *stored, "changed", join(changed));
  clear_secret(*stored);
  return stored;
}

Result<void> RepositoryService::remove(const std::string& org_name, std::int64_t id,
                                       const Actor& actor) {
  auto existing = get(org_name, id);
  if (!existing) return std::unexpected(existing.error());
  auto jobs = store_.delete_repository(existing->org_id, id);
  if (!jobs) return std::unexpected(jobs.error());
  audit(existing->org_id, actor, "repository.delete", *existing, "jobs_deleted",
        std::to_string(*jobs));
  return {};
}

}  // namespace cb::admin
