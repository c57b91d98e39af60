// org, token, repo and job subcommands: they work on the store directly.

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>

#include "app/admin_service.hpp"
#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

json::object token_json(const store::TokenRecord& t, const std::string& org) {
  json::object o;
  o["org"] = org;
  o["name"] = t.name;
  o["type"] = t.type;
  o["public_id"] = t.public_id;
  o["description"] = t.description;
  o["created_at"] = format_utc(t.created_at_ms);
  o["created_by"] = t.created_by;
  o["expires_at"] = t.expires_at_ms ? json::value(format_utc(*t.expires_at_ms)) : json::value();
  o["revoked_at"] = t.revoked_at_ms ? json::value(format_utc(*t.revoked_at_ms)) : json::value();
  return o;
}

std::string webhook_url(const app::Config& config, const std::string& org,
                        std::string_view endpoint) {
  return config.effective_public_url() + "/api/webhook/v2/" + org + "/enterprise/" +
         std::string(endpoint);
}

std::string login_name() {
  const char* u = std::getenv("USER");
  return std::string("cli:") + (u != nullptr ? u : "unknown");
}

}  // namespace

void add_admin_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  // org
  auto* org = root.add_subcommand("org", "manage orgs");
  org->require_subcommand(1);
  {
    auto* create = org->add_subcommand("create", "create an org");
    add_common_options(*create, common);
    static std::string name;
    create->add_option("NAME", name, "org name (letters, digits, '-', '_', '.')")->required();
    create->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        SystemClock clock;
        app::AdminService admin(a->store(), a->secret_box(), clock);
        auto o = admin.create_org(name);
        if (!o) return report(o.error());
        std::cout << "created org " << o->name << "\n"
                  << "next: commitbridge token create --org " << o->name
                  << " --name bitbucket --type webhook\n";
        return 0;
      };
    });
    auto* list = org->add_subcommand("list", "list orgs");
    add_common_options(*list, common);
    static bool as_json = false;
    list->add_flag("--json", as_json, "print JSON");
    list->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        auto orgs = a->store().list_orgs();
        if (!orgs) return report(orgs.error());
        if (as_json) {
          json::array arr;
          for (const auto& o : *orgs) {
            arr.push_back(
                json::object{{"name", o.name}, {"created_at", format_utc(o.created_at_ms)}});
          }
          std::cout << json::serialize(arr) << "\n";
        } else {
          for (const auto& o : *orgs) std::cout << o.name << "\n";
        }
        return 0;
      };
    });
  }

  // token
  auto* token = root.add_subcommand("token", "manage webhook and api tokens");
  token->require_subcommand(1);
  {
    auto* create = token->add_subcommand("create", "create a token; prints it once");
    add_common_options(*create, common);
    static std::string org_name, name, type = "webhook", description;
    static std::optional<int> expires_days;
    static bool as_json = false;
    create->add_option("--org", org_name, "org name")->required();
    create->add_option("--name", name, "token name, unique in the org")->required();
    create->add_option("--type", type, "webhook (SCM webhooks) or api (admin API)")
        ->check(CLI::IsMember({"webhook", "api"}))
        ->capture_default_str();
    create->add_option("--description", description, "optional description");
    create->add_option("--expires-in-days", expires_days, "expire after this many days")
        ->check(CLI::Range(1, 3650));
    create->add_flag("--json", as_json, "print JSON");
    create->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        SystemClock clock;
        app::AdminService admin(a->store(), a->secret_box(), clock);
        auto t = auth::parse_token_type(type);
        if (!t) return report(t.error());
        std::optional<UnixMillis> expires;
        if (expires_days) expires = clock.now_ms() + std::int64_t{*expires_days} * 86'400'000;
        auto created = admin.create_token(org_name, name, *t, description, expires, login_name());
        if (!created) return report(created.error());
        if (as_json) {
          auto o = token_json(created->record, org_name);
          o["token"] = created->token;
          std::cout << json::serialize(o) << "\n";
          return 0;
        }
        std::cout << created->token << "\n";
        std::cerr << "Token '" << name << "' (" << type << ", public id "
                  << created->record.public_id << ") created for org " << org_name << ".\n"
                  << "This is the only time it is shown. ";
        if (*t == auth::TokenType::webhook) {
          std::cerr << "In Bitbucket, paste it as the webhook's Secret (or as the password of "
                       "basic authentication) with the URLs:\n  "
                    << webhook_url(a->config(), org_name, "trigger-scm-push-request") << "\n  "
                    << webhook_url(a->config(), org_name, "sync-alm-commits") << "\n";
        } else {
          std::cerr << "Send it as 'Authorization: Bearer <token>' to the admin API.\n";
        }
        return 0;
      };
    });

    auto* list = token->add_subcommand("list", "list an org's tokens (never their secrets)");
    add_common_options(*list, common);
    static std::string list_org;
    static bool list_json = false;
    list->add_option("--org", list_org, "org name")->required();
    list->add_flag("--json", list_json, "print JSON");
    list->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        SystemClock clock;
        app::AdminService admin(a->store(), a->secret_box(), clock);
        auto tokens = admin.list_tokens(list_org);
        if (!tokens) return report(tokens.error());
        if (list_json) {
          json::array arr;
          for (const auto& t : *tokens) arr.push_back(token_json(t, list_org));
          std::cout << json::serialize(arr) << "\n";
          return 0;
        }
        std::cout << std::left << std::setw(24) << "NAME" << std::setw(9) << "TYPE" << std::setw(18)
                  << "PUBLIC ID" << std::setw(26) << "CREATED"
                  << "STATE\n";
        for (const auto& t : *tokens) {
          std::string state = "active";
          if (t.revoked_at_ms) {
            state = "revoked";
          } else if (t.expires_at_ms && *t.expires_at_ms <= clock.now_ms()) {
            state = "expired";
          }
          std::cout << std::setw(24) << t.name << std::setw(9) << t.type << std::setw(18)
                    << t.public_id << std::setw(26) << format_utc(t.created_at_ms) << state << "\n";
        }
        return 0;
      };
    });

    auto* revoke = token->add_subcommand("revoke", "revoke a token at once");
    add_common_options(*revoke, common);
    static std::string revoke_org, revoke_name;
    revoke->add_option("--org", revoke_org, "org name")->required();
    revoke->add_option("--name", revoke_name, "token name")->required();
    revoke->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        SystemClock clock;
        app::AdminService admin(a->store(), a->secret_box(), clock);
        auto t = admin.revoke_token(revoke_org, revoke_name);
        if (!t) return report(t.error());
        std::cout << "revoked token " << t->name << " (" << t->public_id << ")\n";
        return 0;
      };
    });
  }

  // repo
  auto* repo = root.add_subcommand("repo", "register repositories");
  repo->require_subcommand(1);
  {
    auto* add = repo->add_subcommand("add", "register a repository");
    add_common_options(*add, common);
    static app::RepositorySpec spec;
    spec.provider = "bitbucket_server";
    add->add_option("--org", spec.org, "org name")->required();
    add->add_option("--provider", spec.provider, "provider id")->capture_default_str();
    add->add_option("--project", spec.project_key, "project key (Bitbucket), e.g. NWA")->required();
    add->add_option("--slug", spec.slug, "repository slug, e.g. flight-planner")->required();
    add->add_option("--clone-url", spec.clone_url, "URL the git mirror is fetched from")
        ->required();
    add->add_flag("--auto-update-alm", spec.auto_update_alm,
                  "auto update on webhook: write commit links back to the ALM");
    add->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        SystemClock clock;
        app::AdminService admin(a->store(), a->secret_box(), clock);
        auto r = admin.add_repository(spec);
        if (!r) return report(r.error());
        std::cout << "registered " << r->provider << " repository " << r->project_key << "/"
                  << r->slug << " in org " << spec.org << "\n"
                  << "webhook URL (build on commit): "
                  << webhook_url(a->config(), spec.org, "trigger-scm-push-request") << "\n";
        if (r->auto_update_alm) {
          std::cout << "webhook URL (ALM commit sync): "
                    << webhook_url(a->config(), spec.org, "sync-alm-commits") << "\n";
        }
        return 0;
      };
    });
    auto* list = repo->add_subcommand("list", "list an org's repositories");
    add_common_options(*list, common);
    static std::string list_org;
    static bool list_json = false;
    list->add_option("--org", list_org, "org name")->required();
    list->add_flag("--json", list_json, "print JSON");
    list->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        SystemClock clock;
        app::AdminService admin(a->store(), a->secret_box(), clock);
        auto repos = admin.list_repositories(list_org);
        if (!repos) return report(repos.error());
        json::array arr;
        for (const auto& r : *repos) {
          json::object o{
              {"provider", r.provider},
              {"project_key", r.project_key},
              {"slug", r.slug},
              {"clone_url", r.clone_url},
              {"auto_update_alm", r.auto_update_alm},
              {"trigger_url", webhook_url(a->config(), list_org, "trigger-scm-push-request")}};
          if (r.auto_update_alm) {
            o["sync_url"] = webhook_url(a->config(), list_org, "sync-alm-commits");
          }
          if (!list_json) {
            std::cout << r.provider << " " << r.project_key << "/" << r.slug << " " << r.clone_url
                      << (r.auto_update_alm ? " (auto update on webhook)" : "") << "\n";
          }
          arr.push_back(std::move(o));
        }
        if (list_json) std::cout << json::serialize(arr) << "\n";
        return 0;
      };
    });
  }

  // job
  auto* job = root.add_subcommand("job", "manage build-on-commit jobs");
  job->require_subcommand(1);
  {
    auto* add = job->add_subcommand(
        "add",
        "add a job: `job add --org O --repo KEY/SLUG --name N --branches 'main' -- ARGV...`");
    add_common_options(*add, common);
    static app::JobSpec spec;
    add->add_option("--org", spec.org, "org name")->required();
    add->add_option("--repo", spec.repository, "repository as PROJECT/slug")->required();
    add->add_option("--name", spec.name, "job name")->required();
    add->add_option("--branches", spec.branches,
                    "comma-separated branch globs (* within a segment, ** across, !exclude)")
        ->required();
    add->add_option("command", spec.argv, "the command and its arguments, after --")->required();
    add->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        SystemClock clock;
        app::AdminService admin(a->store(), a->secret_box(), clock);
        auto j = admin.add_job(spec);
        if (!j) return report(j.error());
        std::cout << "added job " << j->name << " on " << spec.repository << " for branches "
                  << j->branches << "\n";
        return 0;
      };
    });
  }
}

}  // namespace cb::cli
