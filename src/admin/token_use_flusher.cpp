#include "admin/token_use_flusher.hpp"
#include "core/thread_name.hpp"

#include <spdlog/spdlog.h>

namespace cb::admin {

TokenUseFlusher::TokenUseFlusher(AdminService& admin, store::Store& store,
                                 std::chrono::milliseconds interval)
    : admin_(admin), store_(store), interval_(interval) {
  thread_ = std::thread([this] {
    set_thread_name("cb-token-uses");
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      cv_.wait_for(lock, interval_, [this] { return stopping_; });
      lock.unlock();
      flush();
      lock.lock();
    }
  });
}

TokenUseFlusher::~TokenUseFlusher() { stop(); }

std::size_t TokenUseFlusher::flush() {
  auto uses = admin_.take_token_uses();
  if (uses.empty()) return 0;
  if (auto r = store_.touch_tokens(uses); !r) {
    spdlog::warn("last_used_at of {} tokens not written: {}", uses.size(), r.error().detail);
    return 0;
  }
  return uses.size();
}

void TokenUseFlusher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cb::admin
