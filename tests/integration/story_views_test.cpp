// Story views through the real binary: pushes on the sync URL, a force push and its restore, and
// what `stories show`, `stories list`, `commits stories` and the admin API show about them.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;

constexpr const char* kSync = "sync-alm-commits";

class StoryViewsTest : public IntegrationTest {
 protected:
  StoryViewsTest() : git_(tmp_ / "git") {}

  void SetUp() override {
    base_ = git_.commit("Initial import of orbit tools");
    git_.push("main");
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    reader_ = create_token("acme", "reader", "api");
    add_repo("acme", "ORB", "orbit-tools", git_.bare_path().string(), /*auto_update_alm=*/true);
  }

  /// Sends a signed push to the sync URL and waits until it is processed.
  json::value sync(const std::vector<RefChange>& changes) {
    const auto r = send_push("acme", token_, bitbucket_push_body("ORB", "orbit-tools", changes),
                             new_request_id(), kSync);
    EXPECT_EQ(r.status, 202) << r.describe();
    last_delivery_ = str(r.json(), "delivery_id");
    return wait_processed(last_delivery_);
  }

  /// branch → reachable of the only commit linked to `key` (CLI JSON).
  std::map<std::string, bool> reachability(const std::string& key) {
    std::map<std::string, bool> out;
    const auto links = cli_json({"stories", "show", key, "--org", "acme"});
    EXPECT_EQ(links.size(), 1u) << json::serialize(links);
    if (links.size() != 1) return out;
    for (const auto& s : links[0].at("seen").as_array()) {
      out[str(s, "branch")] = s.at("reachable").as_bool();
    }
    return out;
  }

  HttpResponse api_get(const std::string& path) {
    return get(server_->base_url() + path, {{"Authorization", "Bearer " + reader_}});
  }

  GitRepo git_;
  std::string base_;
  std::string token_;
  std::string reader_;
  std::string last_delivery_;
};

TEST_F(StoryViewsTest, ForcePushShowsCommitsNoLongerReachableAndARestoreBringsThemBack) {
  const std::string c1 = git_.commit("ABC-1 add waypoint parser");
  const std::string c2 = git_.commit("ABC-2 feed waypoints to the solver");
  git_.push("main");
  ASSERT_TRUE(start_server());
  auto d = sync({branch_change("main", "UPDATE", base_, c2)});
  EXPECT_EQ(str(d, "reason"), "linked 2 of 2 commits to 2 stories (ABC-1, ABC-2), 2 new links");

  // Force push: c2 is replaced by c3.
  git_.reset_hard(c1);
  const std::string c3 = git_.commit("ABC-3 rewrite the solver feed");
  git_.force_push("main");
  d = sync({branch_change("main", "UPDATE", c2, c3)});
  const std::string force_delivery = last_delivery_;
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(str(d, "reason"),
            "linked 1 of 1 commit to 1 story (ABC-3), 1 new link, 1 sighting no longer reachable");

  // c2 stays linked, shown as no longer on main.
  const auto abc2 = cli_json({"stories", "show", "ABC-2", "--org", "acme"});
  ASSERT_EQ(abc2.size(), 1u) << json::serialize(abc2);
  EXPECT_EQ(str(abc2[0], "commit"), c2);
  EXPECT_FALSE(abc2[0].at("reachable").as_bool());
  const auto& seen = abc2[0].at("seen").as_array();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(str(seen[0], "branch"), "main");
  EXPECT_FALSE(seen[0].at("reachable").as_bool());
  EXPECT_FALSE(str(seen[0], "removed_at").empty());
  EXPECT_EQ(str(seen[0], "removed_by_delivery_id"), force_delivery);
  EXPECT_TRUE(seen[0].at("commit_url").is_null());  // a local clone URL has no web UI
  EXPECT_EQ(reachability("ABC-1"), (std::map<std::string, bool>{{"main", true}}));

  const std::string text = cli_ok({"stories", "show", "ABC-2", "--org", "acme"});
  EXPECT_TRUE(Contains(text, c2.substr(0, 12)));
  EXPECT_TRUE(Contains(text, "seen on ORB/orbit-tools main (no longer reachable since "));

  // The admin API shows the same.
  const auto api = api_get("/api/v2/orgs/acme/stories/ABC-2/commits");
  ASSERT_EQ(api.status, 200) << api.describe();
  const auto body = api.json();
  const auto& items = body.at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(items[0].at("seen").as_array()[0].at("reachable").as_bool());

  // Force-pushed back: c2 is on main again, c3 left it.
  git_.reset_hard(c2);
  git_.force_push("main");
  d = sync({branch_change("main", "UPDATE", c3, c2)});
  EXPECT_EQ(str(d, "reason"),
            "linked 1 of 1 commit to 1 story (ABC-2), 0 new links, 1 sighting no longer "
            "reachable");
  EXPECT_EQ(reachability("ABC-2"), (std::map<std::string, bool>{{"main", true}}));
  EXPECT_EQ(reachability("ABC-3"), (std::map<std::string, bool>{{"main", false}}));
  const auto restored = cli_json({"stories", "show", "ABC-2", "--org", "acme"});
  ASSERT_EQ(restored.size(), 1u);
  EXPECT_TRUE(restored[0].at("seen").as_array()[0].at("removed_at").is_null());
}

TEST_F(StoryViewsTest, NewBranchDeletedBranchAndTheCommitAndStoryViews) {
  git_.create_branch("feature/ABC-7");
  const std::string c7 = git_.commit("ABC-7 ABC-8 model heat shield ablation");
  git_.push("feature/ABC-7");
  ASSERT_TRUE(start_server());
  auto d = sync({branch_change("feature/ABC-7", "ADD", kZeroHash, c7)});
  EXPECT_EQ(str(d, "reason"), "linked 1 of 1 commit to 2 stories (ABC-7, ABC-8), 2 new links");
  git_.push("main");
  sync({branch_change("main", "UPDATE", base_, c7)});
  git_.delete_remote_branch("feature/ABC-7");
  d = sync({branch_change("feature/ABC-7", "DELETE", c7, kZeroHash)});
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(str(d, "reason"), "every ref of the push was deleted, 2 sightings no longer reachable");
  EXPECT_EQ(reachability("ABC-7"),
            (std::map<std::string, bool>{{"feature/ABC-7", false}, {"main", true}}));

  // A commit's stories, by a unique prefix (CLI and API).
  const auto of_commit = cli_page({"commits", "stories", c7.substr(0, 9), "--org", "acme"});
  const auto& links = of_commit.at("items").as_array();
  ASSERT_EQ(links.size(), 2u) << json::serialize(of_commit);
  EXPECT_EQ(str(links[0], "story_key"), "ABC-7");
  EXPECT_EQ(str(links[1], "story_key"), "ABC-8");
  EXPECT_TRUE(of_commit.at("next_cursor").is_null());
  const auto api = api_get("/api/v2/orgs/acme/commits/" + c7.substr(0, 7) + "/stories");
  ASSERT_EQ(api.status, 200) << api.describe();
  EXPECT_EQ(api.json().at("items").as_array().size(), 2u);
  const auto missing = cli({"commits", "stories", "abcdef0123", "--org", "acme"});
  EXPECT_EQ(missing.exit_code, 1) << missing.describe();
  EXPECT_TRUE(Contains(missing.err, "no commit linked to a story matches abcdef0123"));

  // The org's stories, one page at a time.
  const auto first = cli_page({"stories", "list", "--org", "acme", "--limit", "1"});
  ASSERT_EQ(first.at("items").as_array().size(), 1u);
  EXPECT_EQ(str(first.at("items").as_array()[0], "story_key"), "ABC-7");
  EXPECT_EQ(first.at("items").as_array()[0].at("commits").as_int64(), 1);
  const std::string cursor(first.at("next_cursor").as_string());
  const auto second =
      cli_page({"stories", "list", "--org", "acme", "--limit", "1", "--cursor", cursor});
  ASSERT_EQ(second.at("items").as_array().size(), 1u);
  EXPECT_EQ(str(second.at("items").as_array()[0], "story_key"), "ABC-8");
  EXPECT_TRUE(second.at("next_cursor").is_null());
  const std::string table = cli_ok({"stories", "list", "--org", "acme"});
  EXPECT_TRUE(Contains(table, "ABC-7"));
  EXPECT_TRUE(Contains(table, "ABC-8"));
}

TEST_F(StoryViewsTest, StoryShowPagesWithLimitAndCursor) {
  const std::string c1 = git_.commit("ABC-1 first");
  const std::string c2 = git_.commit("ABC-1 second");
  const std::string c3 = git_.commit("ABC-1 third");
  git_.push("main");
  ASSERT_TRUE(start_server());
  sync({branch_change("main", "UPDATE", base_, c3)});

  const auto first = cli_page({"stories", "show", "ABC-1", "--org", "acme", "--limit", "2"});
  const auto& items = first.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(str(items[0], "commit"), c3);
  EXPECT_EQ(str(items[1], "commit"), c2);
  const auto rest = cli_page({"stories", "show", "ABC-1", "--org", "acme", "--limit", "2",
                              "--cursor", std::string(first.at("next_cursor").as_string())});
  ASSERT_EQ(rest.at("items").as_array().size(), 1u);
  EXPECT_EQ(str(rest.at("items").as_array()[0], "commit"), c1);
  EXPECT_TRUE(rest.at("next_cursor").is_null());

  // The text form names where to continue.
  const auto text = cli({"stories", "show", "ABC-1", "--limit", "1"});
  EXPECT_EQ(text.exit_code, 0) << text.describe();
  EXPECT_TRUE(Contains(text.out, c3.substr(0, 12)));
  EXPECT_TRUE(Contains(text.err, "more: --cursor "));
  const auto bad = cli({"stories", "show", "ABC-1", "--cursor", "nope"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "cursor: not a cursor returned by this API"));
}

}  // namespace
}  // namespace cbtest
