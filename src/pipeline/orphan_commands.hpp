#pragma once
// At startup, before runs left running are marked interrupted (and maybe re-queued): stops the
// process groups of commands that a previous server process (killed, crashed) left running.

#include <chrono>

#include "core/error.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// What stop_orphaned_commands did.
struct OrphanStop {
  int killed = 0;   ///< process groups that got SIGKILL and are gone now
  int skipped = 0;  ///< recorded groups left alone: gone already, another boot, pid reused
  int failed = 0;   ///< groups that could not be checked or still had a live member at the end
};

/// For every run still `running` with a recorded process group (Store::running_run_processes),
/// kills that group when it is still the recorded one (connectors::kill_recorded_group: same
/// boot, leader absent or with the recorded start time), waiting at most `wait_per_group` for
/// each to be gone. Logs every group killed (run id, pgid) or not stopped. Must run before
/// Store::recover_runs. Errors: those of the store.
[[nodiscard]] Result<OrphanStop> stop_orphaned_commands(
    store::Store& store, std::chrono::milliseconds wait_per_group = std::chrono::seconds(5));

}  // namespace cb::pipeline
