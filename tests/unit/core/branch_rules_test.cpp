#include "core/branch_rules.hpp"

#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cb {
namespace {

using ::testing::HasSubstr;

struct MatchCase {
  const char* spec;
  const char* branch;
  bool expected;
};

std::ostream& operator<<(std::ostream& os, const MatchCase& c) {
  return os << "spec=\"" << c.spec << "\" branch=\"" << c.branch << "\" expected=" << c.expected;
}

class BranchRulesMatchTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(BranchRulesMatchTest, Matches) {
  const MatchCase& c = GetParam();
  auto rules = BranchRules::parse(c.spec);
  ASSERT_TRUE(rules.has_value()) << rules.error().message;
  EXPECT_EQ(rules->matches(c.branch), c.expected);
}

// clang-format off
const MatchCase kMatchCases[] = {
    // literals
    {"main", "main", true},
    {"main", "Main", false},                      // case-sensitive
    {"main", "main2", false},
    {"main", "xmain", false},
    {"release/2.1", "release/2.1", true},
    {"release/2.1", "release/201", false},        // '.' is literal, not "any char"
    {"v1.0", "v1x0", false},
    // '*' never crosses '/'
    {"release/*", "release/2.1", true},
    {"release/*", "release/", true},              // '*' may match nothing
    {"release/*", "release", false},
    {"release/*", "release/2.1/hotfix", false},
    {"*", "main", true},
    {"*", "feature/x", false},
    {"feature/*-fix", "feature/login-fix", true},
    {"feature/*-fix", "feature/a/b-fix", false},
    {"*/*", "a/b", true},
    {"*/*", "a/b/c", false},
    {"rel*se", "release", true},
    // '**'
    {"**", "a/b/c", true},
    {"release/**", "release/a/b", true},
    {"release/**", "release/2.1", true},
    {"release/**", "release", false},
    {"release/**", "releases/a", false},
    {"**/hotfix", "hotfix", true},                // zero segments
    {"**/hotfix", "a/hotfix", true},
    {"**/hotfix", "a/b/c/hotfix", true},
    {"**/hotfix", "ahotfix", false},
    {"**/hotfix", "a/hotfix/b", false},
    {"a/**/b", "a/b", true},
    {"a/**/b", "a/x/y/b", true},
    {"a/**/b", "a/xb", false},
    {"feat**", "feature/a/b", true},              // not a whole segment: plain "anything"
    {"***", "x/y", true},                         // a run of three is '**'
    // '?'
    {"v?", "v1", true},
    {"v?", "v12", false},
    {"v?", "v", false},
    {"a?b", "a/b", false},                        // '?' never matches '/'
    {"feature/?nicode", "feature/\xC3\xBCnicode", true},  // one code point, two bytes
    {"feature/??nicode", "feature/\xC3\xBCnicode", false},
    // non-ASCII names
    {"feature/\xC3\xBCn\xC3\xAF" "code", "feature/\xC3\xBCn\xC3\xAF" "code", true},
    {"feature/\xC3\xBCn\xC3\xAF" "code", "feature/unicode", false},
    {"feature/*", "feature/\xC3\xBCn\xC3\xAF" "code", true},
    {"*/\xE6\x97\xA5\xE6\x9C\xAC", "team/\xE6\x97\xA5\xE6\x9C\xAC", true},
    {"emoji-?", "emoji-\xF0\x9F\x9A\x80", true},  // 4-byte code point
    // exclusions
    {"release/*,!release/old", "release/2.1", true},
    {"release/*,!release/old", "release/old", false},
    {"release/**, !release/*-rc*", "release/2.1-rc1", false},
    {"!release/old,release/*", "release/old", false},  // order does not matter
    {"main,!main", "main", false},
    // only exclusions: everything except
    {"!main", "develop", true},
    {"!main", "main", false},
    {"!main,!release/**", "release/1/2", false},
    {"!main,!release/**", "feature/x", true},
    // empty branch, trailing slash
    {"*", "", false},
    {"**", "", false},
    {"!main", "", false},
    {"release/", "release/", true},
    {"release/", "release", false},
    {"main", "main/", false},
    {"**/", "a/", true},
    // whitespace in the spec is trimmed
    {"  main ,\tdevelop  ", "develop", true},
    {" ! main , dev", "main", false},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Table, BranchRulesMatchTest, ::testing::ValuesIn(kMatchCases));

TEST(BranchRulesTest, SpecIsNormalized) {
  auto rules = BranchRules::parse("  main ,release/* ,  ! release/old ");
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ(rules->spec(), "main,release/*,!release/old");
  auto again = BranchRules::parse(rules->spec());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->spec(), rules->spec());
}

TEST(BranchRulesTest, ExcludingRuleNamesTheRule) {
  auto rules = BranchRules::parse("release/**,!release/old-*,!**/wip");
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ(rules->excluding_rule("release/old-2"), "!release/old-*");
  EXPECT_EQ(rules->excluding_rule("release/x/wip"), "!**/wip");
  EXPECT_EQ(rules->excluding_rule("release/2.1"), std::nullopt);
  EXPECT_EQ(rules->excluding_rule("main"), std::nullopt);
  EXPECT_EQ(rules->excluding_rule(""), std::nullopt);
}

TEST(BranchRulesTest, ExcludingRuleIsTheFirstMatchingExclusion) {
  auto rules = BranchRules::parse("!a*,!ab*");
  ASSERT_TRUE(rules.has_value());
  EXPECT_EQ(rules->excluding_rule("abc"), "!a*");
}

TEST(BranchRulesTest, EmptySpecIsRejected) {
  for (const char* spec : {"", "   ", "\t"}) {
    auto rules = BranchRules::parse(spec);
    ASSERT_FALSE(rules.has_value()) << spec;
    EXPECT_EQ(rules.error().code, ErrorCode::invalid_argument);
  }
}

TEST(BranchRulesTest, EmptyItemIsRejectedWithItsPosition) {
  auto rules = BranchRules::parse("main,,dev");
  ASSERT_FALSE(rules.has_value());
  EXPECT_EQ(rules.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(rules.error().message, HasSubstr("branch rule 2"));
  EXPECT_THAT(rules.error().message, HasSubstr("byte offset 5"));

  auto trailing = BranchRules::parse("main, dev ,  ");
  ASSERT_FALSE(trailing.has_value());
  EXPECT_THAT(trailing.error().message, HasSubstr("branch rule 3"));

  auto leading = BranchRules::parse(",main");
  ASSERT_FALSE(leading.has_value());
  EXPECT_THAT(leading.error().message, HasSubstr("branch rule 1"));
}

TEST(BranchRulesTest, BareExclamationIsRejected) {
  auto rules = BranchRules::parse("main, ! ");
  ASSERT_FALSE(rules.has_value());
  EXPECT_EQ(rules.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(rules.error().message, HasSubstr("branch rule 2"));
}

TEST(BranchRulesTest, PathologicalPatternStaysFast) {
  // A classic exponential case for naive backtracking matchers.
  std::string glob;
  for (int i = 0; i < 40; ++i) {
    glob += "*a";
  }
  glob += "b";
  std::string spec = glob + ",**a**a**a**a**a**a**a**a**a**a**b";
  const std::string branch(4000, 'a');
  auto rules = BranchRules::parse(spec);
  ASSERT_TRUE(rules.has_value());
  // Polynomial work: this returns at once; an exponential matcher would never finish.
  EXPECT_FALSE(rules->matches(branch));
  EXPECT_TRUE(rules->matches(branch + "b"));
}

}  // namespace
}  // namespace cb
