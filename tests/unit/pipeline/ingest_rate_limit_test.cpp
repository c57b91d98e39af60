// The per-org rate limit inside Ingest::prepare: applied after authentication, per org, with
// time from a ManualClock.

#include <memory>
#include <string>
#include <variant>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/ingest.hpp"
#include "pipeline/org_directory.hpp"
#include "pipeline/rate_limiter.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

using testing::bitbucket_fixture;
using testing::hub_signature;
using testing::parse_headers;
using testing::read_file;

class IngestRateLimitTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    token_ = testing::add_webhook_token(*store_, box_, org_.id, "bitbucket", kStart);
    auto other = store_->create_org("Southwind", kStart);
    ASSERT_TRUE(other.has_value());
    other_token_ = testing::add_webhook_token(*store_, box_, other->id, "bitbucket", kStart);
    body_ = read_file(bitbucket_fixture("branch_update.json"));
    headers_ = parse_headers(read_file(bitbucket_fixture("branch_update.headers")));
    ASSERT_FALSE(body_.empty());
    orgs_ = std::make_unique<OrgDirectory>(*store_, box_, clock_, std::chrono::milliseconds(1000));
    // 4 requests per second, bursts of 3.
    limiter_ = std::make_unique<RateLimiter>(RateLimitOptions{4, 3}, clock_);
    ingest_ = std::make_unique<Ingest>(*orgs_, clock_, limiter_.get());
  }

  IngestRequest push(const std::string& org, const std::string& token) const {
    IngestRequest r;
    r.org = org;
    r.endpoint = Endpoint::trigger_scm_push_request;
    r.enterprise = true;
    r.headers = headers_;
    r.headers.push_back(Header{"X-Hub-Signature", hub_signature(token, body_)});
    r.body = body_;
    return r;
  }

  std::unique_ptr<OrgDirectory> orgs_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<Ingest> ingest_;
  std::string token_;
  std::string other_token_;
  std::string body_;
  std::vector<Header> headers_;
};

TEST_F(IngestRateLimitTest, OverTheBurstIsRateLimitedWithRetryAfter) {
  for (int i = 0; i < 3; ++i) {
    auto plan = ingest_->prepare(push("Northwind", token_));
    ASSERT_TRUE(plan.has_value()) << i << ": " << plan.error().message;
    EXPECT_TRUE(std::holds_alternative<store::NewDelivery>(*plan));
  }
  auto refused = ingest_->prepare(push("northwind", token_));  // any case: the same org
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(refused.error().retry_after_s, 1u);
  EXPECT_EQ(refused.error().message,
            "org 'Northwind' is over its limit of 4 requests per second (burst 3); retry after "
            "1 s");

  clock_.advance(200);  // 0.8 token
  EXPECT_FALSE(ingest_->prepare(push("Northwind", token_)).has_value());
  clock_.advance(50);  // one token
  EXPECT_TRUE(ingest_->prepare(push("Northwind", token_)).has_value());
  EXPECT_FALSE(ingest_->prepare(push("Northwind", token_)).has_value());
}

TEST_F(IngestRateLimitTest, UnauthenticatedRequestsDoNotUseTheOrgsBudget) {
  const std::string wrong =
      token_.substr(0, token_.size() - 1) + (token_.back() == 'a' ? "b" : "a");
  for (int i = 0; i < 50; ++i) {
    auto plan = ingest_->prepare(push("Northwind", wrong));
    ASSERT_FALSE(plan.has_value());
    EXPECT_EQ(plan.error().code, ErrorCode::invalid_signature);
  }
  for (int i = 0; i < 3; ++i) {
    auto plan = ingest_->prepare(push("Northwind", token_));
    EXPECT_TRUE(plan.has_value()) << i << ": " << plan.error().message;
  }
}

TEST_F(IngestRateLimitTest, EachOrgHasItsOwnBudget) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ingest_->prepare(push("Northwind", token_)));
  ASSERT_FALSE(ingest_->prepare(push("Northwind", token_)));
  for (int i = 0; i < 3; ++i) {
    auto plan = ingest_->prepare(push("Southwind", other_token_));
    EXPECT_TRUE(plan.has_value()) << i << ": " << plan.error().message;
  }
  auto refused = ingest_->prepare(push("Southwind", other_token_));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::rate_limited);
  EXPECT_THAT(refused.error().message, ::testing::StartsWith("org 'Southwind' is over"));
}

TEST_F(IngestRateLimitTest, WithoutALimiterNothingIsLimited) {
  Ingest unlimited(*orgs_, clock_);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(unlimited.prepare(push("Northwind", token_)));
}

}  // namespace
}  // namespace cb::pipeline
