// Tests of the libgit2 mirror against real repositories built with the git CLI (tests only: the
// product never shells out to git).

#include "git/mirror.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/event.hpp"

namespace cb::git {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1'700'000'000;  // seconds since the epoch
constexpr std::string_view kMissingHash = "1234567890abcdef1234567890abcdef12345678";

std::string quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

/// Runs a shell command; returns its stdout (trailing newline stripped). Fails the test when the
/// command fails.
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
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << command << "\n" << out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::vector<std::string> hashes(const std::vector<CommitInfo>& commits) {
  std::vector<std::string> out;
  for (const auto& c : commits) out.push_back(c.hash);
  return out;
}

/// An HTTP server on 127.0.0.1 (port 0: the kernel picks) that answers every request with 401 and a
/// Basic challenge, and records the Authorization header of each request.
class UnauthorizedServer {
 public:
  UnauthorizedServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd_, 8) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot start the stub server";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  UnauthorizedServer(const UnauthorizedServer&) = delete;
  UnauthorizedServer& operator=(const UnauthorizedServer&) = delete;
  ~UnauthorizedServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int requests() const { return requests_.load(); }
  [[nodiscard]] std::vector<std::string> authorizations() const {
    std::lock_guard lock(mutex_);
    return authorizations_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string request;
      char buf[2048];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd c{client, POLLIN, 0};
        if (poll(&c, 1, 2000) <= 0) break;
        const ssize_t n = recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      ++requests_;
      constexpr std::string_view kHeader = "\r\nAuthorization: ";
      if (const auto at = request.find(kHeader); at != std::string::npos) {
        const auto start = at + kHeader.size();
        std::lock_guard lock(mutex_);
        authorizations_.push_back(request.substr(start, request.find("\r\n", start) - start));
      }
      constexpr std::string_view kResponse =
          "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"stub\"\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!send(client, kResponse.data(), kResponse.size(), MSG_NOSIGNAL);
      close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> authorizations_;
  std::thread thread_;
};

class MirrorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Isolate git (and libgit2) from the user's configuration.
    char tmpl[] = "/tmp/cb-git-home-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
    setenv("HOME", home_.c_str(), 1);
    setenv("XDG_CONFIG_HOME", home_.c_str(), 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_AUTHOR_NAME", "Marta Kowalski", 1);
    setenv("GIT_AUTHOR_EMAIL", "marta@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "CI Bot", 1);
    setenv("GIT_COMMITTER_EMAIL", "ci@example.com", 1);
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(home_, ec);
  }

  void SetUp() override {
    char tmpl[] = "/tmp/cb-git-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    src_ = root_ / "src";
    mirror_dir_ = root_ / "mirror";
    run("git -c init.defaultBranch=main init -q " + quote(src_.string()));

    a_ = commit("NWA-1 initial commit", kT0);
    b_ = commit("NWA-2 second commit\n\nwith a body", kT0 + 60);
    git("tag -a v1 -m 'release 1' " + a_, kT0 + 70);
    git("checkout -q -b feature", kT0);
    d_ = commit("NWA-3 feature one", kT0 + 120);
    e_ = commit("NWA-4 feature two #time 1h", kT0 + 180);
    git("checkout -q main", kT0);
    c_ = commit("NWA-5 third on main", kT0 + 240);
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  /// Runs git in the source repository with author/committer dates at `epoch` (committer +5 s).
  std::string git(const std::string& args, std::int64_t epoch) {
    const std::string dates = "GIT_AUTHOR_DATE='@" + std::to_string(epoch) +
                              " +0000' GIT_COMMITTER_DATE='@" + std::to_string(epoch + 5) +
                              " +0000' ";
    return run(dates + "git -C " + quote(src_.string()) +
               " -c init.defaultBranch=main -c commit.gpgsign=false -c tag.gpgsign=false " + args);
  }

  /// Commits (empty tree change allowed) on the current branch of the source; returns the hash.
  std::string commit(const std::string& message, std::int64_t epoch) {
    const fs::path file = root_ / "message.txt";
    {
      std::ofstream out(file, std::ios::binary);
      out << message;
    }
    git("commit -q --allow-empty --cleanup=verbatim -F " + quote(file.string()), epoch);
    return git("rev-parse HEAD", epoch);
  }

  Mirror fetched_mirror() {
    auto mirror = Mirror::open_or_create(mirror_dir_, src_.string());
    EXPECT_TRUE(mirror.has_value()) << mirror.error().message;
    auto fetched = mirror->fetch();
    EXPECT_TRUE(fetched.has_value()) << fetched.error().message;
    return std::move(*mirror);
  }

  static inline fs::path home_;
  fs::path root_;
  fs::path src_;
  fs::path mirror_dir_;
  std::string a_, b_, c_, d_, e_;  // main: a-b-c; feature: a-b-d-e; tag v1 -> a
};

TEST_F(MirrorTest, FetchMirrorsBranchesAndTags) {
  Mirror mirror = fetched_mirror();
  EXPECT_EQ(mirror.resolve_ref("refs/heads/main").value(), c_);
  EXPECT_EQ(mirror.resolve_ref("main").value(), c_);
  EXPECT_EQ(mirror.resolve_ref("refs/heads/feature").value(), e_);
  EXPECT_EQ(mirror.resolve_ref("refs/tags/v1").value(), a_);  // annotated tag peeled
  EXPECT_EQ(mirror.resolve_ref("refs/heads/nope").value(), std::nullopt);
  EXPECT_EQ(mirror.dir(), mirror_dir_);
  EXPECT_TRUE(fs::exists(mirror_dir_ / "HEAD"));  // bare: no .git folder
  EXPECT_FALSE(fs::exists(mirror_dir_ / ".git"));
}

TEST_F(MirrorTest, FileUrlWorks) {
  auto mirror = Mirror::open_or_create(mirror_dir_, "file://" + src_.string());
  ASSERT_TRUE(mirror.has_value()) << mirror.error().message;
  ASSERT_TRUE(mirror->fetch().has_value());
  EXPECT_EQ(mirror->resolve_ref("main").value(), c_);
}

TEST_F(MirrorTest, UpdateListsExactlyTheNewCommitsNewestFirst) {
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("refs/heads/main", a_, c_);
  ASSERT_TRUE(commits.has_value()) << commits.error().message;
  ASSERT_EQ(hashes(*commits), (std::vector<std::string>{c_, b_}));

  const CommitInfo& c = (*commits)[0];
  EXPECT_EQ(c.message, "NWA-5 third on main");
  EXPECT_EQ(c.author_name, "Marta Kowalski");
  EXPECT_EQ(c.author_email, "marta@example.com");
  EXPECT_EQ(c.author_time_ms, (kT0 + 240) * 1000);
  EXPECT_EQ(c.committer_name, "CI Bot");
  EXPECT_EQ(c.committer_email, "ci@example.com");
  EXPECT_EQ(c.commit_time_ms, (kT0 + 245) * 1000);
  EXPECT_EQ(c.parents, (std::vector<std::string>{b_}));

  const CommitInfo& b = (*commits)[1];
  EXPECT_EQ(b.message, "NWA-2 second commit\n\nwith a body");
  EXPECT_EQ(b.author_time_ms, (kT0 + 60) * 1000);
  EXPECT_EQ(b.parents, (std::vector<std::string>{a_}));
}

TEST_F(MirrorTest, UpdateWithSameHashesYieldsNothing) {
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("main", c_, c_);
  ASSERT_TRUE(commits.has_value());
  EXPECT_TRUE(commits->empty());
}

TEST_F(MirrorTest, MergeIsListedTopologicallyNewestFirst) {
  git("merge -q --no-ff -m 'Merge branch feature' feature", kT0 + 300);
  const std::string m = git("rev-parse HEAD", kT0);
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("refs/heads/main", c_, m);
  ASSERT_TRUE(commits.has_value()) << commits.error().message;
  EXPECT_EQ(hashes(*commits), (std::vector<std::string>{m, e_, d_}));
  EXPECT_EQ((*commits)[0].parents, (std::vector<std::string>{c_, e_}));
}

TEST_F(MirrorTest, NewBranchListsOnlyCommitsNotOnOtherBranches) {
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("refs/heads/feature", kZeroHash, e_);
  ASSERT_TRUE(commits.has_value()) << commits.error().message;
  EXPECT_EQ(hashes(*commits), (std::vector<std::string>{e_, d_}));
  EXPECT_EQ((*commits)[0].message, "NWA-4 feature two #time 1h");

  // Short branch name works the same; an empty from-hash counts as zero.
  auto by_short_name = mirror.commits_for_ref_change("feature", "", e_);
  ASSERT_TRUE(by_short_name.has_value());
  EXPECT_EQ(hashes(*by_short_name), (std::vector<std::string>{e_, d_}));
}

TEST_F(MirrorTest, NewBranchAtAnExistingCommitYieldsNothing) {
  git("branch release/1.0 " + b_, kT0);
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("refs/heads/release/1.0", kZeroHash, b_);
  ASSERT_TRUE(commits.has_value());
  EXPECT_TRUE(commits->empty());
}

TEST_F(MirrorTest, NewTagOnBranchCommitYieldsNothingAndTagHashIsPeeled) {
  Mirror mirror = fetched_mirror();
  const std::string tag_object = git("rev-parse v1", kT0);
  ASSERT_NE(tag_object, a_);
  auto commits = mirror.commits_for_ref_change("refs/tags/v1", kZeroHash, tag_object);
  ASSERT_TRUE(commits.has_value()) << commits.error().message;
  EXPECT_TRUE(commits->empty());

  auto found = mirror.find_commit(tag_object);
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->hash, a_);
}

TEST_F(MirrorTest, DeletedRefYieldsNothing) {
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("refs/heads/feature", e_, kZeroHash);
  ASSERT_TRUE(commits.has_value());
  EXPECT_TRUE(commits->empty());
  // Even when the from-hash is unknown.
  auto unknown = mirror.commits_for_ref_change("refs/heads/gone", kMissingHash, kZeroHash);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_TRUE(unknown->empty());
}

TEST_F(MirrorTest, ToHashNotInMirrorIsNotFound) {
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("main", c_, kMissingHash);
  ASSERT_FALSE(commits.has_value());
  EXPECT_EQ(commits.error().code, ErrorCode::not_found);
  EXPECT_EQ(commits.error().message,
            "commit " + std::string(kMissingHash) + " is not in the mirror of " + src_.string());
}

TEST_F(MirrorTest, MalformedHashIsInvalidArgument) {
  Mirror mirror = fetched_mirror();
  auto bad_to = mirror.commits_for_ref_change("main", c_, "not-a-hash");
  ASSERT_FALSE(bad_to.has_value());
  EXPECT_EQ(bad_to.error().code, ErrorCode::invalid_argument);
  auto bad_from = mirror.commits_for_ref_change("main", "xyz", c_);
  ASSERT_FALSE(bad_from.has_value());
  EXPECT_EQ(bad_from.error().code, ErrorCode::invalid_argument);
  auto too_long = mirror.find_commit(std::string(41, 'a'));
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().code, ErrorCode::invalid_argument);
}

TEST_F(MirrorTest, UnknownFromHashHidesNothingButIsCapped) {
  Mirror mirror = fetched_mirror();
  auto all = mirror.commits_for_ref_change("main", kMissingHash, c_);
  ASSERT_TRUE(all.has_value()) << all.error().message;
  EXPECT_EQ(hashes(*all), (std::vector<std::string>{c_, b_, a_}));

  auto capped = mirror.commits_for_ref_change("main", kMissingHash, c_, 2);
  ASSERT_TRUE(capped.has_value());
  EXPECT_EQ(hashes(*capped), (std::vector<std::string>{c_, b_}));

  auto none = mirror.commits_for_ref_change("main", a_, c_, 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_F(MirrorTest, ForcePushOfKnownHistoryListsOnlyTheReplacement) {
  Mirror mirror = fetched_mirror();
  git("reset -q --hard " + b_, kT0);
  const std::string c2 = commit("NWA-6 rewritten third", kT0 + 400);
  ASSERT_TRUE(mirror.fetch().has_value());
  EXPECT_EQ(mirror.resolve_ref("main").value(), c2);  // non-fast-forward applied
  auto commits = mirror.commits_for_ref_change("main", c_, c2);
  ASSERT_TRUE(commits.has_value()) << commits.error().message;
  EXPECT_EQ(hashes(*commits), (std::vector<std::string>{c2}));
}

TEST_F(MirrorTest, ForcePushThenRestoreReportsWhatLeftAndWhatCameBack) {
  Mirror mirror = fetched_mirror();
  // main a-b-c is force-pushed to a-b-c2: c left main, c2 arrived.
  git("reset -q --hard " + b_, kT0);
  const std::string c2 = commit("NWA-6 rewritten third", kT0 + 400);
  ASSERT_TRUE(mirror.fetch().has_value());
  auto left = mirror.commits_removed_by_ref_change(c_, c2);
  ASSERT_TRUE(left.has_value()) << left.error().message;
  EXPECT_EQ(*left, (std::vector<std::string>{c_}));
  auto arrived = mirror.commits_for_ref_change("main", c_, c2);
  ASSERT_TRUE(arrived.has_value());
  EXPECT_EQ(hashes(*arrived), (std::vector<std::string>{c2}));

  // Force-pushed back: c2 leaves, c comes back and is listed again.
  git("reset -q --hard " + c_, kT0);
  ASSERT_TRUE(mirror.fetch().has_value());
  ASSERT_EQ(mirror.resolve_ref("main").value(), c_);
  auto left_again = mirror.commits_removed_by_ref_change(c2, c_);
  ASSERT_TRUE(left_again.has_value());
  EXPECT_EQ(*left_again, (std::vector<std::string>{c2}));
  auto back = mirror.commits_for_ref_change("main", c2, c_);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(hashes(*back), (std::vector<std::string>{c_}));
}

TEST_F(MirrorTest, ResetToAnOlderCommitRemovesTheNewerOnes) {
  Mirror mirror = fetched_mirror();
  git("reset -q --hard " + a_, kT0);
  ASSERT_TRUE(mirror.fetch().has_value());
  auto left = mirror.commits_removed_by_ref_change(c_, a_);
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(*left, (std::vector<std::string>{c_, b_}));  // newest first
  auto arrived = mirror.commits_for_ref_change("main", c_, a_);
  ASSERT_TRUE(arrived.has_value());
  EXPECT_TRUE(arrived->empty());
  auto capped = mirror.commits_removed_by_ref_change(c_, a_, 1);
  ASSERT_TRUE(capped.has_value());
  EXPECT_EQ(*capped, (std::vector<std::string>{c_}));
}

TEST_F(MirrorTest, NothingIsRemovedByFastForwardsCreationsDeletionsOrUnknownHistory) {
  Mirror mirror = fetched_mirror();
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{
           {a_, c_},                          // fast-forward
           {c_, c_},                          // no move
           {std::string(kZeroHash), e_},      // created
           {e_, std::string(kZeroHash)},      // deleted
           {std::string(kMissingHash), c_}})  // the mirror never saw the old tip
  {
    auto left = mirror.commits_removed_by_ref_change(from, to);
    ASSERT_TRUE(left.has_value()) << from << ".." << to << ": " << left.error().message;
    EXPECT_TRUE(left->empty()) << from << ".." << to;
  }
  auto missing_to = mirror.commits_removed_by_ref_change(c_, kMissingHash);
  ASSERT_FALSE(missing_to.has_value());
  EXPECT_EQ(missing_to.error().code, ErrorCode::not_found);
  auto bad = mirror.commits_removed_by_ref_change("zz", c_);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
}

TEST_F(MirrorTest, NewBranchFromAnotherBranchListsOnlyItsOwnCommits) {
  git("checkout -q -b topic " + e_, kT0);
  const std::string f = commit("NWA-8 topic work", kT0 + 600);
  const std::string g = commit("NWA-9 more topic work", kT0 + 660);
  Mirror mirror = fetched_mirror();
  // d and e are on feature already: only f and g are the new branch's own commits.
  auto commits = mirror.commits_for_ref_change("refs/heads/topic", kZeroHash, g);
  ASSERT_TRUE(commits.has_value()) << commits.error().message;
  EXPECT_EQ(hashes(*commits), (std::vector<std::string>{g, f}));
}

TEST_F(MirrorTest, NewBranchAtAMergeOfTwoBranchesListsOnlyTheMerge) {
  git("checkout -q -b integration " + c_, kT0);
  git("merge -q --no-ff -m 'NWA-10 integrate feature' feature", kT0 + 700);
  const std::string m = git("rev-parse HEAD", kT0);
  Mirror mirror = fetched_mirror();
  auto commits = mirror.commits_for_ref_change("refs/heads/integration", kZeroHash, m);
  ASSERT_TRUE(commits.has_value()) << commits.error().message;
  ASSERT_EQ(hashes(*commits), (std::vector<std::string>{m}));
  EXPECT_EQ((*commits)[0].parents, (std::vector<std::string>{c_, e_}));
}

TEST_F(MirrorTest, UndoingAMergeRemovesTheMergeAndTheMergedCommitsFromThatBranch) {
  git("merge -q --no-ff -m 'Merge branch feature' feature", kT0 + 300);
  const std::string m = git("rev-parse HEAD", kT0);
  Mirror mirror = fetched_mirror();
  git("reset -q --hard " + c_, kT0);
  ASSERT_TRUE(mirror.fetch().has_value());
  auto left = mirror.commits_removed_by_ref_change(m, c_);
  ASSERT_TRUE(left.has_value()) << left.error().message;
  // They left main; they are still on feature (another branch's sightings are not affected).
  EXPECT_EQ(*left, (std::vector<std::string>{m, e_, d_}));
  EXPECT_EQ(mirror.resolve_ref("feature").value(), e_);
}

TEST_F(MirrorTest, RefetchPicksUpNewCommits) {
  Mirror mirror = fetched_mirror();
  const std::string f = commit("NWA-7 after the first fetch", kT0 + 500);

  auto before = mirror.commits_for_ref_change("main", c_, f);
  ASSERT_FALSE(before.has_value());
  EXPECT_EQ(before.error().code, ErrorCode::not_found);

  ASSERT_TRUE(mirror.fetch().has_value());
  auto after = mirror.commits_for_ref_change("main", c_, f);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  ASSERT_EQ(hashes(*after), (std::vector<std::string>{f}));
  EXPECT_EQ((*after)[0].message, "NWA-7 after the first fetch");
  EXPECT_EQ((*after)[0].author_time_ms, (kT0 + 500) * 1000);
}

TEST_F(MirrorTest, RefetchPrunesDeletedBranchesAndTags) {
  Mirror mirror = fetched_mirror();
  ASSERT_EQ(mirror.resolve_ref("refs/heads/feature").value(), e_);
  git("branch -q -D feature", kT0);
  git("tag -d v1", kT0);
  ASSERT_TRUE(mirror.fetch().has_value());
  EXPECT_EQ(mirror.resolve_ref("refs/heads/feature").value(), std::nullopt);
  EXPECT_EQ(mirror.resolve_ref("refs/tags/v1").value(), std::nullopt);
  EXPECT_EQ(mirror.resolve_ref("refs/heads/main").value(), c_);

  // With feature gone, a new branch at e_ owns d and e again.
  git("branch topic " + e_, kT0);
  ASSERT_TRUE(mirror.fetch().has_value());
  auto commits = mirror.commits_for_ref_change("refs/heads/topic", kZeroHash, e_);
  ASSERT_TRUE(commits.has_value());
  EXPECT_EQ(hashes(*commits), (std::vector<std::string>{e_, d_}));
}

TEST_F(MirrorTest, UnreachableLocalPathIsPeerUnavailable) {
  const std::string url = (root_ / "does-not-exist").string();
  auto mirror = Mirror::open_or_create(mirror_dir_, url);
  ASSERT_TRUE(mirror.has_value()) << mirror.error().message;
  auto fetched = mirror->fetch();
  ASSERT_FALSE(fetched.has_value());
  EXPECT_EQ(fetched.error().code, ErrorCode::peer_unavailable);
  EXPECT_NE(fetched.error().message.find(url), std::string::npos) << fetched.error().message;

  auto file_url = Mirror::open_or_create(root_ / "mirror2", "file://" + url);
  ASSERT_TRUE(file_url.has_value());
  auto file_fetched = file_url->fetch();
  ASSERT_FALSE(file_fetched.has_value());
  EXPECT_EQ(file_fetched.error().code, ErrorCode::peer_unavailable);
}

TEST_F(MirrorTest, UnreachableHttpRemoteNeverShowsThePassword) {
  // Port 1 on loopback: connection refused at once.
  auto mirror =
      Mirror::open_or_create(mirror_dir_, "http://deploy:url-s3cret@127.0.0.1:1/repo.git");
  ASSERT_TRUE(mirror.has_value()) << mirror.error().message;
  EXPECT_EQ(mirror->redacted_clone_url(), "http://***@127.0.0.1:1/repo.git");
  auto fetched = mirror->fetch(FetchCredentials{"deploy", "hunter2-password", "", ""});
  ASSERT_FALSE(fetched.has_value());
  EXPECT_EQ(fetched.error().code, ErrorCode::peer_unavailable);
  for (const std::string& text : {fetched.error().message, fetched.error().detail}) {
    EXPECT_EQ(text.find("url-s3cret"), std::string::npos) << text;
    EXPECT_EQ(text.find("hunter2-password"), std::string::npos) << text;
  }
  EXPECT_NE(fetched.error().message.find("127.0.0.1:1"), std::string::npos)
      << fetched.error().message;
}

TEST_F(MirrorTest, CredentialsAreOfferedOnceAndNeverShown) {
  UnauthorizedServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/scm/nwa/app.git";
  auto mirror = Mirror::open_or_create(mirror_dir_, url);
  ASSERT_TRUE(mirror.has_value()) << mirror.error().message;
  auto fetched = mirror->fetch(FetchCredentials{"deploy", "hunter2-password", "", ""});
  ASSERT_FALSE(fetched.has_value());
  EXPECT_EQ(fetched.error().code, ErrorCode::peer_unavailable);
  EXPECT_NE(fetched.error().message.find("rejected the configured credentials"), std::string::npos)
      << fetched.error().message;
  EXPECT_EQ(fetched.error().message.find("hunter2-password"), std::string::npos);
  EXPECT_EQ(fetched.error().detail.find("hunter2-password"), std::string::npos);
  // One unauthenticated request, then exactly one with basic auth: no retry loop.
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(server.authorizations(),
            std::vector<std::string>{"Basic ZGVwbG95Omh1bnRlcjItcGFzc3dvcmQ="});
}

TEST_F(MirrorTest, NoCredentialsMeansNoAuthorizationHeader) {
  UnauthorizedServer server;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/scm/nwa/app.git";
  auto mirror = Mirror::open_or_create(mirror_dir_, url);
  ASSERT_TRUE(mirror.has_value());
  for (const auto& creds : {std::optional<FetchCredentials>{}, std::optional(FetchCredentials{})}) {
    auto fetched = mirror->fetch(creds);
    ASSERT_FALSE(fetched.has_value());
    EXPECT_EQ(fetched.error().code, ErrorCode::peer_unavailable) << fetched.error().message;
  }
  EXPECT_TRUE(server.authorizations().empty());
}

TEST_F(MirrorTest, OpenOrCreateTwiceReusesTheRepository) {
  {
    Mirror first = fetched_mirror();
    ASSERT_TRUE(first.find_commit(c_).value().has_value());
  }
  auto second = Mirror::open_or_create(mirror_dir_, src_.string());
  ASSERT_TRUE(second.has_value()) << second.error().message;
  // No fetch: the objects and refs of the first run are still there.
  EXPECT_EQ(second->resolve_ref("main").value(), c_);
  auto commits = second->commits_for_ref_change("main", a_, c_);
  ASSERT_TRUE(commits.has_value());
  EXPECT_EQ(hashes(*commits), (std::vector<std::string>{c_, b_}));
}

TEST_F(MirrorTest, OpenOrCreateUpdatesAChangedUrl) {
  {
    auto wrong = Mirror::open_or_create(mirror_dir_, (root_ / "elsewhere").string());
    ASSERT_TRUE(wrong.has_value());
    ASSERT_FALSE(wrong->fetch().has_value());
  }
  auto right = Mirror::open_or_create(mirror_dir_, src_.string());
  ASSERT_TRUE(right.has_value()) << right.error().message;
  EXPECT_EQ(right->clone_url(), src_.string());
  ASSERT_TRUE(right->fetch().has_value());
  EXPECT_EQ(right->resolve_ref("main").value(), c_);

  // The stored configuration has the new URL and exactly the two refspecs.
  const std::string config = run("git config --file " + quote((mirror_dir_ / "config").string()) +
                                 " --get-regexp '^remote\\.origin\\.'");
  EXPECT_NE(config.find("remote.origin.url " + src_.string()), std::string::npos) << config;
  EXPECT_NE(config.find("remote.origin.fetch +refs/heads/*:refs/heads/*"), std::string::npos);
  EXPECT_NE(config.find("remote.origin.fetch +refs/tags/*:refs/tags/*"), std::string::npos);
  EXPECT_EQ(config.find("elsewhere"), std::string::npos) << config;
}

TEST_F(MirrorTest, OpenOrCreateRepairsFetchRefspecs) {
  { ASSERT_TRUE(Mirror::open_or_create(mirror_dir_, src_.string()).has_value()); }
  run("git config --file " + quote((mirror_dir_ / "config").string()) +
      " --replace-all remote.origin.fetch '+refs/heads/main:refs/remotes/origin/main'");
  auto mirror = Mirror::open_or_create(mirror_dir_, src_.string());
  ASSERT_TRUE(mirror.has_value()) << mirror.error().message;
  ASSERT_TRUE(mirror->fetch().has_value());
  EXPECT_EQ(mirror->resolve_ref("refs/heads/feature").value(), e_);
  EXPECT_EQ(mirror->resolve_ref("refs/tags/v1").value(), a_);
}

TEST_F(MirrorTest, OpenOrCreateRefusesBadInput) {
  auto no_url = Mirror::open_or_create(mirror_dir_, "");
  ASSERT_FALSE(no_url.has_value());
  EXPECT_EQ(no_url.error().code, ErrorCode::invalid_argument);

  const fs::path not_repo = root_ / "not-a-repo";
  fs::create_directories(not_repo);
  std::ofstream(not_repo / "file.txt") << "hello";
  auto refused = Mirror::open_or_create(not_repo, src_.string());
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);

  // An existing empty directory is fine.
  const fs::path empty_dir = root_ / "empty";
  fs::create_directories(empty_dir);
  EXPECT_TRUE(Mirror::open_or_create(empty_dir, src_.string()).has_value());
}

TEST_F(MirrorTest, FindCommit) {
  Mirror mirror = fetched_mirror();
  auto full = mirror.find_commit(d_);
  ASSERT_TRUE(full.has_value());
  ASSERT_TRUE(full->has_value());
  EXPECT_EQ((*full)->hash, d_);
  EXPECT_EQ((*full)->message, "NWA-3 feature one");
  EXPECT_EQ((*full)->parents, (std::vector<std::string>{b_}));

  auto prefix = mirror.find_commit(d_.substr(0, 12));
  ASSERT_TRUE(prefix.has_value());
  ASSERT_TRUE(prefix->has_value());
  EXPECT_EQ((*prefix)->hash, d_);

  auto upper = mirror.find_commit(run("echo " + d_ + " | tr a-f A-F"));
  ASSERT_TRUE(upper.has_value());
  ASSERT_TRUE(upper->has_value());
  EXPECT_EQ((*upper)->hash, d_);

  auto missing = mirror.find_commit(kMissingHash);
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());

  // A tree is in the mirror but is not a commit.
  const std::string tree = git("rev-parse " + d_ + "^{tree}", kT0);
  auto not_commit = mirror.find_commit(tree);
  ASSERT_TRUE(not_commit.has_value());
  EXPECT_FALSE(not_commit->has_value());
}

TEST_F(MirrorTest, MirrorIsMovable) {
  Mirror mirror = fetched_mirror();
  Mirror moved = std::move(mirror);
  EXPECT_EQ(moved.resolve_ref("main").value(), c_);
  auto other = Mirror::open_or_create(root_ / "other", src_.string());
  ASSERT_TRUE(other.has_value());
  *other = std::move(moved);
  EXPECT_EQ(other->resolve_ref("main").value(), c_);
  EXPECT_EQ(other->dir(), mirror_dir_);
}

TEST(RedactUrlCredentials, RemovesUserInfoOnly) {
  EXPECT_EQ(redact_url_credentials("https://user:pw@host.example/scm/a/b.git"),
            "https://***@host.example/scm/a/b.git");
  EXPECT_EQ(redact_url_credentials("https://token@host.example"), "https://***@host.example");
  EXPECT_EQ(redact_url_credentials("https://host.example/a@b"), "https://host.example/a@b");
  EXPECT_EQ(redact_url_credentials("/srv/git/repo.git"), "/srv/git/repo.git");
  EXPECT_EQ(redact_url_credentials("failed 'https://u:p@h/x' then ssh://git@h2/y"),
            "failed 'https://***@h/x' then ssh://***@h2/y");
}

}  // namespace
}  // namespace cb::git
