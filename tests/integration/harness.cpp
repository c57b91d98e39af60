#include "harness.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "auth/digest.hpp"

extern char** environ;

namespace cbtest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr auto kServerDeadline = 10s;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

/// The environment of a child: ours without COMMITBRIDGE_* and without the names in `extra`,
/// then `extra` (a later duplicate name wins).
std::vector<std::string> child_environment(const Env& extra) {
  std::vector<std::string> out;
  const auto overridden = [&](std::string_view entry) {
    const auto eq = entry.find('=');
    const std::string_view name = entry.substr(0, eq);
    if (name.starts_with("COMMITBRIDGE_")) return true;
    return std::any_of(extra.begin(), extra.end(),
                       [&](const auto& kv) { return kv.first == name; });
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!overridden(*e)) out.emplace_back(*e);
  }
  for (std::size_t i = 0; i < extra.size(); ++i) {
    bool later = false;
    for (std::size_t j = i + 1; j < extra.size(); ++j) {
      if (extra[j].first == extra[i].first) later = true;
    }
    if (!later) out.push_back(extra[i].first + "=" + extra[i].second);
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

/// posix_spawn attributes: default signal dispositions and an empty signal mask in the child.
struct SpawnAttr {
  posix_spawnattr_t attr{};
  SpawnAttr() {
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
};

struct FileActions {
  posix_spawn_file_actions_t actions{};
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
};

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

/// Waits for `pid` until `deadline`; the decoded exit code, or nullopt when still running.
std::optional<int> wait_for_exit(pid_t pid, Clock::time_point deadline) {
  while (true) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_status(status);
    if (r < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

void ensure_curl() { static CurlGlobal global; }

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  const std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100 Continue): keep only the final one's headers
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    (*headers)[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  }
  return size * n;
}

}  // namespace

// ---- TempDir ----------------------------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = (base != nullptr && *base != '\0' ? std::string(base) : "/tmp");
  pattern += "/cb-int-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  }
  path_ = fs::path(pattern);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---- processes --------------------------------------------------------------------------------

std::string CommandResult::describe() const {
  std::ostringstream out;
  out << "exit " << exit_code << (timed_out ? " (timed out)" : "") << "\nstdout: " << this->out
      << "\nstderr: " << err;
  return out.str();
}

CommandResult run_process(const std::vector<std::string>& argv, const Env& env,
                          std::chrono::milliseconds timeout) {
  CommandResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw std::runtime_error("pipe2 failed");
  }
  FileActions fa;
  posix_spawn_file_actions_addopen(&fa.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa.actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa.actions, err_pipe[1], 2);
  SpawnAttr attr;
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = child_environment(env);
  auto c_args = c_strings(args);
  auto c_env = c_strings(envs);
  pid_t pid = -1;
  const int rc =
      posix_spawnp(&pid, c_args[0], &fa.actions, &attr.attr, c_args.data(), c_env.data());
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    result.err = "posix_spawn of " + argv.front() + " failed: " + std::strerror(rc);
    return result;
  }

  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      break;
    }
    const int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  if (result.timed_out) {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = -1;
    return result;
  }
  // Both streams closed: the process is exiting (or left a descendant holding them, which the
  // deadline bounds).
  const auto code = wait_for_exit(pid, deadline);
  if (!code) {
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    result.timed_out = true;
    result.exit_code = -1;
    return result;
  }
  result.exit_code = *code;
  return result;
}

CommandResult run_cli(const std::vector<std::string>& args, const Env& env,
                      std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{CB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, env, timeout);
}

bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds deadline,
                std::chrono::milliseconds poll) {
  const auto end = Clock::now() + deadline;
  while (true) {
    if (predicate()) return true;
    if (Clock::now() >= end) return predicate();
    std::this_thread::sleep_for(poll);
  }
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

// ---- HTTP -------------------------------------------------------------------------------------

std::string HttpResponse::header(std::string_view name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

json::value HttpResponse::json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) return nullptr;
  return v;
}

std::string HttpResponse::error_code() const {
  const auto v = json();
  if (!v.is_object()) return {};
  const auto* e = v.as_object().if_contains("error");
  return e != nullptr ? str(*e, "code") : std::string();
}

std::string HttpResponse::error_message() const {
  const auto v = json();
  if (!v.is_object()) return {};
  const auto* e = v.as_object().if_contains("error");
  return e != nullptr ? str(*e, "message") : std::string();
}

std::string HttpResponse::describe() const {
  return "HTTP " + std::to_string(status) + " " + body +
         (transport_error.empty() ? "" : " (" + transport_error + ")");
}

HttpResponse http_request(const std::string& method, const std::string& url, const Headers& headers,
                          const std::string& body) {
  ensure_curl();
  HttpResponse response;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    response.transport_error = "curl_easy_init failed";
    return response;
  }
  curl_slist* list = nullptr;
  bool has_expect = false;
  for (const auto& [name, value] : headers) {
    if (lower(name) == "expect") has_expect = true;
    // "Name;" is curl's way to send a header with an empty value.
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    list = curl_slist_append(list, line.c_str());
  }
  if (!has_expect) list = curl_slist_append(list, "Expect:");
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.transport_error = error[0] != '\0' ? error : curl_easy_strerror(rc);
    // A server that answers and closes before reading the whole upload can still have answered.
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return response;
}

HttpResponse post(const std::string& url, const Headers& headers, const std::string& body) {
  return http_request("POST", url, headers, body);
}

HttpResponse get(const std::string& url, const Headers& headers) {
  return http_request("GET", url, headers, {});
}

std::string sign(std::string_view token, std::string_view body) {
  return "sha256=" + cb::auth::to_hex(cb::auth::hmac_sha256(token, body));
}

std::string basic_auth(std::string_view user, std::string_view token) {
  std::string pair(user);
  pair += ':';
  pair += token;
  return "Basic " + cb::auth::base64_encode(pair);
}

std::string new_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    unsigned v = static_cast<unsigned>(rng() & 0xf);
    if (i == 12) v = 4;
    if (i == 16) v = 8 | (v & 3);
    out.push_back(kHex[v]);
  }
  return out;
}

std::string form_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

// ---- ServerProcess ----------------------------------------------------------------------------

ServerProcess::ServerProcess(fs::path data_dir, fs::path log_dir, Env env)
    : data_dir_(std::move(data_dir)), log_dir_(std::move(log_dir)), env_(std::move(env)) {}

ServerProcess::~ServerProcess() {
  if (running()) kill9();
}

::testing::AssertionResult ServerProcess::start() {
  if (running()) return ::testing::AssertionFailure() << "server already running";
  ++starts_;
  const std::string stem = "server-" + std::to_string(starts_);
  const fs::path port_file = log_dir_ / (stem + ".port");
  const std::string out_file = (log_dir_ / (stem + ".out")).string();
  const std::string err_file = (log_dir_ / (stem + ".err")).string();
  std::error_code ec;
  fs::remove(port_file, ec);
  port_ = 0;

  FileActions fa;
  posix_spawn_file_actions_addopen(&fa.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa.actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&fa.actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  SpawnAttr attr;
  std::vector<std::string> args{CB_BINARY,     "serve",           "--listen",
                                "127.0.0.1:0", "--port-file",     port_file.string(),
                                "--data-dir",  data_dir_.string()};
  std::vector<std::string> envs = child_environment(env_);
  auto c_args = c_strings(args);
  auto c_env = c_strings(envs);
  const int rc =
      posix_spawn(&pid_, CB_BINARY, &fa.actions, &attr.attr, c_args.data(), c_env.data());
  if (rc != 0) {
    pid_ = -1;
    return ::testing::AssertionFailure()
           << "posix_spawn " << CB_BINARY << ": " << std::strerror(rc);
  }

  std::optional<int> exited;
  const bool up = wait_until(
      [&] {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          exited = decode_status(status);
          return true;
        }
        if (port_ == 0) {
          const std::string text = read_file(port_file);
          if (!text.empty() && text.back() == '\n') {
            port_ = static_cast<std::uint16_t>(std::stoi(text));
          }
        }
        return port_ != 0 && get(base_url() + "/healthz").status == 200;
      },
      kServerDeadline, 20ms);
  if (exited) {
    pid_ = -1;
    return ::testing::AssertionFailure()
           << "server exited with " << *exited << " before answering; stderr:\n"
           << stderr_text();
  }
  if (!up) {
    kill9();
    return ::testing::AssertionFailure()
           << "server did not answer GET /healthz within 10 s (port " << port_ << "); stderr:\n"
           << stderr_text();
  }
  return ::testing::AssertionSuccess();
}

int ServerProcess::stop(int signal) {
  if (!running()) return -1;
  kill(pid_, signal);
  const auto code = wait_for_exit(pid_, Clock::now() + kServerDeadline);
  if (!code) {
    kill9();
    return -1;
  }
  pid_ = -1;
  return *code;
}

void ServerProcess::kill9() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string ServerProcess::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string ServerProcess::webhook_url(std::string_view org, std::string_view endpoint) const {
  return base_url() + "/api/webhook/v2/" + std::string(org) + "/enterprise/" +
         std::string(endpoint);
}

std::string ServerProcess::stderr_text() const {
  return read_file(log_dir_ / ("server-" + std::to_string(starts_) + ".err"));
}

std::string ServerProcess::all_stderr_text() const {
  std::string out;
  for (int i = 1; i <= starts_; ++i) {
    out += read_file(log_dir_ / ("server-" + std::to_string(i) + ".err"));
  }
  return out;
}

// ---- GitRepo ----------------------------------------------------------------------------------

GitRepo::GitRepo(fs::path root)
    : root_(std::move(root)), bare_(root_ / "origin.git"), work_(root_ / "work") {
  fs::create_directories(root_);
  auto r = git({"init", "-q", "--bare", bare_.string()});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  r = git({"clone", "-q", bare_.string(), work_.string()});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  r = git({"-C", work_.string(), "symbolic-ref", "HEAD", "refs/heads/main"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

CommandResult GitRepo::git(const std::vector<std::string>& args, const Env& extra) {
  std::vector<std::string> argv{"git",
                                "-c",
                                "init.defaultBranch=main",
                                "-c",
                                "commit.gpgsign=false",
                                "-c",
                                "tag.gpgsign=false",
                                "-c",
                                "advice.detachedHead=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  Env env{{"HOME", root_.string()},
          {"GIT_CONFIG_NOSYSTEM", "1"},
          {"GIT_CONFIG_GLOBAL", "/dev/null"},
          {"GIT_TERMINAL_PROMPT", "0"},
          {"GIT_AUTHOR_NAME", default_author().name},
          {"GIT_AUTHOR_EMAIL", default_author().email},
          {"GIT_COMMITTER_NAME", "Orbital Release Bot"},
          {"GIT_COMMITTER_EMAIL", "release-bot@orbital.example"}};
  env.insert(env.end(), extra.begin(), extra.end());
  return run_process(argv, env, 30s);
}

std::string GitRepo::commit(const std::string& message, GitIdentity author) {
  ++files_;
  write_file(work_ / ("change-" + std::to_string(files_) + ".txt"), message + "\n");
  auto r = git({"-C", work_.string(), "add", "-A"});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  const std::string date = "@" + std::to_string(next_time_) + " +0000";
  next_time_ += 60;
  r = git({"-C", work_.string(), "commit", "-q", "-m", message},
          {{"GIT_AUTHOR_NAME", author.name},
           {"GIT_AUTHOR_EMAIL", author.email},
           {"GIT_AUTHOR_DATE", date},
           {"GIT_COMMITTER_DATE", date}});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  return rev_parse("HEAD");
}

void GitRepo::push(const std::string& branch) {
  auto r = git({"-C", work_.string(), "push", "-q", "origin", "HEAD:refs/heads/" + branch});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

void GitRepo::force_push(const std::string& branch) {
  auto r =
      git({"-C", work_.string(), "push", "-q", "--force", "origin", "HEAD:refs/heads/" + branch});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

void GitRepo::reset_hard(const std::string& rev) {
  auto r = git({"-C", work_.string(), "reset", "-q", "--hard", rev});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

void GitRepo::create_branch(const std::string& branch) {
  auto r = git({"-C", work_.string(), "checkout", "-q", "-b", branch});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

void GitRepo::checkout(const std::string& branch) {
  auto r = git({"-C", work_.string(), "checkout", "-q", branch});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

void GitRepo::tag_and_push(const std::string& tag) {
  auto r = git({"-C", work_.string(), "tag", tag});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  r = git({"-C", work_.string(), "push", "-q", "origin", "refs/tags/" + tag});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

void GitRepo::delete_remote_branch(const std::string& branch) {
  auto r = git({"-C", work_.string(), "push", "-q", "origin", "--delete", branch});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

std::string GitRepo::rev_parse(const std::string& rev) {
  auto r = git({"-C", work_.string(), "rev-parse", "--verify", rev});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
  return trim(r.out);
}

std::string iso_utc(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

// ---- payloads ---------------------------------------------------------------------------------

RefChange branch_change(const std::string& branch, const std::string& type, const std::string& from,
                        const std::string& to) {
  return RefChange{"refs/heads/" + branch, branch, "BRANCH", from, to, type};
}

RefChange tag_change(const std::string& tag, const std::string& type, const std::string& from,
                     const std::string& to) {
  return RefChange{"refs/tags/" + tag, tag, "TAG", from, to, type};
}

std::string fake_hash(std::string_view seed) {
  return cb::auth::to_hex(cb::auth::sha256(seed)).substr(0, 40);
}

std::string bitbucket_push_body(const std::string& project, const std::string& slug,
                                const std::vector<RefChange>& changes) {
  json::array change_list;
  for (const auto& c : changes) {
    change_list.push_back(json::object{
        {"ref", json::object{{"id", c.ref_id}, {"displayId", c.display_id}, {"type", c.ref_type}}},
        {"refId", c.ref_id},
        {"fromHash", c.from_hash},
        {"toHash", c.to_hash},
        {"type", c.change_type}});
  }
  json::object body{{"eventKey", "repo:refs_changed"},
                    {"date", "2026-03-02T10:15:00+0100"},
                    {"actor", json::object{{"name", "ivandermeer"},
                                           {"emailAddress", "ilse.vandermeer@orbital.example"},
                                           {"id", 5012},
                                           {"displayName", "Ilse Vandermeer"},
                                           {"active", true},
                                           {"slug", "ivandermeer"},
                                           {"type", "NORMAL"}}},
                    {"repository", json::object{{"slug", slug},
                                                {"id", 731},
                                                {"name", slug},
                                                {"scmId", "git"},
                                                {"state", "AVAILABLE"},
                                                {"statusMessage", "Available"},
                                                {"forkable", true},
                                                {"archived", false},
                                                {"project", json::object{{"key", project},
                                                                         {"id", 58},
                                                                         {"name", "Orbital Tools"},
                                                                         {"public", false},
                                                                         {"type", "NORMAL"}}},
                                                {"public", false}}},
                    {"changes", std::move(change_list)}};
  return json::serialize(body);
}

Headers signed_push_headers(const std::string& token, const std::string& body,
                            const std::string& request_id) {
  return Headers{{"Content-Type", "application/json; charset=UTF-8"},
                 {"X-Event-Key", "repo:refs_changed"},
                 {"X-Request-Id", request_id},
                 {"User-Agent", "Atlassian HttpClient 4.2.0 / Bitbucket-8.19.1 (8019001)"},
                 {"X-Hub-Signature", sign(token, body)}};
}

::testing::AssertionResult Contains(const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << needle << "\" not found in \"" << haystack << "\"";
}

::testing::AssertionResult LacksSecret(const std::string& haystack, const std::string& needle) {
  const auto at = haystack.find(needle);
  if (at == std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "a secret (" << needle.size() << " characters) was found at offset " << at << " of "
         << haystack.size() << " bytes";
}

::testing::AssertionResult StartsWith(const std::string& text, const std::string& prefix) {
  if (text.starts_with(prefix)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << text << "\" does not start with \"" << prefix << "\"";
}

std::string str(const json::value& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto* v = object.as_object().if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->as_string());
}

// ---- IntegrationTest --------------------------------------------------------------------------

IntegrationTest::IntegrationTest() : data_dir_(tmp_ / "data") {}

CommandResult IntegrationTest::cli(std::vector<std::string> args) {
  auto sep = std::find(args.begin(), args.end(), "--");
  sep = args.insert(sep, data_dir_.string());
  args.insert(sep, "--data-dir");
  return run_cli(args);
}

std::string IntegrationTest::cli_ok(std::vector<std::string> args) {
  std::string shown;
  for (const auto& a : args) shown += a + " ";
  auto r = cli(std::move(args));
  EXPECT_EQ(r.exit_code, 0) << "commitbridge " << shown << "\n" << r.describe();
  return r.out;
}

json::array IntegrationTest::cli_json(std::vector<std::string> args) {
  args.push_back("--json");
  const std::string out = cli_ok(args);
  boost::system::error_code ec;
  auto v = json::parse(out, ec);
  EXPECT_FALSE(ec) << "not JSON: " << out;
  // A page envelope {"items": [...], "next_cursor"} gives its items.
  if (!ec && v.is_object() && v.as_object().contains("items") &&
      v.as_object().at("items").is_array()) {
    return v.as_object().at("items").as_array();
  }
  if (ec || !v.is_array()) {
    ADD_FAILURE() << "expected a JSON array or page: " << out;
    return {};
  }
  return v.as_array();
}

json::object IntegrationTest::cli_page(std::vector<std::string> args) {
  args.push_back("--json");
  const std::string out = cli_ok(args);
  boost::system::error_code ec;
  auto v = json::parse(out, ec);
  if (ec || !v.is_object() || !v.as_object().contains("items")) {
    ADD_FAILURE() << "expected a JSON page {items, next_cursor}: " << out;
    return {};
  }
  return v.as_object();
}

void IntegrationTest::create_org(const std::string& org) { cli_ok({"org", "create", org}); }

std::string IntegrationTest::create_token(const std::string& org, const std::string& name,
                                          const std::string& type) {
  return trim(cli_ok({"token", "create", "--org", org, "--name", name, "--type", type}));
}

void IntegrationTest::add_repo(const std::string& org, const std::string& project,
                               const std::string& slug, const std::string& clone_url,
                               bool auto_update_alm) {
  std::vector<std::string> args{
      "repo",      "add",   "--org",  org,  "--provider",  "bitbucket_server",
      "--project", project, "--slug", slug, "--clone-url", clone_url};
  if (auto_update_alm) args.push_back("--auto-update-alm");
  cli_ok(args);
}

void IntegrationTest::add_job(const std::string& org, const std::string& repo,
                              const std::string& name, const std::string& branches,
                              const std::vector<std::string>& argv) {
  std::vector<std::string> args{"job",    "add", "--org",      org,      "--repo", repo,
                                "--name", name,  "--branches", branches, "--"};
  args.insert(args.end(), argv.begin(), argv.end());
  cli_ok(args);
}

json::array IntegrationTest::deliveries(const std::string& org) {
  std::vector<std::string> args{"deliveries", "list", "--limit", "1000"};
  if (!org.empty()) {
    args.push_back("--org");
    args.push_back(org);
  }
  return cli_json(args);
}

json::array IntegrationTest::runs(const std::string& delivery_id) {
  std::vector<std::string> args{"runs", "list", "--limit", "1000"};
  if (!delivery_id.empty()) {
    args.push_back("--delivery");
    args.push_back(delivery_id);
  }
  return cli_json(args);
}

json::value IntegrationTest::delivery(const std::string& delivery_id) {
  for (const auto& d : deliveries()) {
    if (str(d, "delivery_id") == delivery_id) return d;
  }
  return nullptr;
}

json::array IntegrationTest::wait_runs_settled(const std::string& delivery_id,
                                               std::chrono::milliseconds deadline) {
  json::array last;
  const bool ok = wait_until(
      [&] {
        last = runs(delivery_id);
        for (const auto& r : last) {
          const std::string status = str(r, "status");
          if (status == "queued" || status == "running") return false;
        }
        return true;
      },
      deadline, 40ms);
  if (!ok) {
    ADD_FAILURE() << "runs of delivery '" << delivery_id
                  << "' still queued or running; last seen: " << json::serialize(last);
  }
  return last;
}

json::value IntegrationTest::wait_processed(const std::string& delivery_id,
                                            std::chrono::milliseconds deadline) {
  json::value last;
  const bool ok = wait_until(
      [&] {
        last = delivery(delivery_id);
        const std::string status = str(last, "status");
        return !status.empty() && status != "queued" && status != "processing";
      },
      deadline, 40ms);
  if (!ok) {
    ADD_FAILURE() << "delivery " << delivery_id
                  << " not processed in time; last seen: " << json::serialize(last)
                  << "\nserver stderr:\n"
                  << (server_ ? server_->stderr_text() : std::string());
    return nullptr;
  }
  return last;
}

::testing::AssertionResult IntegrationTest::start_server(Env env) {
  Env all{{"COMMITBRIDGE_LOG_LEVEL", "info"}, {"COMMITBRIDGE_WORKER_RETRY_BACKOFF_MS", "50"}};
  all.insert(all.end(), env.begin(), env.end());
  server_ = std::make_unique<ServerProcess>(data_dir_, tmp_.path(), std::move(all));
  return server_->start();
}

HttpResponse IntegrationTest::send_push(const std::string& org, const std::string& token,
                                        const std::string& body, const std::string& request_id,
                                        const std::string& endpoint) {
  return post(server_->webhook_url(org, endpoint), signed_push_headers(token, body, request_id),
              body);
}

}  // namespace cbtest
