#pragma once
// Runs a job's command without a shell: own process group, bounded log, timeout that kills the
// whole process tree.

#include <sys/types.h>
#include <atomic>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace cb::connectors {

/// What to run. No shell is involved: `argv` is passed to the program verbatim.
struct CommandSpec {
  /// Program and arguments. argv[0] without a '/' is looked up on the PATH the child gets (see
  /// `env`), like execvp; with a '/' it is used as is (relative to `working_dir`). Must not be
  /// empty; no element may contain a NUL byte.
  std::vector<std::string> argv;
  /// Variables added to a minimal environment inherited from the server (PATH, HOME, LANG and
  /// TMPDIR, those that are set); an entry overrides an inherited one of the same name, a later
  /// entry an earlier one. Names must be non-empty and contain neither '=' nor NUL.
  std::vector<std::pair<std::string, std::string>> env;
  /// Directory the command runs in; empty = the server's current directory. Must exist.
  std::filesystem::path working_dir;
  /// File receiving stdout and stderr (merged, in order), truncated first, parent directories
  /// created (mode 0640 for the file); empty = no log file.
  std::filesystem::path log_file;
  /// Wall time after which the process group gets SIGTERM, then SIGKILL 5 s later. Must be > 0.
  std::chrono::milliseconds timeout{3600000};
  /// How many bytes of the end of the output CommandResult::output_tail keeps.
  std::size_t tail_bytes = 4096;
  /// Bytes of output after which the log file stops growing (the output is still drained and
  /// counted). A truncated log then ends with the line "[commitbridge: log truncated after N
  /// bytes; M bytes of output in total]" (preceded by a line break if the output did not end
  /// with one), so the file is at most about max_log_bytes + 100 bytes.
  std::size_t max_log_bytes = 10 * 1024 * 1024;
  /// When set and it becomes true (e.g. the server is shutting down), the process group is
  /// stopped as on a timeout (SIGTERM, then SIGKILL 5 s later); checked at least every 100 ms.
  const std::atomic<bool>* cancel = nullptr;
  /// When set, called on the calling thread with the child's pid (= its process group id) right
  /// after it was spawned, before its output is read or it is waited for; the child is not
  /// reaped before this returns, so /proc/<pid> is still the child. Not called when the program
  /// could not be started.
  std::function<void(pid_t)> on_started;
};

/// The outcome of a run (a program that could not be started is an outcome too, see
/// run_command).
struct CommandResult {
  /// Exit status 0-255; -1 when the process was killed by a signal; 127 when argv[0] was not
  /// found, 126 when it was found but could not be executed.
  int exit_code = -1;
  /// The signal that killed the process, 0 when it exited.
  int signal = 0;
  /// True when the timeout expired and the process group was signalled.
  bool timed_out = false;
  /// True when CommandSpec::cancel stopped the process group.
  bool cancelled = false;
  /// When the run started, milliseconds since the Unix epoch (UTC), from the Clock.
  UnixMillis started_at_ms = 0;
  /// When the run ended (process reaped), milliseconds since the Unix epoch (UTC), from the Clock.
  UnixMillis finished_at_ms = 0;
  /// The last `tail_bytes` bytes of stdout+stderr, byte-exact (may begin inside a UTF-8
  /// sequence).
  std::string output_tail;
  /// Total bytes of output produced, in bytes, including those beyond max_log_bytes.
  std::uint64_t output_bytes = 0;
  /// True when the log file holds less than the whole output: max_log_bytes was reached or a
  /// write to it failed. Always false without a log file.
  bool log_truncated = false;
};

/// Runs `spec` to completion and returns its outcome; blocks the calling thread for at most
/// about timeout + 6 s.
///
/// The program is started with posix_spawn in its own process group, with stdin from
/// /dev/null, stdout and stderr on one pipe, default signal dispositions, an empty signal mask
/// and no other inherited file descriptor. Output is read until end of file and the program's
/// exit. On timeout the whole group gets SIGTERM, then SIGKILL 5 s later. If the program exits
/// while something it started still holds the output open, that is drained for at most 2 s.
/// When the run ends, whatever is left of its process group is killed (SIGKILL): a command that
/// must outlive the run has to leave the group (setsid).
///
/// A program that cannot be executed is not an error: the result has exit_code 127 (not found)
/// or 126 (e.g. not executable) and the output "cannot execute <argv0>: <strerror>", which is
/// also written to the log file.
///
/// Errors: invalid_argument for an empty argv, an empty argv[0], a NUL byte in argv or env, a
/// malformed env name, a timeout <= 0, or a working_dir that is not a directory; internal when
/// the log file cannot be created or the process cannot be spawned (no memory, process limit).
[[nodiscard]] Result<CommandResult> run_command(const CommandSpec& spec, const Clock& clock);

}  // namespace cb::connectors
