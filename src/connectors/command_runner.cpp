#include "connectors/command_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace cb::connectors {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kKillGrace = std::chrono::seconds(5);        // SIGTERM → SIGKILL on timeout
constexpr auto kDrainGrace = std::chrono::seconds(2);       // exited, but the pipe is still open
constexpr auto kGiveUpAfterKill = std::chrono::seconds(1);  // SIGKILL sent, pipe still open
constexpr int kExitPollMs = 20;                             // exit check period without pidfd
constexpr int kCancelPollMs = 100;                          // cancellation check period
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr int kMaxReadsPerWakeup = 16;
constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(24 * 365 * 10);
constexpr std::string_view kDefaultPath = "/bin:/usr/bin";  // execvp's when PATH is unset
constexpr std::array<const char*, 4> kInheritedVars = {"PATH", "HOME", "LANG", "TMPDIR"};

std::string errno_message(int err) { return std::generic_category().message(err); }

/// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_ = -1;
};

/// Moves `fd` to a number >= 3 (keeping O_CLOEXEC) so that setting up the child's 0, 1 and 2
/// can never clobber it.
bool lift_above_stdio(Fd& fd) {
  if (fd.get() >= 3) {
    return true;
  }
  const int lifted = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (lifted < 0) {
    return false;
  }
  fd = Fd(lifted);
  return true;
}

/// Where the output goes: byte count, log file up to a limit, rolling tail of bounded size.
class OutputSink {
 public:
  OutputSink(std::size_t tail_bytes, std::size_t max_log_bytes, Fd log)
      : tail_cap_(tail_bytes), max_log_(max_log_bytes), log_(std::move(log)) {}

  void append(std::string_view data) {
    total_ += data.size();
    write_log(data);
    push_tail(data);
  }

  [[nodiscard]] std::uint64_t total() const { return total_; }
  [[nodiscard]] bool log_truncated() const { return log_truncated_; }

  /// Ends a truncated log with a marker line saying how much of the output it holds. Called
  /// once, after the last append.
  void finish() {
    if (!log_.valid() || !log_truncated_) {
      return;
    }
    std::string marker = (logged_ > 0 && last_logged_ != '\n') ? "\n" : "";
    marker += "[commitbridge: log truncated after " + std::to_string(logged_) + " bytes; " +
              std::to_string(total_) + " bytes of output in total]\n";
    std::string_view rest = marker;
    while (!rest.empty()) {
      const ssize_t n = ::write(log_.get(), rest.data(), rest.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return;  // the log is already known to be incomplete
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// The tail in order, oldest byte first.
  [[nodiscard]] std::string tail() const {
    if (ring_.size() < tail_cap_) {
      return ring_;
    }
    std::string out;
    out.reserve(ring_.size());
    out.append(ring_, head_, std::string::npos);
    out.append(ring_, 0, head_);
    return out;
  }

 private:
  void write_log(std::string_view data) {
    if (!log_.valid() || log_truncated_) {
      return;  // no log, or it already stopped growing (log_truncated_ is set for good)
    }
    const std::size_t room = max_log_ - logged_;
    std::string_view part = data.substr(0, std::min(room, data.size()));
    if (part.size() < data.size()) {
      log_truncated_ = true;
    }
    while (!part.empty()) {
      const ssize_t n = ::write(log_.get(), part.data(), part.size());
      if (n <= 0) {
        if (n == 0) {
          log_truncated_ = true;
          return;
        }
        if (errno == EINTR) {
          continue;
        }
        log_truncated_ = true;  // disk full or similar: the log is incomplete, keep running
        return;
      }
      logged_ += static_cast<std::size_t>(n);
      last_logged_ = part[static_cast<std::size_t>(n) - 1];
      part.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Grows `ring_` up to tail_cap_, then overwrites the oldest byte at head_.
  void push_tail(std::string_view data) {
    if (tail_cap_ == 0 || data.empty()) {
      return;
    }
    if (data.size() >= tail_cap_) {
      ring_.assign(data.substr(data.size() - tail_cap_));
      head_ = 0;
      return;
    }
    if (ring_.size() < tail_cap_) {
      const std::size_t take = std::min(tail_cap_ - ring_.size(), data.size());
      ring_.append(data.substr(0, take));
      data.remove_prefix(take);
      head_ = 0;
    }
    while (!data.empty()) {
      const std::size_t n = std::min(tail_cap_ - head_, data.size());
      std::memcpy(ring_.data() + head_, data.data(), n);
      head_ = (head_ + n) % tail_cap_;
      data.remove_prefix(n);
    }
  }

  std::size_t tail_cap_;
  std::size_t max_log_;
  Fd log_;
  std::uint64_t total_ = 0;
  std::size_t logged_ = 0;
  char last_logged_ = '\n';
  bool log_truncated_ = false;
  std::string ring_;
  std::size_t head_ = 0;
};

bool contains_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

Result<std::vector<std::string>> build_environment(const CommandSpec& spec) {
  std::vector<std::pair<std::string, std::string>> vars;
  for (const char* name : kInheritedVars) {
    if (const char* value = std::getenv(name)) {
      vars.emplace_back(name, value);
    }
  }
  for (const auto& [name, value] : spec.env) {
    if (name.empty() || name.find('=') != std::string::npos || contains_nul(name)) {
      return fail(ErrorCode::invalid_argument,
                  "invalid environment variable name \"" + name + "\" for command");
    }
    if (contains_nul(value)) {
      return fail(ErrorCode::invalid_argument,
                  "environment variable " + name + " contains a NUL byte");
    }
    auto it =
        std::find_if(vars.begin(), vars.end(), [&](const auto& v) { return v.first == name; });
    if (it != vars.end()) {
      it->second = value;
    } else {
      vars.emplace_back(name, value);
    }
  }
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [name, value] : vars) {
    out.push_back(name + "=" + value);
  }
  return out;
}

/// execvp's search: the program to hand to posix_spawn, or the errno explaining why none.
/// Relative candidates are checked against `working_dir` (where the child will resolve them)
/// but returned relative, since the child resolves them after its chdir.
struct Resolved {
  std::string path;
  int error = 0;
};

Resolved resolve_program(const std::string& argv0, std::string_view path_var,
                         const std::filesystem::path& working_dir) {
  if (argv0.find('/') != std::string::npos) {
    return {argv0, 0};
  }
  bool found_unexecutable = false;
  std::size_t start = 0;
  while (start <= path_var.size()) {
    const auto colon = path_var.find(':', start);
    const auto end = colon == std::string_view::npos ? path_var.size() : colon;
    std::string dir(path_var.substr(start, end - start));
    if (dir.empty()) {
      dir = ".";
    }
    std::string candidate = dir + "/" + argv0;
    std::filesystem::path check(candidate);
    if (check.is_relative() && !working_dir.empty()) {
      check = working_dir / check;
    }
    struct stat st {};
    if (::stat(check.c_str(), &st) == 0) {
      if (S_ISREG(st.st_mode) && ::access(check.c_str(), X_OK) == 0) {
        return {std::move(candidate), 0};
      }
      found_unexecutable = true;
    }
    if (colon == std::string_view::npos) {
      break;
    }
    start = colon + 1;
  }
  return {{}, found_unexecutable ? EACCES : ENOENT};
}

std::string_view path_of(const std::vector<std::string>& env) {
  for (const auto& entry : env) {
    if (entry.starts_with("PATH=")) {
      return std::string_view(entry).substr(5);
    }
  }
  return kDefaultPath;
}

Result<Fd> open_log(const std::filesystem::path& log_file) {
  if (log_file.empty()) {
    return Fd();
  }
  std::error_code ec;
  if (log_file.has_parent_path()) {
    std::filesystem::create_directories(log_file.parent_path(), ec);
    if (ec) {
      return fail(ErrorCode::internal, "cannot create the directory of the command log",
                  log_file.parent_path().string() + ": " + ec.message());
    }
  }
  Fd fd(::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0640));
  if (!fd.valid()) {
    const int err = errno;
    return fail(ErrorCode::internal, "cannot open the command log",
                log_file.string() + ": " + errno_message(err));
  }
  return fd;
}

/// RAII for the posix_spawn attribute objects.
struct SpawnSetup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attr{};
  bool actions_ok = false;
  bool attr_ok = false;
  SpawnSetup() {
    actions_ok = ::posix_spawn_file_actions_init(&actions) == 0;
    attr_ok = ::posix_spawnattr_init(&attr) == 0;
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    if (actions_ok) {
      ::posix_spawn_file_actions_destroy(&actions);
    }
    if (attr_ok) {
      ::posix_spawnattr_destroy(&attr);
    }
  }
};

/// Starts the child. Returns its pid, or the posix_spawn error number.
std::expected<pid_t, int> spawn(const std::string& program, const CommandSpec& spec,
                                const std::vector<std::string>& env, int out_fd) {
  SpawnSetup s;
  if (!s.actions_ok || !s.attr_ok) {
    return std::unexpected(ENOMEM);
  }
  int rc = ::posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&s.actions, out_fd, 1);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&s.actions, out_fd, 2);
  if (rc == 0 && !spec.working_dir.empty()) {
    rc = ::posix_spawn_file_actions_addchdir_np(&s.actions, spec.working_dir.c_str());
  }
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);

  sigset_t all;
  sigset_t none;
  sigfillset(&all);
  sigemptyset(&none);
  if (rc == 0) rc = ::posix_spawnattr_setpgroup(&s.attr, 0);
  if (rc == 0) rc = ::posix_spawnattr_setsigdefault(&s.attr, &all);
  if (rc == 0) rc = ::posix_spawnattr_setsigmask(&s.attr, &none);
  if (rc == 0) {
    rc = ::posix_spawnattr_setflags(
        &s.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  if (rc != 0) {
    return std::unexpected(rc);
  }

  std::vector<char*> argv;
  argv.reserve(spec.argv.size() + 1);
  for (const auto& arg : spec.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const auto& entry : env) {
    envp.push_back(const_cast<char*>(entry.c_str()));
  }
  envp.push_back(nullptr);

  pid_t pid = -1;
  rc = ::posix_spawn(&pid, program.c_str(), &s.actions, &s.attr, argv.data(), envp.data());
  if (rc != 0) {
    return std::unexpected(rc);
  }
  return pid;
}

int poll_timeout_ms(SteadyClock::time_point now, SteadyClock::time_point wake) {
  if (wake == SteadyClock::time_point::max()) {
    return -1;
  }
  if (wake <= now) {
    return 0;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1;
  return static_cast<int>(std::min<long long>(ms, INT_MAX));
}

/// True once the child has terminated (not reaped: WNOWAIT keeps its pid, and so its process
/// group id, reserved until the final waitpid).
bool has_exited(pid_t pid) {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;  // reaped elsewhere (SIGCHLD ignored): nothing left to wait for
  }
  return info.si_pid == pid;
}

struct Supervision {
  bool timed_out = false;
  bool cancelled = false;
  int status = 0;
  bool have_status = false;
};

/// Reads the output and waits for the child, enforcing the timeout; reaps the child.
Supervision supervise(pid_t pid, Fd pipe, std::chrono::milliseconds timeout, OutputSink& sink,
                      const std::atomic<bool>* cancel) {
  Supervision sup;
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // -1 on old kernels: we poll

  const auto deadline = SteadyClock::now() + std::min(timeout, kMaxTimeout);
  std::optional<SteadyClock::time_point> kill_at;
  std::optional<SteadyClock::time_point> drain_until;
  std::optional<SteadyClock::time_point> give_up_at;
  bool term_sent = false;
  bool kill_sent = false;
  bool exited = false;
  bool eof = false;
  std::string buffer(kReadChunk, '\0');

  while (!(exited && eof)) {
    const auto now = SteadyClock::now();
    if (!exited && !term_sent && now >= deadline) {
      sup.timed_out = true;
      ::kill(-pid, SIGTERM);
      term_sent = true;
      kill_at = now + kKillGrace;
    }
    if (!exited && !term_sent && cancel != nullptr && cancel->load()) {
      sup.cancelled = true;
      ::kill(-pid, SIGTERM);
      term_sent = true;
      kill_at = now + kKillGrace;
    }
    if (exited && !eof && !drain_until) {
      drain_until = now + kDrainGrace;
    }
    if (!kill_sent && ((kill_at && now >= *kill_at) || (drain_until && now >= *drain_until))) {
      ::kill(-pid, SIGKILL);
      kill_sent = true;
      give_up_at = now + kGiveUpAfterKill;
    }
    if (give_up_at && now >= *give_up_at) {
      break;  // the pipe is held outside the group; a stuck child is waited for below
    }

    auto wake = SteadyClock::time_point::max();
    if (!exited && !term_sent) wake = std::min(wake, deadline);
    if (kill_at && !kill_sent) wake = std::min(wake, *kill_at);
    if (drain_until && !kill_sent) wake = std::min(wake, *drain_until);
    if (give_up_at) wake = std::min(wake, *give_up_at);
    int wait_ms = poll_timeout_ms(now, wake);
    if (!exited && !pidfd.valid()) {
      wait_ms = wait_ms < 0 ? kExitPollMs : std::min(wait_ms, kExitPollMs);
    }
    if (!term_sent && cancel != nullptr) {
      wait_ms = wait_ms < 0 ? kCancelPollMs : std::min(wait_ms, kCancelPollMs);
    }

    std::array<pollfd, 2> fds{};
    nfds_t count = 0;
    int pipe_index = -1;
    if (!eof) {
      pipe_index = static_cast<int>(count);
      fds[count++] = pollfd{pipe.get(), POLLIN, 0};
    }
    if (!exited && pidfd.valid()) {
      fds[count++] = pollfd{pidfd.get(), POLLIN, 0};
    }
    const int ready = ::poll(fds.data(), count, wait_ms);
    if (ready < 0 && errno != EINTR) {
      // Cannot supervise any more (should not happen): stop the command rather than leak it.
      ::kill(-pid, SIGKILL);
      break;
    }

    if (ready > 0 && pipe_index >= 0 && fds[static_cast<std::size_t>(pipe_index)].revents != 0) {
      for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
        const ssize_t n = ::read(pipe.get(), buffer.data(), buffer.size());
        if (n > 0) {
          sink.append(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
          continue;
        }
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        }
        eof = true;  // 0 = end of file; any other error ends the output as well
        pipe.reset();
        break;
      }
    }
    if (!exited) {
      exited = has_exited(pid);
    }
  }
  pipe.reset();

  // Whatever is left of the group (background jobs that closed their output) goes too. The
  // leader is not reaped yet, so the group id cannot have been reused.
  ::kill(-pid, SIGKILL);
  int status = 0;
  pid_t waited = -1;
  do {
    waited = ::waitpid(pid, &status, 0);
  } while (waited < 0 && errno == EINTR);
  if (waited == pid) {
    sup.status = status;
    sup.have_status = true;
  }
  return sup;
}

}  // namespace

Result<CommandResult> run_command(const CommandSpec& spec, const Clock& clock) {
  if (spec.argv.empty()) {
    return fail(ErrorCode::invalid_argument, "command has no program (argv is empty)");
  }
  if (spec.argv.front().empty()) {
    return fail(ErrorCode::invalid_argument, "command program name (argv[0]) is empty");
  }
  for (std::size_t i = 0; i < spec.argv.size(); ++i) {
    if (contains_nul(spec.argv[i])) {
      return fail(ErrorCode::invalid_argument,
                  "command argument " + std::to_string(i) + " contains a NUL byte");
    }
  }
  if (spec.timeout <= std::chrono::milliseconds::zero()) {
    return fail(ErrorCode::invalid_argument, "command timeout must be positive");
  }
  if (!spec.working_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(spec.working_dir, ec)) {
      return fail(ErrorCode::invalid_argument,
                  "working directory " + spec.working_dir.string() + " is not a directory",
                  ec ? ec.message() : std::string());
    }
  }
  auto env = build_environment(spec);
  if (!env) {
    return std::unexpected(std::move(env.error()));
  }
  auto log = open_log(spec.log_file);
  if (!log) {
    return std::unexpected(std::move(log.error()));
  }
  OutputSink sink(spec.tail_bytes, spec.max_log_bytes, std::move(*log));

  CommandResult result;
  result.started_at_ms = clock.now_ms();
  auto finish_unexecutable = [&](int err) {
    result.exit_code = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
    sink.append("cannot execute " + spec.argv.front() + ": " + errno_message(err));
    sink.finish();
    result.output_tail = sink.tail();
    result.output_bytes = sink.total();
    result.log_truncated = sink.log_truncated();
    result.finished_at_ms = clock.now_ms();
    return result;
  };

  const Resolved program = resolve_program(spec.argv.front(), path_of(*env), spec.working_dir);
  if (program.error != 0) {
    return finish_unexecutable(program.error);
  }

  int pipe_fds[2] = {-1, -1};
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    const int err = errno;
    return fail(ErrorCode::internal, "cannot create a pipe for the command", errno_message(err));
  }
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  if (!lift_above_stdio(read_end) || !lift_above_stdio(write_end) ||
      ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK) != 0) {
    const int err = errno;
    return fail(ErrorCode::internal, "cannot set up the command's pipe", errno_message(err));
  }

  auto pid = spawn(program.path, spec, *env, write_end.get());
  write_end.reset();  // the child holds the only write end now: EOF when it and its heirs exit
  if (!pid) {
    const int err = pid.error();
    if (err == EAGAIN || err == ENOMEM) {
      return fail(ErrorCode::internal, "cannot start the command",
                  spec.argv.front() + ": " + errno_message(err));
    }
    return finish_unexecutable(err);
  }

  if (spec.on_started) spec.on_started(*pid);
  const Supervision sup = supervise(*pid, std::move(read_end), spec.timeout, sink, spec.cancel);
  sink.finish();
  result.timed_out = sup.timed_out;
  result.cancelled = sup.cancelled;
  if (sup.have_status && WIFEXITED(sup.status)) {
    result.exit_code = WEXITSTATUS(sup.status);
  } else if (sup.have_status && WIFSIGNALED(sup.status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(sup.status);
  }
  result.output_tail = sink.tail();
  result.output_bytes = sink.total();
  result.log_truncated = sink.log_truncated();
  result.finished_at_ms = clock.now_ms();
  return result;
}

}  // namespace cb::connectors
