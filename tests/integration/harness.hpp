#pragma once
// Integration test harness: runs the real `commitbridge` binary (CB_BINARY) as CLI commands and
// as a server on a loopback port, talks HTTP to it with libcurl, and builds real git
// repositories with the git CLI.
//
// Nothing here sleeps for a fixed time to wait for a result: waits poll a condition with a
// deadline (wait_until) and fail with a message when the deadline passes.

#include <gtest/gtest.h>
#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbtest {

using namespace std::chrono_literals;

/// Extra environment variables for a child process, as name/value pairs.
using Env = std::vector<std::pair<std::string, std::string>>;
/// HTTP request headers as name/value pairs, in the order they are sent.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A fresh directory (mkdtemp under $TMPDIR or /tmp), removed with its content at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

/// What a finished child process left behind.
struct CommandResult {
  int exit_code = -1;      ///< exit status; 128 + N when killed by signal N; -1 on timeout
  bool timed_out = false;  ///< the deadline passed and the process was killed
  std::string out;         ///< everything written to stdout
  std::string err;         ///< everything written to stderr

  /// Exit code and both streams, for assertion messages.
  [[nodiscard]] std::string describe() const;
};

/// Runs `argv` (argv[0] is an absolute path or a name looked up in PATH) with the test process'
/// environment minus every COMMITBRIDGE_* variable, plus `env`. Captures stdout and stderr; kills
/// the process when it runs longer than `timeout`.
[[nodiscard]] CommandResult run_process(const std::vector<std::string>& argv, const Env& env = {},
                                        std::chrono::milliseconds timeout = 30s);

/// Runs the commitbridge binary with `args` (see run_process).
[[nodiscard]] CommandResult run_cli(const std::vector<std::string>& args, const Env& env = {},
                                    std::chrono::milliseconds timeout = 30s);

/// Calls `predicate` every `poll` until it returns true or `deadline` has passed; returns the last
/// answer. The predicate is always called at least once and once more at the deadline.
bool wait_until(const std::function<bool()>& predicate, std::chrono::milliseconds deadline = 10s,
                std::chrono::milliseconds poll = 25ms);

/// Whole file as bytes; empty when it cannot be read.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);
/// Writes `content` to `path`, replacing it.
void write_file(const std::filesystem::path& path, std::string_view content);

/// One HTTP answer.
struct HttpResponse {
  long status = 0;                             ///< 0 when no answer was received
  std::string body;                            ///< raw body
  std::map<std::string, std::string> headers;  ///< lower-cased names
  std::string transport_error;                 ///< libcurl's message when status is 0

  /// Value of header `name` (any case), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
  /// Body parsed as JSON; null when it is not JSON.
  [[nodiscard]] boost::json::value json() const;
  /// error.code of an error body, or "".
  [[nodiscard]] std::string error_code() const;
  /// error.message of an error body, or "".
  [[nodiscard]] std::string error_message() const;
  /// Status and body, for assertion messages.
  [[nodiscard]] std::string describe() const;
};

/// Sends one request with libcurl (10 s timeout). An `Expect: 100-continue` header is suppressed
/// unless `headers` names Expect itself.
[[nodiscard]] HttpResponse http_request(const std::string& method, const std::string& url,
                                        const Headers& headers, const std::string& body);
[[nodiscard]] HttpResponse post(const std::string& url, const Headers& headers,
                                const std::string& body);
[[nodiscard]] HttpResponse get(const std::string& url, const Headers& headers = {});

/// The X-Hub-Signature value Bitbucket DC sends: "sha256=" + hex HMAC-SHA256 of `body` keyed with
/// the full token text.
[[nodiscard]] std::string sign(std::string_view token, std::string_view body);
/// "Basic " + base64(user:token).
[[nodiscard]] std::string basic_auth(std::string_view user, std::string_view token);
/// A random RFC 4122 version-4 UUID, as Bitbucket sends in X-Request-Id.
[[nodiscard]] std::string new_request_id();
/// application/x-www-form-urlencoded encoding of one value (space as '+').
[[nodiscard]] std::string form_encode(std::string_view value);

/// `commitbridge serve` on 127.0.0.1 with an ephemeral port, in its own data directory.
///
/// stdout, stderr and the port file of the n-th start are `server-<n>.{out,err,port}` in
/// `log_dir`. The destructor SIGKILLs a server that is still running.
class ServerProcess {
 public:
  ServerProcess(std::filesystem::path data_dir, std::filesystem::path log_dir, Env env = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  /// Starts the server and waits (10 s deadline) until it wrote its port file and answers
  /// GET /healthz with 200. Fails with the server's stderr when it exits or does not come up.
  ::testing::AssertionResult start();
  /// Sends `signal` and waits (10 s deadline) for the exit; returns the exit code (128 + N when
  /// killed by signal N), or -1 when it did not exit in time (it is then SIGKILLed).
  int stop(int signal = SIGTERM);
  /// SIGKILL, and reaps the process.
  void kill9();

  [[nodiscard]] bool running() const { return pid_ > 0; }
  /// The server's process id while it runs (-1 otherwise).
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:<port>"
  [[nodiscard]] std::string base_url() const;
  /// The webhook URL of `org` for `endpoint` (trigger-scm-push-request / sync-alm-commits).
  [[nodiscard]] std::string webhook_url(std::string_view org, std::string_view endpoint) const;
  /// The stderr log of the current (or last) start.
  [[nodiscard]] std::string stderr_text() const;
  /// stderr logs of every start so far, concatenated.
  [[nodiscard]] std::string all_stderr_text() const;

 private:
  std::filesystem::path data_dir_;
  std::filesystem::path log_dir_;
  Env env_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int starts_ = 0;
};

/// Author or committer of a commit.
struct GitIdentity {
  std::string name;
  std::string email;
};

/// A bare repository (`<root>/origin.git`, the "server" side, usable as a clone URL) and a work
/// clone of it (`<root>/work`), driven with the git CLI. Author and committer dates are fixed
/// and advance by one minute per commit from 2026-03-02T09:00:00Z, so hashes and times are
/// reproducible. Failures of git are reported as GoogleTest failures.
class GitRepo {
 public:
  explicit GitRepo(std::filesystem::path root);

  [[nodiscard]] const std::filesystem::path& bare_path() const { return bare_; }
  [[nodiscard]] const std::filesystem::path& work_path() const { return work_; }

  /// Writes a file in the work tree, commits it with `message` and returns the commit hash.
  std::string commit(const std::string& message, GitIdentity author = default_author());
  /// Author date (seconds since the epoch) the next commit will get.
  [[nodiscard]] std::int64_t next_commit_time() const { return next_time_; }
  /// Pushes the current branch to `origin` as refs/heads/<branch>.
  void push(const std::string& branch);
  /// Pushes the current branch to `origin` as refs/heads/<branch>, replacing its history.
  void force_push(const std::string& branch);
  /// Moves the current branch of the work clone to `rev` (git reset --hard).
  void reset_hard(const std::string& rev);
  /// Creates and checks out `branch` at the current commit.
  void create_branch(const std::string& branch);
  /// Checks out an existing local `branch`.
  void checkout(const std::string& branch);
  /// Creates an annotated tag and pushes it.
  void tag_and_push(const std::string& tag);
  /// Deletes `branch` on origin.
  void delete_remote_branch(const std::string& branch);
  /// The hash `rev` resolves to in the work clone.
  [[nodiscard]] std::string rev_parse(const std::string& rev);

  [[nodiscard]] static GitIdentity default_author() {
    return {"Ilse Vandermeer", "ilse.vandermeer@orbital.example"};
  }

 private:
  CommandResult git(const std::vector<std::string>& args, const Env& extra = {});

  std::filesystem::path root_;
  std::filesystem::path bare_;
  std::filesystem::path work_;
  std::int64_t next_time_ = 1772442000;  // 2026-03-02T09:00:00Z
  int files_ = 0;
};

/// ISO-8601 UTC with milliseconds, as the CLI prints times: 2026-03-02T09:00:00.000Z.
[[nodiscard]] std::string iso_utc(std::int64_t seconds);

/// The all-zero hash Bitbucket sends as fromHash of a new ref and toHash of a deleted one.
inline const std::string kZeroHash(40, '0');

/// One element of a Bitbucket DC push's changes[].
struct RefChange {
  std::string ref_id;       ///< refs/heads/main, refs/tags/v1.0
  std::string display_id;   ///< main, v1.0
  std::string ref_type;     ///< BRANCH or TAG
  std::string from_hash;    ///< 40 hex digits, zeros for ADD
  std::string to_hash;      ///< 40 hex digits, zeros for DELETE
  std::string change_type;  ///< ADD, UPDATE or DELETE
};

/// A branch change: `type` is ADD, UPDATE or DELETE.
[[nodiscard]] RefChange branch_change(const std::string& branch, const std::string& type,
                                      const std::string& from, const std::string& to);
/// A tag change.
[[nodiscard]] RefChange tag_change(const std::string& tag, const std::string& type,
                                   const std::string& from, const std::string& to);
/// A 40-hex-digit hash made from `seed` (distinct seeds give distinct hashes).
[[nodiscard]] std::string fake_hash(std::string_view seed);

/// A `repo:refs_changed` body of Bitbucket Data Center for repository `project`/`slug`.
[[nodiscard]] std::string bitbucket_push_body(const std::string& project, const std::string& slug,
                                              const std::vector<RefChange>& changes);

/// Headers of a Bitbucket DC push signed with `token` (X-Hub-Signature over `body`).
[[nodiscard]] Headers signed_push_headers(const std::string& token, const std::string& body,
                                          const std::string& request_id);

/// Success when `haystack` contains `needle`; the failure message shows both.
[[nodiscard]] ::testing::AssertionResult Contains(const std::string& haystack,
                                                  const std::string& needle);
/// Success when `haystack` does not contain `needle` (which the message does not print).
[[nodiscard]] ::testing::AssertionResult LacksSecret(const std::string& haystack,
                                                     const std::string& needle);
/// Success when `text` starts with `prefix`.
[[nodiscard]] ::testing::AssertionResult StartsWith(const std::string& text,
                                                    const std::string& prefix);

/// The string member `key` of a JSON object, or "" when absent or not a string.
[[nodiscard]] std::string str(const boost::json::value& object, std::string_view key);

/// One test's world: a temporary directory with a data directory, helpers for the CLI against
/// it, and a server (not started until start_server()).
class IntegrationTest : public ::testing::Test {
 protected:
  IntegrationTest();

  /// Runs `commitbridge <args> --data-dir <data>` (the data-dir option goes before a `--`).
  CommandResult cli(std::vector<std::string> args);
  /// As cli(), expecting exit 0 (a test failure otherwise); returns stdout.
  std::string cli_ok(std::vector<std::string> args);
  /// As cli_ok() with --json appended; stdout parsed as a JSON array (the items of a page).
  boost::json::array cli_json(std::vector<std::string> args);
  /// As cli_ok() with --json appended; stdout parsed as a page {"items", "next_cursor"}.
  boost::json::object cli_page(std::vector<std::string> args);

  void create_org(const std::string& org);
  /// Creates a token and returns its clear text.
  std::string create_token(const std::string& org, const std::string& name,
                           const std::string& type = "webhook");
  void add_repo(const std::string& org, const std::string& project, const std::string& slug,
                const std::string& clone_url, bool auto_update_alm = false);
  void add_job(const std::string& org, const std::string& repo, const std::string& name,
               const std::string& branches, const std::vector<std::string>& argv);

  boost::json::array deliveries(const std::string& org = "");
  boost::json::array runs(const std::string& delivery_id = "");
  /// The delivery with `delivery_id`, or null.
  boost::json::value delivery(const std::string& delivery_id);
  /// Waits until the delivery's status is neither queued nor processing; returns it (null on
  /// timeout, with a test failure).
  boost::json::value wait_processed(const std::string& delivery_id,
                                    std::chrono::milliseconds deadline = 15s);

  /// Waits until no run of the delivery (of every delivery when empty) is queued or running;
  /// returns the runs (newest first) as `runs list --json` prints them (a test failure on
  /// timeout).
  boost::json::array wait_runs_settled(const std::string& delivery_id = "",
                                       std::chrono::milliseconds deadline = 15s);

  /// Starts the server with `env` added to its environment (a failure aborts the test through
  /// the returned AssertionResult).
  ::testing::AssertionResult start_server(Env env = {});
  /// POSTs a signed Bitbucket push to `org`'s `endpoint`; returns the answer.
  HttpResponse send_push(const std::string& org, const std::string& token, const std::string& body,
                         const std::string& request_id = new_request_id(),
                         const std::string& endpoint = "trigger-scm-push-request");

  TempDir tmp_;
  std::filesystem::path data_dir_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace cbtest
