// SqliteStore story views: reachability of sightings (force push, branch deletion, restore),
// story pages, a commit's links, hash prefixes and the story list.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"
#include "store_test_util.hpp"

namespace cb::store {
namespace {

using ::testing::ElementsAre;
using testing::SqliteStoreTest;

class SqliteStoreStoriesTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    if (HasFatalFailure()) return;
    repo_ = add_repository(org_.id, "NWA", "flight-planner");
    repo2_ = add_repository(org_.id, "NWA", "autopilot");
  }

  RepositoryRecord add_repository(std::int64_t org_id, std::string project, std::string slug) {
    RepositoryRecord r;
    r.org_id = org_id;
    r.provider = "bitbucket_server";
    r.project_key = std::move(project);
    r.slug = std::move(slug);
    r.clone_url = "https://bitbucket.example.com/scm/" + r.project_key + "/" + r.slug + ".git";
    auto created = store_->create_repository(r);
    EXPECT_TRUE(created.has_value());
    return created.value_or(RepositoryRecord{});
  }

  static StoryCommit commit_of(std::string key, char hash_digit, UnixMillis authored) {
    return StoryCommit{std::move(key),    std::string(40, hash_digit), "Jun Nakamura",
                       "jun@example.com", "clamp descent rate",        authored};
  }

  void link(const StoryCommit& c, const RepositoryRecord& repo, const std::string& branch,
            const std::string& delivery, UnixMillis now) {
    auto r = store_->link_story(org_.id, repo.id, c, branch, delivery, now);
    ASSERT_TRUE(r.has_value()) << r.error().detail;
  }

  /// The only link of `key` (a test failure when there is not exactly one).
  StoryLinkRecord only_link(const std::string& key) {
    auto links = store_->story_links(org_.id, key);
    EXPECT_TRUE(links.has_value());
    if (!links || links->size() != 1) {
      ADD_FAILURE() << "expected one link of " << key;
      return {};
    }
    return links->front();
  }

  static std::vector<std::string> first_digits(const std::vector<StoryLinkRecord>& links) {
    std::vector<std::string> out;
    for (const auto& l : links) out.push_back(l.commit.commit_hash.substr(0, 1));
    return out;
  }

  RepositoryRecord repo_;
  RepositoryRecord repo2_;
};

TEST_F(SqliteStoreStoriesTest, SightingCarriesRepositoryAndIsReachable) {
  link(commit_of("NWA-1", 'a', 1'000), repo_, "main", "d-1", 5'000);
  const auto l = only_link("NWA-1");
  EXPECT_EQ(l.org_name, "Northwind");
  EXPECT_GT(l.id, 0);
  ASSERT_EQ(l.sightings.size(), 1u);
  const auto& s = l.sightings[0];
  EXPECT_TRUE(s.reachable);
  EXPECT_EQ(s.removed_at_ms, std::nullopt);
  EXPECT_EQ(s.removed_delivery_id, "");
  EXPECT_EQ(s.repository_id, repo_.id);
  EXPECT_EQ(s.provider, "bitbucket_server");
  EXPECT_EQ(s.project_key, "NWA");
  EXPECT_EQ(s.slug, "flight-planner");
  EXPECT_EQ(s.clone_url, "https://bitbucket.example.com/scm/NWA/flight-planner.git");
}

TEST_F(SqliteStoreStoriesTest, ForcePushMarksOnlyThatBranchAndARepushRestores) {
  const auto c = commit_of("NWA-1", 'a', 1'000);
  link(c, repo_, "main", "d-1", 5'000);
  link(c, repo_, "release/1.0", "d-1", 5'000);
  link(c, repo2_, "main", "d-1", 5'000);
  link(commit_of("NWA-2", 'b', 2'000), repo_, "main", "d-1", 5'000);

  auto changed = store_->mark_commits_unreachable(
      org_.id, repo_.id, "main", {std::string(40, 'a'), std::string(40, 'f')}, "d-2", 6'000);
  ASSERT_TRUE(changed.has_value()) << changed.error().detail;
  EXPECT_EQ(*changed, 1u);  // 'f' is linked nowhere; other branches and repositories untouched

  auto l = only_link("NWA-1");
  ASSERT_EQ(l.sightings.size(), 3u);
  for (const auto& s : l.sightings) {
    const bool removed = s.repository_id == repo_.id && s.branch == "main";
    EXPECT_EQ(s.reachable, !removed) << s.repository << " " << s.branch;
    EXPECT_EQ(s.removed_at_ms, removed ? std::optional<UnixMillis>(6'000) : std::nullopt);
    EXPECT_EQ(s.removed_delivery_id, removed ? "d-2" : "");
  }
  EXPECT_TRUE(only_link("NWA-2").sightings[0].reachable);

  // Removing again keeps the first removal.
  auto again = store_->mark_commits_unreachable(org_.id, repo_.id, "main", {std::string(40, 'a')},
                                                "d-3", 7'000);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(only_link("NWA-1").sightings[0].removed_delivery_id, "d-2");

  // A later push that brings the commit back: reachable again, first sighting kept.
  auto relinked = store_->link_story(org_.id, repo_.id, c, "main", "d-4", 8'000);
  ASSERT_TRUE(relinked.has_value());
  EXPECT_FALSE(*relinked);
  l = only_link("NWA-1");
  const auto& main = l.sightings[0];
  EXPECT_EQ(main.branch, "main");
  EXPECT_TRUE(main.reachable);
  EXPECT_EQ(main.removed_at_ms, std::nullopt);
  EXPECT_EQ(main.removed_delivery_id, "");
  EXPECT_EQ(main.delivery_id, "d-1");
  EXPECT_EQ(main.seen_at_ms, 5'000);
}

TEST_F(SqliteStoreStoriesTest, MarkingIsPerOrg) {
  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  link(commit_of("NWA-1", 'a', 1'000), repo_, "main", "d-1", 5'000);
  auto changed = store_->mark_commits_unreachable(other->id, repo_.id, "main",
                                                  {std::string(40, 'a')}, "d-2", 6'000);
  ASSERT_TRUE(changed.has_value());
  EXPECT_EQ(*changed, 0u);
  auto branch = store_->mark_branch_unreachable(other->id, repo_.id, "main", "d-2", 6'000);
  ASSERT_TRUE(branch.has_value());
  EXPECT_EQ(*branch, 0u);
  EXPECT_TRUE(only_link("NWA-1").sightings[0].reachable);
}

TEST_F(SqliteStoreStoriesTest, DeletedBranchMarksEverySightingOnIt) {
  link(commit_of("NWA-1", 'a', 1'000), repo_, "feature/x", "d-1", 5'000);
  link(commit_of("NWA-2", 'b', 2'000), repo_, "feature/x", "d-1", 5'000);
  link(commit_of("NWA-2", 'b', 2'000), repo_, "main", "d-1", 5'000);
  link(commit_of("NWA-3", 'c', 3'000), repo2_, "feature/x", "d-1", 5'000);

  auto changed = store_->mark_branch_unreachable(org_.id, repo_.id, "feature/x", "d-9", 9'000);
  ASSERT_TRUE(changed.has_value()) << changed.error().detail;
  EXPECT_EQ(*changed, 2u);
  EXPECT_FALSE(only_link("NWA-1").sightings[0].reachable);
  const auto two = only_link("NWA-2");
  ASSERT_EQ(two.sightings.size(), 2u);
  EXPECT_FALSE(two.sightings[0].reachable);  // feature/x, seen first
  EXPECT_EQ(two.sightings[0].removed_at_ms, std::optional<UnixMillis>(9'000));
  EXPECT_TRUE(two.sightings[1].reachable);                 // main
  EXPECT_TRUE(only_link("NWA-3").sightings[0].reachable);  // another repository
}

TEST_F(SqliteStoreStoriesTest, StoryPagesAreNewestFirstWithAKeysetCursor) {
  // authored times: a=1000, b=3000, c=3000 (tie: newer link first), d=2000, e=500
  link(commit_of("NWA-1", 'a', 1'000), repo_, "main", "d", 5);
  link(commit_of("NWA-1", 'b', 3'000), repo_, "main", "d", 5);
  link(commit_of("NWA-1", 'c', 3'000), repo_, "main", "d", 5);
  link(commit_of("NWA-1", 'd', 2'000), repo_, "main", "d", 5);
  link(commit_of("NWA-1", 'e', 500), repo_, "main", "d", 5);
  link(commit_of("NWA-2", 'f', 9'000), repo_, "main", "d", 5);

  StoryLinkQuery q;
  q.org_id = org_.id;
  q.story_key = "NWA-1";
  q.limit = 2;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto rows = store_->story_links_page(q);
    ASSERT_TRUE(rows.has_value()) << rows.error().detail;
    for (const auto& d : first_digits(*rows)) seen.push_back(d);
    if (rows->size() < q.limit) break;
    q.before_authored_at_ms = rows->back().commit.authored_at_ms;
    q.before_id = rows->back().id;
  }
  EXPECT_THAT(seen, ElementsAre("c", "b", "d", "a", "e"));

  StoryLinkQuery all_orgs;
  all_orgs.story_key = "NWA-2";
  auto rows = store_->story_links_page(all_orgs);
  ASSERT_TRUE(rows.has_value());
  EXPECT_THAT(first_digits(*rows), ElementsAre("f"));
  EXPECT_EQ(rows->front().sightings.size(), 1u);
}

TEST_F(SqliteStoreStoriesTest, CommitLinksByStoryKeyPaged) {
  for (const char* key : {"NWA-3", "NWA-1", "NWA-2"}) {
    link(commit_of(key, 'a', 1'000), repo_, "main", "d", 5);
  }
  link(commit_of("NWA-4", 'b', 1'000), repo_, "main", "d", 5);
  auto first = store_->commit_story_links(org_.id, std::string(40, 'a'), "", 2);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].commit.story_key, "NWA-1");
  EXPECT_EQ((*first)[1].commit.story_key, "NWA-2");
  auto rest = store_->commit_story_links(org_.id, std::string(40, 'a'), "NWA-2", 2);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].commit.story_key, "NWA-3");
  EXPECT_EQ((*rest)[0].sightings.size(), 1u);
}

TEST_F(SqliteStoreStoriesTest, FindLinkedCommitsByPrefix) {
  const std::string h1 = "abcdef1" + std::string(33, '1');
  const std::string h2 = "abcdef1" + std::string(33, '2');
  const std::string h3 = "abcdef2" + std::string(33, '3');
  for (const auto& h : {h1, h2, h3}) {
    link(StoryCommit{"NWA-1", h, "A", "a@example.com", "m", 1}, repo_, "main", "d", 5);
  }
  link(StoryCommit{"NWA-2", h1, "A", "a@example.com", "m", 1}, repo_, "main", "d", 5);

  auto two = store_->find_linked_commits(org_.id, "abcdef1", 10);
  ASSERT_TRUE(two.has_value()) << two.error().detail;
  EXPECT_THAT(*two, ElementsAre(h1, h2));  // distinct: h1 is linked twice
  auto one = store_->find_linked_commits(org_.id, "abcdef2", 10);
  ASSERT_TRUE(one.has_value());
  EXPECT_THAT(*one, ElementsAre(h3));
  auto full = store_->find_linked_commits(org_.id, h2, 10);
  ASSERT_TRUE(full.has_value());
  EXPECT_THAT(*full, ElementsAre(h2));
  auto none = store_->find_linked_commits(org_.id, "abcdef3", 10);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  auto capped = store_->find_linked_commits(org_.id, "abcdef", 2);
  ASSERT_TRUE(capped.has_value());
  EXPECT_EQ(capped->size(), 2u);

  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  auto elsewhere = store_->find_linked_commits(other->id, "abcdef", 10);
  ASSERT_TRUE(elsewhere.has_value());
  EXPECT_TRUE(elsewhere->empty());
}

TEST_F(SqliteStoreStoriesTest, ListStoriesCountsCommitsPerKey) {
  link(commit_of("NWA-2", 'a', 1'000), repo_, "main", "d", 10);
  link(commit_of("NWA-2", 'b', 1'000), repo_, "main", "d", 30);
  link(commit_of("NWA-1", 'a', 1'000), repo_, "main", "d", 20);
  link(commit_of("NWA-1", 'a', 1'000), repo2_, "main", "d", 40);  // a sighting, not a commit
  link(commit_of("NWA-3", 'c', 1'000), repo_, "main", "d", 50);

  auto first = store_->list_stories(org_.id, "", 2);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].story_key, "NWA-1");
  EXPECT_EQ((*first)[0].commits, 1);
  EXPECT_EQ((*first)[0].last_linked_at_ms, 20);
  EXPECT_EQ((*first)[1].story_key, "NWA-2");
  EXPECT_EQ((*first)[1].commits, 2);
  EXPECT_EQ((*first)[1].last_linked_at_ms, 30);
  auto rest = store_->list_stories(org_.id, "NWA-2", 2);
  ASSERT_TRUE(rest.has_value());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].story_key, "NWA-3");
}

TEST_F(SqliteStoreStoriesTest, ReopeningTheStoreKeepsSightings) {
  link(commit_of("NWA-1", 'a', 1'000), repo_, "main", "d-1", 5'000);
  store_.reset();
  open_store();  // migrations are not applied twice
  const auto l = only_link("NWA-1");
  ASSERT_EQ(l.sightings.size(), 1u);
  EXPECT_TRUE(l.sightings[0].reachable);
}

}  // namespace
}  // namespace cb::store
