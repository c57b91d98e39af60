// Back-pressure: when the group-commit writer cannot keep up and its queue is full, a webhook
// is answered 503 with Retry-After at once, nothing of it is stored, and the requests that were
// accepted into the queue are answered 202 once the writer can commit again.

#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;

/// The sqlite3 shell holding the database's write lock (BEGIN IMMEDIATE) until release().
class WriteLockHolder {
 public:
  WriteLockHolder(const std::string& db, const std::filesystem::path& out) : out_(out) {
    const std::string command = "sqlite3 '" + db + "' > '" + out.string() + "' 2>&1";
    shell_ = ::popen(command.c_str(), "w");
    if (shell_ == nullptr) return;
    std::fputs(".timeout 5000\nBEGIN IMMEDIATE;\n.print locked\n", shell_);
    std::fflush(shell_);
  }
  ~WriteLockHolder() { release(); }
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;

  /// True once the shell holds the lock.
  bool wait_locked() {
    return shell_ != nullptr && wait_until([this] {
             std::ifstream in(out_);
             std::stringstream s;
             s << in.rdbuf();
             return s.str().find("locked") != std::string::npos;
           });
  }
  void release() {
    if (shell_ == nullptr) return;
    std::fputs("ROLLBACK;\n.quit\n", shell_);
    ::pclose(shell_);
    shell_ = nullptr;
  }

 private:
  std::filesystem::path out_;
  FILE* shell_ = nullptr;
};

class BackPressureTest : public IntegrationTest {
 protected:
  void SetUp() override {
    if (run_process({"sqlite3", "-version"}).exit_code != 0) {
      GTEST_SKIP() << "the sqlite3 shell is not installed";
    }
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    // One delivery may wait in the queue besides the batch the writer is committing.
    ASSERT_TRUE(start_server({{"COMMITBRIDGE_STORAGE_WRITE_QUEUE_MAX", "1"}}));
  }

  std::string body() const {
    return bitbucket_push_body("ORB", "orbit-tools",
                               {branch_change("main", "UPDATE", fake_hash("a"), fake_hash("b"))});
  }

  std::string token_;
};

TEST_F(BackPressureTest, AFullWriteQueueIs503WithRetryAfterAndStoresNothingOfTheRefused) {
  WriteLockHolder lock((data_dir_ / "commitbridge.db").string(), tmp_.path() / "sqlite3.out");
  ASSERT_TRUE(lock.wait_locked()) << "the sqlite3 shell did not take the write lock";

  // The writer takes the first delivery and waits for the lock; the second waits in the queue
  // (or is refused, if the writer had not taken the first yet); from then on the queue is full.
  const std::string b = body();
  std::vector<std::future<HttpResponse>> waiting;
  std::vector<HttpResponse> refused;
  for (int i = 0; i < 6 && refused.size() < 2; ++i) {
    auto f = std::async(std::launch::async, [this, &b] { return send_push("acme", token_, b); });
    if (f.wait_for(std::chrono::seconds(2)) == std::future_status::ready) {
      refused.push_back(f.get());
    } else {
      waiting.push_back(std::move(f));
    }
  }
  ASSERT_EQ(refused.size(), 2u) << "no request was refused while the writer was blocked";
  for (const auto& r : refused) {
    EXPECT_EQ(r.status, 503) << r.describe();
    EXPECT_EQ(r.error_code(), "queue_full") << r.describe();
    EXPECT_FALSE(r.header("retry-after").empty()) << r.describe();
  }
  EXPECT_GE(waiting.size(), 1u);
  EXPECT_LE(waiting.size(), 2u);

  lock.release();
  std::vector<std::string> accepted;
  for (auto& f : waiting) {
    const auto r = f.get();
    EXPECT_EQ(r.status, 202) << r.describe();
    accepted.push_back(str(r.json(), "delivery_id"));
  }
  // Exactly the accepted deliveries are stored: a 503 left nothing behind.
  const auto all = deliveries("acme");
  EXPECT_EQ(all.size(), accepted.size()) << json::serialize(all);
  for (const auto& id : accepted) EXPECT_FALSE(delivery(id).is_null()) << id;
}

}  // namespace
}  // namespace cbtest
