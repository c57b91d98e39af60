// analyze() beyond the goldens: the fields of each command kind, grouping, and the JSON view.

#include "smartcommit/smart_commit.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "smartcommit/analysis_json.hpp"
#include "smartcommit/pattern_spec_json.hpp"

namespace cb::smartcommit {
namespace {

const PatternSet& jira() { return PatternSet::jira_default(); }

TEST(Analyze, TimeCommandCarriesDurationSecondsAndComment) {
  const auto a = analyze("PLAT-1 #time 1w 2d 4h 30m Total work logged", jira());
  ASSERT_EQ(a.commands.size(), 1U);
  const auto& c = a.commands[0];
  EXPECT_EQ(c.key, "PLAT-1");
  EXPECT_EQ(c.kind, CommandKind::time);
  EXPECT_EQ(c.command, "time");
  EXPECT_EQ(c.argument, "1w 2d 4h 30m Total work logged");
  EXPECT_EQ(c.duration, "1w 2d 4h 30m");
  EXPECT_EQ(c.seconds, 217800);
  EXPECT_EQ(c.comment, "Total work logged");
  EXPECT_EQ(c.line, 1U);
  EXPECT_TRUE(a.errors.empty());
}

TEST(Analyze, TransitionNameKeepsItsCommandWordAndNormalizesTheName) {
  const auto a = analyze("PLAT-2 #Start-Progress on it", jira());
  ASSERT_EQ(a.commands.size(), 1U);
  EXPECT_EQ(a.commands[0].kind, CommandKind::transition);
  EXPECT_EQ(a.commands[0].command, "Start-Progress");
  EXPECT_EQ(a.commands[0].transition, "start progress");
  EXPECT_EQ(a.commands[0].comment, "on it");
}

TEST(Analyze, KeysSharingCommandsAreGroupedByKeyInKeyOrder) {
  const auto a = analyze("B-2 doesn't count\nPLAT-2 PLAT-1 #comment x #resolve", jira());
  ASSERT_EQ(a.keys.size(), 2U);
  ASSERT_EQ(a.commands.size(), 4U);
  EXPECT_EQ(a.commands[0].key, "PLAT-2");
  EXPECT_EQ(a.commands[0].kind, CommandKind::comment);
  EXPECT_EQ(a.commands[1].key, "PLAT-2");
  EXPECT_EQ(a.commands[1].kind, CommandKind::transition);
  EXPECT_EQ(a.commands[2].key, "PLAT-1");
  EXPECT_EQ(a.commands[3].key, "PLAT-1");
}

TEST(Analyze, CommandsAfterLookalikesFilteredByAnAllowListGoToTheEarlierKeys) {
  auto set = PatternSet::compile({PatternSpec{PatternKind::jira, {}, {"PLAT"}}});
  ASSERT_TRUE(set.has_value());
  const auto a = analyze("PLAT-3 encode\nUTF-8 #comment done", *set);
  ASSERT_EQ(a.keys.size(), 1U);
  ASSERT_EQ(a.commands.size(), 1U);
  EXPECT_EQ(a.commands[0].key, "PLAT-3");
}

TEST(Analyze, KindsWithoutCommandsIgnoreHashtags) {
  auto set = PatternSet::compile({PatternSpec{PatternKind::github_issue, {}, {}}});
  ASSERT_TRUE(set.has_value());
  const auto a = analyze("fixes #12 #comment not Jira #resolve", *set);
  ASSERT_EQ(a.keys.size(), 1U);
  EXPECT_TRUE(a.keys[0].closing);
  EXPECT_TRUE(a.commands.empty());
  EXPECT_TRUE(a.errors.empty());
}

TEST(Analyze, IsPure) {
  const std::string message = "PLAT-4 PLAT-5 #time 1.5h x #close\n#comment y";
  const auto a = boost::json::serialize(analysis_json(analyze(message, jira())));
  const auto b = boost::json::serialize(analysis_json(analyze(message, jira())));
  EXPECT_EQ(a, b);
}

TEST(AnalysisJson, ShapeOfEachCommandKind) {
  const auto o =
      analysis_json(analyze("PLAT-6 #comment a #time 2h b #resolve c\nPLAT-6 #time 2x", jira()));
  EXPECT_EQ(
      boost::json::serialize(o),
      R"({"keys":[{"key":"PLAT-6","kind":"jira","closing":false}],)"
      R"("commands":[{"key":"PLAT-6","kind":"comment","command":"comment","argument":"a",)"
      R"("line":1,"comment":"a"},{"key":"PLAT-6","kind":"time","command":"time",)"
      R"("argument":"2h b","line":1,"duration":"2h","seconds":7200,"comment":"b"},)"
      R"({"key":"PLAT-6","kind":"transition","command":"resolve","argument":"c","line":1,)"
      R"("transition":"resolve","comment":"c"}],"errors":[{"line":2,"command":"#time 2x",)"
      R"("message":"malformed duration '2x': write <n>w <n>d <n>h <n>m, e.g. 1w 2d 1.5h 30m"}]})");
}

TEST(AnalysisErrors, LongCommandTextIsCut) {
  const auto a = analyze("PLAT-7 #time " + std::string(500, 'x'), jira());
  ASSERT_EQ(a.errors.size(), 1U);
  EXPECT_EQ(a.errors[0].command.size(), 200U);
}

TEST(PatternSpecJson, ReadsAndWritesSpecs) {
  auto spec = pattern_spec_from_json(boost::json::parse(
      R"j({"kind":"custom","regex":"(?P<key>X[0-9]+)","allowed_projects":["X"]})j"));
  ASSERT_TRUE(spec.has_value()) << spec.error().message;
  EXPECT_EQ(spec->kind, PatternKind::custom);
  EXPECT_EQ(spec->regex, "(?P<key>X[0-9]+)");
  EXPECT_EQ(spec->allowed_projects, (std::vector<std::string>{"X"}));
  EXPECT_EQ(boost::json::serialize(pattern_spec_json(*spec)),
            R"j({"kind":"custom","regex":"(?P<key>X[0-9]+)","allowed_projects":["X"]})j");
  auto jira_spec = pattern_spec_from_json(boost::json::parse(R"({"kind":"jira"})"));
  ASSERT_TRUE(jira_spec.has_value());
  EXPECT_EQ(boost::json::serialize(pattern_spec_json(*jira_spec)),
            R"({"kind":"jira","allowed_projects":[]})");
}

TEST(PatternSpecJson, RefusesWrongShapes) {
  for (const char* text :
       {R"([])", R"({})", R"({"kind":"JIRA"})", R"({"kind":1})", R"({"kind":"jira","regex":1})",
        R"({"kind":"jira","allowed_projects":"ABC"})", R"({"kind":"jira","allowed_projects":[1]})",
        R"({"kind":"jira","extra":true})"}) {
    auto spec = pattern_spec_from_json(boost::json::parse(text));
    ASSERT_FALSE(spec.has_value()) << text;
    EXPECT_EQ(spec.error().code, ErrorCode::invalid_argument) << text;
  }
}

}  // namespace
}  // namespace cb::smartcommit
