#include "connectors/process_group.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "connectors/command_runner.hpp"
#include "core/clock.hpp"

extern char** environ;

namespace cb::connectors {
namespace {

using namespace std::chrono_literals;

/// Spawns `sh -c 'sleep 30 & sleep 30'` as the leader of a new process group: two live members.
pid_t spawn_group() {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = {"/bin/sh", "-c", "sleep 30 & sleep 30"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

/// Polls until the group has two live members (the shell and its background sleep).
bool wait_for_members(pid_t pgid, std::size_t want) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
      const auto name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      if (::getpgid(std::stoi(name)) == pgid) ++n;
    }
    if (n >= want) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class ProcessGroupTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (leader_ > 0) {
      ::kill(-leader_, SIGKILL);
      int status = 0;
      ::waitpid(leader_, &status, 0);
    }
  }
  pid_t leader_ = -1;
};

TEST_F(ProcessGroupTest, IdentifiesTheLeaderByStartTimeAndBoot) {
  leader_ = spawn_group();
  ASSERT_GT(leader_, 0);
  const auto id = identify_process_group(leader_);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  EXPECT_EQ(id->pgid, leader_);
  EXPECT_GT(id->start_ticks, 0u);
  const auto boot = current_boot_id();
  ASSERT_TRUE(boot.has_value());
  EXPECT_EQ(id->boot_id, *boot);
  EXPECT_EQ(id->boot_id.size(), 36u);
  // The test process started earlier than its child.
  const auto own = process_start_ticks(::getpid());
  ASSERT_TRUE(own.has_value() && own->has_value());
  EXPECT_LE(**own, id->start_ticks);
}

TEST_F(ProcessGroupTest, KillsTheWholeRecordedGroupAndWaitsUntilItIsGone) {
  leader_ = spawn_group();
  ASSERT_GT(leader_, 0);
  ASSERT_TRUE(wait_for_members(leader_, 2));
  const auto id = identify_process_group(leader_);
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(group_has_live_member(leader_));

  EXPECT_EQ(kill_recorded_group(*id, 5s), GroupKill::killed);
  EXPECT_FALSE(group_has_live_member(leader_));
  int status = 0;
  ASSERT_EQ(::waitpid(leader_, &status, 0), leader_);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  leader_ = -1;
  // Nothing left: a second attempt sends nothing.
  EXPECT_EQ(kill_recorded_group(*id, 5s), GroupKill::already_gone);
}

TEST_F(ProcessGroupTest, LeavesAGroupWhoseLeaderHasAnotherStartTime) {
  leader_ = spawn_group();
  ASSERT_GT(leader_, 0);
  ASSERT_TRUE(wait_for_members(leader_, 2));
  auto id = identify_process_group(leader_);
  ASSERT_TRUE(id.has_value());
  id->start_ticks += 1;  // as if the pid now belonged to a process started later

  EXPECT_EQ(kill_recorded_group(*id, 5s), GroupKill::pid_reused);
  EXPECT_TRUE(group_has_live_member(leader_));
  int status = 0;
  EXPECT_EQ(::waitpid(leader_, &status, WNOHANG), 0);  // the leader still runs
}

TEST_F(ProcessGroupTest, LeavesAGroupRecordedInAnotherBoot) {
  leader_ = spawn_group();
  ASSERT_GT(leader_, 0);
  auto id = identify_process_group(leader_);
  ASSERT_TRUE(id.has_value());
  id->boot_id = "00000000-0000-4000-8000-000000000000";

  EXPECT_EQ(kill_recorded_group(*id, 5s), GroupKill::other_boot);
  EXPECT_TRUE(group_has_live_member(leader_));
}

TEST_F(ProcessGroupTest, NeverSignalsAnInvalidGroup) {
  EXPECT_EQ(kill_recorded_group({0, 1, "x"}, 1s), GroupKill::failed);
  EXPECT_EQ(kill_recorded_group({1, 1, "x"}, 1s), GroupKill::failed);
}

TEST_F(ProcessGroupTest, RunCommandReportsTheGroupItStartedAndTheHelperKillsIt) {
  SystemClock clock;
  CommandSpec spec;
  spec.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30"};
  std::promise<pid_t> started;
  spec.on_started = [&](pid_t pid) { started.set_value(pid); };
  auto running = std::async(std::launch::async, [&] { return run_command(spec, clock); });

  auto future = started.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  const pid_t pid = future.get();
  EXPECT_EQ(::getpgid(pid), pid);
  ASSERT_TRUE(wait_for_members(pid, 2));
  const auto id = identify_process_group(pid);
  ASSERT_TRUE(id.has_value());

  EXPECT_EQ(kill_recorded_group(*id, 5s), GroupKill::killed);
  ASSERT_EQ(running.wait_for(10s), std::future_status::ready);
  const auto result = running.get();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, -1);
  EXPECT_EQ(result->signal, SIGKILL);
  EXPECT_FALSE(group_has_live_member(pid));
}

}  // namespace
}  // namespace cb::connectors
