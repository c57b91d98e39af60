// alm (ALM connections) and outbox (write-back entries) subcommands. They work on the store
// directly, so they also work when no server runs (a running server picks a retried entry up
// within a second). Secrets come from an environment variable or stdin, never from a flag.

#include <boost/json.hpp>
#include <cstdlib>
#include <iomanip>
#include <iostream>

#include "admin/alm_json_views.hpp"
#include "admin/alm_service.hpp"
#include "admin/json_views.hpp"
#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

/// Options of the alm and outbox commands; CLI11 keeps references, so they live for the process.
struct AlmOptions {
  std::string org, id, type, cursor;
  std::optional<std::string> name, url, deployment, email, secret_env, status;
  bool secret_stdin = false;
  std::optional<bool> add_remote_link, add_comment, run_commands, enabled;
  std::optional<std::int64_t> max_commit_age_seconds;
  std::int64_t entry_id = 0;
  std::size_t limit = 50;
  bool as_json = false;
};

AlmOptions& opts() {
  static AlmOptions o;
  return o;
}

/// Runs `body` with an AlmService on the configured data directory.
int with_alm(const CommonOptions& common, const std::function<int(admin::AlmService&)>& body) {
  auto a = open_application(common);
  if (!a) return 1;
  SystemClock clock;
  admin::AlmService alm(a->store(), a->secret_box(), clock);
  return body(alm);
}

void print_json(const json::value& v) { std::cout << json::serialize(v) << "\n"; }

/// The secret named by --secret-env or read from stdin (--secret-stdin: the first line, without
/// its line end); nullopt when neither was given.
Result<std::optional<std::string>> read_secret() {
  const auto& o = opts();
  if (o.secret_env) {
    const char* v = std::getenv(o.secret_env->c_str());
    if (v == nullptr || *v == '\0') {
      return fail(ErrorCode::invalid_argument,
                  "environment variable " + *o.secret_env + " is not set or empty");
    }
    return std::optional<std::string>{std::string(v)};
  }
  if (o.secret_stdin) {
    std::string line;
    if (!std::getline(std::cin, line) || line.empty()) {
      return fail(ErrorCode::invalid_argument, "no secret on stdin");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return std::optional<std::string>{line};
  }
  return std::optional<std::string>{};
}

Result<admin::AlmConnectionSpec> spec_from_options(bool creating) {
  const auto& o = opts();
  admin::AlmConnectionSpec spec;
  spec.name = o.name;
  if (creating) spec.type = o.type;
  spec.url = o.url;
  spec.deployment = o.deployment;
  spec.email = o.email;
  spec.add_remote_link = o.add_remote_link;
  spec.add_comment = o.add_comment;
  spec.run_commands = o.run_commands;
  spec.max_commit_age_seconds = o.max_commit_age_seconds;
  spec.enabled = o.enabled;
  auto secret = read_secret();
  if (!secret) return std::unexpected(secret.error());
  spec.secret = *secret;
  return spec;
}

void print_connection(const store::AlmConnectionRecord& c) {
  const auto j = admin::alm_connection_json(c);
  for (const auto& [k, v] : j) {
    std::cout << std::left << std::setw(28) << (std::string(k) + ":")
              << (v.is_string() ? std::string(v.as_string()) : json::serialize(v)) << "\n";
  }
}

void add_secret_options(CLI::App& cmd) {
  auto* env = cmd.add_option("--secret-env", opts().secret_env,
                             "read the secret (Jira Cloud: API token; Data Center: personal "
                             "access token; webhook: signing secret) from this environment "
                             "variable");
  auto* in = cmd.add_flag("--secret-stdin", opts().secret_stdin,
                          "read the secret from the first line of stdin");
  env->excludes(in);
}

void add_connection_options(CLI::App& cmd) {
  auto& o = opts();
  cmd.add_option("--url", o.url, "Jira base URL, or the URL webhooks are POSTed to");
  cmd.add_option("--deployment", o.deployment, "jira: cloud or data_center");
  cmd.add_option("--email", o.email, "jira cloud: e-mail address of the API token's account");
  cmd.add_option("--add-remote-link", o.add_remote_link,
                 "jira: add a remote link to the commit on each story (true/false; default "
                 "true)");
  cmd.add_option("--add-comment", o.add_comment,
                 "jira: add a comment describing the commit on each story (true/false; default "
                 "false)");
  cmd.add_option("--run-commands", o.run_commands,
                 "jira: run the smart-commit commands #comment, #time, #<transition> "
                 "(true/false; default true)");
  cmd.add_option("--max-commit-age-seconds", o.max_commit_age_seconds,
                 "jira: run commands only for commits younger than this (default 2592000, 30 "
                 "days)");
  cmd.add_option("--enabled", o.enabled, "true/false (default true)");
  add_secret_options(cmd);
}

void add_page_options(CLI::App& cmd) {
  cmd.add_option("--limit", opts().limit, "page size, 1 to 200")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  cmd.add_option("--cursor", opts().cursor, "next_cursor of the previous page");
}

void say_next_page(const std::string& next) {
  if (!next.empty()) std::cerr << "more: --cursor " << next << "\n";
}

admin::Actor actor() { return admin::Actor{cli_actor_name(), ""}; }

}  // namespace

/// Registers `alm add|list|get|update|remove` and `outbox list|retry`.
void add_alm_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  auto& o = opts();
  auto* alm = root.add_subcommand("alm", "manage ALM connections (Jira, outbound webhook)");
  alm->require_subcommand(1);
  {
    auto* add = alm->add_subcommand("add", "add an ALM connection to an org");
    add_common_options(*add, common);
    add->add_option("--org", o.org, "org name")->required();
    add->add_option("--name", o.name, "connection name, unique in the org")->required();
    add->add_option("--type", o.type, "jira or webhook")
        ->required()
        ->check(CLI::IsMember({"jira", "webhook"}));
    add_connection_options(*add);
    add->add_flag("--json", o.as_json, "print JSON");
    add->callback([&] {
      action = [&] {
        return with_alm(common, [](admin::AlmService& svc) {
          auto spec = spec_from_options(/*creating=*/true);
          if (!spec) return report(spec.error());
          auto c = svc.create_connection(opts().org, *spec, actor());
          if (!c) return report(c.error());
          if (opts().as_json) {
            print_json(admin::alm_connection_json(*c));
          } else {
            std::cout << "added " << c->type << " connection " << c->name << " (" << c->public_id
                      << ") to org " << opts().org << "\n";
          }
          return 0;
        });
      };
    });

    auto* list = alm->add_subcommand("list", "list an org's ALM connections");
    add_common_options(*list, common);
    list->add_option("--org", o.org, "org name")->required();
    add_page_options(*list);
    list->add_flag("--json", o.as_json, "print JSON");
    list->callback([&] {
      action = [&] {
        return with_alm(common, [](admin::AlmService& svc) {
          auto page = svc.list_connections(opts().org, {opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            print_json(admin::page_json(*page, admin::alm_connection_json));
            return 0;
          }
          std::cout << std::left << std::setw(22) << "ID" << std::setw(20) << "NAME" << std::setw(9)
                    << "TYPE" << std::setw(9) << "ENABLED"
                    << "URL\n";
          for (const auto& c : page->items) {
            std::cout << std::setw(22) << c.public_id << std::setw(20) << c.name << std::setw(9)
                      << c.type << std::setw(9) << (c.enabled ? "yes" : "no") << c.url << "\n";
          }
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });

    auto* get = alm->add_subcommand("get", "show one ALM connection (never its secret)");
    add_common_options(*get, common);
    get->add_option("CONNECTION", o.id, "id (alm_...) or name")->required();
    get->add_option("--org", o.org, "org name")->required();
    get->add_flag("--json", o.as_json, "print JSON");
    get->callback([&] {
      action = [&] {
        return with_alm(common, [](admin::AlmService& svc) {
          auto c = svc.get_connection(opts().org, opts().id);
          if (!c) return report(c.error());
          if (opts().as_json) {
            print_json(admin::alm_connection_json(*c));
          } else {
            print_connection(*c);
          }
          return 0;
        });
      };
    });

    auto* update = alm->add_subcommand("update", "change fields of an ALM connection");
    add_common_options(*update, common);
    update->add_option("CONNECTION", o.id, "id (alm_...) or name")->required();
    update->add_option("--org", o.org, "org name")->required();
    update->add_option("--name", o.name, "new name");
    add_connection_options(*update);
    update->add_flag("--json", o.as_json, "print JSON");
    update->callback([&] {
      action = [&] {
        return with_alm(common, [](admin::AlmService& svc) {
          auto spec = spec_from_options(/*creating=*/false);
          if (!spec) return report(spec.error());
          auto c = svc.update_connection(opts().org, opts().id, *spec, actor());
          if (!c) return report(c.error());
          if (opts().as_json) {
            print_json(admin::alm_connection_json(*c));
          } else {
            std::cout << "updated connection " << c->name << " (" << c->public_id << ")\n";
          }
          return 0;
        });
      };
    });

    auto* remove = alm->add_subcommand("remove", "remove an ALM connection and its outbox");
    add_common_options(*remove, common);
    remove->add_option("CONNECTION", o.id, "id (alm_...) or name")->required();
    remove->add_option("--org", o.org, "org name")->required();
    remove->callback([&] {
      action = [&] {
        return with_alm(common, [](admin::AlmService& svc) {
          if (auto r = svc.remove_connection(opts().org, opts().id, actor()); !r) {
            return report(r.error());
          }
          std::cout << "removed connection " << opts().id << "\n";
          return 0;
        });
      };
    });
  }

  auto* outbox = root.add_subcommand("outbox", "inspect and retry ALM write-back entries");
  outbox->require_subcommand(1);
  {
    auto* list = outbox->add_subcommand("list", "list an org's outbox entries, oldest first");
    add_common_options(*list, common);
    list->add_option("--org", o.org, "org name")->required();
    list->add_option("--status", o.status, "pending, sending, sent or dead")
        ->check(CLI::IsMember({"pending", "sending", "sent", "dead"}));
    add_page_options(*list);
    list->add_flag("--json", o.as_json, "print JSON");
    list->callback([&] {
      action = [&] {
        return with_alm(common, [](admin::AlmService& svc) {
          auto page = svc.list_outbox(opts().org, opts().status, {opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            print_json(admin::page_json(*page, admin::outbox_entry_json));
            return 0;
          }
          std::cout << std::left << std::setw(7) << "ID" << std::setw(12) << "STATUS"
                    << std::setw(13) << "ACTION" << std::setw(14) << "STORY" << std::setw(14)
                    << "COMMIT" << std::setw(10) << "ATTEMPTS"
                    << "LAST ERROR\n";
          for (const auto& e : page->items) {
            std::cout << std::setw(7) << e.id << std::setw(12) << e.status << std::setw(13)
                      << e.action << std::setw(14) << e.story_key << std::setw(14)
                      << e.commit_hash.substr(0, 12) << std::setw(10) << e.attempts
                      << (e.last_error.empty() ? "-" : e.last_error) << "\n";
          }
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });

    auto* retry = outbox->add_subcommand("retry", "send a dead entry again, attempts reset");
    add_common_options(*retry, common);
    retry->add_option("ENTRY", o.entry_id, "outbox entry id")->required();
    retry->add_option("--org", o.org, "org name")->required();
    retry->add_flag("--json", o.as_json, "print JSON");
    retry->callback([&] {
      action = [&] {
        return with_alm(common, [](admin::AlmService& svc) {
          auto e = svc.retry_outbox_entry(opts().org, opts().entry_id, actor());
          if (!e) return report(e.error());
          if (opts().as_json) {
            print_json(admin::outbox_entry_json(*e));
          } else {
            std::cout << "entry " << e->id << " (" << e->action << " " << e->story_key
                      << ") is pending again\n";
          }
          return 0;
        });
      };
    });
  }
}

}  // namespace cb::cli
