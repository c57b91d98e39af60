// RateLimiter: per-key token buckets driven by a ManualClock.

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "pipeline/rate_limiter.hpp"

namespace cb::pipeline {
namespace {

constexpr UnixMillis kStart = 1'772'000'000'000;

/// Takes `n` tokens; returns how many were allowed.
int take(RateLimiter& limiter, std::int64_t key, int n) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += limiter.acquire(key).allowed ? 1 : 0;
  return allowed;
}

TEST(RateLimiterTest, FullBucketAllowsTheBurstThenRefusesWithRetryAfter) {
  ManualClock clock(kStart);
  RateLimiter limiter({200, 400}, clock);
  EXPECT_EQ(take(limiter, 1, 400), 400);
  const auto refused = limiter.acquire(1);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);  // one token takes 5 ms; rounded up to whole seconds
  const auto allowed = RateDecision{};
  EXPECT_TRUE(allowed.allowed);
  EXPECT_EQ(allowed.retry_after_s, 0);
}

TEST(RateLimiterTest, TokensComeBackAtTheConfiguredRate) {
  ManualClock clock(kStart);
  RateLimiter limiter({200, 400}, clock);
  ASSERT_EQ(take(limiter, 1, 400), 400);
  clock.advance(4);  // 0.8 token
  EXPECT_FALSE(limiter.acquire(1).allowed);
  clock.advance(1);  // 5 ms in all: one token
  EXPECT_TRUE(limiter.acquire(1).allowed);
  EXPECT_FALSE(limiter.acquire(1).allowed);
  clock.advance(1000);  // 200 tokens
  EXPECT_EQ(take(limiter, 1, 250), 200);
  clock.advance(3'600'000);  // an hour refills only up to the burst
  EXPECT_EQ(take(limiter, 1, 1000), 400);
}

TEST(RateLimiterTest, RetryAfterIsTheWholeSecondsUntilTheNextToken) {
  ManualClock clock(kStart);
  RateLimiter slow({0.25, 1}, clock);  // one request every 4 s
  EXPECT_TRUE(slow.acquire(7).allowed);
  auto d = slow.acquire(7);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_s, 4);
  clock.advance(2500);  // 0.625 token: 1.5 s to go, rounded up
  d = slow.acquire(7);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_s, 2);
  clock.advance(1500);
  EXPECT_TRUE(slow.acquire(7).allowed);
}

TEST(RateLimiterTest, EachKeyHasItsOwnBucket) {
  ManualClock clock(kStart);
  RateLimiter limiter({10, 5}, clock);
  EXPECT_EQ(take(limiter, 1, 10), 5);
  EXPECT_EQ(take(limiter, 2, 10), 5);
  EXPECT_FALSE(limiter.acquire(1).allowed);
}

TEST(RateLimiterTest, ZeroRateDisablesTheLimit) {
  ManualClock clock(kStart);
  RateLimiter limiter({0, 1}, clock);
  EXPECT_EQ(take(limiter, 1, 10'000), 10'000);
}

TEST(RateLimiterTest, BurstBelowOneIsTreatedAsOne) {
  ManualClock clock(kStart);
  RateLimiter limiter({1, 0}, clock);
  EXPECT_DOUBLE_EQ(limiter.options().burst, 1.0);
  EXPECT_TRUE(limiter.acquire(1).allowed);
  EXPECT_FALSE(limiter.acquire(1).allowed);
}

TEST(RateLimiterTest, ClockGoingBackwardsAddsNothingAndRefillsFromTheNewTime) {
  ManualClock clock(kStart);
  RateLimiter limiter({100, 2}, clock);
  ASSERT_EQ(take(limiter, 1, 2), 2);
  clock.set(kStart - 60'000);  // a minute back
  EXPECT_FALSE(limiter.acquire(1).allowed);
  clock.advance(10);  // one token from the new time on, not a minute later
  EXPECT_TRUE(limiter.acquire(1).allowed);
  EXPECT_FALSE(limiter.acquire(1).allowed);
}

}  // namespace
}  // namespace cb::pipeline
