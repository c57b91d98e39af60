#pragma once
// A small thread-safe metrics registry — counters, gauges and histograms, with or without
// labels — rendered in the Prometheus text exposition format (version 0.0.4). No I/O: the
// HTTP route that serves the text lives in api/.

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cb::metrics {

/// A count that only goes up (Prometheus `counter`). Lock-free.
class Counter {
 public:
  /// Adds `n` (default 1).
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  /// The current count.
  [[nodiscard]] std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (Prometheus `gauge`). Lock-free.
class Gauge {
 public:
  /// Replaces the value.
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  /// Adds `delta` (negative to subtract).
  void add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  /// The current value.
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// Observations counted into fixed buckets (Prometheus `histogram`), with their sum. Lock-free.
class Histogram {
 public:
  /// `upper_bounds` are the inclusive upper bounds of the buckets, strictly increasing and
  /// finite; a `+Inf` bucket is always added. Throws std::invalid_argument otherwise (a bug:
  /// bounds are constants).
  explicit Histogram(std::vector<double> upper_bounds);

  /// Counts `value` in the first bucket whose bound is >= value, and adds it to the sum.
  void observe(double value) noexcept;

  /// A consistent-enough copy: `cumulative[i]` is the number of observations <= bounds()[i];
  /// the last element (the `+Inf` bucket) equals `count`.
  struct Snapshot {
    std::vector<std::uint64_t> cumulative;
    std::uint64_t count = 0;
    double sum = 0.0;
  };
  [[nodiscard]] Snapshot snapshot() const;
  /// The finite bucket bounds, as given.
  [[nodiscard]] const std::vector<double>& bounds() const noexcept { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0.0};
};

/// Histogram bounds for request latencies in seconds: 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
/// 0.1, 0.25, 0.5, 1, 2.5, 5, 10.
[[nodiscard]] std::vector<double> latency_buckets_seconds();

/// One metric name with its label names, and one child metric per combination of label values.
/// Children are created on first use and live as long as the family, so a caller may keep the
/// reference that with() returns.
template <class T>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<T>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  /// The child for `values`, one per label name in order. Missing values are taken as "",
  /// extra ones are ignored (a caller bug, never outside input).
  T& with(std::initializer_list<std::string_view> values) {
    std::vector<std::string> key(values.begin(), values.end());
    key.resize(label_names_.size());
    std::lock_guard lock(mutex_);
    auto& slot = children_[std::move(key)];
    if (!slot) slot = make_();
    return *slot;
  }

  [[nodiscard]] const std::vector<std::string>& label_names() const noexcept {
    return label_names_;
  }

  /// Calls `f(label_values, child)` for every child, in label-value order, under the lock.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [values, child] : children_) f(values, *child);
  }

 private:
  std::vector<std::string> label_names_;
  std::function<std::unique_ptr<T>()> make_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

/// The set of metrics of one process. Registration happens at start-up; after that every
/// method is thread-safe. Registering a name twice, or an invalid metric or label name, throws
/// std::invalid_argument (a programming error, found at start-up).
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// A counter family. By Prometheus convention `name` ends in `_total`. An unlabeled family
  /// is shown as 0 from the start.
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> label_names = {});
  /// A gauge family. An unlabeled family is shown as 0 from the start.
  Family<Gauge>& gauge(std::string name, std::string help,
                       std::vector<std::string> label_names = {});
  /// A histogram family whose children share `upper_bounds` (see Histogram).
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<double> upper_bounds,
                               std::vector<std::string> label_names = {});

  /// Every metric in the Prometheus text format 0.0.4 (`# HELP`, `# TYPE`, one sample per
  /// line, label values escaped), in registration order. Serve it with the content type
  /// kContentType.
  [[nodiscard]] std::string render() const;

  /// Content-Type of render()'s output.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  enum class Kind { counter, gauge, histogram };
  struct Entry {
    std::string name;
    std::string help;
    Kind kind;
    std::unique_ptr<Family<Counter>> counters{};
    std::unique_ptr<Family<Gauge>> gauges{};
    std::unique_ptr<Family<Histogram>> histograms{};
  };
  /// Validates the names and appends `entry`; throws std::invalid_argument.
  void add(std::unique_ptr<Entry> entry, const std::vector<std::string>& label_names);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

/// `value` escaped for a label value: backslash, double quote and newline.
[[nodiscard]] std::string escape_label_value(std::string_view value);

/// A sample value as Prometheus writes it: shortest round-trip decimal, `+Inf`, `-Inf`, `NaN`.
[[nodiscard]] std::string format_value(double value);

}  // namespace cb::metrics
