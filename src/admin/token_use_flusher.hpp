#pragma once
// Writes tokens' last_used_at in batches: one transaction every interval, not a write per
// request.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "admin/admin_service.hpp"

namespace cb::admin {

/// A background thread that moves the uses recorded by AdminService into the store every
/// `interval` and once more on stop().
class TokenUseFlusher {
 public:
  TokenUseFlusher(AdminService& admin, store::Store& store, std::chrono::milliseconds interval);
  ~TokenUseFlusher();
  TokenUseFlusher(const TokenUseFlusher&) = delete;
  TokenUseFlusher& operator=(const TokenUseFlusher&) = delete;

  /// Writes what is pending now (also called by the thread). Returns how many tokens.
  std::size_t flush();
  /// Flushes once more and stops the thread. Idempotent.
  void stop();

 private:
  AdminService& admin_;
  store::Store& store_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cb::admin
