#include "cli/main_command.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <iostream>

#include "cli/context.hpp"

namespace cb::cli {

void add_common_options(CLI::App& command, CommonOptions& options) {
  command
      .add_option("--data-dir", options.data_dir,
                  "data directory (SQLite database, key file, git mirrors, job logs); default "
                  "./commitbridge-data")
      ->option_text("DIR");
  command.add_option("--config", options.config_file, "TOML configuration file")
      ->option_text("FILE");
}

std::unique_ptr<app::Application> open_application(const CommonOptions& options, bool create) {
  app::ConfigOverrides overrides;
  if (options.data_dir) overrides.data_dir = *options.data_dir;
  if (options.config_file) overrides.config_file = *options.config_file;
  if (options.listen) overrides.listen = *options.listen;
  auto config = app::load_config(overrides, app::process_env());
  if (!config) {
    report(config.error());
    return nullptr;
  }
  auto application = app::Application::open(*config, create);
  if (!application) {
    report(application.error());
    return nullptr;
  }
  return std::move(*application);
}

int report(const Error& error) {
  std::cerr << "error: " << error.message << "\n";
  return 1;
}

std::string cli_actor_name() {
  const char* u = std::getenv("USER");
  if (u == nullptr || *u == '\0') {
    const passwd* pw = ::getpwuid(::geteuid());
    u = pw != nullptr ? pw->pw_name : nullptr;
  }
  return std::string("cli:") + (u != nullptr ? u : "uid-" + std::to_string(::geteuid()));
}

std::string webhook_url(const app::Config& config, const std::string& org,
                        std::string_view endpoint) {
  return config.effective_public_url() + "/api/webhook/v2/" + org + "/enterprise/" +
         std::string(endpoint);
}

CLI::Validator positive_id(std::string what) {
  return CLI::Validator(
      [what](std::string& text) -> std::string {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v <= 0) {
          return "must be a positive " + what + ", not '" + text + "'";
        }
        return {};
      },
      "ID");
}

std::string time_or_dash(std::optional<UnixMillis> t) { return t ? format_utc(*t) : "-"; }

int run_main(int argc, char** argv) {
  ::umask(0077);  // the data directory holds secrets: files 0600, directories 0700
  CLI::App root{
      "commitbridge: receives source-control webhooks, triggers CI jobs and links commits to "
      "ALM stories."};
  root.require_subcommand(1);
  root.set_version_flag("--version", "commitbridge 0.1.0");

  CommonOptions common;
  std::function<int()> action;

  auto* serve = root.add_subcommand("serve", "run the webhook receiver and the worker");
  add_common_options(*serve, common);
  serve->add_option("--listen", common.listen, "address to listen on (default 127.0.0.1:8080)")
      ->option_text("HOST:PORT");
  std::optional<std::string> port_file;
  serve->add_option("--port-file", port_file, "write the bound port to this file (with port 0)")
      ->option_text("FILE");
  serve->callback([&] {
    action = [&]() -> int {
      auto application = open_application(common, /*create=*/true);
      if (!application) return 1;
      app::configure_logging(application->config());
      std::optional<std::filesystem::path> pf;
      if (port_file) pf = *port_file;
      return application->serve(pf);
    };
  });

  add_org_token_commands(root, common, action);
  add_repo_commands(root, common, action);
  add_report_commands(root, common, action);
  add_alm_commands(root, common, action);
  add_story_commands(root, common, action);
  add_smart_commit_commands(root, common, action);
  add_job_commands(root, common, action);

  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = root.exit(e);
    return code == 0 ? 0 : 2;
  }
  return action ? action() : 0;
}

}  // namespace cb::cli
