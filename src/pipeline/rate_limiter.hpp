#pragma once
// Per-org token buckets: at most `requests_per_second` on average, bursts up to `burst`.

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "core/clock.hpp"

namespace cb::pipeline {

/// Rate of one bucket. requests_per_second == 0 disables limiting.
struct RateLimitOptions {
  double requests_per_second = 200;  ///< tokens added per second
  double burst = 400;                ///< bucket capacity (a full bucket allows this many at once)
};

/// What acquire() decided.
struct RateDecision {
  bool allowed = true;
  /// When refused: whole seconds until a token is available (at least 1). 0 when allowed.
  std::int64_t retry_after_s = 0;
};

/// Token buckets keyed by an integer (the org id), thread-safe. Time comes from the Clock, so
/// tests advance it by hand. A bucket starts full; a step of the clock backwards adds no token (the
/// bucket refills from the new time on).
/// Keys are org ids of authenticated requests only, so the map is bounded by the number of orgs.
class RateLimiter {
 public:
  RateLimiter(RateLimitOptions options, const Clock& clock);

  /// Takes one token from `key`'s bucket, or says how long to wait when it is empty.
  [[nodiscard]] RateDecision acquire(std::int64_t key);

  [[nodiscard]] const RateLimitOptions& options() const noexcept { return options_; }

 private:
  struct Bucket {
    double tokens = 0;
    UnixMillis updated_ms = 0;
  };
  RateLimitOptions options_;
  const Clock& clock_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, Bucket> buckets_;
};

}  // namespace cb::pipeline
