#pragma once
// Build on commit, step 3: a small pool of threads that claim queued job runs from the store
// (respecting each job's max_concurrent), execute their action (command or HTTP), and record
// the result. Cancellation (API, CLI) and shutdown stop a running action.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/secret_box.hpp"
#include "core/clock.hpp"
#include "pipeline/job_placeholders.hpp"
#include "pipeline/paths.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// An HTTP action with its header values already opened (clear), as the runner hands it over.
struct HttpActionRequest {
  store::JobHttpAction action;                               ///< headers' values_sealed unused
  std::vector<std::pair<std::string, std::string>> headers;  ///< clear values: never log them
  PlaceholderValues values;
  std::filesystem::path log_file;
  const std::atomic<bool>* cancel = nullptr;
};

/// What an HTTP action gave.
struct HttpActionOutcome {
  bool succeeded = false;
  bool cancelled = false;
  int last_status = 0;  ///< last HTTP status, 0 when none was received
  int attempts = 0;
  std::string output_tail;  ///< never contains a header value
  std::string error;
};

/// Executes an HTTP action (connectors::run_http_action in the server). Errors: invalid_argument
/// for a template that cannot be expanded.
using HttpActionExecutor = std::function<Result<HttpActionOutcome>(const HttpActionRequest&)>;

/// Settings of the runner.
struct JobRunnerOptions {
  unsigned threads = 4;                                  ///< jobs.runner_threads
  std::chrono::milliseconds command_timeout{3'600'000};  ///< when the job sets none
  std::chrono::milliseconds poll_interval{500};          ///< idle wait when not notified
  std::chrono::milliseconds cancel_poll{250};            ///< how often cancel requests are read
};

/// The job runner. Thread-safe.
class JobRunner {
 public:
  /// `box` opens the sealed header values of HTTP actions; `http` executes them (when empty an
  /// HTTP run fails with "HTTP actions are not available in this build").
  JobRunner(store::Store& store, const Clock& clock, PipelinePaths paths,
            const auth::SecretBox* box, HttpActionExecutor http, JobRunnerOptions options = {});
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Starts the threads.
  void start();
  /// Wakes the threads (runs were queued).
  void notify();
  /// Stops a run this runner executes now (after the store recorded the cancel request).
  void cancel(std::int64_t run_id);
  /// Stops every running action (their runs become interrupted; re-queued when the job asks
  /// for it) and joins the threads. Idempotent.
  void stop();
  /// Runs queued runs on the calling thread until none may start (tests). Returns how many.
  std::size_t drain();

  /// Called with the final status of every run (metrics). Set before start().
  void set_on_run_finished(std::function<void(std::string_view status)> f) {
    on_run_finished_ = std::move(f);
  }

 private:
  bool run_one();
  void loop();
  void watch_cancels();
  void execute(const store::JobRunRecord& run, const std::shared_ptr<std::atomic<bool>>& cancel);

  store::Store& store_;
  const Clock& clock_;
  PipelinePaths paths_;
  const auth::SecretBox* box_;
  HttpActionExecutor http_;
  JobRunnerOptions options_;
  std::function<void(std::string_view)> on_run_finished_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::atomic<bool> stopping_{false};
  std::map<std::int64_t, std::shared_ptr<std::atomic<bool>>> active_;  ///< guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace cb::pipeline
