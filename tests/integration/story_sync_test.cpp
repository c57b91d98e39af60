// ALM commit sync: a push on the sync URL reads the commits from a mirror of the repository's
// clone URL (a local bare repository here), extracts story keys and stores the links.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;

constexpr const char* kSync = "sync-alm-commits";

class StorySyncTest : public IntegrationTest {
 protected:
  StorySyncTest() : git_(tmp_ / "git") {}

  void SetUp() override {
    base_ = git_.commit("Initial import of orbit tools");
    git_.push("main");
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    add_repo("acme", "ORB", "orbit-tools", git_.bare_path().string(), /*auto_update_alm=*/true);
  }

  /// Sends a signed push to the sync URL, expects 202 and waits until it is processed.
  json::value sync(const std::vector<RefChange>& changes) {
    const auto r = send_push("acme", token_, bitbucket_push_body("ORB", "orbit-tools", changes),
                             new_request_id(), kSync);
    EXPECT_EQ(r.status, 202) << r.describe();
    last_delivery_ = str(r.json(), "delivery_id");
    return wait_processed(last_delivery_);
  }

  json::array stories(const std::string& key) {
    return cli_json({"stories", "show", key, "--org", "acme"});
  }

  GitRepo git_;
  std::string base_;
  std::string token_;
  std::string last_delivery_;
};

TEST_F(StorySyncTest, PushOfThreeCommitsLinksEachNamedStory) {
  const GitIdentity jonas{"Jonas Lindqvist", "jonas.lindqvist@orbital.example"};
  const auto t1 = git_.next_commit_time();
  const std::string c1 = git_.commit("ABC-1 add waypoint parser", jonas);
  const auto t2 = git_.next_commit_time();
  const std::string c2 = git_.commit(
      "ABC-1 ABC-2 feed parsed waypoints to the route solver\n\nThe solver reads the parser "
      "output.");
  const std::string c3 = git_.commit("Tidy whitespace in build scripts");
  git_.push("main");
  // A job on main shows that the sync URL never triggers jobs.
  add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  ASSERT_TRUE(start_server());

  const auto d = sync({branch_change("main", "UPDATE", base_, c3)});
  const std::string id = last_delivery_;
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(str(d, "endpoint"), kSync);
  EXPECT_EQ(str(d, "reason"), "linked 2 of 3 commits to 2 stories (ABC-1, ABC-2), 3 new links");

  const auto abc1 = stories("ABC-1");
  ASSERT_EQ(abc1.size(), 2u) << json::serialize(abc1);
  // Newest authored first.
  EXPECT_EQ(str(abc1[0], "commit"), c2);
  EXPECT_EQ(str(abc1[1], "commit"), c1);
  const auto& first = abc1[1];
  EXPECT_EQ(str(first, "story_key"), "ABC-1");
  EXPECT_EQ(str(first, "author_name"), "Jonas Lindqvist");
  EXPECT_EQ(str(first, "author_email"), "jonas.lindqvist@orbital.example");
  EXPECT_EQ(str(first, "authored_at"), iso_utc(t1));
  EXPECT_EQ(str(first, "message"), "ABC-1 add waypoint parser\n");
  EXPECT_FALSE(str(first, "linked_at").empty());
  const auto& seen = first.as_object().at("seen").as_array();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(str(seen[0], "repository"), "ORB/orbit-tools");
  EXPECT_EQ(str(seen[0], "branch"), "main");
  EXPECT_EQ(str(seen[0], "delivery_id"), id);
  EXPECT_FALSE(str(seen[0], "seen_at").empty());

  const auto abc2 = stories("ABC-2");
  ASSERT_EQ(abc2.size(), 1u) << json::serialize(abc2);
  EXPECT_EQ(str(abc2[0], "story_key"), "ABC-2");
  EXPECT_EQ(str(abc2[0], "commit"), c2);
  EXPECT_EQ(str(abc2[0], "author_name"), GitRepo::default_author().name);
  EXPECT_EQ(str(abc2[0], "author_email"), GitRepo::default_author().email);
  EXPECT_EQ(str(abc2[0], "authored_at"), iso_utc(t2));
  EXPECT_EQ(str(abc2[0], "message"),
            "ABC-1 ABC-2 feed parsed waypoints to the route solver\n\n"
            "The solver reads the parser output.\n");
  EXPECT_EQ(abc2[0].as_object().at("seen").as_array().size(), 1u);

  EXPECT_TRUE(stories("ABC-3").empty());
  EXPECT_TRUE(runs().empty());

  // The same push delivered again (new delivery id) adds no link and no sighting.
  const auto replay = sync({branch_change("main", "UPDATE", base_, c3)});
  EXPECT_EQ(str(replay, "status"), "done");
  EXPECT_EQ(str(replay, "reason"),
            "linked 2 of 3 commits to 2 stories (ABC-1, ABC-2), 0 new links");
  const auto again = stories("ABC-1");
  ASSERT_EQ(again.size(), 2u);
  for (const auto& link : again) {
    const auto& s = link.as_object().at("seen").as_array();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(str(s[0], "delivery_id"), id);
  }
}

TEST_F(StorySyncTest, NewBranchLinksOnlyItsOwnCommitsAndLaterSightingsAddUp) {
  git_.create_branch("feature/ABC-7-heat-shield");
  const std::string c7 = git_.commit("ABC-7 model heat shield ablation");
  git_.push("feature/ABC-7-heat-shield");
  ASSERT_TRUE(start_server());

  // A new branch: only the commits not on any other branch (not the initial import on main).
  const auto d = sync({branch_change("feature/ABC-7-heat-shield", "ADD", kZeroHash, c7)});
  const std::string first_delivery = last_delivery_;
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(str(d, "reason"), "linked 1 of 1 commit to 1 story (ABC-7), 1 new link");

  // main is fast-forwarded to the feature commit: the same commit is now seen on main too.
  git_.push("main");
  const auto merged = sync({branch_change("main", "UPDATE", base_, c7)});
  EXPECT_EQ(str(merged, "status"), "done");
  EXPECT_EQ(str(merged, "reason"), "linked 1 of 1 commit to 1 story (ABC-7), 0 new links");

  const auto links = stories("ABC-7");
  ASSERT_EQ(links.size(), 1u) << json::serialize(links);
  EXPECT_EQ(str(links[0], "commit"), c7);
  const auto& seen = links[0].as_object().at("seen").as_array();
  ASSERT_EQ(seen.size(), 2u) << json::serialize(links);
  std::map<std::string, std::string> delivery_by_branch;
  for (const auto& s : seen) {
    EXPECT_EQ(str(s, "repository"), "ORB/orbit-tools");
    delivery_by_branch[str(s, "branch")] = str(s, "delivery_id");
  }
  EXPECT_EQ(delivery_by_branch["feature/ABC-7-heat-shield"], first_delivery);
  EXPECT_EQ(delivery_by_branch["main"], last_delivery_);
}

TEST_F(StorySyncTest, SameCommitInTwoRepositoriesIsOneLinkSeenInBoth) {
  const std::string c = git_.commit("ABC-9 calibrate star tracker");
  git_.push("main");
  // A fork with the same history.
  add_repo("acme", "SAT", "orbit-tools-fork", git_.bare_path().string());
  ASSERT_TRUE(start_server());

  const auto d1 = sync({branch_change("main", "UPDATE", base_, c)});
  EXPECT_EQ(str(d1, "reason"), "linked 1 of 1 commit to 1 story (ABC-9), 1 new link");
  const auto r = send_push(
      "acme", token_,
      bitbucket_push_body("SAT", "orbit-tools-fork", {branch_change("main", "UPDATE", base_, c)}),
      new_request_id(), kSync);
  ASSERT_EQ(r.status, 202) << r.describe();
  const auto d2 = wait_processed(str(r.json(), "delivery_id"));
  EXPECT_EQ(str(d2, "status"), "done");
  EXPECT_EQ(str(d2, "reason"), "linked 1 of 1 commit to 1 story (ABC-9), 0 new links");

  const auto links = stories("ABC-9");
  ASSERT_EQ(links.size(), 1u) << json::serialize(links);
  const auto& seen = links[0].as_object().at("seen").as_array();
  ASSERT_EQ(seen.size(), 2u) << json::serialize(links);
  std::set<std::string> repositories;
  for (const auto& s : seen) {
    repositories.insert(str(s, "repository"));
    EXPECT_EQ(str(s, "branch"), "main");
  }
  EXPECT_EQ(repositories, (std::set<std::string>{"ORB/orbit-tools", "SAT/orbit-tools-fork"}));
}

TEST_F(StorySyncTest, DeletedBranchOnSyncUrlLinksNothing) {
  ASSERT_TRUE(start_server());
  const auto d = sync({branch_change("feature/gone", "DELETE", base_, kZeroHash)});
  EXPECT_EQ(str(d, "status"), "ignored");
  EXPECT_EQ(str(d, "reason"), "every ref of the push was deleted");
}

TEST_F(StorySyncTest, UnreachableCloneUrlFailsAfterTheConfiguredAttempts) {
  const std::string missing = (tmp_ / "moved-away.git").string();
  add_repo("acme", "ORB", "ground-station", missing);
  ASSERT_TRUE(start_server(
      {{"COMMITBRIDGE_WORKER_MAX_ATTEMPTS", "2"}, {"COMMITBRIDGE_WORKER_RETRY_BACKOFF_MS", "20"}}));

  const auto r = send_push(
      "acme", token_,
      bitbucket_push_body("ORB", "ground-station",
                          {branch_change("main", "UPDATE", fake_hash("gs@1"), fake_hash("gs@2"))}),
      new_request_id(), kSync);
  ASSERT_EQ(r.status, 202) << r.describe();
  const auto d = wait_processed(str(r.json(), "delivery_id"));
  EXPECT_EQ(str(d, "status"), "failed");
  EXPECT_EQ(d.as_object().at("attempts").as_int64(), 2);
  EXPECT_TRUE(StartsWith(str(d, "reason"), "gave up after 2 attempts: "));
  EXPECT_TRUE(Contains(str(d, "reason"), "git fetch of " + missing + " failed"));
  EXPECT_TRUE(stories("ABC-1").empty());
}

}  // namespace
}  // namespace cbtest
