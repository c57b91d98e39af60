#include "pipeline/worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace cb::pipeline {

Worker::Worker(store::Store& store, DeliveryProcessor& processor, const Clock& clock,
               WorkerOptions options)
    : store_(store), processor_(processor), clock_(clock), options_(options) {}

Worker::~Worker() { stop(); }

void Worker::start() {
  thread_ = std::thread([this] { loop(); });
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
}

std::size_t Worker::drain() {
  std::size_t n = 0;
  while (!stopping_.load() && process_one()) ++n;
  return n;
}

namespace {

/// base * 2^(attempt-1), at most kMaxRetryDelayMs; doubling stops at the cap, so a late attempt
/// (max_attempts may be up to 100) never overflows.
std::int64_t retry_delay_ms(std::int64_t base, int attempt) {
  std::int64_t delay = std::clamp<std::int64_t>(base, 0, kMaxRetryDelayMs);
  for (int i = 1; i < attempt && delay < kMaxRetryDelayMs; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelayMs);
}

}  // namespace

bool Worker::process_one() {
  auto claimed = store_.claim_next_delivery(clock_.now_ms());
  if (!claimed) {
    spdlog::error("cannot claim a delivery: {}", claimed.error().detail);
    return false;
  }
  if (!*claimed) return false;
  const auto& d = **claimed;
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
  if (auto r = store_.finish_delivery(d.delivery_id, status, reason, clock_.now_ms(), next_attempt);
      !r) {
    spdlog::error("delivery_id={} cannot record outcome: {}", d.delivery_id, r.error().detail);
  } else if (options_.metrics != nullptr) {
    options_.metrics->count_delivery(d.org_name, d.provider,
                                     status == store::kStatusQueued ? "retrying" : status);
  }
  return true;
}

void Worker::loop() {
  while (!stopping_.load()) {
    if (process_one()) continue;
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_interval_ms),
                 [this] { return wake_ || stopping_.load(); });
    wake_ = false;
  }
}

}  // namespace cb::pipeline
