// set_thread_name and lower_thread_priority act on the calling thread only, as the kernel shows.

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "core/thread_name.hpp"
#include "core/thread_priority.hpp"

namespace cb {
namespace {

std::string kernel_thread_name() {
  std::ifstream comm("/proc/self/task/" + std::to_string(gettid()) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

int thread_nice() { return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())); }

TEST(ThreadNameTest, NamesTheCallingThreadAndCutsAt15Bytes) {
  std::string main_name = kernel_thread_name();
  std::string short_name;
  std::string long_name;
  std::thread t([&] {
    set_thread_name("cb-writer");
    short_name = kernel_thread_name();
    set_thread_name("cb-a-name-longer-than-fifteen");
    long_name = kernel_thread_name();
  });
  t.join();
  EXPECT_EQ(short_name, "cb-writer");
  EXPECT_EQ(long_name, "cb-a-name-longe");
  EXPECT_EQ(kernel_thread_name(), main_name);  // other threads keep theirs
}

TEST(ThreadPriorityTest, LowersTheCallingThreadOnlyAndNeverRaisesIt) {
  const int main_nice = thread_nice();
  int lowered = -100;
  int after_raise_attempt = -100;
  std::thread t([&] {
    lower_thread_priority(main_nice + 5);
    lowered = thread_nice();
    lower_thread_priority(main_nice + 1);  // "lower" to a higher priority: ignored
    after_raise_attempt = thread_nice();
  });
  t.join();
  EXPECT_EQ(lowered, std::min(main_nice + 5, 19));
  EXPECT_EQ(after_raise_attempt, lowered);
  EXPECT_EQ(thread_nice(), main_nice);
}

}  // namespace
}  // namespace cb
