// repo subcommands (add, list, get, update, remove): the repository registry, on the store
// directly like the other admin commands; changes are audited as "cli:<login name>".
// Credential secrets are never taken from a plain option value (it would land in the shell's
// history): --password-env NAME, --password-stdin or --password-file FILE.

#include <boost/json.hpp>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>

#include "admin/json_views.hpp"
#include "admin/repository_json.hpp"
#include "admin/repository_service.hpp"
#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

/// Options of the repo commands; CLI11 keeps references, so they live for the process.
struct RepoOptions {
  std::string org, repo, provider_filter;
  std::optional<std::string> provider, project, slug, name, clone_url, http_clone_url,
      ssh_clone_url, browse_url, default_branch;
  bool auto_update_alm = false;
  bool no_auto_update_alm = false;
  std::optional<std::string> credentials, username, ssh_key;
  std::optional<std::string> password_env, password_file;
  bool password_stdin = false;
  std::size_t limit = 50;
  std::string cursor;
  bool as_json = false;
};

RepoOptions& ro() {
  static RepoOptions o;
  return o;
}

int with_repositories(
    const CommonOptions& common,
    const std::function<int(admin::RepositoryService&, app::Application&)>& body) {
  auto a = open_application(common);
  if (!a) return 1;
  SystemClock clock;
  admin::RepositoryService repos(a->store(), a->secret_box(), clock);
  return body(repos, *a);
}

admin::Actor actor() { return admin::Actor{cli_actor_name(), ""}; }

std::string strip_line_end(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

/// The secret from --password-env, --password-stdin or --password-file; nullopt when none given.
Result<std::optional<std::string>> read_secret() {
  const auto& o = ro();
  const int sources =
      (o.password_env ? 1 : 0) + (o.password_stdin ? 1 : 0) + (o.password_file ? 1 : 0);
  if (sources > 1) {
    return fail(ErrorCode::invalid_argument,
                "give one of --password-env, --password-stdin and --password-file");
  }
  if (o.password_env) {
    const char* v = std::getenv(o.password_env->c_str());
    if (v == nullptr) {
      return fail(ErrorCode::invalid_argument,
                  "--password-env: the environment variable " + *o.password_env + " is not set");
    }
    return std::optional<std::string>{std::string(v)};
  }
  if (o.password_stdin) {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return std::optional<std::string>{strip_line_end(std::move(text))};
  }
  if (o.password_file) {
    std::ifstream in(*o.password_file, std::ios::binary);
    if (!in) {
      return fail(ErrorCode::invalid_argument, "--password-file: cannot read " + *o.password_file);
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::optional<std::string>{strip_line_end(std::move(text))};
  }
  return std::optional<std::string>{};
}

/// The input of add/update from the options. `creating` decides what "not given" means for the
/// credentials.
Result<admin::RepositoryInput> input_from_options(bool creating) {
  const auto& o = ro();
  admin::RepositoryInput in;
  in.provider = o.provider;
  if (creating && !in.provider) in.provider = "bitbucket_server";
  in.project_key = o.project;
  in.slug = o.slug;
  in.display_name = o.name;
  in.http_clone_url = o.http_clone_url;
  in.ssh_clone_url = o.ssh_clone_url;
  in.browse_url = o.browse_url;
  in.default_branch = o.default_branch;
  if (o.clone_url) {
    // The historical --clone-url takes either form.
    auto& target = admin::is_ssh_clone_url(*o.clone_url) ? in.ssh_clone_url : in.http_clone_url;
    if (target) {
      return fail(ErrorCode::invalid_argument,
                  "--clone-url: give it or --http-clone-url/--ssh-clone-url, not both");
    }
    target = o.clone_url;
  }
  if (o.auto_update_alm && o.no_auto_update_alm) {
    return fail(ErrorCode::invalid_argument,
                "give --auto-update-alm or --no-auto-update-alm, not both");
  }
  if (o.auto_update_alm) in.auto_update_alm = true;
  if (o.no_auto_update_alm) in.auto_update_alm = false;
  if (creating && !in.auto_update_alm) in.auto_update_alm = false;

  auto secret = read_secret();
  if (!secret) return std::unexpected(secret.error());
  const bool any_credential = o.credentials || o.username || o.ssh_key || *secret;
  if (any_credential) {
    admin::RepositoryCredentialsInput c;
    c.type = o.credentials ? *o.credentials : (o.ssh_key ? "ssh" : "http");
    c.username = o.username.value_or("");
    c.ssh_key_path = o.ssh_key.value_or("");
    c.secret = *secret;
    in.credentials = std::move(c);
  }
  return in;
}

void print_repository(const store::RepositoryRecord& r, const std::string& org,
                      const std::string& base) {
  const auto urls = admin::repository_webhook_urls(base, org, r);
  std::cout << "id:              " << r.id << "\n"
            << "repository:      " << r.project_key << "/" << r.slug << " (" << r.provider << ")\n"
            << "name:            " << r.display_name << "\n"
            << "http clone URL:  " << (r.clone_url.empty() ? "-" : r.clone_url) << "\n"
            << "ssh clone URL:   " << (r.ssh_clone_url.empty() ? "-" : r.ssh_clone_url) << "\n"
            << "browse URL:      " << (r.browse_url.empty() ? "-" : r.browse_url) << "\n"
            << "default branch:  " << (r.default_branch.empty() ? "-" : r.default_branch) << "\n"
            << "credentials:     " << r.credential_type;
  if (r.credential_type != store::kCredentialNone) {
    std::cout << " (user " << r.credential_username;
    if (r.credential_type == store::kCredentialSsh) std::cout << ", key " << r.ssh_key_path;
    std::cout << (r.credential_secret_set ? ", secret set" : ", no secret") << ")";
  }
  std::cout << "\n"
            << "auto update ALM: " << (r.auto_update_alm ? "on" : "off") << "\n"
            << "webhook URL (build on commit): " << urls.trigger << "\n";
  if (!urls.sync.empty()) std::cout << "webhook URL (ALM commit sync): " << urls.sync << "\n";
}

void print_json(const json::value& v) { std::cout << json::serialize(v) << "\n"; }

void add_org_option(CLI::App& cmd) { cmd.add_option("--org", ro().org, "org name")->required(); }

void add_repo_option(CLI::App& cmd) {
  cmd.add_option("--repo", ro().repo, "repository id, or PROJECT/slug")->required();
  cmd.add_option("--provider", ro().provider_filter,
                 "provider id, when PROJECT/slug is registered for several providers");
}

/// The options that set fields (add and update).
void add_field_options(CLI::App& cmd, bool creating) {
  auto& o = ro();
  auto* provider = cmd.add_option(creating ? "--provider" : "--set-provider", o.provider,
                                  "provider id: bitbucket_server (default), github, gitlab, "
                                  "bitbucket_cloud, azure_devops or gitea");
  (void)provider;
  auto* project = cmd.add_option("--project", o.project,
                                 "project key (Bitbucket), owner (GitHub, Gitea), namespace "
                                 "(GitLab), workspace (Bitbucket Cloud) or project (Azure DevOps)");
  auto* slug = cmd.add_option("--slug", o.slug, "repository slug, e.g. flight-planner");
  if (creating) {
    project->required();
    slug->required();
  }
  cmd.add_option("--name", o.name, "display name (default: the slug)");
  cmd.add_option("--clone-url", o.clone_url,
                 "clone URL, HTTP(S) or SSH form (sets --http-clone-url or --ssh-clone-url)");
  cmd.add_option("--http-clone-url", o.http_clone_url,
                 "HTTP(S) clone URL (or file:// URL / absolute path of a local repository)");
  cmd.add_option("--ssh-clone-url", o.ssh_clone_url,
                 "SSH clone URL: ssh://git@host:7999/proj/repo.git or git@host:proj/repo.git");
  cmd.add_option("--browse-url", o.browse_url, "web page of the repository");
  cmd.add_option("--default-branch", o.default_branch, "default branch, e.g. main");
  cmd.add_flag("--auto-update-alm", o.auto_update_alm,
               "auto update on webhook: write commit links back to the ALM");
  if (!creating) {
    cmd.add_flag("--no-auto-update-alm", o.no_auto_update_alm, "turn auto update on webhook off");
  }
  cmd.add_option("--credentials", o.credentials,
                 "credential type for private clones: none, http or ssh (default: http with "
                 "--username/--password-*, ssh with --ssh-key)")
      ->check(CLI::IsMember({"none", "http", "ssh"}));
  cmd.add_option("--username", o.username, "HTTP user name, or SSH user (default git)");
  cmd.add_option("--ssh-key", o.ssh_key, "absolute path of the SSH private key on the server");
  cmd.add_option("--password-env", o.password_env,
                 "read the HTTP password/token (or SSH key passphrase) from this environment "
                 "variable")
      ->option_text("NAME");
  cmd.add_flag("--password-stdin", o.password_stdin,
               "read the HTTP password/token (or SSH key passphrase) from standard input");
  cmd.add_option("--password-file", o.password_file,
                 "read the HTTP password/token (or SSH key passphrase) from this file")
      ->option_text("FILE");
}

}  // namespace

void add_repo_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  auto& o = ro();
  auto* repo = root.add_subcommand("repo", "manage the repository registry");
  repo->require_subcommand(1);

  auto* add = repo->add_subcommand("add", "register a repository");
  add_common_options(*add, common);
  add_org_option(*add);
  add_field_options(*add, /*creating=*/true);
  add->add_flag("--json", o.as_json, "print JSON");
  add->callback([&] {
    action = [&] {
      return with_repositories(common, [](admin::RepositoryService& repos, app::Application& a) {
        auto input = input_from_options(/*creating=*/true);
        if (!input) return report(input.error());
        if (!input->http_clone_url && !input->ssh_clone_url) {
          std::cerr << "error: give --clone-url, --http-clone-url or --ssh-clone-url\n";
          return 2;
        }
        auto r = repos.create(ro().org, *input, actor());
        if (!r) return report(r.error());
        const std::string base = a.config().effective_public_url();
        if (ro().as_json) {
          print_json(admin::repository_json(*r, ro().org, base));
          return 0;
        }
        const auto urls = admin::repository_webhook_urls(base, ro().org, *r);
        std::cout << "registered " << r->provider << " repository " << r->project_key << "/"
                  << r->slug << " in org " << ro().org << " (id " << r->id << ")\n"
                  << "webhook URL (build on commit): " << urls.trigger << "\n";
        if (!urls.sync.empty()) std::cout << "webhook URL (ALM commit sync): " << urls.sync << "\n";
        return 0;
      });
    };
  });

  auto* list = repo->add_subcommand("list", "list an org's repositories, oldest first");
  add_common_options(*list, common);
  add_org_option(*list);
  list->add_option("--limit", o.limit, "page size, 1 to 200")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  list->add_option("--cursor", o.cursor, "next_cursor of the previous page");
  list->add_flag("--json", o.as_json, "print JSON");
  list->callback([&] {
    action = [&] {
      return with_repositories(common, [](admin::RepositoryService& repos, app::Application& a) {
        auto page = repos.list(ro().org, admin::PageRequest{ro().limit, ro().cursor});
        if (!page) return report(page.error());
        const std::string base = a.config().effective_public_url();
        if (ro().as_json) {
          print_json(admin::page_json(*page, [&](const store::RepositoryRecord& r) {
            return admin::repository_json(r, ro().org, base);
          }));
          return 0;
        }
        std::cout << std::left << std::setw(6) << "ID" << std::setw(18) << "PROVIDER"
                  << std::setw(36) << "REPOSITORY" << std::setw(13) << "CREDENTIALS"
                  << "AUTO UPDATE ALM\n";
        for (const auto& r : page->items) {
          std::cout << std::setw(6) << r.id << std::setw(18) << r.provider << std::setw(36)
                    << (r.project_key + "/" + r.slug) << std::setw(13) << r.credential_type
                    << (r.auto_update_alm ? "on" : "off") << "\n";
        }
        if (!page->next_cursor.empty()) std::cerr << "more: --cursor " << page->next_cursor << "\n";
        return 0;
      });
    };
  });

  auto* get = repo->add_subcommand("get", "show one repository (never its credential secret)");
  add_common_options(*get, common);
  add_org_option(*get);
  add_repo_option(*get);
  get->add_flag("--json", o.as_json, "print JSON");
  get->callback([&] {
    action = [&] {
      return with_repositories(common, [](admin::RepositoryService& repos, app::Application& a) {
        auto r = repos.find(ro().org, ro().repo, ro().provider_filter);
        if (!r) return report(r.error());
        const std::string base = a.config().effective_public_url();
        if (ro().as_json) {
          print_json(admin::repository_json(*r, ro().org, base));
        } else {
          print_repository(*r, ro().org, base);
        }
        return 0;
      });
    };
  });

  auto* update = repo->add_subcommand("update", "change a repository's fields or credentials");
  add_common_options(*update, common);
  add_org_option(*update);
  add_repo_option(*update);
  add_field_options(*update, /*creating=*/false);
  update->add_flag("--json", o.as_json, "print JSON");
  update->callback([&] {
    action = [&] {
      return with_repositories(common, [](admin::RepositoryService& repos, app::Application& a) {
        auto input = input_from_options(/*creating=*/false);
        if (!input) return report(input.error());
        auto found = repos.find(ro().org, ro().repo, ro().provider_filter);
        if (!found) return report(found.error());
        auto r = repos.update(ro().org, found->id, *input, actor());
        if (!r) return report(r.error());
        const std::string base = a.config().effective_public_url();
        if (ro().as_json) {
          print_json(admin::repository_json(*r, ro().org, base));
        } else {
          print_repository(*r, ro().org, base);
        }
        return 0;
      });
    };
  });

  auto* remove = repo->add_subcommand(
      "remove", "delete a repository with its jobs and their runs (story links stay)");
  add_common_options(*remove, common);
  add_org_option(*remove);
  add_repo_option(*remove);
  remove->add_flag("--json", o.as_json, "print JSON");
  remove->callback([&] {
    action = [&] {
      return with_repositories(common, [](admin::RepositoryService& repos, app::Application&) {
        auto found = repos.find(ro().org, ro().repo, ro().provider_filter);
        if (!found) return report(found.error());
        if (auto r = repos.remove(ro().org, found->id, actor()); !r) return report(r.error());
        if (ro().as_json) {
          print_json(json::object{{"id", found->id}, {"deleted", true}});
        } else {
          std::cout << "removed repository " << found->project_key << "/" << found->slug << " (id "
                    << found->id << ") from org " << ro().org << "\n";
        }
        return 0;
      });
    };
  });
}

}  // namespace cb::cli
