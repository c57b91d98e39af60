#pragma once
// Identity of a command's process group (as recorded while it runs) and how to stop one that a
// previous server process left behind, without ever signalling a group that is not that one.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace cb::connectors {

/// What identifies a process group across a restart of the server: the group id (= the pid of
/// its leader, the spawned command), the leader's start time and the boot it ran in.
struct ProcessGroupIdentity {
  pid_t pgid = 0;
  /// Start time of the leader: field 22 (starttime) of /proc/<pid>/stat, in clock ticks since
  /// boot (see proc(5)).
  std::uint64_t start_ticks = 0;
  /// /proc/sys/kernel/random/boot_id of the boot the group ran in (36 characters, a UUID).
  std::string boot_id;
};

/// The current boot id (/proc/sys/kernel/random/boot_id without the line break). Errors:
/// internal when the file cannot be read (no /proc).
[[nodiscard]] Result<std::string> current_boot_id();

/// The start time of process `pid` (field 22 of /proc/<pid>/stat, clock ticks since boot);
/// nullopt when the process does not exist. Errors: internal when the file exists but cannot be
/// parsed.
[[nodiscard]] Result<std::optional<std::uint64_t>> process_start_ticks(pid_t pid);

/// The identity of the group led by `leader` (a child just spawned with its own process group,
/// not yet waited for). Errors: as current_boot_id and process_start_ticks; not_found when
/// the process does not exist.
[[nodiscard]] Result<ProcessGroupIdentity> identify_process_group(pid_t leader);

/// What kill_recorded_group did.
enum class GroupKill {
  killed,        ///< SIGKILL sent to the group, and no live member is left
  already_gone,  ///< no process of the group was left: nothing sent
  other_boot,    ///< recorded in another boot: the id means nothing now, nothing sent
  pid_reused,    ///< /proc/<pgid> is another process (different start time): nothing sent
  still_alive,   ///< SIGKILL sent, but a live member was still there at the deadline
  failed,        ///< the boot id or /proc/<pgid> could not be read, or kill() failed: nothing sent
};

/// Human-readable name of a GroupKill ("killed", "already gone", ...).
[[nodiscard]] std::string_view to_string(GroupKill outcome);

/// Stops a process group recorded by a previous server process. Only when `recorded.boot_id` is
/// the current boot id, and /proc/<pgid> either does not exist or has the recorded start time
/// (Linux does not hand out a pid still in use as a process-group id, so a group with that id
/// is then the recorded one), the whole group gets SIGKILL; then this waits, polling every
/// 10 ms for at most `wait`, until no live member is left (kill(-pgid, 0) fails with ESRCH, or
/// only zombies waiting for their new parent to reap them are left). Never signals pgid <= 1.
[[nodiscard]] GroupKill kill_recorded_group(const ProcessGroupIdentity& recorded,
                                            std::chrono::milliseconds wait);

/// True when some process of group `pgid` exists that is not a zombie (scans /proc).
[[nodiscard]] bool group_has_live_member(pid_t pgid);

}  // namespace cb::connectors
