// OrgPatternCache: an org's compiled pattern set is reused until its patterns change, also when
// they are changed through another connection (the CLI of another process).

#include "pipeline/org_pattern_cache.hpp"

#include <gtest/gtest.h>

#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

std::vector<std::string> keys(const smartcommit::PatternSet& set, std::string_view message) {
  std::vector<std::string> out;
  for (const auto& k : set.extract(message)) out.push_back(k.key);
  return out;
}

using Keys = std::vector<std::string>;

class OrgPatternCacheTest : public testing::StoreFixture {
 protected:
  store::SmartCommitPatternRecord add(std::string kind, std::vector<std::string> allowed = {},
                                      std::string regex = {}) {
    store::SmartCommitPatternRecord r;
    r.org_id = org_.id;
    r.kind = std::move(kind);
    r.regex = std::move(regex);
    r.allowed_projects = std::move(allowed);
    r.created_at_ms = kStart;
    auto created = store_->create_smart_commit_pattern(r);
    EXPECT_TRUE(created.has_value());
    return created.value_or(r);
  }
};

TEST_F(OrgPatternCacheTest, NoPatternsMeansTheJiraBuiltin) {
  OrgPatternCache cache(*store_);
  auto set = cache.get(org_.id);
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(keys(*set, "ABC-1 AB#2 UTF-8"), (Keys{"ABC-1", "UTF-8"}));
}

TEST_F(OrgPatternCacheTest, CompiledOnceThenRecompiledAfterEachChange) {
  OrgPatternCache cache(*store_);
  const auto jira = add("jira", {"ABC"});
  auto first = cache.get(org_.id);
  ASSERT_TRUE(first.has_value());
  auto again = cache.get(org_.id);
  ASSERT_TRUE(again.has_value());
  // The same compiled object: copies share it, so their specs are the same vector.
  EXPECT_EQ(&first->specs(), &again->specs());
  EXPECT_EQ(keys(*again, "ABC-1 AB#2 UTF-8"), (Keys{"ABC-1"}));

  // A change through another connection to the same database file is seen at once.
  auto other = store::sqlite::SqliteStore::open(dir_.path() / "test.db");
  ASSERT_TRUE(other.has_value());
  store::SmartCommitPatternRecord azure;
  azure.org_id = org_.id;
  azure.kind = "azure_boards";
  ASSERT_TRUE((*other)->create_smart_commit_pattern(azure).has_value());
  auto added = cache.get(org_.id);
  ASSERT_TRUE(added.has_value());
  EXPECT_NE(&added->specs(), &first->specs());
  EXPECT_EQ(keys(*added, "ABC-1 AB#2 UTF-8"), (Keys{"ABC-1", "AB#2"}));

  ASSERT_TRUE(store_->delete_smart_commit_pattern(org_.id, jira.id).has_value());
  auto removed = cache.get(org_.id);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(keys(*removed, "ABC-1 AB#2 UTF-8"), (Keys{"AB#2"}));
}

TEST_F(OrgPatternCacheTest, OrgsHaveTheirOwnSets) {
  auto globex = store_->create_org("Globex", kStart);
  ASSERT_TRUE(globex.has_value());
  add("rally");
  OrgPatternCache cache(*store_);
  EXPECT_EQ(keys(*cache.get(org_.id), "US12 ABC-1"), (Keys{"US12"}));
  EXPECT_EQ(keys(*cache.get(globex->id), "US12 ABC-1"), (Keys{"ABC-1"}));
}

TEST_F(OrgPatternCacheTest, AStoredPatternOfUnknownKindIsAnError) {
  add("bugzilla");
  OrgPatternCache cache(*store_);
  auto set = cache.get(org_.id);
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code, ErrorCode::internal);
  EXPECT_NE(set.error().message.find("unknown kind 'bugzilla'"), std::string::npos);
}

}  // namespace
}  // namespace cb::pipeline
