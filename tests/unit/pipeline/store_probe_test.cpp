// StoreProbe: the cached store check behind GET /readyz and the queue-depth gauge.

#include <sqlite3.h>

#include <chrono>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/metrics.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "pipeline/store_probe.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class StoreProbeTest : public testing::StoreFixture {
 protected:
  void persist(const std::string& id, std::string status = "queued") {
    store::NewDelivery d;
    d.delivery_id = id;
    d.org_id = org_.id;
    d.endpoint = "trigger-scm-push-request";
    d.provider = "bitbucket_server";
    d.external_id = "ext-" + id;
    d.body = "{}";
    d.received_at_ms = clock_.now_ms();
    d.status = std::move(status);
    ASSERT_TRUE(testing::persist_and_wait(*store_, d).has_value());
  }

  /// Runs `sql` on a second connection to the test database.
  void exec_sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() / "test.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10'000);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  metrics::Registry registry_;
  PipelineMetrics metrics_ = PipelineMetrics::register_in(registry_);
};

TEST_F(StoreProbeTest, NotReadyBeforeTheFirstCheck) {
  StoreProbe probe(*store_, clock_, 1s, &metrics_);
  EXPECT_FALSE(probe.last().checked);
  auto r = probe.ready(clock_.now_ms(), 5s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::store_unavailable);
  EXPECT_EQ(r.error().message, "the store has not been checked yet");
}

TEST_F(StoreProbeTest, CheckCountsPendingDeliveriesAndSetsTheGauges) {
  persist("d-1");
  persist("d-2");
  persist("d-3", "ignored");  // not pending
  StoreProbe probe(*store_, clock_, 1s, &metrics_);
  const auto h = probe.check_now();
  EXPECT_TRUE(h.checked);
  EXPECT_TRUE(h.ok);
  EXPECT_EQ(h.pending, 2);
  EXPECT_EQ(h.checked_at_ms, kStart);
  EXPECT_DOUBLE_EQ(metrics_.queue_depth->value(), 2.0);
  EXPECT_DOUBLE_EQ(metrics_.store_up->value(), 1.0);

  auto r = probe.ready(kStart + 5000, 5s);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->pending, 2);
}

TEST_F(StoreProbeTest, AnOldCheckIsNotReady) {
  StoreProbe probe(*store_, clock_, 1s);
  (void)probe.check_now();
  auto r = probe.ready(kStart + 5001, 5s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::store_unavailable);
  EXPECT_EQ(r.error().message, "the last successful store check is 5001 ms old (limit 5000 ms)");
}

TEST_F(StoreProbeTest, AFailingStoreIsNotReadyAndStoreUpDropsToZero) {
  StoreProbe probe(*store_, clock_, 1s, &metrics_);
  persist("d-1");
  ASSERT_TRUE(probe.check_now().ok);
  exec_sql("ALTER TABLE deliveries RENAME TO deliveries_gone");
  clock_.advance(1000);
  const auto h = probe.check_now();
  EXPECT_FALSE(h.ok);
  EXPECT_THAT(h.error, HasSubstr("deliveries"));
  EXPECT_DOUBLE_EQ(metrics_.store_up->value(), 0.0);
  EXPECT_DOUBLE_EQ(metrics_.queue_depth->value(), 1.0);  // the last known depth stays
  auto r = probe.ready(clock_.now_ms(), 5s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "the store did not answer");
  EXPECT_THAT(r.error().detail, HasSubstr("deliveries"));

  exec_sql("ALTER TABLE deliveries_gone RENAME TO deliveries");
  EXPECT_TRUE(probe.check_now().ok);
  EXPECT_TRUE(probe.ready(clock_.now_ms(), 5s).has_value());
}

TEST_F(StoreProbeTest, BackgroundThreadChecksAtOnceAndStops) {
  persist("d-1");
  StoreProbe probe(*store_, clock_, 10ms, &metrics_);
  probe.start();
  probe.start();  // no second thread
  const auto deadline = std::chrono::steady_clock::now() + testing::kWaitLimit;
  while (!probe.last().checked && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);  // polling interval
  }
  EXPECT_TRUE(probe.last().ok);
  EXPECT_EQ(probe.last().pending, 1);
  probe.stop();
  probe.stop();  // idempotent
}

}  // namespace
}  // namespace cb::pipeline
