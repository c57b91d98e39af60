// smart-commits subcommands: an org's story-key patterns (list, add, remove) and a test of a
// commit message against them. They work on the store directly, like the API routes of the same
// name; changes are written to the audit log as "cli:<login name>".

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>
#include <iterator>

#include "admin/json_views.hpp"
#include "admin/smart_commit_service.hpp"
#include "cli/context.hpp"
#include "smartcommit/analysis_json.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

/// Options of the commands below; CLI11 keeps references, so they live for the process.
struct Options {
  std::string org, kind, regex, cursor;
  std::optional<std::string> message;
  std::vector<std::string> allowed;
  std::int64_t id = 0;
  std::size_t limit = 50;
  bool as_json = false;
};

Options& opts() {
  static Options o;
  return o;
}

int with_service(const CommonOptions& common,
                 const std::function<int(admin::SmartCommitService&)>& body) {
  auto a = open_application(common);
  if (!a) return 1;
  SystemClock clock;
  admin::SmartCommitService service(a->store(), clock);
  return body(service);
}

admin::Actor actor() { return admin::Actor{cli_actor_name(), ""}; }

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out.empty() ? "-" : out;
}

void print_patterns(const std::vector<store::SmartCommitPatternRecord>& patterns) {
  std::cout << std::left << std::setw(6) << "ID" << std::setw(14) << "KIND" << std::setw(26)
            << "ALLOWED PROJECTS"
            << "REGEX\n";
  for (const auto& p : patterns) {
    std::cout << std::setw(6) << p.id << std::setw(14) << p.kind << std::setw(26)
              << joined(p.allowed_projects) << (p.regex.empty() ? "-" : p.regex) << "\n";
  }
}

void print_analysis(const smartcommit::Analysis& a) {
  if (a.keys.empty()) std::cout << "no story keys\n";
  for (const auto& k : a.keys) {
    std::cout << "key " << k.key << " (" << smartcommit::pattern_kind_name(k.kind)
              << (k.closing ? ", closing" : "") << ")\n";
  }
  for (const auto& c : a.commands) {
    std::cout << "  " << c.key << " line " << c.line << ": ";
    switch (c.kind) {
      case smartcommit::CommandKind::comment:
        std::cout << "comment \"" << c.comment << "\"";
        break;
      case smartcommit::CommandKind::time:
        std::cout << "time " << c.duration << " (" << c.seconds << " s)";
        if (!c.comment.empty()) std::cout << " \"" << c.comment << "\"";
        break;
      case smartcommit::CommandKind::transition:
        std::cout << "transition \"" << c.transition << "\"";
        if (!c.comment.empty()) std::cout << " comment \"" << c.comment << "\"";
        break;
    }
    std::cout << "\n";
  }
  for (const auto& e : a.errors) {
    std::cout << "error line " << e.line << (e.command.empty() ? "" : " " + e.command) << ": "
              << e.message << "\n";
  }
}

}  // namespace

void add_smart_commit_commands(CLI::App& root, CommonOptions& common,
                               std::function<int()>& action) {
  auto& o = opts();
  auto* smart = root.add_subcommand(
      "smart-commits", "story-key patterns of an org and tests of commit messages against them");
  smart->require_subcommand(1);

  auto* patterns = smart->add_subcommand("patterns", "manage an org's story-key patterns");
  patterns->require_subcommand(1);
  {
    auto* list = patterns->add_subcommand(
        "list", "list an org's patterns in the order they apply (none: the jira built-in)");
    add_common_options(*list, common);
    list->add_option("--org", o.org, "org name")->required();
    list->add_option("--limit", o.limit, "page size, 1 to 200")
        ->check(CLI::Range(1, 200))
        ->capture_default_str();
    list->add_option("--cursor", o.cursor, "next_cursor of the previous page");
    list->add_flag("--json", o.as_json, "print JSON");
    list->callback([&] {
      action = [&] {
        return with_service(common, [](admin::SmartCommitService& service) {
          auto page =
              service.list_patterns(opts().org, admin::PageRequest{opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            std::cout << json::serialize(admin::page_json(*page, admin::smart_commit_pattern_json))
                      << "\n";
            return 0;
          }
          if (page->items.empty() && opts().cursor.empty()) {
            std::cout << "no patterns: commit messages are read with the jira built-in\n";
            return 0;
          }
          print_patterns(page->items);
          if (!page->next_cursor.empty())
            std::cerr << "more: --cursor " << page->next_cursor << "\n";
          return 0;
        });
      };
    });

    auto* add = patterns->add_subcommand(
        "add",
        "add a pattern, e.g. `--kind jira --allow PLAT --allow NWA` or `--kind custom --regex "
        "'\\[CASE:(?P<key>[0-9]+)\\]'`");
    add_common_options(*add, common);
    add->add_option("--org", o.org, "org name")->required();
    add->add_option("--kind", o.kind,
                    "jira, azure_boards, github_issue, rally, versionone or custom")
        ->required()
        ->check(CLI::IsMember(
            {"jira", "azure_boards", "github_issue", "rally", "versionone", "custom"}));
    add->add_option("--regex", o.regex,
                    "custom only: RE2 pattern with a (?P<key>...) group, optionally "
                    "(?P<project>...)");
    add->add_option("--allow", o.allowed,
                    "project key whose story keys count (repeat for several; default: all)");
    add->add_flag("--json", o.as_json, "print JSON");
    add->callback([&] {
      action = [&] {
        return with_service(common, [](admin::SmartCommitService& service) {
          smartcommit::PatternSpec spec;
          spec.kind = *smartcommit::parse_pattern_kind(opts().kind);  // checked by IsMember
          spec.regex = opts().regex;
          spec.allowed_projects = opts().allowed;
          auto created = service.add_pattern(opts().org, spec, actor());
          if (!created) return report(created.error());
          if (opts().as_json) {
            std::cout << json::serialize(admin::smart_commit_pattern_json(*created)) << "\n";
          } else {
            std::cout << "added " << created->kind << " pattern " << created->id << " to org "
                      << opts().org << "\n";
          }
          return 0;
        });
      };
    });

    auto* remove = patterns->add_subcommand("remove", "remove a pattern by id");
    add_common_options(*remove, common);
    remove->add_option("--org", o.org, "org name")->required();
    remove->add_option("--id", o.id, "pattern id (see patterns list)")->required();
    remove->callback([&] {
      action = [&] {
        return with_service(common, [](admin::SmartCommitService& service) {
          if (auto r = service.remove_pattern(opts().org, opts().id, actor()); !r) {
            return report(r.error());
          }
          std::cout << "removed pattern " << opts().id << " from org " << opts().org << "\n";
          return 0;
        });
      };
    });
  }

  auto* test = smart->add_subcommand(
      "test",
      "analyze a commit message with the org's patterns: story keys, smart-commit commands and "
      "errors (the message from --message, else from stdin)");
  add_common_options(*test, common);
  test->add_option("--org", o.org, "org name")->required();
  test->add_option("--message", o.message, "the commit message (default: read stdin)");
  test->add_flag("--json", o.as_json, "print JSON ({\"keys\", \"commands\", \"errors\"})");
  test->callback([&] {
    action = [&] {
      return with_service(common, [](admin::SmartCommitService& service) {
        auto set = service.pattern_set(opts().org);
        if (!set) return report(set.error());
        std::string message;
        if (opts().message) {
          message = *opts().message;
        } else {
          message.assign(std::istreambuf_iterator<char>(std::cin),
                         std::istreambuf_iterator<char>());
        }
        const auto analysis = smartcommit::analyze(message, *set);
        if (opts().as_json) {
          std::cout << json::serialize(smartcommit::analysis_json(analysis)) << "\n";
        } else {
          print_analysis(analysis);
        }
        return 0;
      });
    };
  });
}

}  // namespace cb::cli
