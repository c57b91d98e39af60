// repo subcommands: they work on the store directly (jobs: job_commands.cpp).

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>

#include "admin/admin_service.hpp"
#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

}  // namespace

void add_admin_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  // repo
  auto* repo = root.add_subcommand("repo", "register repositories");
  repo->require_subcommand(1);
  {
    auto* add = repo->add_subcommand("add", "register a repository");
    add_common_options(*add, common);
    static admin::RepositorySpec spec;
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
        admin::AdminService admin(a->store(), a->secret_box(), clock);
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
        admin::AdminService admin(a->store(), a->secret_box(), clock);
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
}

}  // namespace cb::cli
