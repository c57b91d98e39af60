#pragma once
// Names the calling thread for `top -H`, `ps -L`, perf and gdb.

#include <string_view>

namespace cb {

/// Sets the calling thread's name as the kernel shows it (`/proc/self/task/<tid>/comm`),
/// e.g. "cb-writer". Linux keeps at most 15 bytes: a longer name is cut. Never fails visibly
/// (a name is a diagnostic aid only).
void set_thread_name(std::string_view name) noexcept;

}  // namespace cb
