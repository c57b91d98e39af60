#pragma once
// The `commitbridge` command line: serve, org, token, repo, job, runs, deliveries, stories.

namespace cb::cli {

/// Parses the command line and runs the chosen subcommand. Returns the process exit code:
/// 0 success, 1 operation failed, 2 usage error.
int run_main(int argc, char** argv);

}  // namespace cb::cli
