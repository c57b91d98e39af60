// stories and commits subcommands: the commits linked to a story, a commit's stories and an
// org's story keys, as tables or as the admin API's JSON (admin/story_views).

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>

#include "admin/commit_links.hpp"
#include "admin/json_views.hpp"
#include "admin/story_service.hpp"
#include "admin/story_views.hpp"
#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

/// Options of the story commands (CLI11 binds to these; one command runs per process).
struct StoryOptions {
  std::string key;
  std::string hash;
  std::optional<std::string> org;
  std::size_t limit = 50;
  std::string cursor;
  bool as_json = false;
};

StoryOptions& opts() {
  static StoryOptions o;
  return o;
}

void add_page_options(CLI::App& cmd) {
  cmd.add_option("--limit", opts().limit, "page size, 1 to 200")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  cmd.add_option("--cursor", opts().cursor, "next_cursor of the previous page");
  cmd.add_flag("--json", opts().as_json, "print JSON: {\"items\": [...], \"next_cursor\"}");
}

void say_next_page(const std::string& next) {
  if (!next.empty()) std::cerr << "more: --cursor " << next << "\n";
}

std::string first_line(const std::string& s, std::size_t max) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.size() > max) line = line.substr(0, max - 3) + "...";
  return line;
}

/// The org named by --org; nullopt when --org was not given.
Result<std::optional<store::OrgRecord>> org_option(store::Store& store) {
  if (!opts().org) return std::optional<store::OrgRecord>{};
  auto found = store.find_org(*opts().org);
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail(ErrorCode::not_found, "no org named '" + *opts().org + "'");
  return found;
}

/// A link as text: hash, time, author, summary line, then one line per branch it was seen on.
void print_link(const store::StoryLinkRecord& l, bool with_story) {
  std::cout << l.commit.commit_hash.substr(0, 12) << "  " << format_utc(l.commit.authored_at_ms)
            << "  " << l.commit.author_name << " <" << l.commit.author_email << ">";
  if (with_story) std::cout << "  " << l.commit.story_key;
  std::cout << "\n    " << first_line(l.commit.message, 100) << "\n";
  std::string url;
  for (const auto& s : l.sightings) {
    std::cout << "    seen on " << s.repository << " " << s.branch;
    if (!s.reachable) {
      std::cout << " (no longer reachable since " << time_or_dash(s.removed_at_ms) << ")";
    }
    std::cout << "\n";
    if (url.empty()) {
      url = admin::commit_web_url(
          admin::RepositoryWebInfo{s.provider, s.project_key, s.slug, s.clone_url, {}},
          l.commit.commit_hash);
    }
  }
  if (!url.empty()) std::cout << "    " << url << "\n";
}

/// Opens the data directory and runs `work` with the story service; returns the exit code.
int with_stories(const CommonOptions& common,
                 const std::function<int(admin::StoryService&, store::Store&)>& work) {
  auto a = open_application(common);
  if (!a) return 1;
  admin::StoryService stories(a->store());
  return work(stories, a->store());
}

}  // namespace

void add_story_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  auto& o = opts();

  auto* stories = root.add_subcommand("stories", "commits linked to ALM stories");
  stories->require_subcommand(1);
  {
    auto* show = stories->add_subcommand(
        "show", "list the commits linked to a story, newest first, with the branches they are on");
    add_common_options(*show, common);
    show->add_option("KEY", o.key, "story key, e.g. ABC-123")->required();
    show->add_option("--org", o.org, "only this org (default: every org)");
    add_page_options(*show);
    show->callback([&] {
      action = [&] {
        return with_stories(common, [](admin::StoryService& service, store::Store& store) {
          auto org = org_option(store);
          if (!org) return report(org.error());
          std::optional<std::int64_t> org_id;
          if (*org) org_id = (*org)->id;
          auto page = service.story_commits(org_id, opts().key,
                                            admin::PageRequest{opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            std::cout << json::serialize(admin::page_json(*page, admin::story_link_json)) << "\n";
            return 0;
          }
          if (page->items.empty() && opts().cursor.empty()) {
            std::cout << "no commits linked to " << opts().key << "\n";
            return 0;
          }
          for (const auto& l : page->items) print_link(l, /*with_story=*/false);
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });

    auto* list = stories->add_subcommand("list", "list an org's story keys with commit counts");
    add_common_options(*list, common);
    list->add_option("--org", o.org, "the org")->required();
    add_page_options(*list);
    list->callback([&] {
      action = [&] {
        return with_stories(common, [](admin::StoryService& service, store::Store& store) {
          auto org = org_option(store);
          if (!org) return report(org.error());
          auto page =
              service.list_stories((*org)->id, admin::PageRequest{opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            std::cout << json::serialize(admin::page_json(*page, admin::story_summary_json))
                      << "\n";
            return 0;
          }
          std::cout << std::left << std::setw(24) << "STORY" << std::setw(9) << "COMMITS"
                    << "LAST LINKED\n";
          for (const auto& s : page->items) {
            std::cout << std::setw(24) << s.story_key << std::setw(9) << s.commits
                      << format_utc(s.last_linked_at_ms) << "\n";
          }
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });
  }

  auto* commits = root.add_subcommand("commits", "commits linked to ALM stories, by hash");
  commits->require_subcommand(1);
  {
    auto* of = commits->add_subcommand("stories", "list the stories a commit is linked to");
    add_common_options(*of, common);
    of->add_option("HASH", o.hash, "full commit hash or a unique prefix of at least 7 digits")
        ->required();
    of->add_option("--org", o.org, "the org")->required();
    add_page_options(*of);
    of->callback([&] {
      action = [&] {
        return with_stories(common, [](admin::StoryService& service, store::Store& store) {
          auto org = org_option(store);
          if (!org) return report(org.error());
          auto page = service.commit_stories((*org)->id, opts().hash,
                                             admin::PageRequest{opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            std::cout << json::serialize(admin::page_json(*page, admin::story_link_json)) << "\n";
            return 0;
          }
          for (const auto& l : page->items) print_link(l, /*with_story=*/true);
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });
  }
}

}  // namespace cb::cli
