#include "smartcommit/pattern_set.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace cb::smartcommit {
namespace {

std::vector<std::string> keys_of(const PatternSet& set, std::string_view message) {
  std::vector<std::string> out;
  for (const auto& m : set.extract(message)) out.push_back(m.key);
  return out;
}

PatternSet compiled(std::vector<PatternSpec> specs) {
  auto set = PatternSet::compile(specs);
  EXPECT_TRUE(set.has_value()) << set.error().message;
  return set ? *set : PatternSet::jira_default();
}

PatternSpec custom(std::string regex, std::vector<std::string> allowed = {}) {
  return PatternSpec{PatternKind::custom, std::move(regex), std::move(allowed)};
}

using Keys = std::vector<std::string>;

TEST(PatternSet, JiraDefaultFindsKeysInOrderOnce) {
  EXPECT_EQ(keys_of(PatternSet::jira_default(), "ABC-2 fix, see ABC-1 and ABC-2 (DEF-3)"),
            (Keys{"ABC-2", "ABC-1", "DEF-3"}));
}

TEST(PatternSet, KindNamesRoundTrip) {
  for (auto k : {PatternKind::jira, PatternKind::azure_boards, PatternKind::github_issue,
                 PatternKind::rally, PatternKind::versionone, PatternKind::custom}) {
    EXPECT_EQ(parse_pattern_kind(pattern_kind_name(k)), k);
  }
  EXPECT_FALSE(parse_pattern_kind("JIRA").has_value());
  EXPECT_FALSE(parse_pattern_kind("").has_value());
}

TEST(PatternSet, EmptySetIsRefused) {
  auto set = PatternSet::compile({});
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code, ErrorCode::invalid_argument);
}

TEST(PatternSet, InvalidCustomPatternCarriesRe2Message) {
  auto set = PatternSet::compile({custom("(?P<key>US[0-9+")});
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(set.error().message.find("missing ]"), std::string::npos) << set.error().message;
  EXPECT_NE(set.error().message.find("pattern 0 (custom)"), std::string::npos);
}

TEST(PatternSet, BackreferencesAreRefusedByRe2) {
  auto set = PatternSet::compile({custom(R"((?P<key>a)\1)")});
  ASSERT_FALSE(set.has_value());
  EXPECT_NE(set.error().message.find("invalid escape sequence"), std::string::npos)
      << set.error().message;
}

TEST(PatternSet, CustomPatternWithoutKeyGroupIsRefused) {
  for (const char* source : {"US[0-9]+", "(US[0-9]+)", "(?P<id>US[0-9]+)"}) {
    auto set = PatternSet::compile({custom(source)});
    ASSERT_FALSE(set.has_value()) << source;
    EXPECT_NE(set.error().message.find("no named group 'key'"), std::string::npos)
        << set.error().message;
  }
}

TEST(PatternSet, ErrorNamesTheFaultyPatternOfASet) {
  auto set = PatternSet::compile({PatternSpec{PatternKind::jira, {}, {}}, custom("([")});
  ASSERT_FALSE(set.has_value());
  EXPECT_NE(set.error().message.find("pattern 1 (custom)"), std::string::npos)
      << set.error().message;
}

TEST(PatternSet, BuiltinKindTakesNoRegexAndCustomNeedsOne) {
  auto builtin = PatternSet::compile({PatternSpec{PatternKind::jira, "(?P<key>X)", {}}});
  ASSERT_FALSE(builtin.has_value());
  EXPECT_NE(builtin.error().message.find("takes no regex"), std::string::npos);
  auto empty_custom = PatternSet::compile({custom("")});
  ASSERT_FALSE(empty_custom.has_value());
  EXPECT_NE(empty_custom.error().message.find("needs a regex"), std::string::npos);
}

TEST(PatternSet, AllowListOnGithubIssuesIsRefused) {
  auto set = PatternSet::compile({PatternSpec{PatternKind::github_issue, {}, {"ABC"}}});
  ASSERT_FALSE(set.has_value());
  EXPECT_NE(set.error().message.find("no project key"), std::string::npos);
}

TEST(PatternSet, BlankProjectInAllowListIsRefused) {
  for (const char* p : {"", "A B", "A\nB"}) {
    auto set = PatternSet::compile({PatternSpec{PatternKind::jira, {}, {p}}});
    EXPECT_FALSE(set.has_value()) << p;
  }
}

TEST(PatternSet, AllowListDropsLookalikes) {
  const auto set = compiled({PatternSpec{PatternKind::jira, {}, {"PLAT", "NWA"}}});
  EXPECT_EQ(keys_of(set, "UTF-8 ISO-8601 SHA-256 PLAT-9 NWA-1 ABC-2"), (Keys{"PLAT-9", "NWA-1"}));
  EXPECT_EQ(keys_of(PatternSet::jira_default(), "UTF-8 ISO-8601 SHA-256"),
            (Keys{"UTF-8", "ISO-8601", "SHA-256"}));
}

TEST(PatternSet, AllowListIsCaseSensitiveLikeKeys) {
  const auto set = compiled({PatternSpec{PatternKind::jira, {}, {"plat"}}});
  EXPECT_TRUE(keys_of(set, "PLAT-9").empty());
}

TEST(PatternSet, CustomAllowListUsesProjectGroupOrTextBeforeHyphen) {
  const auto with_group = compiled({custom(R"(\b(?P<key>(?P<project>[A-Z]+)_[0-9]+)\b)", {"SUP"})});
  EXPECT_EQ(keys_of(with_group, "SUP_1 OPS_2"), (Keys{"SUP_1"}));
  const auto without_group = compiled({custom(R"(\b(?P<key>[a-z]+-[0-9]+)\b)", {"case"})});
  EXPECT_EQ(keys_of(without_group, "case-1 bug-2"), (Keys{"case-1"}));
}

TEST(PatternSet, EarlierPatternWinsTheSameKey) {
  const auto set =
      compiled({custom(R"((?P<key>[A-Z]+-[0-9]+))"), PatternSpec{PatternKind::jira, {}, {}}});
  const auto keys = set.extract("PLAT-5");
  ASSERT_EQ(keys.size(), 1U);
  EXPECT_EQ(keys[0].kind, PatternKind::custom);
  EXPECT_EQ(keys[0].pattern_index, 0U);
}

TEST(PatternSet, KeysOfSeveralPatternsComeInMessageOrder) {
  const auto& set = PatternSet::all_builtins();
  const auto keys = set.extract("S-00005 US4 #3 AB#2 ABC-1");
  ASSERT_EQ(keys.size(), 5U);
  EXPECT_EQ(keys[0].key, "S-00005");
  EXPECT_EQ(keys[0].kind, PatternKind::versionone);
  EXPECT_EQ(keys[1].kind, PatternKind::rally);
  EXPECT_EQ(keys[2].kind, PatternKind::github_issue);
  EXPECT_EQ(keys[3].kind, PatternKind::azure_boards);
  EXPECT_EQ(keys[4].kind, PatternKind::jira);
  EXPECT_EQ(keys[4].offset, 20U);
}

TEST(PatternSet, ClosingKeywordsMarkGithubAndAzureKeys) {
  const auto github = compiled({PatternSpec{PatternKind::github_issue, {}, {}}});
  const auto keys = github.extract("Fixes #1, closes: #2, see #3, fixed #3, resolved #4, fix#5");
  ASSERT_EQ(keys.size(), 4U);
  EXPECT_TRUE(keys[0].closing);
  EXPECT_TRUE(keys[1].closing);
  EXPECT_EQ(keys[2].key, "#3");
  EXPECT_TRUE(keys[2].closing);  // a later closing mention closes it
  EXPECT_TRUE(keys[3].closing);
  const auto azure = compiled({PatternSpec{PatternKind::azure_boards, {}, {}}});
  const auto ab = azure.extract("Fixes AB#1, AB#2 and resolves AB#3");
  ASSERT_EQ(ab.size(), 3U);
  EXPECT_TRUE(ab[0].closing);
  EXPECT_FALSE(ab[1].closing);  // Azure: only the item right after the keyword
  EXPECT_FALSE(ab[2].closing);  // "resolve" is not an Azure Boards keyword
}

TEST(PatternSet, KeysInUrlsAreIgnoredButJiraBrowseLinksCount) {
  const auto& set = PatternSet::jira_default();
  EXPECT_EQ(keys_of(set, "https://jira.example/browse/ABC-1"), (Keys{"ABC-1"}));
  EXPECT_EQ(keys_of(set, "(https://jira.example/browse/ABC-2)."), (Keys{"ABC-2"}));
  EXPECT_EQ(keys_of(set, "https://jira.example/browse/ABC-3?focusedCommentId=9"), (Keys{"ABC-3"}));
  EXPECT_TRUE(keys_of(set, "https://ci.example/job/ABC-4/").empty());
  EXPECT_TRUE(keys_of(set, "https://x.example/?q=ABC-5").empty());
  EXPECT_TRUE(keys_of(set, "https://jira.example/browse/ABC-6-old").empty());
  EXPECT_EQ(keys_of(set, "ABC-7 https://x.example/ABC-7 ABC-8"), (Keys{"ABC-7", "ABC-8"}));
  EXPECT_EQ(keys_of(set, "no scheme ://ABC-9 here"), (Keys{"ABC-9"}));
  const auto github = compiled({PatternSpec{PatternKind::github_issue, {}, {}}});
  EXPECT_TRUE(keys_of(github, "https://github.example/o/r/pull/1 #/12").size() == 0U);
}

TEST(PatternSet, ManyKeysAreDeduplicatedPastTheLinearSearch) {
  std::string message;
  for (int round = 0; round < 3; ++round) {
    for (int i = 1; i <= 40; ++i) message += "KEY-" + std::to_string(i) + " ";
  }
  const auto keys = keys_of(PatternSet::jira_default(), message);
  ASSERT_EQ(keys.size(), 40U);
  EXPECT_EQ(keys.front(), "KEY-1");
  EXPECT_EQ(keys.back(), "KEY-40");
}

TEST(PatternSet, OccurrencesKeepRepeatedKeys) {
  const auto all = PatternSet::jira_default().occurrences("ABC-1 ABC-2 ABC-1");
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[2].key, "ABC-1");
  EXPECT_EQ(all[2].offset, 12U);
}

TEST(PatternSet, EmptyMatchesOfCustomPatternsDoNotLoop) {
  const auto set = compiled({custom("(?P<key>[A-Z]*)")});
  EXPECT_EQ(keys_of(set, "ab CD ef"), (Keys{"CD"}));
}

TEST(PatternSet, InvalidUtf8IsTolerated) {
  EXPECT_EQ(keys_of(PatternSet::all_builtins(), std::string("\xff\xfe ABC-1 \xc3 #2 \x80")),
            (Keys{"ABC-1", "#2"}));
}

// RE2 matches in linear time: a pattern that makes backtracking engines take exponential time
// on this input ((a+)+$ over many a's and a final mismatch) returns at once. No timing assert:
// a backtracking engine would simply not finish.
TEST(PatternSet, CatastrophicBacktrackingPatternFinishesAtOnce) {
  const auto set = compiled({custom("(?P<key>(a+)+)$")});
  const std::string message = std::string(100'000, 'a') + "!";
  EXPECT_TRUE(set.extract(message).empty());
  const auto nested = compiled({custom(R"((?P<key>(x+x+)+y))")});
  EXPECT_TRUE(nested.extract(std::string(100'000, 'x')).empty());
  const auto matching = compiled({custom("(?P<key>(a+)+)!")});
  const auto keys = matching.extract(message);
  ASSERT_EQ(keys.size(), 1U);
  EXPECT_EQ(keys[0].key.size(), 100'000U);
}

TEST(PatternSet, BuiltinsAreExposed) {
  EXPECT_EQ(PatternSet::builtin_regex(PatternKind::jira),
            R"(\b(?P<key>[A-Z][A-Z0-9_]+-[1-9][0-9]*)\b)");
  EXPECT_TRUE(PatternSet::builtin_regex(PatternKind::custom).empty());
  EXPECT_EQ(PatternSet::all_builtins().specs().size(), 5U);
  EXPECT_TRUE(PatternSet::jira_default().takes_commands());
  EXPECT_FALSE(compiled({PatternSpec{PatternKind::rally, {}, {}}}).takes_commands());
}

}  // namespace
}  // namespace cb::smartcommit

namespace cb::smartcommit {
namespace {

// The built-in kinds narrow the message before RE2 looks (hyphen runs, word runs, '#' numbers);
// the same regex as a custom pattern is searched over the whole message. Both must find the
// same keys at the same offsets on any text (no URLs here: their rule differs by kind).
TEST(PatternSetPrefilter, BuiltinsFindWhatAFullSearchFinds) {
  static constexpr const char* kPieces[] = {
      "ABC-1", "abc-2", "A-3", "AB-0",  "AB-012",  "X_9-4",    "9AB-5",    "US12", "us12",
      "DE0",   "TA7x",  "F9",  "TC3_",  "S-01234", "D-1234",   "TK-00042", "AB#5", "ab#6",
      "#7",    "#0",    "x#8", "fixes", "Closes:", "resolved", "-",        "#",    " ",
      "  ",    "\n",    "\t",  ",",     ".",       "(",        ")",        "[",    "]",
      "ä",     "日",    "_",   "1",     "Z",       "-9",       "#comment", "US",   "AB",
      "--",    "12",    "é-3", "UTF-8", "'"};
  std::mt19937_64 rng(7);
  std::vector<std::pair<PatternKind, std::string>> kinds;
  for (auto k : {PatternKind::jira, PatternKind::azure_boards, PatternKind::github_issue,
                 PatternKind::rally, PatternKind::versionone}) {
    kinds.emplace_back(k, std::string(PatternSet::builtin_regex(k)));
  }
  for (const auto& [kind, regex] : kinds) {
    const auto builtin = compiled({PatternSpec{kind, {}, {}}});
    const auto full = compiled({PatternSpec{PatternKind::custom, regex, {}}});
    for (int round = 0; round < 3000; ++round) {
      std::string message;
      const std::size_t pieces = 1 + rng() % 40;
      for (std::size_t i = 0; i < pieces; ++i) {
        message += kPieces[rng() % std::size(kPieces)];
        if (rng() % 2 == 0) message += ' ';
      }
      const auto a = builtin.occurrences(message);
      const auto b = full.occurrences(message);
      ASSERT_EQ(a.size(), b.size()) << pattern_kind_name(kind) << ": '" << message << "'";
      for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].key, b[i].key) << pattern_kind_name(kind) << ": '" << message << "'";
        EXPECT_EQ(a[i].offset, b[i].offset) << pattern_kind_name(kind) << ": '" << message << "'";
      }
    }
  }
}

TEST(PatternSetPrefilter, ClosingKeywordAfterAnEarlierKeyOnTheSameLine) {
  const auto github = compiled({PatternSpec{PatternKind::github_issue, {}, {}}});
  const auto keys = github.extract("#1 fixes #2, #3 closes #4");
  ASSERT_EQ(keys.size(), 4U);
  EXPECT_FALSE(keys[0].closing);
  EXPECT_TRUE(keys[1].closing);
  EXPECT_FALSE(keys[2].closing);
  EXPECT_TRUE(keys[3].closing);
}

}  // namespace
}  // namespace cb::smartcommit
