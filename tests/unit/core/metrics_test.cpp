// The metrics registry and its Prometheus text rendering.

#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/metrics.hpp"

namespace cb::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, UnlabeledCounterAndGaugeRenderFromZero) {
  Registry r;
  auto& requests = r.counter("app_requests_total", "Requests served.");
  auto& depth = r.gauge("app_queue_depth", "Items waiting.");
  EXPECT_EQ(r.render(),
            "# HELP app_requests_total Requests served.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total 0\n"
            "# HELP app_queue_depth Items waiting.\n"
            "# TYPE app_queue_depth gauge\n"
            "app_queue_depth 0\n");
  requests.with({}).inc();
  requests.with({}).inc(41);
  depth.with({}).set(7);
  depth.with({}).add(-2.5);
  EXPECT_EQ(requests.with({}).value(), 42u);
  EXPECT_DOUBLE_EQ(depth.with({}).value(), 4.5);
  EXPECT_THAT(r.render(), HasSubstr("\napp_requests_total 42\n"));
  EXPECT_THAT(r.render(), HasSubstr("\napp_queue_depth 4.5\n"));
}

TEST(MetricsTest, LabeledChildrenAreSortedAndEscaped) {
  Registry r;
  auto& deliveries = r.counter("deliveries_total", "Deliveries.", {"org", "status"});
  deliveries.with({"northwind", "queued"}).inc(3);
  deliveries.with({"acme", "done"}).inc();
  deliveries.with({"we\"ird\\org\nx", "queued"}).inc(2);
  // The same labels give the same child.
  deliveries.with({"acme", "done"}).inc();
  EXPECT_EQ(r.render(),
            "# HELP deliveries_total Deliveries.\n"
            "# TYPE deliveries_total counter\n"
            "deliveries_total{org=\"acme\",status=\"done\"} 2\n"
            "deliveries_total{org=\"northwind\",status=\"queued\"} 3\n"
            "deliveries_total{org=\"we\\\"ird\\\\org\\nx\",status=\"queued\"} 2\n");
}

TEST(MetricsTest, LabeledFamilyWithoutChildrenShowsOnlyHelpAndType) {
  Registry r;
  (void)r.counter("refused_total", "Refused.\nSecond line \\ here", {"code"});
  EXPECT_EQ(r.render(),
            "# HELP refused_total Refused.\\nSecond line \\\\ here\n"
            "# TYPE refused_total counter\n");
}

TEST(MetricsTest, MissingLabelValuesAreEmptyAndExtraOnesIgnored) {
  Registry r;
  auto& f = r.counter("x_total", "X.", {"a", "b"});
  f.with({"1"}).inc();
  f.with({"1", "", "ignored"}).inc();
  EXPECT_THAT(r.render(), HasSubstr("x_total{a=\"1\",b=\"\"} 2\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInclusiveBounds) {
  Registry r;
  auto& h = r.histogram("latency_seconds", "Latency.", {0.001, 0.01, 0.1}).with({});
  h.observe(0.0005);
  h.observe(0.001);  // on a bound: counted in that bucket (le is inclusive)
  h.observe(0.05);
  h.observe(20);  // only in +Inf
  EXPECT_EQ(r.render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.001\"} 2\n"
            "latency_seconds_bucket{le=\"0.01\"} 2\n"
            "latency_seconds_bucket{le=\"0.1\"} 3\n"
            "latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "latency_seconds_sum " +
                format_value(0.0005 + 0.001 + 0.05 + 20) +  // the same additions, in order
                "\n"
                "latency_seconds_count 4\n");
  const auto snap = h.snapshot();
  EXPECT_EQ(snap.cumulative, (std::vector<std::uint64_t>{2, 2, 3, 4}));
  EXPECT_EQ(snap.count, 4u);
}

TEST(MetricsTest, LabeledHistogramPutsLeLast) {
  Registry r;
  auto& f = r.histogram("h_seconds", "H.", {1}, {"route"});
  f.with({"/metrics"}).observe(0.5);
  EXPECT_EQ(r.render(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{route=\"/metrics\",le=\"1\"} 1\n"
            "h_seconds_bucket{route=\"/metrics\",le=\"+Inf\"} 1\n"
            "h_seconds_sum{route=\"/metrics\"} 0.5\n"
            "h_seconds_count{route=\"/metrics\"} 1\n");
}

TEST(MetricsTest, LatencyBucketsGoFromOneMillisecondToTenSeconds) {
  const auto b = latency_buckets_seconds();
  ASSERT_EQ(b.size(), 13u);
  EXPECT_DOUBLE_EQ(b.front(), 0.001);
  EXPECT_DOUBLE_EQ(b.back(), 10.0);
  Registry r;
  (void)r.histogram("l_seconds", "L.", b);
  const std::string text = r.render();
  for (const char* le : {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                         "1", "2.5", "5", "10", "+Inf"}) {
    EXPECT_THAT(text, HasSubstr(std::string("l_seconds_bucket{le=\"") + le + "\"} 0\n"));
  }
}

TEST(MetricsTest, BadRegistrationsThrow) {
  Registry r;
  (void)r.counter("a_total", "A.");
  EXPECT_THROW((void)r.counter("a_total", "again"), std::invalid_argument);
  EXPECT_THROW((void)r.gauge("a_total", "as a gauge"), std::invalid_argument);
  EXPECT_THROW((void)r.counter("1abc", "digit first"), std::invalid_argument);
  EXPECT_THROW((void)r.counter("a-b", "dash"), std::invalid_argument);
  EXPECT_THROW((void)r.counter("ok_total", "bad label", {"bad-label"}), std::invalid_argument);
  EXPECT_THROW((void)r.counter("ok2_total", "reserved label", {"__x"}), std::invalid_argument);
  EXPECT_THROW((void)r.histogram("h", "le is reserved", {1}, {"le"}), std::invalid_argument);
  EXPECT_THROW((void)r.histogram("h2", "unsorted", {1, 0.5}), std::invalid_argument);
  // Nothing half-registered is rendered.
  EXPECT_EQ(r.render(), "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  auto& f = r.counter("c_total", "C.", {"t"});
  auto& h = r.histogram("c_seconds", "C.", {1}).with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10'000; ++i) {
        f.with({t % 2 == 0 ? "even" : "odd"}).inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.with({"even"}).value(), 20'000u);
  EXPECT_EQ(f.with({"odd"}).value(), 20'000u);
  EXPECT_EQ(h.snapshot().count, 40'000u);
  EXPECT_DOUBLE_EQ(h.snapshot().sum, 20'000.0);
}

TEST(MetricsTest, ValuesUseShortestFormAndPrometheusSpecials) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(1e-5), "1e-05");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace cb::metrics
