#include "connectors/command_runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cb::connectors {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class CommandRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-command-runner-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static CommandSpec spec_of(std::vector<std::string> argv) {
    CommandSpec spec;
    spec.argv = std::move(argv);
    spec.timeout = std::chrono::seconds(60);
    return spec;
  }

  CommandResult run_ok(const CommandSpec& spec) {
    auto result = run_command(spec, clock_);
    EXPECT_TRUE(result.has_value()) << result.error().message << " / " << result.error().detail;
    return result.value_or(CommandResult{});
  }

  static std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  fs::path dir_;
  SystemClock clock_;
};

/// True when `pid` no longer runs: gone, or a zombie nobody reaps (its parent died and the
/// container's init may not reap).
bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) {
    return true;
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return true;
  }
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         (line[paren + 2] == 'Z' || line[paren + 2] == 'X');
}

bool wait_until_gone(pid_t pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (process_gone(pid)) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return process_gone(pid);
}

/// A field of /proc/self/status in KiB ("VmHWM", "VmRSS"), or -1.
long proc_status_kib(std::string_view field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

/// Measures how far the peak RSS of this process rises during a scope. Resets the kernel's
/// high-water mark first (writing 5 to /proc/self/clear_refs), so that an earlier peak cannot
/// hide a rise; without that file it falls back on getrusage's lifetime maximum.
class PeakRss {
 public:
  PeakRss() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    reset_ok_ = static_cast<bool>(clear) && proc_status_kib("VmHWM") >= 0;
    before_kib_ = reset_ok_ ? proc_status_kib("VmRSS") : max_rss_kib();
  }
  [[nodiscard]] long growth_kib() const {
    return (reset_ok_ ? proc_status_kib("VmHWM") : max_rss_kib()) - before_kib_;
  }

 private:
  static long max_rss_kib() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
  }
  bool reset_ok_ = false;
  long before_kib_ = 0;
};

TEST_F(CommandRunnerTest, ExitCodeZero) {
  const auto r = run_ok(spec_of({"/bin/true"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.signal, 0);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.output_bytes, 0u);
  EXPECT_EQ(r.output_tail, "");
  EXPECT_GT(r.started_at_ms, 0);
  EXPECT_GE(r.finished_at_ms, r.started_at_ms);
}

TEST_F(CommandRunnerTest, ExitCodeThree) {
  const auto r = run_ok(spec_of({"/bin/sh", "-c", "exit 3"}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  EXPECT_FALSE(r.timed_out);
}

TEST_F(CommandRunnerTest, KilledBySignalReportsIt) {
  const auto r = run_ok(spec_of({"/bin/sh", "-c", "kill -KILL $$"}));
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_FALSE(r.timed_out);
}

TEST_F(CommandRunnerTest, TimesComeFromTheClock) {
  ManualClock manual(1'700'000'000'000);
  const auto r = run_command(spec_of({"/bin/true"}), manual);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->started_at_ms, 1'700'000'000'000);
  EXPECT_EQ(r->finished_at_ms, 1'700'000'000'000);
}

TEST_F(CommandRunnerTest, EnvironmentIsMinimalPlusSpecified) {
  ASSERT_EQ(::setenv("CB_TEST_SERVER_ONLY", "leak", 1), 0);
  auto spec = spec_of({"/usr/bin/env"});
  spec.env = {{"CB_TEST_VAR", "hello world"}, {"HOME", "/nonexistent-home"}, {"EMPTY", ""}};
  const auto r = run_ok(spec);
  ::unsetenv("CB_TEST_SERVER_ONLY");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.output_tail, HasSubstr("CB_TEST_VAR=hello world\n"));
  EXPECT_THAT(r.output_tail, HasSubstr("HOME=/nonexistent-home\n"));
  EXPECT_THAT(r.output_tail, HasSubstr("EMPTY=\n"));
  EXPECT_THAT(r.output_tail, Not(HasSubstr("CB_TEST_SERVER_ONLY")));
  if (const char* path = std::getenv("PATH")) {
    EXPECT_THAT(r.output_tail, HasSubstr(std::string("PATH=") + path + "\n"));
  }
  // HOME appears once: the override replaced the inherited value.
  const auto first = r.output_tail.find("HOME=");
  EXPECT_EQ(r.output_tail.find("HOME=", first + 1), std::string::npos);
}

TEST_F(CommandRunnerTest, ArgvIsPassedWithoutShellInterpretation) {
  const auto r = run_ok(spec_of({"printf", "%s", "$HOME;rm -rf x"}));  // found on PATH
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_tail, "$HOME;rm -rf x");

  const auto r2 = run_ok(spec_of({"printf", "[%s]", "a b", "", "\"q\" 'x' `id` *", "\xC3\xBC"}));
  EXPECT_EQ(r2.output_tail, "[a b][][\"q\" 'x' `id` *][\xC3\xBC]");
}

TEST_F(CommandRunnerTest, WorkingDirectoryIsHonoured) {
  auto spec = spec_of({"/bin/pwd"});
  spec.working_dir = dir_;
  const auto r = run_ok(spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_tail, fs::canonical(dir_).string() + "\n");
}

TEST_F(CommandRunnerTest, RelativeProgramResolvesInWorkingDirectory) {
  fs::create_directories(dir_ / "bin");
  const fs::path script = dir_ / "bin" / "hello.sh";
  std::ofstream(script) << "#!/bin/sh\necho hello from script\n";
  fs::permissions(script, fs::perms::owner_all);
  auto spec = spec_of({"./bin/hello.sh"});
  spec.working_dir = dir_;
  const auto r = run_ok(spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_tail, "hello from script\n");
}

TEST_F(CommandRunnerTest, PathFromSpecEnvironmentIsSearched) {
  fs::create_directories(dir_ / "tools");
  const fs::path script = dir_ / "tools" / "cb-test-tool";
  std::ofstream(script) << "#!/bin/sh\necho tool ran\n";
  fs::permissions(script, fs::perms::owner_all);
  auto spec = spec_of({"cb-test-tool"});
  spec.env = {{"PATH", (dir_ / "tools").string() + ":/usr/bin:/bin"}};
  const auto r = run_ok(spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_tail, "tool ran\n");
}

TEST_F(CommandRunnerTest, MissingWorkingDirectoryIsAnError) {
  auto spec = spec_of({"/bin/true"});
  spec.working_dir = dir_ / "does-not-exist";
  const auto r = run_command(spec, clock_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
}

TEST_F(CommandRunnerTest, OutputTailIsTheLastBytes) {
  auto spec =
      spec_of({"/bin/sh", "-c", "i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done"});
  spec.tail_bytes = 16;
  spec.log_file = dir_ / "tail.log";
  const auto r = run_ok(spec);
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    expected += "line" + std::to_string(i) + "\n";
  }
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, expected.size());
  EXPECT_EQ(r.output_tail, expected.substr(expected.size() - 16));
  EXPECT_EQ(read_file(spec.log_file), expected);
  EXPECT_FALSE(r.log_truncated);
}

TEST_F(CommandRunnerTest, OutputTailHoldsShortOutputWhole) {
  auto spec = spec_of({"/bin/sh", "-c", "printf abc"});
  spec.tail_bytes = 4096;
  EXPECT_EQ(run_ok(spec).output_tail, "abc");
  spec.tail_bytes = 0;
  const auto r = run_ok(spec);
  EXPECT_EQ(r.output_tail, "");
  EXPECT_EQ(r.output_bytes, 3u);
}

TEST_F(CommandRunnerTest, LogFileGetsStdoutAndStderrAndParentsAreCreated) {
  auto spec = spec_of({"/bin/sh", "-c", "echo out; echo err >&2; echo out2"});
  spec.log_file = dir_ / "a" / "b" / "run.log";
  const auto r = run_ok(spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(read_file(spec.log_file), "out\nerr\nout2\n");
  EXPECT_EQ(r.output_tail, "out\nerr\nout2\n");
  EXPECT_FALSE(r.log_truncated);
}

TEST_F(CommandRunnerTest, LogFileIsReplacedNotAppended) {
  auto spec = spec_of({"/bin/sh", "-c", "echo new"});
  spec.log_file = dir_ / "run.log";
  std::ofstream(spec.log_file) << "old content that is longer\n";
  run_ok(spec);
  EXPECT_EQ(read_file(spec.log_file), "new\n");
}

TEST_F(CommandRunnerTest, HugeOutputIsTruncatedInLogWithBoundedMemory) {
  // 50 MiB of output, then a known ending, so that the tail is checked byte for byte.
  constexpr std::uint64_t kBulk = 50ull * 1024 * 1024;
  const std::string ending = "\nthe end 0123456789";
  auto spec = spec_of({"/bin/sh", "-c",
                       "head -c " + std::to_string(kBulk) + " /dev/zero | tr '\\000' x; printf '" +
                           std::string("\\nthe end 0123456789") + "'"});
  spec.log_file = dir_ / "big.log";
  spec.max_log_bytes = 1024 * 1024;
  spec.tail_bytes = 64;
  const PeakRss peak;
  const auto r = run_ok(spec);
  const long growth_kib = peak.growth_kib();

  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, kBulk + ending.size());
  EXPECT_TRUE(r.log_truncated);
  EXPECT_EQ(r.output_tail, std::string(64 - ending.size(), 'x') + ending);
  const std::string marker = "\n[commitbridge: log truncated after 1048576 bytes; " +
                             std::to_string(kBulk + ending.size()) + " bytes of output in total]\n";
  EXPECT_EQ(fs::file_size(spec.log_file), spec.max_log_bytes + marker.size());
  const std::string log = read_file(spec.log_file);
  EXPECT_EQ(log.substr(0, spec.max_log_bytes), std::string(spec.max_log_bytes, 'x'));
  EXPECT_EQ(log.substr(spec.max_log_bytes), marker);
  // Holding the output in memory would raise the peak RSS by 50 MiB or more; the runner needs
  // its 64 KiB read buffer and the tail.
  EXPECT_LT(growth_kib, 16 * 1024) << "peak RSS grew by " << growth_kib << " KiB";
}

TEST_F(CommandRunnerTest, TruncationMarkerStartsOnItsOwnLine) {
  auto spec = spec_of({"/bin/sh", "-c", "printf 'line one\\nline two\\n'"});
  spec.log_file = dir_ / "cut.log";
  spec.max_log_bytes = 9;  // "line one\n": cut right after a line break
  auto r = run_ok(spec);
  EXPECT_TRUE(r.log_truncated);
  EXPECT_EQ(read_file(spec.log_file),
            "line one\n[commitbridge: log truncated after 9 bytes; 18 bytes of output in total]\n");

  spec.max_log_bytes = 6;  // "line o": the marker gets its own line
  r = run_ok(spec);
  EXPECT_EQ(read_file(spec.log_file),
            "line o\n[commitbridge: log truncated after 6 bytes; 18 bytes of output in total]\n");

  spec.max_log_bytes = 18;  // exactly the output: nothing cut, no marker
  r = run_ok(spec);
  EXPECT_FALSE(r.log_truncated);
  EXPECT_EQ(read_file(spec.log_file), "line one\nline two\n");
}

TEST_F(CommandRunnerTest, ZeroLogLimitWritesOnlyTheMarker) {
  auto spec = spec_of({"/bin/sh", "-c", "echo hi"});
  spec.log_file = dir_ / "empty.log";
  spec.max_log_bytes = 0;
  const auto r = run_ok(spec);
  EXPECT_TRUE(r.log_truncated);
  EXPECT_EQ(read_file(spec.log_file),
            "[commitbridge: log truncated after 0 bytes; 3 bytes of output in total]\n");
  EXPECT_EQ(r.output_tail, "hi\n");
}

TEST_F(CommandRunnerTest, TimeoutStopsTheCommand) {
  auto spec = spec_of({"sleep", "30"});
  spec.timeout = std::chrono::milliseconds(300);
  const auto r = run_ok(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_GE(r.finished_at_ms - r.started_at_ms, 300);
  EXPECT_LT(r.finished_at_ms - r.started_at_ms, 10'000);
}

TEST_F(CommandRunnerTest, CancelFlagStopsTheCommandLikeATimeout) {
  std::atomic<bool> cancel{true};
  auto spec = spec_of({"sleep", "30"});
  spec.cancel = &cancel;
  const auto r = run_ok(spec);
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(CommandRunnerTest, UnsetCancelFlagLetsTheCommandFinish) {
  std::atomic<bool> cancel{false};
  auto spec = spec_of({"/bin/sh", "-c", "exit 4"});
  spec.cancel = &cancel;
  const auto r = run_ok(spec);
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(r.exit_code, 4);
}

TEST_F(CommandRunnerTest, TimeoutKillsTheWholeProcessTree) {
  const fs::path pid_file = dir_ / "grandchild.pid";
  auto spec =
      spec_of({"/bin/sh", "-c", "sleep 30 & echo $! > \"$1\"; sleep 30", "sh", pid_file.string()});
  spec.timeout = std::chrono::milliseconds(1000);  // leaves the shell time to write the pid file
  const auto r = run_ok(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.finished_at_ms - r.started_at_ms, 10'000);
  const std::string pid_text = read_file(pid_file);
  ASSERT_FALSE(pid_text.empty());
  const pid_t grandchild = static_cast<pid_t>(std::stol(pid_text));
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(wait_until_gone(grandchild, std::chrono::seconds(10)));
}

TEST_F(CommandRunnerTest, TimeoutKillsGrandchildrenAndTheirChildren) {
  // The command starts a subshell and a second shell, each starting two sleepers of their own,
  // then waits: four descendants two and three levels below the runner's child.
  const fs::path pid_file = dir_ / "tree.pids";
  const std::string script =
      "f=\"$1\"; "
      "( sleep 30 & echo $! >> \"$f\"; sleep 31 & echo $! >> \"$f\"; wait ) & "
      "/bin/sh -c 'sleep 32 & echo $! >> \"$1\"; sleep 33 & echo $! >> \"$1\"; wait' sh \"$f\" & "
      "wait";
  auto spec = spec_of({"/bin/sh", "-c", script, "sh", pid_file.string()});
  spec.timeout = std::chrono::milliseconds(1500);
  const auto r = run_ok(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_LT(r.finished_at_ms - r.started_at_ms, 10'000);
  std::istringstream pids(read_file(pid_file));
  std::vector<pid_t> descendants;
  for (std::string line; std::getline(pids, line);) {
    descendants.push_back(static_cast<pid_t>(std::stol(line)));
  }
  ASSERT_EQ(descendants.size(), 4u) << "the shells did not start all sleepers in 1.5 s";
  for (const pid_t pid : descendants) {
    EXPECT_TRUE(wait_until_gone(pid, std::chrono::seconds(10))) << "pid " << pid;
  }
}

TEST_F(CommandRunnerTest, ExitCodesAreReportedAsIs) {
  for (const int code : {1, 2, 42, 126, 127, 255}) {
    const auto r = run_ok(spec_of({"/bin/sh", "-c", "exit " + std::to_string(code)}));
    EXPECT_EQ(r.exit_code, code);
    EXPECT_EQ(r.signal, 0);
  }
  EXPECT_EQ(run_ok(spec_of({"false"})).exit_code, 1);
}

TEST_F(CommandRunnerTest, TimeoutEscalatesToSigkillWhenTermIsIgnored) {
  // An ignored signal stays ignored across exec, so both the shell and its sleep ignore TERM.
  auto spec = spec_of({"/bin/sh", "-c", "trap '' TERM; sleep 30; echo survived"});
  spec.timeout = std::chrono::milliseconds(200);
  const auto r = run_ok(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_THAT(r.output_tail, Not(HasSubstr("survived")));
  EXPECT_LT(r.finished_at_ms - r.started_at_ms, 15'000);
}

TEST_F(CommandRunnerTest, BackgroundProcessHoldingOutputDoesNotHangTheRun) {
  const fs::path pid_file = dir_ / "bg.pid";
  auto spec =
      spec_of({"/bin/sh", "-c", "sleep 30 & echo $! > \"$1\"; echo done", "sh", pid_file.string()});
  const auto r = run_ok(spec);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_tail, "done\n");
  EXPECT_LT(r.finished_at_ms - r.started_at_ms, 10'000);
  const pid_t background = static_cast<pid_t>(std::stol(read_file(pid_file)));
  EXPECT_TRUE(wait_until_gone(background, std::chrono::seconds(10)));
}

TEST_F(CommandRunnerTest, StdinIsEmpty) {
  const auto r = run_ok(spec_of({"cat"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, 0u);
}

TEST_F(CommandRunnerTest, ServerFileDescriptorsAreNotInherited) {
  const int leaked = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(leaked, 3);
  const auto r = run_ok(spec_of({"/bin/sh", "-c", "ls /proc/$$/fd"}));
  ::close(leaked);
  EXPECT_EQ(r.exit_code, 0);
  std::istringstream lines(r.output_tail);
  std::string fd;
  while (std::getline(lines, fd)) {
    EXPECT_NE(fd, std::to_string(leaked));
  }
}

TEST_F(CommandRunnerTest, MissingProgramIs127) {
  auto spec = spec_of({"cb-definitely-not-a-program"});
  spec.log_file = dir_ / "missing.log";
  const auto r = run_ok(spec);
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.output_tail, "cannot execute cb-definitely-not-a-program: No such file or directory");
  EXPECT_EQ(read_file(spec.log_file), r.output_tail);

  const auto abs = run_ok(spec_of({(dir_ / "nope").string()}));
  EXPECT_EQ(abs.exit_code, 127);
  EXPECT_EQ(abs.output_tail,
            "cannot execute " + (dir_ / "nope").string() + ": No such file or directory");
}

TEST_F(CommandRunnerTest, NonExecutableProgramIs126) {
  const fs::path file = dir_ / "not-executable";
  std::ofstream(file) << "#!/bin/sh\necho no\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  if (::access(file.c_str(), X_OK) == 0) {
    GTEST_SKIP() << "running with privileges that ignore file modes";
  }
  const auto r = run_ok(spec_of({file.string()}));
  EXPECT_EQ(r.exit_code, 126);
  EXPECT_THAT(r.output_tail, HasSubstr("cannot execute " + file.string() + ": "));
}

TEST_F(CommandRunnerTest, InvalidSpecsAreErrors) {
  const auto expect_invalid = [&](const CommandSpec& spec) {
    const auto r = run_command(spec, clock_);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  };
  expect_invalid(spec_of({}));
  expect_invalid(spec_of({""}));
  expect_invalid(spec_of({"/bin/echo", std::string("a\0b", 3)}));
  auto bad_env = spec_of({"/bin/true"});
  bad_env.env = {{"A=B", "x"}};
  expect_invalid(bad_env);
  bad_env.env = {{"", "x"}};
  expect_invalid(bad_env);
  auto zero_timeout = spec_of({"/bin/true"});
  zero_timeout.timeout = std::chrono::milliseconds(0);
  expect_invalid(zero_timeout);
}

}  // namespace
}  // namespace cb::connectors
