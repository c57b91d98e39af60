#include "pipeline/job_runner.hpp"
#include "core/thread_name.hpp"

#include <fstream>

#include <spdlog/spdlog.h>

#include <system_error>

#include "connectors/command_runner.hpp"
#include "connectors/process_group.hpp"

namespace cb::pipeline {

JobRunner::JobRunner(store::Store& store, const Clock& clock, PipelinePaths paths,
                     const auth::SecretBox* box, HttpActionExecutor http, JobRunnerOptions options)
    : store_(store),
      clock_(clock),
      paths_(std::move(paths)),
      box_(box),
      http_(std::move(http)),
      options_(options) {}

JobRunner::~JobRunner() { stop(); }

void JobRunner::start() {
  const unsigned n = std::max(1u, options_.threads);
  for (unsigned i = 0; i < n; ++i)
    threads_.emplace_back([this, i] {
      set_thread_name("cb-runner-" + std::to_string(i));
      loop();
    });
  threads_.emplace_back([this] {
    set_thread_name("cb-run-cancels");
    watch_cancels();
  });
}

void JobRunner::notify() {
  {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
  cv_.notify_all();
}

void JobRunner::cancel(std::int64_t run_id) {
  std::lock_guard lock(mutex_);
  if (auto it = active_.find(run_id); it != active_.end()) it->second->store(true);
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
    for (auto& [id, flag] : active_) flag->store(true);
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t JobRunner::drain() {
  std::size_t n = 0;
  while (!stopping_.load() && run_one()) ++n;
  return n;
}

void JobRunner::loop() {
  while (!stopping_.load()) {
    if (run_one()) continue;
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, options_.poll_interval, [this] { return wake_ || stopping_.load(); });
    wake_ = false;
  }
}

void JobRunner::watch_cancels() {
  while (!stopping_.load()) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, options_.cancel_poll, [this] { return stopping_.load(); });
      if (stopping_.load()) return;
      if (active_.empty()) continue;
    }
    auto ids = store_.cancel_requested_runs();
    if (!ids) continue;
    for (const auto id : *ids) cancel(id);
  }
}

bool JobRunner::run_one() {
  auto claimed = store_.claim_next_run(clock_.now_ms(), [this](std::int64_t id) {
    return (paths_.job_logs / (std::to_string(id) + ".log")).string();
  });
  if (!claimed) {
    spdlog::error("cannot claim a job run: {}", claimed.error().detail);
    return false;
  }
  if (!*claimed) return false;
  const auto& run = **claimed;
  auto flag = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard lock(mutex_);
    if (stopping_.load() || run.cancel_requested) flag->store(true);
    active_[run.id] = flag;
  }
  execute(run, flag);
  {
    std::lock_guard lock(mutex_);
    active_.erase(run.id);
  }
  // One run finished: another of the same job may start now.
  notify();
  return true;
}

void JobRunner::execute(const store::JobRunRecord& run,
                        const std::shared_ptr<std::atomic<bool>>& cancel) {
  std::string status;
  std::optional<int> exit_code;
  std::string tail;
  std::string reason;
  bool was_cancelled = false;
  const std::filesystem::path log_path = run.log_path;

  auto job = store_.get_job(run.job_id);
  if (!job || !*job) {
    status = std::string(store::kRunFailed);
    reason = job ? "the job was deleted" : "cannot read the job: " + job.error().message;
  } else if ((*job)->action == store::JobActionType::command) {
    const auto workdir = paths_.workspaces / std::to_string(run.id);
    std::error_code ec;
    std::filesystem::create_directories(workdir, ec);
    connectors::CommandSpec spec;
    spec.argv = (*job)->argv;
    spec.working_dir = workdir;
    spec.log_file = log_path;
    spec.timeout = (*job)->timeout_ms ? std::chrono::milliseconds(*(*job)->timeout_ms)
                                      : options_.command_timeout;
    spec.cancel = cancel.get();
    spec.env = run_environment(run, paths_.payloads / (run.delivery_id + ".json"));
    // Recorded so that a restart after a crash can stop the group before the run is re-queued.
    spec.on_started = [this, run_id = run.id](pid_t pid) {
      auto identity = connectors::identify_process_group(pid);
      if (!identity) {
        spdlog::warn("run {}: cannot record process group {}: {}", run_id, pid,
                     identity.error().message);
        return;
      }
      if (auto r = store_.set_run_process(
              {run_id, identity->pgid, identity->start_ticks, identity->boot_id});
          !r) {
        spdlog::warn("run {}: cannot record process group {}: {}", run_id, pid, r.error().detail);
      }
    };
    spdlog::info("delivery_id={} starting run {} of job {} for {} {}", run.delivery_id, run.id,
                 run.job_name, run.repository, run.branch);
    auto result = connectors::run_command(spec, clock_);
    if (!result) {
      status = std::string(store::kRunFailed);
      tail = result.error().message;
      reason = result.error().message;
    } else {
      exit_code = result->exit_code;
      status = std::string(result->exit_code == 0 ? store::kRunSucceeded : store::kRunFailed);
      tail = result->output_tail;
      if (result->timed_out) {
        const std::string marker = "[commitbridge: the command timed out after " +
                                   std::to_string(spec.timeout.count()) +
                                   " ms; its process group was stopped (SIGTERM, then SIGKILL)]";
        tail += "\n" + marker;
        reason = "timed out";
        // The log says so too, after whatever the command wrote.
        std::ofstream log(log_path, std::ios::binary | std::ios::app);
        log << "\n" << marker << "\n";
      }
      was_cancelled = result->cancelled;
    }
  } else if (!(*job)->http) {
    status = std::string(store::kRunFailed);
    reason = "the job's HTTP action is missing";
  } else if (!http_) {
    status = std::string(store::kRunFailed);
    reason = "HTTP actions are not available in this build";
  } else {
    HttpActionRequest req;
    req.action = *(*job)->http;
    req.values = run_placeholder_values(run);
    req.log_file = log_path;
    req.cancel = cancel.get();
    bool opened = true;
    for (const auto& h : req.action.headers) {
      if (box_ == nullptr) {
        opened = false;
        break;
      }
      auto value = box_->open(h.value_sealed, store::job_header_aad(h.name));
      if (!value) {
        opened = false;
        reason = "header " + h.name + ": " + value.error().message;
        break;
      }
      req.headers.emplace_back(h.name, std::move(*value));
    }
    req.action.headers.clear();
    if (!opened) {
      status = std::string(store::kRunFailed);
      if (reason.empty()) reason = "no key to open the action's headers";
    } else {
      spdlog::info("delivery_id={} starting run {} of job {} (HTTP {})", run.delivery_id, run.id,
                   run.job_name, req.action.method);
      auto result = http_(req);
      if (!result) {
        status = std::string(store::kRunFailed);
        reason = result.error().message;
        tail = result.error().message;
      } else {
        status = std::string(result->succeeded ? store::kRunSucceeded : store::kRunFailed);
        if (result->last_status != 0) exit_code = result->last_status;
        tail = result->output_tail;
        if (!result->succeeded) reason = result->error;
        was_cancelled = result->cancelled;
      }
    }
  }
  if (was_cancelled) {
    if (stopping_.load()) {
      status = std::string(store::kRunInterrupted);
      tail += "\n[commitbridge: the server stopped while the run was in progress]";
      reason = "the server stopped while the run was in progress";
    } else {
      status = std::string(store::kRunCancelled);
      tail += "\n[commitbridge: the run was cancelled]";
      auto current = store_.get_run(run.id);
      reason = current && *current && !(*current)->status_reason.empty() ? (*current)->status_reason
                                                                         : "cancelled";
    }
  }
  if (auto r = store_.finish_run(run.id, status, exit_code, clock_.now_ms(), tail); !r) {
    spdlog::error("run {}: cannot record the result: {}", run.id, r.error().detail);
    return;
  }
  if (!reason.empty()) (void)store_.set_run_reason(run.id, reason);
  if (status == store::kRunInterrupted && job && *job && (*job)->requeue_interrupted) {
    if (auto again = store_.requeue_interrupted_run(run.id, clock_.now_ms()); !again) {
      spdlog::error("run {} interrupted: cannot re-queue it: {}", run.id, again.error().detail);
    } else if (*again) {
      spdlog::info("run {} interrupted: re-queued as run {}", run.id, (*again)->id);
    } else {
      spdlog::info("run {} interrupted: not re-queued, a newer run of its ref exists", run.id);
    }
  }
  if (on_run_finished_) on_run_finished_(status);
  spdlog::info("delivery_id={} run {} of job {} {} (exit {})", run.delivery_id, run.id,
               run.job_name, status, exit_code ? std::to_string(*exit_code) : "none");
}

}  // namespace cb::pipeline
