#include "core/thread_name.hpp"

#include <pthread.h>

#include <string>

namespace cb {

void set_thread_name(std::string_view name) noexcept {
  char buffer[16] = {};
  const std::size_t n = name.size() < 15 ? name.size() : 15;
  name.copy(buffer, n);
  (void)pthread_setname_np(pthread_self(), buffer);
}

}  // namespace cb
