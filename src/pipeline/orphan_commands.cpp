#include "pipeline/orphan_commands.hpp"

#include <spdlog/spdlog.h>

#include "connectors/process_group.hpp"

namespace cb::pipeline {

Result<OrphanStop> stop_orphaned_commands(store::Store& store,
                                          std::chrono::milliseconds wait_per_group) {
  auto processes = store.running_run_processes();
  if (!processes) return std::unexpected(std::move(processes.error()));
  OrphanStop out;
  for (const auto& p : *processes) {
    const connectors::ProcessGroupIdentity identity{static_cast<pid_t>(p.process_group),
                                                    p.start_ticks, p.boot_id};
    const auto outcome = connectors::kill_recorded_group(identity, wait_per_group);
    switch (outcome) {
      case connectors::GroupKill::killed:
        ++out.killed;
        spdlog::warn("run {}: killed process group {} left running by the previous server process",
                     p.run_id, p.process_group);
        break;
      case connectors::GroupKill::already_gone:
      case connectors::GroupKill::other_boot:
      case connectors::GroupKill::pid_reused:
        ++out.skipped;
        spdlog::info("run {}: process group {} not signalled: {}", p.run_id, p.process_group,
                     connectors::to_string(outcome));
        break;
      case connectors::GroupKill::still_alive:
      case connectors::GroupKill::failed:
        ++out.failed;
        spdlog::error("run {}: process group {} could not be stopped: {}", p.run_id,
                      p.process_group, connectors::to_string(outcome));
        break;
    }
  }
  return out;
}

}  // namespace cb::pipeline
