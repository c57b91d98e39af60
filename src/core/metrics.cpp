#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace cb::metrics {
namespace {

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

/// `{a="x",b="y"}` (with an optional extra label, e.g. le), or "" when there is no label.
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(i < values.size() ? values[i] : std::string());
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

void sample(std::string& out, std::string_view name, std::string_view labels, std::string_view v) {
  out += name;
  out += labels;
  out += ' ';
  out += v;
  out += '\n';
}

}  // namespace

// ---- Histogram --------------------------------------------------------------------------------

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) noexcept {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  const auto index = static_cast<std::size_t>(it - bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> latency_buckets_seconds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// ---- Registry ---------------------------------------------------------------------------------

void Registry::add(std::unique_ptr<Entry> entry, const std::vector<std::string>& label_names) {
  const std::string& name = entry->name;
  if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name '" + name + "'");
  for (const auto& l : label_names) {
    if (!valid_name(l, false) || l.starts_with("__") ||
        (entry->kind == Kind::histogram && l == "le")) {
      throw std::invalid_argument("invalid label name '" + l + "' of metric " + name);
    }
  }
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    if (e->name == name) throw std::invalid_argument("metric " + name + " registered twice");
  }
  entries_.push_back(std::move(entry));
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> label_names) {
  auto e = std::make_unique<Entry>(Entry{std::move(name), std::move(help), Kind::counter});
  e->counters =
      std::make_unique<Family<Counter>>(label_names, [] { return std::make_unique<Counter>(); });
  if (label_names.empty()) e->counters->with({});
  auto& family = *e->counters;
  add(std::move(e), label_names);
  return family;
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> label_names) {
  auto e = std::make_unique<Entry>(Entry{std::move(name), std::move(help), Kind::gauge});
  e->gauges =
      std::make_unique<Family<Gauge>>(label_names, [] { return std::make_unique<Gauge>(); });
  if (label_names.empty()) e->gauges->with({});
  auto& family = *e->gauges;
  add(std::move(e), label_names);
  return family;
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<double> upper_bounds,
                                       std::vector<std::string> label_names) {
  Histogram probe(upper_bounds);  // validates the bounds before anything is registered
  (void)probe;
  auto e = std::make_unique<Entry>(Entry{std::move(name), std::move(help), Kind::histogram});
  e->histograms = std::make_unique<Family<Histogram>>(
      label_names,
      [bounds = std::move(upper_bounds)] { return std::make_unique<Histogram>(bounds); });
  if (label_names.empty()) e->histograms->with({});
  auto& family = *e->histograms;
  add(std::move(e), label_names);
  return family;
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) {
    out += "# HELP " + e->name + " " + escape_help(e->help) + "\n";
    switch (e->kind) {
      case Kind::counter:
        out += "# TYPE " + e->name + " counter\n";
        e->counters->for_each([&](const std::vector<std::string>& values, const Counter& c) {
          sample(out, e->name, label_set(e->counters->label_names(), values),
                 std::to_string(c.value()));
        });
        break;
      case Kind::gauge:
        out += "# TYPE " + e->name + " gauge\n";
        e->gauges->for_each([&](const std::vector<std::string>& values, const Gauge& g) {
          sample(out, e->name, label_set(e->gauges->label_names(), values),
                 format_value(g.value()));
        });
        break;
      case Kind::histogram:
        out += "# TYPE " + e->name + " histogram\n";
        e->histograms->for_each([&](const std::vector<std::string>& values, const Histogram& h) {
          const auto& names = e->histograms->label_names();
          const auto snap = h.snapshot();
          const auto& bounds = h.bounds();
          for (std::size_t i = 0; i < bounds.size(); ++i) {
            sample(out, e->name + "_bucket",
                   label_set(names, values, "le", format_value(bounds[i])),
                   std::to_string(snap.cumulative[i]));
          }
          sample(out, e->name + "_bucket", label_set(names, values, "le", "+Inf"),
                 std::to_string(snap.count));
          sample(out, e->name + "_sum", label_set(names, values), format_value(snap.sum));
          sample(out, e->name + "_count", label_set(names, values), std::to_string(snap.count));
        });
        break;
    }
  }
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc{}) return "NaN";
  return std::string(buf, end);
}

}  // namespace cb::metrics
