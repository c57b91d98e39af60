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

namespace cb::pipeline {
namespace {

class OrgPatternCacheJiraKeysTest : public testing::StoreFixture {
 protected:
  std::int64_t add_jira_connection() {
    store::AlmConnectionRecord c;
    c.org_id = org_.id;
    c.public_id = "alm_00000000000000c3";
    c.name = "tracker";
    c.type = "jira";
    c.url = "https://jira.orbital.example";
    c.jira_deployment = "data_center";
    c.secret_sealed = "sealed-bytes";
    c.created_at_ms = kStart;
    c.updated_at_ms = kStart;
    auto created = store_->create_alm_connection(c);
    EXPECT_TRUE(created.has_value());
    return created ? created->id : 0;
  }
};

TEST_F(OrgPatternCacheJiraKeysTest, JiraProjectKeysAreTheDefaultAllowListOfTheJiraPattern) {
  OrgPatternCache cache(*store_);
  const auto connection = add_jira_connection();
  // Not refreshed yet: every project counts.
  auto before = cache.get(org_.id);
  ASSERT_TRUE(before.has_value()) << before.error().message;
  EXPECT_EQ(keys(*before, "ABC-1 UTF-8 PLAT-2"), (Keys{"ABC-1", "UTF-8", "PLAT-2"}));

  // Once Jira listed its projects, only their keys count (no more UTF-8), for the built-in...
  ASSERT_TRUE(store_->set_alm_project_keys(connection, {"ABC", "PLAT"}, "", kStart).has_value());
  auto listed = cache.get(org_.id);
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  EXPECT_EQ(keys(*listed, "ABC-1 UTF-8 PLAT-2 SHA-256"), (Keys{"ABC-1", "PLAT-2"}));

  // ...and for a stored jira pattern without an allow-list, while one with its own keeps it.
  store::SmartCommitPatternRecord own;
  own.org_id = org_.id;
  own.kind = "jira";
  own.created_at_ms = kStart;
  ASSERT_TRUE(store_->create_smart_commit_pattern(own).has_value());
  auto stored = cache.get(org_.id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(keys(*stored, "ABC-1 ISO-8601 PLAT-2"), (Keys{"ABC-1", "PLAT-2"}));
}

}  // namespace
}  // namespace cb::pipeline
