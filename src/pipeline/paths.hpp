#pragma once
// Where the pipeline keeps files under the data directory.

#include <filesystem>

namespace cb::pipeline {

/// Folders under the data directory used by the worker.
struct PipelinePaths {
  std::filesystem::path mirrors;     ///< libgit2 bare mirrors, one per repository id
  std::filesystem::path job_logs;    ///< one log file per job run
  std::filesystem::path workspaces;  ///< one working directory per job run
  std::filesystem::path payloads;    ///< stored payload files handed to job commands

  /// The standard layout below `data_dir`.
  [[nodiscard]] static PipelinePaths under(const std::filesystem::path& data_dir) {
    return PipelinePaths{data_dir / "mirrors", data_dir / "job-logs", data_dir / "workspaces",
                         data_dir / "payloads"};
  }
};

}  // namespace cb::pipeline
