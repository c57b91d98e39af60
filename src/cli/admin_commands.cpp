// job subcommands: they work on the store directly.

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
  // job
  auto* job = root.add_subcommand("job", "manage build-on-commit jobs");
  job->require_subcommand(1);
  {
    auto* add = job->add_subcommand(
        "add",
        "add a job: `job add --org O --repo KEY/SLUG --name N --branches 'main' -- ARGV...`");
    add_common_options(*add, common);
    static admin::JobSpec spec;
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
        admin::AdminService admin(a->store(), a->secret_box(), clock);
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
