// Golden tests of analyze(): every tests/fixtures/smartcommit/<case>.txt (the commit message,
// byte for byte) is analyzed with the patterns of <case>.patterns.json (a JSON array of pattern
// specs; the `jira` built-in when absent) and the pretty-printed analysis_json() must equal
// <case>.golden.json. COMMITBRIDGE_UPDATE_GOLDEN=1 (or CB_UPDATE_GOLDENS=1, as for the provider
// goldens) rewrites or creates the goldens instead, for review with `git diff`.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "smartcommit/analysis_json.hpp"
#include "smartcommit/pattern_spec_json.hpp"
#include "smartcommit/smart_commit.hpp"

namespace cb::smartcommit {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

fs::path fixtures_dir() { return fs::path(CB_FIXTURES_DIR) / "smartcommit"; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool update_requested() {
  for (const char* name : {"COMMITBRIDGE_UPDATE_GOLDEN", "CB_UPDATE_GOLDENS"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && std::string_view(v) == "1") return true;
  }
  return false;
}

/// Two-space indented JSON, one value per line, keys in their insertion order.
void pretty(const json::value& v, std::string& out, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [k, item] : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += inner + json::serialize(json::value(k)) + ": ";
      pretty(item, out, indent + 1);
    }
    out += "\n" + pad + "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& item : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += inner;
      pretty(item, out, indent + 1);
    }
    out += "\n" + pad + "]";
  } else {
    out += json::serialize(v);
  }
}

std::vector<std::string> cases() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fixtures_dir())) {
    if (entry.path().extension() == ".txt") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

PatternSet patterns_for(const std::string& name) {
  const auto path = fixtures_dir() / (name + ".patterns.json");
  if (!fs::exists(path)) return PatternSet::jira_default();
  std::vector<PatternSpec> specs;
  const json::value parsed = json::parse(read_file(path));
  for (const auto& v : parsed.as_array()) {
    auto spec = pattern_spec_from_json(v);
    EXPECT_TRUE(spec.has_value()) << name << ": " << spec.error().message;
    if (spec) specs.push_back(*spec);
  }
  auto set = PatternSet::compile(specs);
  EXPECT_TRUE(set.has_value()) << name << ": " << set.error().message;
  return set ? *set : PatternSet::jira_default();
}

TEST(SmartCommitGolden, HasAtLeastFortyCases) { EXPECT_GE(cases().size(), 40U); }

class SmartCommitGoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(SmartCommitGoldenCase, AnalyzesToGolden) {
  const std::string& name = GetParam();
  const std::string message = read_file(fixtures_dir() / (name + ".txt"));
  const json::value actual = analysis_json(analyze(message, patterns_for(name)));
  std::string actual_text;
  pretty(actual, actual_text, 0);
  actual_text += "\n";
  const auto golden_path = fixtures_dir() / (name + ".golden.json");
  if (update_requested()) {
    std::ofstream(golden_path, std::ios::binary | std::ios::trunc) << actual_text;
    std::cout << "[ updated  ] " << golden_path.string() << '\n';
    return;
  }
  ASSERT_TRUE(fs::exists(golden_path))
      << golden_path << " is missing; run with COMMITBRIDGE_UPDATE_GOLDEN=1 and review it";
  boost::system::error_code ec;
  const json::value golden = json::parse(read_file(golden_path), ec);
  ASSERT_FALSE(ec) << golden_path << ": " << ec.message();
  EXPECT_EQ(actual, golden) << name << ": got\n" << actual_text;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SmartCommitGoldenCase, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cb::smartcommit
