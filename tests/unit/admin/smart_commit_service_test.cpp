// SmartCommitService over a real SQLite store (migration 0008): validation by compiling, limits,
// pages, removal, audit events and the org's compiled set.

#include "admin/smart_commit_service.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "store/sqlite/sqlite_store.hpp"

namespace cb::admin {
namespace {

namespace fs = std::filesystem;
using smartcommit::PatternKind;
using smartcommit::PatternSpec;
using ::testing::HasSubstr;

class SmartCommitServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-smart-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto opened = store::sqlite::SqliteStore::open(dir_ / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    service_ = std::make_unique<SmartCommitService>(*store_, clock_);
    auto org = store_->create_org("northwind", clock_.now_ms());
    ASSERT_TRUE(org.has_value());
    org_id_ = org->id;
    ASSERT_TRUE(store_->create_org("contoso", clock_.now_ms()).has_value());
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::vector<std::string> keys(const std::string& org, std::string_view message) {
    auto set = service_->pattern_set(org);
    EXPECT_TRUE(set.has_value()) << set.error().message;
    std::vector<std::string> out;
    if (set) {
      for (const auto& k : set->extract(message)) out.push_back(k.key);
    }
    return out;
  }

  fs::path dir_;
  ManualClock clock_{1'772'000'000'000};
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  std::unique_ptr<SmartCommitService> service_;
  std::int64_t org_id_ = 0;
  const Actor actor_{"token:abc", "203.0.113.9"};
};

using Keys = std::vector<std::string>;

TEST_F(SmartCommitServiceTest, AnOrgWithoutPatternsUsesTheJiraBuiltin) {
  EXPECT_EQ(keys("northwind", "ABC-1 AB#2 US3 UTF-8"), (Keys{"ABC-1", "UTF-8"}));
}

TEST_F(SmartCommitServiceTest, AddedPatternsApplyInOrderWithAllowLists) {
  auto jira =
      service_->add_pattern("northwind", PatternSpec{PatternKind::jira, {}, {"ABC"}}, actor_);
  ASSERT_TRUE(jira.has_value()) << jira.error().message;
  EXPECT_EQ(jira->kind, "jira");
  EXPECT_EQ(jira->allowed_projects, (std::vector<std::string>{"ABC"}));
  EXPECT_EQ(jira->created_by, "token:abc");
  EXPECT_EQ(jira->created_at_ms, clock_.now_ms());
  auto azure = service_->add_pattern("northwind", PatternSpec{PatternKind::azure_boards, {}, {}});
  ASSERT_TRUE(azure.has_value()) << azure.error().message;
  EXPECT_GT(azure->id, jira->id);
  EXPECT_EQ(keys("northwind", "ABC-1 AB#2 US3 UTF-8"), (Keys{"ABC-1", "AB#2"}));
  EXPECT_EQ(keys("contoso", "ABC-1 AB#2 UTF-8"), (Keys{"ABC-1", "UTF-8"}));  // other org: default
}

TEST_F(SmartCommitServiceTest, InvalidRegexIsRefusedWithRe2sMessageAndNotStored) {
  auto r = service_->add_pattern("northwind", PatternSpec{PatternKind::custom, "(?P<key>x", {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(r.error().message, HasSubstr("missing )"));
  EXPECT_THAT(r.error().message, ::testing::StartsWith("invalid RE2 pattern"));
  auto no_key =
      service_->add_pattern("northwind", PatternSpec{PatternKind::custom, "CASE-[0-9]+", {}});
  ASSERT_FALSE(no_key.has_value());
  EXPECT_THAT(no_key.error().message, HasSubstr("no named group 'key'"));
  auto listed = service_->list_patterns("northwind", PageRequest{});
  ASSERT_TRUE(listed.has_value());
  EXPECT_TRUE(listed->items.empty());
}

TEST_F(SmartCommitServiceTest, LimitsAreEnforced) {
  auto long_regex = service_->add_pattern(
      "northwind", PatternSpec{PatternKind::custom, "(?P<key>" + std::string(1000, 'a') + ")", {}});
  ASSERT_FALSE(long_regex.has_value());
  EXPECT_THAT(long_regex.error().message, HasSubstr("regex: longer than 1000 bytes"));
  for (std::size_t i = 0; i < kMaxSmartCommitPatterns; ++i) {
    ASSERT_TRUE(service_->add_pattern("northwind", PatternSpec{PatternKind::rally, {}, {}}));
  }
  auto one_more = service_->add_pattern("northwind", PatternSpec{PatternKind::rally, {}, {}});
  ASSERT_FALSE(one_more.has_value());
  EXPECT_EQ(one_more.error().code, ErrorCode::conflict);
}

TEST_F(SmartCommitServiceTest, UnknownOrgIsNotFound) {
  auto r = service_->add_pattern("nobody", PatternSpec{PatternKind::jira, {}, {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_EQ(service_->pattern_set("nobody").error().code, ErrorCode::not_found);
}

TEST_F(SmartCommitServiceTest, ListPagesByCursor) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(service_->add_pattern("northwind", PatternSpec{PatternKind::jira, {}, {}}));
  }
  auto first = service_->list_patterns("northwind", PageRequest{2, ""});
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->items.size(), 2U);
  ASSERT_FALSE(first->next_cursor.empty());
  auto rest = service_->list_patterns("northwind", PageRequest{10, first->next_cursor});
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->items.size(), 3U);
  EXPECT_TRUE(rest->next_cursor.empty());
  EXPECT_GT(rest->items.front().id, first->items.back().id);
  EXPECT_FALSE(service_->list_patterns("northwind", PageRequest{0, ""}).has_value());
  EXPECT_FALSE(service_->list_patterns("northwind", PageRequest{10, "x"}).has_value());
}

TEST_F(SmartCommitServiceTest, RemoveDeletesOnlyTheOrgsOwnPatternAndAudits) {
  auto p = service_->add_pattern("northwind", PatternSpec{PatternKind::rally, {}, {"US"}}, actor_);
  ASSERT_TRUE(p.has_value());
  auto other_org = service_->remove_pattern("contoso", p->id, actor_);
  ASSERT_FALSE(other_org.has_value());
  EXPECT_EQ(other_org.error().code, ErrorCode::not_found);
  ASSERT_TRUE(service_->remove_pattern("northwind", p->id, actor_).has_value());
  auto again = service_->remove_pattern("northwind", p->id, actor_);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::not_found);
  auto events = store_->list_audit(org_id_, std::nullopt, 10);
  ASSERT_TRUE(events.has_value());
  ASSERT_EQ(events->size(), 2U);
  EXPECT_EQ((*events)[0].action, "smart_commit_pattern.remove");
  EXPECT_EQ((*events)[1].action, "smart_commit_pattern.add");
  EXPECT_EQ((*events)[1].actor, "token:abc");
  EXPECT_EQ((*events)[1].detail, R"({"kind":"rally","allowed_projects":["US"]})");
}

TEST_F(SmartCommitServiceTest, VersionChangesOnEveryAddAndRemove) {
  auto v0 = store_->smart_commit_patterns_version(org_id_);
  auto a = service_->add_pattern("northwind", PatternSpec{PatternKind::jira, {}, {}});
  auto v1 = store_->smart_commit_patterns_version(org_id_);
  ASSERT_TRUE(service_->remove_pattern("northwind", a->id).has_value());
  auto v2 = store_->smart_commit_patterns_version(org_id_);
  ASSERT_TRUE(service_->add_pattern("northwind", PatternSpec{PatternKind::jira, {}, {}}));
  auto v3 = store_->smart_commit_patterns_version(org_id_);
  EXPECT_FALSE(*v0 == *v1);
  EXPECT_FALSE(*v1 == *v2);
  EXPECT_FALSE(*v2 == *v3);
  EXPECT_FALSE(*v1 == *v3);  // same count, new id
}

TEST_F(SmartCommitServiceTest, PatternJsonShowsRegexOfCustomPatternsOnly) {
  auto custom = service_->add_pattern(
      "northwind", PatternSpec{PatternKind::custom, R"(\[CASE:(?P<key>[0-9]+)\])", {}});
  ASSERT_TRUE(custom.has_value()) << custom.error().message;
  const auto o = smart_commit_pattern_json(*custom);
  EXPECT_EQ(o.at("regex").as_string(), R"(\[CASE:(?P<key>[0-9]+)\])");
  EXPECT_EQ(o.at("created_at").as_string(), "2026-02-25T06:13:20.000Z");
  auto jira = service_->add_pattern("northwind", PatternSpec{PatternKind::jira, {}, {}});
  EXPECT_FALSE(smart_commit_pattern_json(*jira).contains("regex"));
}

}  // namespace
}  // namespace cb::admin
