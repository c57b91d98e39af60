#include "smartcommit/work_duration.hpp"

#include <gtest/gtest.h>

namespace cb::smartcommit {
namespace {

TEST(WorkDuration, AllUnitsUnderJiraDefaults) {
  auto d = parse_work_duration("1w 2d 4h 30m Total work logged");
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->text, "1w 2d 4h 30m");
  EXPECT_EQ(d->seconds, 40 * 3600 + 2 * 8 * 3600 + 4 * 3600 + 30 * 60);
  EXPECT_EQ(d->comment, "Total work logged");
}

TEST(WorkDuration, DecimalsAreRoundedToTheSecond) {
  auto d = parse_work_duration("1.5h");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->seconds, 5400);
  EXPECT_EQ(d->comment, "");
  auto third = parse_work_duration("0.333h");
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->seconds, 1199);  // 1198.8 s
  auto week = parse_work_duration("0.5w");
  ASSERT_TRUE(week.has_value());
  EXPECT_EQ(week->seconds, 72000);
}

TEST(WorkDuration, CompactTokensAndAnyOrder) {
  auto d = parse_work_duration("30m 1h30s?");
  ASSERT_FALSE(d.has_value());  // "1h30s?" begins like a duration but is not one
  auto ok = parse_work_duration("30m\t2d  review of   the PR ");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->text, "30m 2d");
  EXPECT_EQ(ok->seconds, 1800 + 57600);
  EXPECT_EQ(ok->comment, "review of   the PR");
}

TEST(WorkDuration, MalformedDurationsAreErrorsNotGuesses) {
  for (const char* arg : {"", "  ", "review", "2x", "1,5h", "1.5.h", "1.h", ".5h", "2H", "1h 30",
                          "1h 2h", "1h1h", "0h", "0.0001h", "1234567h", "1.2345h"}) {
    auto d = parse_work_duration(arg);
    EXPECT_FALSE(d.has_value()) << "'" << arg << "' gave " << (d ? d->text : "");
    if (!d) {
      EXPECT_EQ(d.error().code, ErrorCode::invalid_argument);
    }
  }
}

TEST(WorkDuration, ErrorMessagesNameTheProblem) {
  EXPECT_NE(parse_work_duration("1h 2h").error().message.find("given twice"), std::string::npos);
  EXPECT_NE(parse_work_duration("2x").error().message.find("'2x'"), std::string::npos);
  EXPECT_NE(parse_work_duration("0m").error().message.find("zero"), std::string::npos);
  EXPECT_NE(parse_work_duration("fixing").error().message.find("needs a duration"),
            std::string::npos);
}

TEST(WorkDuration, LargestAcceptedValueDoesNotOverflow) {
  auto d = parse_work_duration("999999.999w");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->seconds, 143999999856);
}

}  // namespace
}  // namespace cb::smartcommit
