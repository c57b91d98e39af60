#pragma once
// Time source that tests can replace.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cb {

/// Milliseconds since the Unix epoch, UTC.
using UnixMillis = std::int64_t;

/// A source of wall-clock time. The default reads the system clock; tests use ManualClock.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Current time in milliseconds since the Unix epoch (UTC).
  [[nodiscard]] virtual UnixMillis now_ms() const = 0;
};

/// Reads std::chrono::system_clock.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] UnixMillis now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

/// A clock set by hand, for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixMillis start) : now_(start) {}
  [[nodiscard]] UnixMillis now_ms() const override { return now_.load(); }
  void set(UnixMillis t) { now_.store(t); }
  void advance(UnixMillis delta) { now_.fetch_add(delta); }

 private:
  std::atomic<UnixMillis> now_;
};

/// Formats milliseconds since the epoch as ISO-8601 UTC with millisecond precision,
/// e.g. "2026-03-01T09:15:00.000Z".
[[nodiscard]] std::string format_utc(UnixMillis t);

}  // namespace cb
