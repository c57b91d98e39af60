// CommitSync against real repositories built with the git CLI: force pushes mark the commits
// that left a branch as no longer reachable and a later push restores them, a deleted branch
// marks its sightings, and fetches of one repository are serialized while different
// repositories fetch in parallel.

#include "pipeline/commit_sync.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "git/mirror_locks.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Runs a shell command and returns its stdout without the trailing newline; a failure of the
/// command fails the test.
std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return out;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0) << command << "\n" << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

/// Polls `predicate` every millisecond until it holds or 10 s passed; returns its last value.
template <class F>
bool eventually(F&& predicate) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > end) return predicate();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// A source repository (non-bare, used directly as the clone URL) on branch main.
class SourceRepo {
 public:
  explicit SourceRepo(fs::path dir) : dir_(std::move(dir)) {
    run("git -c init.defaultBranch=main init -q " + quote(dir_.string()));
  }
  std::string git(const std::string& args) {
    const std::string dates = "GIT_AUTHOR_DATE='@" + std::to_string(time_) +
                              " +0000' GIT_COMMITTER_DATE='@" + std::to_string(time_) + " +0000' ";
    return run(dates + "git -C " + quote(dir_.string()) + " -c commit.gpgsign=false " + args);
  }
  std::string commit(const std::string& message) {
    time_ += 60;
    git("commit -q --allow-empty -m " + quote(message));
    return git("rev-parse HEAD");
  }
  [[nodiscard]] const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
  std::int64_t time_ = 1'772'000'000;
};

class CommitSyncTest : public testing::StoreFixture {
 protected:
  static void SetUpTestSuite() {
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_AUTHOR_NAME", "Ines Okafor", 1);
    setenv("GIT_AUTHOR_EMAIL", "ines.okafor@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "Ines Okafor", 1);
    setenv("GIT_COMMITTER_EMAIL", "ines.okafor@example.com", 1);
  }

  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    auto pattern = smartcommit::StoryKeyPattern::jira_default();
    ASSERT_TRUE(pattern.has_value());
    pattern_.emplace(std::move(*pattern));
    sync_.emplace(*store_, clock_, PipelinePaths::under(dir_.path() / "data"), *pattern_);
  }

  store::RepositoryRecord add_repository(const std::string& slug, const SourceRepo& source) {
    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "NWA";
    r.slug = slug;
    r.clone_url = source.dir().string();
    auto created = store_->create_repository(r);
    EXPECT_TRUE(created.has_value());
    return created.value_or(store::RepositoryRecord{});
  }

  static PushEvent push_of(const std::string& branch, std::string from, std::string to) {
    RefChange change;
    change.ref_id = "refs/heads/" + branch;
    change.display_id = branch;
    change.type = is_zero_hash(from) ? RefChangeType::add
                  : is_zero_hash(to) ? RefChangeType::remove
                                     : RefChangeType::update;
    change.from_hash = std::move(from);
    change.to_hash = std::move(to);
    PushEvent push;
    push.changes.push_back(std::move(change));
    return push;
  }

  ProcessOutcome sync(const store::RepositoryRecord& repo, const PushEvent& push) {
    store::DeliveryRecord d;
    d.delivery_id = "d-" + std::to_string(++deliveries_);
    d.org_id = org_.id;
    clock_.advance(1000);
    return sync_->sync(d, repo, push);
  }

  /// "branch=reachable|removed" of every sighting of the only link of `key`.
  std::map<std::string, std::string> reachability(const std::string& key) {
    std::map<std::string, std::string> out;
    auto links = store_->story_links(org_.id, key);
    EXPECT_TRUE(links.has_value());
    if (!links || links->size() != 1) {
      ADD_FAILURE() << "expected one link of " << key;
      return out;
    }
    for (const auto& s : links->front().sightings) {
      out[s.repository + " " + s.branch] = s.reachable ? "reachable" : "removed";
    }
    return out;
  }

  std::optional<smartcommit::StoryKeyPattern> pattern_;
  std::optional<CommitSync> sync_;
  std::atomic<int> deliveries_{0};
};

TEST_F(CommitSyncTest, ForcePushMarksCommitsThatLeftTheBranchAndARestoreBringsThemBack) {
  SourceRepo src(dir_.path() / "src");
  const std::string base = src.commit("Initial import");
  const std::string c1 = src.commit("NWA-1 add descent clamp");
  const std::string c2 = src.commit("NWA-2 tune descent clamp");
  const auto repo = add_repository("flight-planner", src);

  auto first = sync(repo, push_of("main", base, c2));
  EXPECT_EQ(first.status, "done");
  EXPECT_EQ(first.reason, "linked 2 of 2 commits to 2 stories (NWA-1, NWA-2), 2 new links");

  // Force push: c2 is replaced by c3.
  src.git("reset -q --hard " + c1);
  const std::string c3 = src.commit("NWA-3 rewrite the clamp");
  auto forced = sync(repo, push_of("main", c2, c3));
  EXPECT_EQ(forced.status, "done");
  EXPECT_EQ(forced.reason,
            "linked 1 of 1 commit to 1 story (NWA-3), 1 new link, 1 sighting no longer reachable");
  EXPECT_EQ(reachability("NWA-1"),
            (std::map<std::string, std::string>{{"NWA/flight-planner main", "reachable"}}));
  EXPECT_EQ(reachability("NWA-2"),
            (std::map<std::string, std::string>{{"NWA/flight-planner main", "removed"}}));
  auto removed = store_->story_links(org_.id, "NWA-2");
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->front().sightings[0].removed_delivery_id, "d-2");
  EXPECT_EQ(removed->front().sightings[0].removed_at_ms, clock_.now_ms());

  // Force-pushed back: c2 is reachable again, c3 left.
  src.git("reset -q --hard " + c2);
  auto restored = sync(repo, push_of("main", c3, c2));
  EXPECT_EQ(restored.status, "done");
  EXPECT_EQ(restored.reason,
            "linked 1 of 1 commit to 1 story (NWA-2), 0 new links, 1 sighting no longer "
            "reachable");
  EXPECT_EQ(reachability("NWA-2"),
            (std::map<std::string, std::string>{{"NWA/flight-planner main", "reachable"}}));
  EXPECT_EQ(reachability("NWA-3"),
            (std::map<std::string, std::string>{{"NWA/flight-planner main", "removed"}}));
}

TEST_F(CommitSyncTest, DeletedBranchMarksItsSightingsButNotOtherBranches) {
  SourceRepo src(dir_.path() / "src");
  src.commit("Initial import");
  src.git("checkout -q -b feature/NWA-5");
  const std::string c5 = src.commit("NWA-5 model the heat shield");
  const auto repo = add_repository("flight-planner", src);
  EXPECT_EQ(sync(repo, push_of("feature/NWA-5", std::string(kZeroHash), c5)).status, "done");
  // main fast-forwards to the feature commit, then the feature branch is deleted.
  src.git("checkout -q main");
  src.git("merge -q --ff-only feature/NWA-5");
  EXPECT_EQ(sync(repo, push_of("main", src.git("rev-parse HEAD~1"), c5)).status, "done");
  src.git("branch -q -D feature/NWA-5");

  auto deleted = sync(repo, push_of("feature/NWA-5", c5, std::string(kZeroHash)));
  EXPECT_EQ(deleted.status, "done");
  EXPECT_EQ(deleted.reason, "every ref of the push was deleted, 1 sighting no longer reachable");
  EXPECT_EQ(reachability("NWA-5"),
            (std::map<std::string, std::string>{{"NWA/flight-planner feature/NWA-5", "removed"},
                                                {"NWA/flight-planner main", "reachable"}}));
}

TEST_F(CommitSyncTest, TwoSyncsOfOneRepositoryNeverFetchAtOnce) {
  SourceRepo src(dir_.path() / "src");
  const std::string base = src.commit("Initial import");
  const std::string c1 = src.commit("NWA-1 add descent clamp");
  const auto repo = add_repository("flight-planner", src);

  std::mutex mutex;
  int active = 0;
  int max_active = 0;
  int fetches = 0;
  bool saw_waiter = false;
  sync_->set_fetch_hook([&](const fs::path& mirror_dir, bool started) {
    std::unique_lock lock(mutex);
    if (!started) {
      --active;
      return;
    }
    max_active = std::max(max_active, ++active);
    if (++fetches == 1) {
      // Hold the first fetch until the second sync waits for the mirror's lock: without the
      // lock, it would be fetching now and `active` would reach 2.
      lock.unlock();
      saw_waiter =
          eventually([&] { return git::MirrorLocks::process_wide().users(mirror_dir) == 2; });
    }
  });

  auto a = std::async(std::launch::async, [&] { return sync(repo, push_of("main", base, c1)); });
  auto b = std::async(std::launch::async, [&] { return sync(repo, push_of("main", base, c1)); });
  ASSERT_EQ(a.wait_for(30s), std::future_status::ready);
  ASSERT_EQ(b.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(a.get().status, "done");
  EXPECT_EQ(b.get().status, "done");
  EXPECT_TRUE(saw_waiter) << "the second sync never waited for the mirror's lock";
  EXPECT_EQ(fetches, 2);
  EXPECT_EQ(max_active, 1);
}

TEST_F(CommitSyncTest, SyncsOfTwoRepositoriesFetchInParallel) {
  SourceRepo src_a(dir_.path() / "src-a");
  SourceRepo src_b(dir_.path() / "src-b");
  const std::string a0 = src_a.commit("Initial import");
  const std::string a1 = src_a.commit("NWA-1 add descent clamp");
  const std::string b0 = src_b.commit("Initial import");
  const std::string b1 = src_b.commit("NWA-2 calibrate the star tracker");
  const auto repo_a = add_repository("flight-planner", src_a);
  const auto repo_b = add_repository("autopilot", src_b);

  std::atomic<int> started{0};
  std::atomic<int> active{0};
  std::atomic<int> max_active{0};
  std::atomic<bool> overlapped{true};
  sync_->set_fetch_hook([&](const fs::path&, bool begin) {
    if (!begin) {
      --active;
      return;
    }
    const int now = ++active;
    int seen = max_active.load();
    while (now > seen && !max_active.compare_exchange_weak(seen, now)) {
    }
    ++started;
    // Each fetch waits for the other one to start: only possible when they run at once.
    if (!eventually([&] { return started.load() == 2; })) overlapped = false;
  });

  auto a = std::async(std::launch::async, [&] { return sync(repo_a, push_of("main", a0, a1)); });
  auto b = std::async(std::launch::async, [&] { return sync(repo_b, push_of("main", b0, b1)); });
  ASSERT_EQ(a.wait_for(30s), std::future_status::ready);
  ASSERT_EQ(b.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(a.get().reason, "linked 1 of 1 commit to 1 story (NWA-1), 1 new link");
  EXPECT_EQ(b.get().reason, "linked 1 of 1 commit to 1 story (NWA-2), 1 new link");
  EXPECT_TRUE(overlapped.load()) << "the two repositories' fetches did not run at once";
  EXPECT_EQ(max_active.load(), 2);
}

}  // namespace
}  // namespace cb::pipeline
