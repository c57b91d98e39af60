#include "app/admin_service.hpp"

#include "auth/digest.hpp"
#include "core/branch_rules.hpp"

namespace cb::app {
namespace {

Result<void> check_name(std::string_view field, const std::string& value, std::size_t max) {
  if (value.empty()) return fail(ErrorCode::invalid_argument, std::string(field) + " is empty");
  if (value.size() > max) {
    return fail(ErrorCode::invalid_argument,
                std::string(field) + " is longer than " + std::to_string(max) + " characters");
  }
  return {};
}

Result<void> check_org_name(const std::string& name) {
  if (auto r = check_name("org name", name, 100); !r) return r;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      return fail(ErrorCode::invalid_argument,
                  "org name may contain only letters, digits, '-', '_' and '.'");
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

Result<store::OrgRecord> AdminService::create_org(const std::string& name) {
  if (auto r = check_org_name(name); !r) return std::unexpected(r.error());
  return store_.create_org(name, clock_.now_ms());
}

Result<store::OrgRecord> AdminService::get_org(const std::string& name) {
  auto org = store_.find_org(name);
  if (!org) return std::unexpected(org.error());
  if (!*org) return fail(ErrorCode::not_found, "no org named '" + name + "'");
  return **org;
}

Result<CreatedToken> AdminService::create_token(const std::string& org_name,
                                                const std::string& name, auth::TokenType type,
                                                const std::string& description,
                                                std::optional<UnixMillis> expires_at_ms,
                                                const std::string& created_by) {
  if (auto r = check_name("token name", name, 100); !r) return std::unexpected(r.error());
  if (description.size() > 1000) {
    return fail(ErrorCode::invalid_argument, "description is longer than 1000 characters");
  }
  const UnixMillis now = clock_.now_ms();
  if (expires_at_ms && *expires_at_ms <= now) {
    return fail(ErrorCode::invalid_argument, "expiry is not in the future");
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
  t.created_by = created_by;
  t.expires_at_ms = expires_at_ms;
  auto stored = store_.create_token(t);
  if (!stored) return std::unexpected(stored.error());
  stored->secret_sealed.clear();
  stored->secret_sha256.clear();
  return CreatedToken{std::move(*stored), auth::format_token(parts)};
}

Result<std::vector<store::TokenRecord>> AdminService::list_tokens(const std::string& org_name) {
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  auto tokens = store_.list_tokens(org->id);
  if (!tokens) return tokens;
  for (auto& t : *tokens) {
    t.secret_sealed.clear();
    t.secret_sha256.clear();
  }
  return tokens;
}

Result<store::TokenRecord> AdminService::revoke_token(const std::string& org_name,
                                                      const std::string& name) {
  auto org = get_org(org_name);
  if (!org) return std::unexpected(org.error());
  auto t = store_.revoke_token(org->id, name, clock_.now_ms());
  if (!t) return t;
  t->secret_sealed.clear();
  t->secret_sha256.clear();
  return t;
}

Result<store::RepositoryRecord> AdminService::add_repository(const RepositorySpec& spec) {
  const auto& ids = known_provider_ids();
  if (std::find(ids.begin(), ids.end(), spec.provider) == ids.end()) {
    return fail(ErrorCode::invalid_argument,
                "provider '" + spec.provider +
                    "' is not one of bitbucket_server, github, gitlab, bitbucket_cloud, "
                    "azure_devops, gitea");
  }
  if (auto r = check_name("project key", spec.project_key, 200); !r) {
    return std::unexpected(r.error());
  }
  if (auto r = check_name("repository slug", spec.slug, 200); !r) return std::unexpected(r.error());
  if (auto r = check_name("clone URL", spec.clone_url, 2000); !r) return std::unexpected(r.error());
  if (spec.project_key.find('/') != std::string::npos || spec.slug.find('/') != std::string::npos) {
    return fail(ErrorCode::invalid_argument, "project key and slug may not contain '/'");
  }
  auto org = get_org(spec.org);
  if (!org) return std::unexpected(org.error());
  store::RepositoryRecord r;
  r.org_id = org->id;
  r.provider = spec.provider;
  r.project_key = spec.project_key;
  r.slug = spec.slug;
  r.clone_url = spec.clone_url;
  r.auto_update_alm = spec.auto_update_alm;
  r.created_at_ms = clock_.now_ms();
  return store_.create_repository(r);
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

}  // namespace cb::app
