#include "pipeline/worker.hpp"
#include "core/thread_name.hpp"
#include "core/thread_priority.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace cb::pipeline {

Worker::Worker(store::Store& store, DeliveryProcessor& processor, const Clock& clock,
               WorkerOptions options)
    : store_(store), processor_(processor), clock_(clock), options_(options) {}

Worker::~Worker() { stop(); }

void Worker::start() {
  recorder_ = std::thread([this] {
    set_thread_name("cb-recorder");
    record_loop();
  });
  thread_ = std::thread([this] {
    set_thread_name("cb-worker");
    lower_thread_priority(kWorkerNice);
    loop();
  });
}

void Worker::notify() {
  {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
  cv_.notify_one();
}

void Worker::stop() {
  stopping_.store(true);
  notify();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard lock(record_mutex_);
    recorder_stopping_ = true;
  }
  record_cv_.notify_all();
  if (recorder_.joinable()) recorder_.join();  // after recording what was handed over
}

namespace {

/// base * 2^(attempt-1), at most kMaxRetryDelayMs; doubling stops at the cap, so a late attempt
/// (max_attempts may be up to 100) never overflows.
std::int64_t retry_delay_ms(std::int64_t base, int attempt) {
  std::int64_t delay = std::clamp<std::int64_t>(base, 0, kMaxRetryDelayMs);
  for (int i = 1; i < attempt && delay < kMaxRetryDelayMs; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelayMs);
}

std::vector<store::DeliveryOutcome> outcomes_of(const std::vector<Worker::Pending>& pending) {
  std::vector<store::DeliveryOutcome> outcomes;
  outcomes.reserve(pending.size());
  for (const auto& p : pending) outcomes.push_back(p.outcome);
  return outcomes;
}

void count(const PipelineMetrics* metrics, const std::vector<Worker::Pending>& recorded) {
  if (metrics == nullptr) return;
  for (const auto& p : recorded) {
    if (p.outcome.release) continue;
    metrics->count_delivery(
        p.org_name, p.provider,
        p.outcome.status == store::kStatusQueued ? "retrying" : p.outcome.status);
  }
}

}  // namespace

bool Worker::settle_and_claim() {
  const auto outcomes = outcomes_of(pending_);
  const std::size_t max = stopping_.load() ? 0 : std::max<std::size_t>(1, options_.claim_batch);
  auto claimed = store_.settle_and_claim(outcomes, clock_.now_ms(), max);
  if (!claimed) {
    // The outcomes stay pending and are recorded with the next call; the deliveries stay
    // `processing` meanwhile, so nobody claims them again.
    spdlog::error("cannot record {} outcomes or claim deliveries: {}", outcomes.size(),
                  claimed.error().detail);
    return false;
  }
  count(options_.metrics, pending_);
  pending_.clear();
  claimed_ = std::move(*claimed);
  return !claimed_.empty();
}

void Worker::record_pending() {
  if (pending_.empty()) return;
  const auto outcomes = outcomes_of(pending_);
  if (auto r = store_.settle_and_claim(outcomes, clock_.now_ms(), 0); !r) {
    spdlog::error("cannot record {} outcomes: {}", outcomes.size(), r.error().detail);
    return;  // kept for the next call
  }
  count(options_.metrics, pending_);
  pending_.clear();
}

void Worker::record_loop() {
  std::vector<Pending> batch;
  while (true) {
    {
      std::unique_lock lock(record_mutex_);
      if (batch.empty()) {
        record_cv_.wait(lock, [this] { return !to_record_.empty() || recorder_stopping_; });
      } else {
        // The store failed last time: try again after the poll interval, or at once to stop.
        record_cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                            [this] { return recorder_stopping_; });
      }
      for (auto& p : to_record_) batch.push_back(std::move(p));
      to_record_.clear();
      if (batch.empty() && recorder_stopping_) return;
    }
    if (batch.empty()) continue;
    const auto outcomes = outcomes_of(batch);
    if (auto r = store_.settle_and_claim(outcomes, clock_.now_ms(), 0); !r) {
      spdlog::error("cannot record {} outcomes: {}", outcomes.size(), r.error().detail);
      std::lock_guard lock(record_mutex_);
      // Stopping: what stays `processing` is re-queued by recover_after_restart().
      if (recorder_stopping_) return;
      continue;
    }
    count(options_.metrics, batch);
    batch.clear();
  }
}

void Worker::settle_only() {
  for (auto& d : claimed_) {
    store::DeliveryOutcome release;
    release.delivery_id = d.delivery_id;
    release.updated_at_ms = clock_.now_ms();
    release.release = true;
    pending_.push_back(Pending{std::move(release), {}, {}});
  }
  claimed_.clear();
  if (recorder_.joinable()) {
    // A started worker: the recorder records them before it stops.
    std::lock_guard lock(record_mutex_);
    for (auto& p : pending_) to_record_.push_back(std::move(p));
    pending_.clear();
  } else {
    // What cannot be recorded stays `processing`: recover_after_restart() re-queues it.
    record_pending();
  }
}

std::size_t Worker::process_batch() {
  std::size_t done = 0;
  std::size_t i = 0;
  for (; i < claimed_.size() && !stopping_.load(); ++i) {
    const auto& d = claimed_[i];
    ProcessOutcome outcome;
    try {
      outcome = processor_.process(d);
    } catch (const std::exception& e) {
      outcome = ProcessOutcome{"failed", std::string("internal error: ") + e.what(), true};
    }
    UnixMillis next_attempt = 0;
    std::string status = outcome.status;
    std::string reason = outcome.reason;
    if (outcome.retry && d.attempts < options_.max_attempts) {
      status = "queued";
      next_attempt = clock_.now_ms() + retry_delay_ms(options_.base_backoff_ms, d.attempts);
      reason = "attempt " + std::to_string(d.attempts) + " failed, will retry: " + outcome.reason;
    } else if (outcome.retry) {
      reason = "gave up after " + std::to_string(d.attempts) + " attempts: " + outcome.reason;
    }
    spdlog::info("delivery_id={} org={} endpoint={} event={} -> {}: {}", d.delivery_id, d.org_name,
                 d.endpoint, d.event_key, status, reason);
    Pending p{store::DeliveryOutcome{d.delivery_id, std::move(status), std::move(reason),
                                     clock_.now_ms(), next_attempt, false},
              d.org_name, d.provider};
    if (recorder_.joinable()) {
      {
        std::lock_guard lock(record_mutex_);
        to_record_.push_back(std::move(p));
      }
      record_cv_.notify_one();
    } else {
      pending_.push_back(std::move(p));  // drain(): recorded with the next claim
    }
    ++done;
  }
  // Stopping: what was not started stays in claimed_ and is released by settle_only().
  claimed_.erase(claimed_.begin(), claimed_.begin() + static_cast<std::ptrdiff_t>(i));
  return done;
}

std::size_t Worker::drain() {
  std::size_t n = 0;
  while (!stopping_.load() && settle_and_claim()) n += process_batch();
  settle_only();
  return n;
}

void Worker::loop() {
  while (!stopping_.load()) {
    if (settle_and_claim()) {
      process_batch();
      continue;
    }
    // Nothing due (and the outcomes recorded, unless the store failed: then retried after the
    // wait).
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                 [this] { return wake_ || stopping_.load(); });
    wake_ = false;
  }
  settle_only();
}

}  // namespace cb::pipeline
