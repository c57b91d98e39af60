#pragma once
// Options every subcommand shares, and how a subcommand opens the data directory.

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/application.hpp"

namespace cb::cli {

/// --data-dir and --config, given to every subcommand.
struct CommonOptions {
  std::optional<std::string> data_dir;
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
};

/// Adds --data-dir and --config to a subcommand.
void add_common_options(CLI::App& command, CommonOptions& options);

/// Loads the configuration and opens the data directory; prints the error and returns null on
/// failure. Only commands that may start a new data directory pass `create` (serve, org create,
/// admin-token create); the others refuse a directory without a database.
[[nodiscard]] std::unique_ptr<app::Application> open_application(const CommonOptions& options,
                                                                 bool create = false);

/// Prints "error: <message>" on stderr and returns 1.
int report(const Error& error);

/// Registers org, token, audit, admin-token and keys commands. Each sets `action` when chosen.
void add_org_token_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action);
/// Registers the repo commands (repo_commands.cpp). Each sets `action` when chosen.
void add_repo_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action);
/// Registers job and runs commands and `deliveries get` (after add_report_commands).
void add_job_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action);
/// Registers deliveries commands.
void add_report_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action);
/// Registers alm (connections) and outbox commands.
void add_alm_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action);
/// Registers stories (show, list) and commits (stories) commands.
void add_story_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action);
/// Registers smart-commits patterns list|add|remove and smart-commits test.
void add_smart_commit_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action);

/// The actor recorded in the audit log for CLI changes: "cli:<login name>".
[[nodiscard]] std::string cli_actor_name();

/// The webhook URL of an org's endpoint under the configured public base URL.
[[nodiscard]] std::string webhook_url(const app::Config& config, const std::string& org,
                                      std::string_view endpoint);

/// A CLI11 check of an id option (`--before`): a whole number above zero, refused otherwise
/// with "must be a positive <what>".
[[nodiscard]] CLI::Validator positive_id(std::string what);

/// Formats milliseconds since the epoch as ISO-8601 UTC, or "-" when absent.
[[nodiscard]] std::string time_or_dash(std::optional<UnixMillis> t);

}  // namespace cb::cli
