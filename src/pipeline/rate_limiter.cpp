#include "pipeline/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace cb::pipeline {

RateLimiter::RateLimiter(RateLimitOptions options, const Clock& clock)
    : options_(options), clock_(clock) {
  options_.burst = std::max(options_.burst, 1.0);
}

RateDecision RateLimiter::acquire(std::int64_t key) {
  if (options_.requests_per_second <= 0) return {};
  const UnixMillis now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  auto [it, created] = buckets_.try_emplace(key, Bucket{options_.burst, now});
  Bucket& b = it->second;
  if (!created) {
    const UnixMillis elapsed = now - b.updated_ms;
    if (elapsed > 0) {
      b.tokens = std::min(options_.burst, b.tokens + static_cast<double>(elapsed) *
                                                         options_.requests_per_second / 1000.0);
    }
    b.updated_ms = now;  // after a backwards step, refill counts from the new time
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait_s = (1.0 - b.tokens) / options_.requests_per_second;
  return RateDecision{false,
                      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait_s)))};
}

}  // namespace cb::pipeline
