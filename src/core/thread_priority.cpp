#include "core/thread_priority.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace cb {

void lower_thread_priority(int nice) noexcept {
  const auto tid = static_cast<id_t>(gettid());
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (current == -1 && errno != 0) return;
  if (nice <= current) return;
  (void)setpriority(PRIO_PROCESS, tid, nice);
}

}  // namespace cb
