// MirrorLocks: one lock per mirror directory, different directories independent.

#include "git/mirror_locks.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace cb::git {
namespace {

using namespace std::chrono_literals;
constexpr auto kDeadline = 10s;

/// Polls `predicate` until it holds or the deadline passes; returns its last value.
template <class F>
bool eventually(F&& predicate) {
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > end) return predicate();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(MirrorLocks, SameDirectoryWaitsAndSpellingsOfOnePathShareTheLock) {
  MirrorLocks locks;
  auto first = std::make_unique<MirrorLocks::Guard>(locks.lock("/data/mirrors/7.git"));
  EXPECT_EQ(locks.users("/data/mirrors/7.git"), 1u);

  std::atomic<bool> acquired{false};
  auto second = std::async(std::launch::async, [&] {
    auto guard = locks.lock("/data/mirrors/./7.git/");
    acquired = true;
  });
  // The second user is registered, and blocked while the first holds the lock.
  ASSERT_TRUE(eventually([&] { return locks.users("/data/mirrors/7.git") == 2; }));
  EXPECT_FALSE(acquired.load());
  first.reset();
  ASSERT_EQ(second.wait_for(kDeadline), std::future_status::ready);
  EXPECT_TRUE(acquired.load());
  EXPECT_EQ(locks.users("/data/mirrors/7.git"), 0u);
}

TEST(MirrorLocks, DifferentDirectoriesDoNotWait) {
  MirrorLocks locks;
  auto a = locks.lock("/data/mirrors/1.git");
  auto other = std::async(std::launch::async, [&] { auto b = locks.lock("/data/mirrors/2.git"); });
  EXPECT_EQ(other.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(locks.users("/data/mirrors/1.git"), 1u);
  EXPECT_EQ(locks.users("/data/mirrors/2.git"), 0u);
  EXPECT_EQ(locks.users("/data/mirrors/never-used.git"), 0u);
}

TEST(MirrorLocks, GuardMovesOwnership) {
  MirrorLocks locks;
  auto a = locks.lock("/m/1.git");
  {
    MirrorLocks::Guard moved(std::move(a));
    EXPECT_EQ(locks.users("/m/1.git"), 1u);
  }
  EXPECT_EQ(locks.users("/m/1.git"), 0u);
  auto again = locks.lock("/m/1.git");  // free again: does not block
  EXPECT_EQ(locks.users("/m/1.git"), 1u);
}

TEST(MirrorLocks, ProcessWideIsOneRegistry) {
  EXPECT_EQ(&MirrorLocks::process_wide(), &MirrorLocks::process_wide());
}

}  // namespace
}  // namespace cb::git
