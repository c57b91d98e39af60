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

namespace {

/// base * 2^(attempt-1), at most kMaxRetryDelayMs; doubling stops at the cap, so a late attempt
/// (max_attempts may be up to 100) never overflows.
std::int64_t retry_delay_ms(std::int64_t base, int attempt) {
  std::int64_t delay = std::clamp<std::int64_t>(base, 0, kMaxRetryDelayMs);
  for (int i = 1; i < attempt && delay < kMaxRetryDelayMs; ++i) delay *= 2;
  return std::min(delay, kMaxRetryDelayMs);
}

}  // namespace

bool Worker::settle_and_claim() {
  std::vector<store::DeliveryOutcome> outcomes;
  outcomes.reserve(pending_.size());
  for (const auto& p : pending_) outcomes.push_back(p.outcome);
  const std::size_t max = stopping_.load() ? 0 : std::max<std::size_t>(1, options_.claim_batch);
  auto claimed = store_.settle_and_claim(outcomes, clock_.now_ms(), max);
  if (!claimed) {
    // The outcomes stay pending and are recorded with the next call; the deliveries stay
    // `processing` meanwhile, so nobody claims them again.
    spdlog::error("cannot record {} outcomes or claim deliveries: {}", outcomes.size(),
                  claimed.error().detail);
    return false;
  }
  if (options_.metrics != nullptr) {
    for (const auto& p : pending_) {
      if (p.outcome.release) continue;
      options_.metrics->count_delivery(
          p.org_name, p.provider,
          p.outcome.status == store::kStatusQueued ? "retrying" : p.outcome.status);
    }
  }
  pending_.clear();
  claimed_ = std::move(*claimed);
  return !claimed_.empty();
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
  if (pending_.empty()) return;
  std::vector<store::DeliveryOutcome> outcomes;
  for (const auto& p : pending_) outcomes.push_back(p.outcome);
  if (auto r = store_.settle_and_claim(outcomes, clock_.now_ms(), 0); !r) {
    // recover_after_restart() re-queues what stays `processing`.
    spdlog::error("cannot record {} outcomes at stop: {}", outcomes.size(), r.error().detail);
    return;
  }
  pending_.clear();
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
    pending_.push_back(
        Pending{store::DeliveryOutcome{d.delivery_id, std::move(status), std::move(reason),
                                       clock_.now_ms(), next_attempt, false},
                d.org_name, d.provider});
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
