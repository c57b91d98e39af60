#include "admin/admin_service.hpp"

#include "admin/page_cursor.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "admin/repository_service.hpp"
#include "auth/digest.hpp"
#include "core/branch_rules.hpp"

namespace cb::admin {
namespace {

/// Characters (UTF-8 code points) in `s`: limits are stated in characters, not bytes.
std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;  // every byte but a continuation byte starts a character
  }
  return n;
}

Result<void> check_name(std::string_view field, const std::string& value, std::size_t max) {
  if (value.empty()) return fail(ErrorCode::invalid_argument, std::string(field) + ": is empty");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return fail(ErrorCode::invalid_argument,
                  std::string(field) + ": contains a control character");
    }
  }
  if (utf8_length(value) > max) {
    return fail(ErrorCode::invalid_argument,
                std::string(field) + ": longer than " + std::to_string(max) + " characters");
  }
  return {};
}

Result<void> check_org_name(const std::string& name) {
  if (auto r = check_name("name", name, 100); !r) return r;
  if (name.find_first_not_of('.') == std::string::npos) {
    return fail(ErrorCode::invalid_argument, "name: '" + name + "' cannot appear in a URL path");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      return fail(ErrorCode::invalid_argument,
                  "name: an org name may contain only letters, digits, '-', '_' and '.'");
    }
  }
  return {};
}

}  // namespace

const std::vector<std::string>& known_provider_ids() {
  static const std::vector<std::string> ids = {"bitbucket_server", "github",       "gitlab",
                                               "bitbucket_cloud",  "azure_devops", "gitea"};
  return ids;
}

std::string Principal::actor_name() const {
  return (server_admin ? "admin-token:" : "token:") + public_id;
}

Result<UnixMillis> parse_utc_time(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  char tail[8] = {};
  const std::string t(text.substr(0, 40));
  int consumed = 0;
  bool ok = std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                        &consumed) == 6;
  std::string_view rest = ok ? std::string_view(t).substr(static_cast<std::size_t>(consumed)) : "";
  if (ok && !rest.empty() && rest.front() == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    std::string frac(rest.substr(1, digits - 1));
    frac = (frac + "000").substr(0, 3);
    ms = std::atoi(frac.c_str());
    rest = rest.substr(digits);
  }
  (void)tail;
  ok = ok && rest == "Z" && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 &&
       sec <= 60 && y >= 1970;
  if (!ok) {
    return fail(ErrorCode::invalid_argument,
                "time '" + t + "' is not UTC ISO-8601 like 2027-01-31T23:59:00Z");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t secs = timegm(&tm);
  // timegm normalizes (Feb 31 becomes Mar 3, in `tm` too): a date that does not come back as it
  // was written does not exist. A leap second (:60) is accepted as the next second.
  std::tm back{};
  if (secs == static_cast<std::time_t>(-1) || gmtime_r(&secs, &back) == nullptr ||
      (sec < 60 && (back.tm_year != y - 1900 || back.tm_mon != mo - 1 || back.tm_mday != d))) {
    return fail(ErrorCode::invalid_argument, "time '" + t + "' is not a date of the calendar");
  }
  return static_cast<UnixMillis>(secs) * 1000 + ms;
}

namespace {

void clear_secrets(store::TokenRecord& t) {
  t.secret_sealed.clear();
  t.secret_sha256.clear();
  t.previous_secret_sealed.clear();
  t.previous_secret_sha256.clear();
}

std::string detail_json(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  boost::json::object o;
  for (const auto& [k, v] : fields) o[k] = v;
  return boost::json::serialize(o);
}

}  // namespace

void AdminService::audit_event(std::optional<std::int64_t> org_id, const Actor& actor,
                               std::string action, std::string target, std::string detail) {
  store::AuditEvent e;
  e.org_id = org_id;
  e.actor = actor.name.empty() ? "unknown" : actor.name;
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote_address = actor.remote_address;
  e.created_at_ms = clock_.now_ms();
  if (auto r = store_.append_audit(e); !r) {
    spdlog::error("audit event {} {} not written: {}", e.action, e.target, r.error().detail);
  }
}

Result<store::OrgRecord> AdminService::create_org(const std::string& name, const Actor& actor) {
  if (auto r = check_org_name(name); !r) return std::unexpected(r.error());
  auto org = store_.create_org(name, clock_.now_ms());
  if (!org) return org;
  audit_event(org->id, actor, "org.create", org->name, detail_json({{"name", org->name}}));
  return org;
}

Result<store::OrgRecord> AdminService::get_org(const std::string& name) {
  auto org = store_.find_org(name);
  if (!org) return std::unexpected(org.error());
  if (!*org) return fail(ErrorCode::not_found, "no org named '" + name.substr(0, 100) + "'");
  return **org;
}

Result<Page<store::OrgRecord>> AdminService::list_orgs(const PageRequest& page) {
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  auto after = decode_cursor(page.cursor);
  if (!after) return std::unexpected(after.error());
  auto rows = store_.list_orgs_page(store::PageQuery{*after, *limit + 1});
  if (!rows) return std::unexpected(rows.error());
  Page<store::OrgRecord> out;
  if (rows->size() > *limit) {
    rows->resize(*limit);
    out.next_cursor = encode_cursor(rows->back().id);
  }
  out.items = std::move(*rows);
  return out;
}

Result<void> AdminService::delete_org(const std::string& name, const Actor& actor) {
  auto org = get_org(name);
  if (!org) return std::unexpected(org.error());
  if (auto r = store_.delete_org(org->id, clock_.now_ms()); !r) return r;
  audit_event(org->id, actor, "org.delete", org->name,
              detail_json({{"name", org->name}, {"tokens", "revoked"}}));
  return {};
}

Result<CreatedToken> AdminService::create_token(const std::string& org_name,
                                                const std::string& name, auth::TokenType type,
                                                const std::string& description,
                                                std::optional<UnixMillis> expires_at_ms,
                                                const Actor& actor) {
  if (auto r = check_name("name", name, 100); !r) return std::unexpected(r.error());
  if (utf8_length(description) > 1000) {
    return fail(ErrorCode::invalid_argument, "description: longer than 1000 characters");
  }
  const UnixMillis now = clock_.now_ms();
  if (expires_at_ms && *expires_at_ms <= now) {
    return fail(ErrorCode::invalid_argument, "expires_at: not in the future");
  }
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  const auth::TokenParts parts = auth::generate_token(type);
  store::TokenRecord t;
  t.org_id = org->id;
  t.name = name;
  t.type = std::string(auth::to_string(type));
  t.description = description;
  t.public_id = parts.public_id;
  if (type == auth::TokenType::webhook) {
    t.secret_sealed = box_.seal(parts.secret, parts.public_id);
  } else {
    t.secret_sha256 = auth::sha256(parts.secret);
  }
  t.created_at_ms = now;
  t.created_by = actor.name;
  t.expires_at_ms = expires_at_ms;
  auto stored = store_.create_token(t);
  if (!stored) return std::unexpected(stored.error());
  clear_secrets(*stored);
  audit_event(org->id, actor, "token.create", stored->public_id,
              detail_json({{"name", stored->name}, {"type", stored->type}}));
  return CreatedToken{std::move(*stored), auth::format_token(parts)};
}

Result<std::vector<store::TokenRecord>> AdminService::list_tokens(const std::string& org_name) {
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  auto tokens = store_.list_tokens(org->id);
  if (!tokens) return tokens;
  for (auto& t : *tokens) clear_secrets(t);
  return tokens;
}

Result<Page<store::TokenRecord>> AdminService::list_tokens_page(const std::string& org_name,
                                                                const PageRequest& page) {
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  auto after = decode_cursor(page.cursor);
  if (!after) return std::unexpected(after.error());
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  auto rows = store_.list_tokens_page(org->id, store::PageQuery{*after, *limit + 1});
  if (!rows) return std::unexpected(rows.error());
  Page<store::TokenRecord> out;
  if (rows->size() > *limit) {
    rows->resize(*limit);
    out.next_cursor = encode_cursor(rows->back().id);
  }
  for (auto& t : *rows) clear_secrets(t);
  out.items = std::move(*rows);
  return out;
}

Result<store::TokenRecord> AdminService::get_token(const std::string& org_name,
                                                   const std::string& id_or_name) {
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  auto by_id = store_.find_token(id_or_name);
  if (!by_id) return std::unexpected(by_id.error());
  if (*by_id && (*by_id)->org_id == org->id) {
    clear_secrets(**by_id);
    return **by_id;
  }
  auto all = store_.list_tokens(org->id);
  if (!all) return std::unexpected(all.error());
  for (auto& t : *all) {
    if (t.name == id_or_name) {
      clear_secrets(t);
      return t;
    }
  }
  return fail(ErrorCode::not_found,
              "no token '" + id_or_name.substr(0, 100) + "' in org " + org->name);
}

Result<store::TokenRecord> AdminService::revoke_token(const std::string& org_name,
                                                      const std::string& id_or_name,
                                                      const Actor& actor) {
  auto token = get_token(org_name, id_or_name);
  if (!token) return token;
  const bool already = token->revoked_at_ms.has_value();
  auto t = store_.revoke_token_by_id(token->id, clock_.now_ms());
  if (!t) return t;
  clear_secrets(*t);
  if (!already) {
    audit_event(t->org_id, actor, "token.revoke", t->public_id, detail_json({{"name", t->name}}));
  }
  return t;
}

Result<CreatedToken> AdminService::rotate_token(const std::string& org_name,
                                                const std::string& id_or_name,
                                                std::int64_t grace_seconds, const Actor& actor) {
  if (grace_seconds < 0 || grace_seconds > 30LL * 86400) {
    return fail(ErrorCode::invalid_argument,
                "grace_period_seconds: must be from 0 to 2592000 (30 days)");
  }
  auto token = get_token(org_name, id_or_name);
  if (!token) return std::unexpected(token.error());
  if (token->revoked_at_ms) {
    return fail(ErrorCode::conflict, "token " + token->public_id + " is revoked; create a new one");
  }
  auto type = auth::parse_token_type(token->type);
  if (!type) return std::unexpected(type.error());
  auth::TokenParts parts = auth::generate_token(*type);
  parts.public_id = token->public_id;  // same id, new secret
  std::string sealed, hashed;
  if (*type == auth::TokenType::webhook) {
    sealed = box_.seal(parts.secret, parts.public_id);
  } else {
    hashed = auth::sha256(parts.secret);
  }
  const UnixMillis now = clock_.now_ms();
  auto rotated = store_.rotate_token(token->id, sealed, hashed, now + grace_seconds * 1000, now);
  if (!rotated) return std::unexpected(rotated.error());
  clear_secrets(*rotated);
  audit_event(rotated->org_id, actor, "token.rotate", rotated->public_id,
              detail_json({{"name", rotated->name},
                           {"grace_period_seconds", std::to_string(grace_seconds)}}));
  return CreatedToken{std::move(*rotated), auth::format_token(parts)};
}

Result<Page<store::AuditEvent>> AdminService::audit(const std::string& org_name,
                                                    const PageRequest& page) {
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  auto before = decode_cursor(page.cursor);
  if (!before) return std::unexpected(before.error());
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  std::optional<std::int64_t> before_id;
  if (*before > 0) before_id = *before;
  auto rows = store_.list_audit(org->id, before_id, *limit + 1);
  if (!rows) return std::unexpected(rows.error());
  Page<store::AuditEvent> out;
  if (rows->size() > *limit) {
    rows->resize(*limit);
    out.next_cursor = encode_cursor(rows->back().id);
  }
  out.items = std::move(*rows);
  return out;
}

Result<CreatedAdminToken> AdminService::create_admin_token(const std::string& name,
                                                           std::optional<UnixMillis> expires_at_ms,
                                                           const Actor& actor) {
  if (auto r = check_name("name", name, 100); !r) return std::unexpected(r.error());
  const UnixMillis now = clock_.now_ms();
  if (expires_at_ms && *expires_at_ms <= now) {
    return fail(ErrorCode::invalid_argument, "expires_at: not in the future");
  }
  const auth::TokenParts parts = auth::generate_token(auth::TokenType::api);
  store::AdminTokenRecord t;
  t.name = name;
  t.public_id = parts.public_id;
  t.secret_sha256 = auth::sha256(parts.secret);
  t.created_at_ms = now;
  t.created_by = actor.name;
  t.expires_at_ms = expires_at_ms;
  auto stored = store_.create_admin_token(t);
  if (!stored) return std::unexpected(stored.error());
  stored->secret_sha256.clear();
  audit_event(std::nullopt, actor, "admin_token.create", stored->public_id,
              detail_json({{"name", stored->name}}));
  return CreatedAdminToken{std::move(*stored), auth::format_token(parts)};
}

void AdminService::record_token_use(std::int64_t token_id) {
  const UnixMillis now = clock_.now_ms();
  std::lock_guard lock(uses_mutex_);
  auto& at = uses_[token_id];
  at = std::max(at, now);
}

std::vector<std::pair<std::int64_t, UnixMillis>> AdminService::take_token_uses() {
  std::lock_guard lock(uses_mutex_);
  std::vector<std::pair<std::int64_t, UnixMillis>> out(uses_.begin(), uses_.end());
  uses_.clear();
  return out;
}

Result<Principal> AdminService::authenticate_api(std::string_view token) {
  auto parts = auth::parse_token(token);
  if (!parts) {
    return fail(ErrorCode::invalid_token,
                "Authorization Bearer: not a commitbridge api token (cba_<id>_<secret>)");
  }
  const std::string id = " (public id " + parts->public_id + ")";
  if (parts->type != auth::TokenType::api) {
    return fail(ErrorCode::forbidden,
                "a webhook token cannot be used on the admin API; create an api token" + id);
  }
  const UnixMillis now = clock_.now_ms();
  const std::string presented = auth::sha256(parts->secret);

  auto admin = store_.find_admin_token(parts->public_id);
  if (!admin) return std::unexpected(admin.error());
  if (*admin) {
    const auto& a = **admin;
    if (!auth::constant_time_equals(a.secret_sha256, presented)) {
      return fail(ErrorCode::invalid_token, "Authorization Bearer: token is not known" + id);
    }
    if (a.revoked_at_ms) {
      return fail(ErrorCode::invalid_token, "Authorization Bearer: token is revoked" + id);
    }
    if (a.expires_at_ms && *a.expires_at_ms <= now) {
      return fail(ErrorCode::invalid_token, "Authorization Bearer: token has expired" + id);
    }
    record_token_use(-a.id);
    Principal p;
    p.server_admin = true;
    p.token_id = a.id;
    p.public_id = a.public_id;
    return p;
  }

  auto found = store_.find_token(parts->public_id);
  if (!found) return std::unexpected(found.error());
  if (!*found)
    return fail(ErrorCode::invalid_token, "Authorization Bearer: token is not known" + id);
  const auto& t = **found;
  const bool current =
      !t.secret_sha256.empty() && auth::constant_time_equals(t.secret_sha256, presented);
  const bool previous = !t.previous_secret_sha256.empty() &&
                        auth::constant_time_equals(t.previous_secret_sha256, presented) &&
                        t.previous_valid_until_ms && now < *t.previous_valid_until_ms;
  if (!current && !previous) {
    return fail(ErrorCode::invalid_token, "Authorization Bearer: token is not known" + id);
  }
  if (t.type != "api") {
    return fail(ErrorCode::forbidden, "a webhook token cannot be used on the admin API" + id);
  }
  if (t.revoked_at_ms) {
    return fail(ErrorCode::invalid_token, "Authorization Bearer: token is revoked" + id);
  }
  if (t.expires_at_ms && *t.expires_at_ms <= now) {
    return fail(ErrorCode::invalid_token, "Authorization Bearer: token has expired" + id);
  }
  record_token_use(t.id);
  Principal p;
  p.org_id = t.org_id;
  p.token_id = t.id;
  p.public_id = t.public_id;
  return p;
}

Result<store::RepositoryRecord> AdminService::add_repository(const RepositorySpec& spec) {
  RepositoryInput input;
  input.provider = spec.provider;
  input.project_key = spec.project_key;
  input.slug = spec.slug;
  (is_ssh_clone_url(spec.clone_url) ? input.ssh_clone_url : input.http_clone_url) = spec.clone_url;
  input.auto_update_alm = spec.auto_update_alm;
  return RepositoryService(store_, box_, clock_).create(spec.org, input, spec.actor);
}

Result<std::vector<store::RepositoryRecord>> AdminService::list_repositories(
    const std::string& org_name) {
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  return store_.list_repositories(org->id);
}

Result<store::JobRecord> AdminService::add_job(const JobSpec& spec) {
  if (auto r = check_name("job name", spec.name, 100); !r) return std::unexpected(r.error());
  if (spec.argv.empty() || spec.argv.front().empty()) {
    return fail(ErrorCode::invalid_argument, "the job has no command (give it after --)");
  }
  if (spec.branches.find("refs/") != std::string::npos) {
    return fail(ErrorCode::invalid_argument,
                "branches: rules match short branch names: write 'main', not 'refs/heads/main'");
  }
  auto rules = BranchRules::parse(spec.branches);
  if (!rules) {
    return fail(ErrorCode::invalid_argument, "branches: " + rules.error().message);
  }
  const auto slash = spec.repository.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == spec.repository.size()) {
    return fail(ErrorCode::invalid_argument,
                "repository '" + spec.repository + "' is not PROJECT/slug");
  }
  auto org = get_org(spec.org);
  if (!org) return std::unexpected(org.error());
  const std::string project = spec.repository.substr(0, slash);
  const std::string slug = spec.repository.substr(slash + 1);
  auto repos = store_.list_repositories(org->id);
  if (!repos) return std::unexpected(repos.error());
  std::vector<store::RepositoryRecord> matches;
  for (const auto& r : *repos) {
    auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    if (lower(r.project_key) == lower(project) && lower(r.slug) == lower(slug)) {
      matches.push_back(r);
    }
  }
  if (matches.empty()) {
    return fail(ErrorCode::not_found, "repository " + spec.repository +
                                          " is not registered in org " + org->name +
                                          " (add it with `commitbridge repo add`)");
  }
  if (matches.size() > 1) {
    return fail(ErrorCode::invalid_argument,
                "repository " + spec.repository + " is registered for several providers");
  }
  store::JobRecord j;
  j.org_id = org->id;
  j.repository_id = matches.front().id;
  j.name = spec.name;
  j.branches = rules->spec();
  j.argv = spec.argv;
  j.enabled = true;
  j.created_at_ms = clock_.now_ms();
  return store_.create_job(j);
}

}  // namespace cb::admin
