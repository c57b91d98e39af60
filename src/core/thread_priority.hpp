#pragma once
// Scheduling priority of background threads.

namespace cb {

/// Lowers the calling thread's scheduling priority to nice value `nice` (0 = normal, 19 =
/// lowest), Linux per-thread `setpriority(PRIO_PROCESS, tid, nice)`; never raises it. Used for
/// background work that may wait while the CPU is busy answering requests (the delivery
/// worker): under overload it then takes the CPU the request threads leave, and all of it when
/// they are idle. Fails silently (a priority is a preference, not a requirement).
void lower_thread_priority(int nice) noexcept;

}  // namespace cb
