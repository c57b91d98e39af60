// Golden tests: every tests/fixtures/providers/<id>/<case>.json with a <case>.golden.json is
// parsed by its provider and the pretty-printed to_json() of the result must equal the golden.
// CB_UPDATE_GOLDENS=1 rewrites (or creates) the goldens instead, for review with `git diff`.

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "fixture_util.hpp"
#include "providers/event_json.hpp"
#include "providers/provider.hpp"

namespace cb::providers {
namespace {

using testing::list_cases;
using testing::load_delivery;
using testing::providers_fixtures_dir;
using testing::read_file;
using testing::update_goldens_requested;
using testing::write_file;

constexpr std::string_view kBitbucketServer = "bitbucket_server";

/// Cases the Bitbucket Server fixtures must contain, so a deleted file cannot go unnoticed.
const std::vector<std::string>& expected_bitbucket_server_cases() {
  static const std::vector<std::string> cases = {"branch_create",
                                                 "branch_delete",
                                                 "branch_update",
                                                 "mirror_ref_limit_exceeded",
                                                 "mirror_synchronized",
                                                 "multi_ref",
                                                 "old_no_commits",
                                                 "personal_repo",
                                                 "ping",
                                                 "pr_declined",
                                                 "pr_deleted",
                                                 "pr_from_ref_updated",
                                                 "pr_merged",
                                                 "pr_modified_target",
                                                 "pr_modified_title",
                                                 "pr_opened",
                                                 "pr_opened_iso_dates",
                                                 "tag_create",
                                                 "unknown_event"};
  return cases;
}

class BitbucketServerGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(BitbucketServerGolden, ParsesToGolden) {
  const std::string& name = GetParam();
  const RawDelivery delivery = load_delivery(kBitbucketServer, name);
  ASSERT_FALSE(delivery.body.empty()) << name << ".json is missing or empty";
  ASSERT_FALSE(delivery.headers.empty()) << name << ".headers is missing or empty";

  const Provider* provider = find_provider(kBitbucketServer);
  ASSERT_NE(provider, nullptr);
  EXPECT_TRUE(provider->detect(delivery)) << name;
  EXPECT_EQ(detect_provider(delivery), provider) << name;

  const Result<NormalizedEvent> event = provider->parse(delivery);
  ASSERT_TRUE(event.has_value()) << name << ": " << event.error().message;
  const boost::json::value actual = to_json(*event);
  const std::string actual_text = to_pretty_json(actual);

  const auto golden_path =
      providers_fixtures_dir() / std::string(kBitbucketServer) / (name + ".golden.json");
  if (update_goldens_requested()) {
    ASSERT_TRUE(write_file(golden_path, actual_text)) << "cannot write " << golden_path;
    std::cout << "[ updated  ] " << golden_path.string() << '\n';
    return;
  }

  const std::string golden_text = read_file(golden_path);
  boost::json::error_code ec;
  const boost::json::value golden = boost::json::parse(golden_text, ec);
  ASSERT_FALSE(ec) << golden_path << " is not valid JSON: " << ec.message();
  EXPECT_EQ(actual, golden) << name << ": normalized event differs from the golden; actual:\n"
                            << actual_text << "(run with CB_UPDATE_GOLDENS=1 to rewrite)";
  EXPECT_EQ(actual_text, golden_text) << name << ": golden is not in to_pretty_json form";
}

std::vector<std::string> golden_cases() {
  return list_cases(kBitbucketServer, /*with_golden_only=*/!update_goldens_requested());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BitbucketServerGolden, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(BitbucketServerFixtures, EveryExpectedCaseHasBodyHeadersAndGolden) {
  const auto dir = providers_fixtures_dir() / std::string(kBitbucketServer);
  for (const auto& name : expected_bitbucket_server_cases()) {
    EXPECT_TRUE(std::filesystem::exists(dir / (name + ".json"))) << name << ".json";
    EXPECT_TRUE(std::filesystem::exists(dir / (name + ".headers"))) << name << ".headers";
    if (!update_goldens_requested()) {
      EXPECT_TRUE(std::filesystem::exists(dir / (name + ".golden.json")))
          << name << ".golden.json missing: run with CB_UPDATE_GOLDENS=1 and review";
    }
  }
}

TEST(BitbucketServerFixtures, EveryCaseHasAGolden) {
  if (update_goldens_requested()) GTEST_SKIP() << "goldens are being rewritten";
  EXPECT_EQ(list_cases(kBitbucketServer, true), list_cases(kBitbucketServer, false))
      << "some <case>.json has no <case>.golden.json: run with CB_UPDATE_GOLDENS=1 and review";
}

}  // namespace
}  // namespace cb::providers
