#include "smartcommit/story_key_pattern.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cb::smartcommit {
namespace {

using Keys = std::vector<std::string>;

StoryKeyPattern jira() {
  auto pattern = StoryKeyPattern::jira_default();
  EXPECT_TRUE(pattern.has_value());
  return *pattern;
}

Keys jira_keys(std::string_view message) { return jira().extract_keys(message); }

TEST(StoryKeyPatternJira, SmartCommitWithTimeAndComment) {
  EXPECT_EQ(jira_keys("NWA-481 #time 1.5h #comment fixed the login form"), Keys{"NWA-481"});
}

TEST(StoryKeyPatternJira, SeveralKeysInOrder) {
  EXPECT_EQ(jira_keys("JRA-123 JRA-234 JRA-345 #resolve"), (Keys{"JRA-123", "JRA-234", "JRA-345"}));
  EXPECT_EQ(jira_keys("JRA-234 JRA-123 #resolve"), (Keys{"JRA-234", "JRA-123"}));
}

TEST(StoryKeyPatternJira, RepeatedKeysAreDeduplicatedKeepingFirstAppearance) {
  EXPECT_EQ(jira_keys("ABC-2 ABC-1 fix\n\nABC-2 again, and ABC-1 and ABC-2"),
            (Keys{"ABC-2", "ABC-1"}));
}

TEST(StoryKeyPatternJira, KeysNextToPunctuation) {
  EXPECT_EQ(jira_keys("Fix crash (ABC-1)"), Keys{"ABC-1"});
  EXPECT_EQ(jira_keys("ABC-2: tidy up"), Keys{"ABC-2"});
  EXPECT_EQ(jira_keys("Done with ABC-3."), Keys{"ABC-3"});
  EXPECT_EQ(jira_keys("[ABC-10],ABC-11;\"ABC-12\"'ABC-13'"),
            (Keys{"ABC-10", "ABC-11", "ABC-12", "ABC-13"}));
  EXPECT_EQ(jira_keys("ABC-14-2"), Keys{"ABC-14"});  // the hyphen ends the number
}

TEST(StoryKeyPatternJira, KeyInUrlPathMatches) {
  // Documented: a key in a URL path is a key (people paste issue links into messages).
  EXPECT_EQ(jira_keys("see https://jira.example/browse/ABC-4 for details"), Keys{"ABC-4"});
}

TEST(StoryKeyPatternJira, LowercaseIsNotAKey) {
  EXPECT_TRUE(jira_keys("abc-5 is lowercase").empty());
  EXPECT_TRUE(jira_keys("Abc-5 mixed case").empty());
}

TEST(StoryKeyPatternJira, NumberZeroOrLeadingZeroIsNotAKey) {
  EXPECT_TRUE(jira_keys("ABC-0").empty());
  EXPECT_TRUE(jira_keys("ABC-012").empty());
}

TEST(StoryKeyPatternJira, OneLetterProjectIsNotAKey) { EXPECT_TRUE(jira_keys("A-1").empty()); }

TEST(StoryKeyPatternJira, NoMatchInsideLongerWords) {
  EXPECT_TRUE(jira_keys("xABC-12").empty());
  EXPECT_TRUE(jira_keys("ABC-12x").empty());
  EXPECT_TRUE(jira_keys("_ABC-12 ABC-12_ 9ABC-12").empty());
}

TEST(StoryKeyPatternJira, DigitsAndUnderscoresInProjectKey) {
  EXPECT_EQ(jira_keys("A1-7 AB_C-8 X2Y-9"), (Keys{"A1-7", "AB_C-8", "X2Y-9"}));
}

TEST(StoryKeyPatternJira, KeyLookalikesSuchAsUtf8Match) {
  // Documented current behaviour: UTF-8, SHA-256 and ISO-8859 have the shape of Jira keys and are
  // extracted. A per-repository allow-list of project keys (a later issue) drops them.
  EXPECT_EQ(jira_keys("Read files as UTF-8"), Keys{"UTF-8"});
  EXPECT_EQ(jira_keys("ABC-9 use SHA-256 not ISO-8859"), (Keys{"ABC-9", "SHA-256", "ISO-8859"}));
}

TEST(StoryKeyPatternJira, NonAsciiTextAroundKeys) {
  EXPECT_EQ(jira_keys("Ünïcödé ABC-7 ✓"), Keys{"ABC-7"});
  EXPECT_EQ(jira_keys("修复ABC-8の不具合"), Keys{"ABC-8"});  // \b is ASCII: CJK is not a word char
  EXPECT_EQ(jira_keys("Ä\xff\xfe ABC-9 \xc3"), Keys{"ABC-9"});  // invalid UTF-8 tolerated
}

TEST(StoryKeyPatternJira, EmptyAndKeylessMessages) {
  EXPECT_TRUE(jira_keys("").empty());
  EXPECT_TRUE(jira_keys("Refactor the parser, no ticket").empty());
  EXPECT_TRUE(jira_keys("-123 ABC- ABC 123").empty());
}

TEST(StoryKeyPatternJira, MultilineMessage) {
  EXPECT_EQ(jira_keys("Summary line\n\nBody mentions PROJ-42\nRefs: PROJ-43\r\nPROJ-44"),
            (Keys{"PROJ-42", "PROJ-43", "PROJ-44"}));
}

TEST(StoryKeyPatternJira, OneMegabyteMessageWithKeyAtTheEnd) {
  std::string message(1 << 20, 'x');
  for (std::size_t i = 80; i < message.size(); i += 81) message[i] = '\n';
  message += " LAST-999";
  EXPECT_EQ(jira_keys(message), Keys{"LAST-999"});
}

TEST(StoryKeyPatternJira, MergePullRequestMessage) {
  EXPECT_EQ(jira_keys("Merge pull request #69 in NWA/webapp from feature/ABC-8-login to master\n\n"
                      "* commit 'a1b2c3':\n  ABC-8 login form"),
            Keys{"ABC-8"});
}

TEST(StoryKeyPatternJira, BranchNameInMergeMessage) {
  EXPECT_EQ(jira_keys("Merge branch 'bugfix/NWA-12-null-check' into develop"), Keys{"NWA-12"});
}

TEST(StoryKeyPatternJira, KeysAtStartAndEndOfText) {
  EXPECT_EQ(jira_keys("ABC-1"), Keys{"ABC-1"});
  EXPECT_EQ(jira_keys("ABC-1 DEF-2"), (Keys{"ABC-1", "DEF-2"}));
  EXPECT_EQ(jira_keys("ABC-1DEF-2"), Keys{});  // glued: neither is delimited
}

TEST(StoryKeyPatternJira, CopiesShareThePatternAndReportItsSource) {
  const StoryKeyPattern a = jira();
  const StoryKeyPattern b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(b.extract_keys("X ABC-5"), Keys{"ABC-5"});
  EXPECT_EQ(a.pattern(), StoryKeyPattern::kJiraDefaultPattern);
}

TEST(StoryKeyPatternCustom, RallyStyleKeys) {
  auto pattern = StoryKeyPattern::compile("(?P<key>US[0-9]+)");
  ASSERT_TRUE(pattern.has_value()) << pattern.error().message;
  EXPECT_EQ(pattern->extract_keys("US123 and US45, again US123; DE7 ignored"),
            (Keys{"US123", "US45"}));
  EXPECT_TRUE(pattern->extract_keys("nothing here").empty());
}

TEST(StoryKeyPatternCustom, KeyGroupNeedNotBeTheFirstGroup) {
  auto pattern = StoryKeyPattern::compile(R"((AB)#(?P<key>[0-9]+)\b)");
  ASSERT_TRUE(pattern.has_value()) << pattern.error().message;
  EXPECT_EQ(pattern->extract_keys("Fixes AB#12, AB#7 and AB#12"), (Keys{"12", "7"}));
}

TEST(StoryKeyPatternCustom, WordBoundaryKeepsContextBetweenMatches) {
  // After US12 the scan continues at "US34"; \b must still see the '2' before it.
  auto pattern = StoryKeyPattern::compile(R"(\b(?P<key>US[0-9]+))");
  ASSERT_TRUE(pattern.has_value());
  EXPECT_EQ(pattern->extract_keys("US12US34 US56"), (Keys{"US12", "US56"}));
}

TEST(StoryKeyPatternCustom, EmptyMatchesDoNotLoopForever) {
  auto pattern = StoryKeyPattern::compile("(?P<key>[A-Z]*)");
  ASSERT_TRUE(pattern.has_value());
  EXPECT_EQ(pattern->extract_keys("ab CD ef GH"), (Keys{"CD", "GH"}));
  EXPECT_TRUE(pattern->extract_keys("").empty());
}

TEST(StoryKeyPatternCustom, InvalidPatternCarriesRe2Message) {
  auto pattern = StoryKeyPattern::compile("(?P<key>US[0-9+");
  ASSERT_FALSE(pattern.has_value());
  EXPECT_EQ(pattern.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(pattern.error().message.find("missing ]"), std::string::npos)
      << pattern.error().message;

  auto backref = StoryKeyPattern::compile(R"((?P<key>a)\1)");  // RE2 has no backreferences
  ASSERT_FALSE(backref.has_value());
  EXPECT_EQ(backref.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(backref.error().message.find("invalid escape sequence"), std::string::npos)
      << backref.error().message;
}

TEST(StoryKeyPatternCustom, PatternWithoutKeyGroupIsRefused) {
  for (const char* source : {"US[0-9]+", "(US[0-9]+)", "(?P<id>US[0-9]+)"}) {
    auto pattern = StoryKeyPattern::compile(source);
    ASSERT_FALSE(pattern.has_value()) << source;
    EXPECT_EQ(pattern.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(pattern.error().message.find("'key'"), std::string::npos) << pattern.error().message;
  }
}

}  // namespace
}  // namespace cb::smartcommit
