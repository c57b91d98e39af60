// Limits stated in characters count characters (UTF-8 code points), not bytes; times must be
// dates of the calendar.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "admin/admin_service.hpp"
#include "auth/secret_box.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::admin {
namespace {

namespace fs = std::filesystem;

constexpr UnixMillis kNow = 1'772'000'000'000;

/// `n` times the two-byte character "é".
std::string e_acute(std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += "\xC3\xA9";
  return out;
}

class TokenValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-admin-validation-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    admin_ = std::make_unique<AdminService>(*store_, box_, clock_);
    ASSERT_TRUE(admin_->create_org("Northwind").has_value());
  }
  void TearDown() override {
    admin_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<CreatedToken> create(const std::string& name, const std::string& description = "") {
    return admin_->create_token("Northwind", name, auth::TokenType::webhook, description,
                                std::nullopt, Actor{"cli:tester", ""});
  }

  fs::path dir_;
  ManualClock clock_{kNow};
  auth::SecretBox box_ = auth::SecretBox::from_key(std::string(32, 'v'));
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<AdminService> admin_;
};

TEST_F(TokenValidationTest, NameLimitCountsCharactersNotBytes) {
  auto ok = create(e_acute(100));  // 100 characters, 200 bytes
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->record.name, e_acute(100));
  auto too_long = create(e_acute(101));
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(too_long.error().message, "name: longer than 100 characters");
}

TEST_F(TokenValidationTest, DescriptionLimitCountsCharactersNotBytes) {
  auto ok = create("a", e_acute(1000));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  auto too_long = create("b", e_acute(1001));
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().message, "description: longer than 1000 characters");
}

TEST(ParseUtcTimeTest, AcceptsUtcWithOptionalFraction) {
  EXPECT_EQ(parse_utc_time("2026-03-01T09:15:00Z").value_or(-1), 1'772'356'500'000);
  EXPECT_EQ(parse_utc_time("2026-03-01T09:15:00.250Z").value_or(-1), 1'772'356'500'250);
  EXPECT_TRUE(parse_utc_time("2028-02-29T00:00:00Z").has_value());  // a leap year
}

TEST(ParseUtcTimeTest, RefusesDatesThatDoNotExist) {
  for (const char* bad : {"2027-02-29T00:00:00Z", "2027-02-31T00:00:00Z", "2027-04-31T12:00:00Z",
                          "2027-13-01T00:00:00Z", "2027-01-01T24:00:00Z", "2027-01-01T00:00:00",
                          "2027-01-01T00:00:00+01:00", "tomorrow", ""}) {
    auto r = parse_utc_time(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << bad;
    }
  }
}

}  // namespace
}  // namespace cb::admin
