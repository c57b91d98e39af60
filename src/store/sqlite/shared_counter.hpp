#pragma once
// A 64-bit counter in a small file mapped into memory, shared by every process that opens the
// same file: one process increments it, another sees the new value with one memory read.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace cb::store::sqlite {

/// Counter in the first 8 bytes of a file mapped shared (created with mode 0600 when absent).
/// Thread-safe and process-safe (atomic operations on the shared mapping).
class SharedCounter {
 public:
  /// Maps `file`, creating it. nullptr when the file cannot be created or mapped (read-only
  /// data directory, another user's file): callers then do without.
  [[nodiscard]] static std::unique_ptr<SharedCounter> open(const std::filesystem::path& file);
  ~SharedCounter();
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;

  /// The current value (acquire: what the incrementing process wrote before is visible).
  [[nodiscard]] std::uint64_t load() const noexcept {
    return std::atomic_ref<std::uint64_t>(*value_).load(std::memory_order_acquire);
  }
  /// Adds one (release).
  void bump() noexcept {
    std::atomic_ref<std::uint64_t>(*value_).fetch_add(1, std::memory_order_acq_rel);
  }

 private:
  SharedCounter(void* map, std::size_t size);
  void* map_;
  std::size_t size_;
  std::uint64_t* value_;
};

}  // namespace cb::store::sqlite
