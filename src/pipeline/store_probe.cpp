#include "pipeline/store_probe.hpp"
#include "core/thread_name.hpp"

#include <spdlog/spdlog.h>

namespace cb::pipeline {

StoreProbe::StoreProbe(store::Store& store, const Clock& clock, std::chrono::milliseconds interval,
                       const PipelineMetrics* metrics)
    : store_(store), clock_(clock), interval_(interval), metrics_(metrics) {}

StoreProbe::~StoreProbe() { stop(); }

void StoreProbe::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    set_thread_name("cb-store-probe");
    loop();
  });
}

void StoreProbe::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

StoreHealth StoreProbe::check_now() {
  auto pending = store_.pending_deliveries();
  StoreHealth h;
  h.checked = true;
  h.checked_at_ms = clock_.now_ms();
  h.ok = pending.has_value();
  if (h.ok) {
    h.pending = *pending;
  } else {
    h.error = pending.error().detail.empty() ? pending.error().message : pending.error().detail;
  }
  if (metrics_ != nullptr) {
    if (metrics_->store_up != nullptr) metrics_->store_up->set(h.ok ? 1 : 0);
    if (h.ok && metrics_->queue_depth != nullptr) {
      metrics_->queue_depth->set(static_cast<double>(h.pending));
    }
  }
  bool was_ok = false;
  {
    std::lock_guard lock(mutex_);
    was_ok = !last_.checked || last_.ok;
    last_ = h;
  }
  if (was_ok && !h.ok) spdlog::error("store check failed: {}", h.error);
  if (!was_ok && h.ok) spdlog::info("store check succeeded again");
  return h;
}

StoreHealth StoreProbe::last() const {
  std::lock_guard lock(mutex_);
  return last_;
}

Result<StoreHealth> StoreProbe::ready(UnixMillis now, std::chrono::milliseconds max_age) const {
  const StoreHealth h = last();
  if (!h.checked) return fail(ErrorCode::store_unavailable, "the store has not been checked yet");
  if (!h.ok) return fail(ErrorCode::store_unavailable, "the store did not answer", h.error);
  const auto age = now - h.checked_at_ms;
  if (age > max_age.count()) {
    return fail(ErrorCode::store_unavailable, "the last successful store check is " +
                                                  std::to_string(age) + " ms old (limit " +
                                                  std::to_string(max_age.count()) + " ms)");
  }
  return h;
}

void StoreProbe::loop() {
  while (true) {
    check_now();
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
  }
}

}  // namespace cb::pipeline
