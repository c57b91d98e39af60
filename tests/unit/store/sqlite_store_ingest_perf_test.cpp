// SqliteStore on the ingest path: the worker's batched claims and outcomes through the writer,
// the token epoch served from memory yet never stale after a change by another store on the
// same file, and the statement cache.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store_test_util.hpp"

namespace cb::store {
namespace {

using testing::make_delivery;
using testing::persist_and_wait;
using testing::SqliteStoreTest;

std::vector<std::string> ids(const std::vector<DeliveryRecord>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.delivery_id);
  return out;
}

DeliveryRecord get(Store& store, const std::string& id) {
  auto d = store.get_delivery(id);
  EXPECT_TRUE(d.has_value() && d->has_value());
  return d && *d ? **d : DeliveryRecord{};
}

class SqliteStoreSettleTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    if (HasFatalFailure()) return;
    for (int i = 1; i <= 5; ++i) {
      const std::string n = std::to_string(i);
      auto r = persist_and_wait(*store_, make_delivery(org_.id, "d-" + n, "ext-" + n));
      ASSERT_TRUE(r.has_value()) << r.error().detail;
    }
  }
};

TEST_F(SqliteStoreSettleTest, ClaimsTheOldestUpToMaxAndMarksThemProcessing) {
  auto first = store_->settle_and_claim({}, 2'000, 3);
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_THAT(ids(*first), ::testing::ElementsAre("d-1", "d-2", "d-3"));
  for (const auto& d : *first) {
    EXPECT_EQ(d.status, "processing");
    EXPECT_EQ(d.attempts, 1);
    EXPECT_EQ(d.body, R"({"eventKey":"repo:refs_changed"})");
    ASSERT_EQ(d.headers.size(), 2u);
    EXPECT_EQ(get(*store_, d.delivery_id).status, "processing");
  }
  // A claimed delivery is never handed out again while it is processing.
  auto second = store_->settle_and_claim({}, 2'000, 10);
  ASSERT_TRUE(second.has_value());
  EXPECT_THAT(ids(*second), ::testing::ElementsAre("d-4", "d-5"));
  auto none = store_->settle_and_claim({}, 2'000, 10);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteStoreSettleTest, RecordsOutcomesBeforeClaimingInTheSameCall) {
  auto claimed = store_->settle_and_claim({}, 2'000, 2);
  ASSERT_TRUE(claimed.has_value());
  ASSERT_EQ(claimed->size(), 2u);
  const std::vector<DeliveryOutcome> outcomes{
      DeliveryOutcome{"d-1", "done", "1 job run", 3'000, 0, false},
      // A retry due at once is claimable again by the same call.
      DeliveryOutcome{"d-2", "queued", "attempt 1 failed, will retry: peer down", 3'000, 3'000,
                      false}};
  auto next = store_->settle_and_claim(outcomes, 3'000, 10);
  ASSERT_TRUE(next.has_value()) << next.error().detail;
  EXPECT_THAT(ids(*next), ::testing::ElementsAre("d-2", "d-3", "d-4", "d-5"));
  EXPECT_EQ(next->front().attempts, 2);
  const auto done = get(*store_, "d-1");
  EXPECT_EQ(done.status, "done");
  EXPECT_EQ(done.reason, "1 job run");
  EXPECT_EQ(done.updated_at_ms, 3'000);
}

TEST_F(SqliteStoreSettleTest, ARetryIsNotClaimedBeforeItsTime) {
  ASSERT_TRUE(store_->settle_and_claim({}, 2'000, 1).has_value());
  const std::vector<DeliveryOutcome> retry{
      DeliveryOutcome{"d-1", "queued", "attempt 1 failed", 2'000, 9'000, false}};
  auto next = store_->settle_and_claim(retry, 8'999, 1);
  ASSERT_TRUE(next.has_value());
  EXPECT_THAT(ids(*next), ::testing::ElementsAre("d-2"));
  auto due = store_->settle_and_claim({}, 9'000, 1);
  ASSERT_TRUE(due.has_value());
  EXPECT_THAT(ids(*due), ::testing::ElementsAre("d-1"));
}

TEST_F(SqliteStoreSettleTest, AReleasedDeliveryIsQueuedAgainWithoutCountingTheAttempt) {
  auto claimed = store_->settle_and_claim({}, 2'000, 2);
  ASSERT_TRUE(claimed.has_value());
  const std::vector<DeliveryOutcome> release{DeliveryOutcome{"d-2", "", "", 2'500, 0, true}};
  auto r = store_->settle_and_claim(release, 2'500, 0);
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_TRUE(r->empty());  // max 0: records only
  const auto d2 = get(*store_, "d-2");
  EXPECT_EQ(d2.status, "queued");
  EXPECT_EQ(d2.attempts, 0);
  EXPECT_EQ(get(*store_, "d-1").status, "processing");
  auto again = store_->settle_and_claim({}, 3'000, 1);
  ASSERT_TRUE(again.has_value());
  EXPECT_THAT(ids(*again), ::testing::ElementsAre("d-2"));
  EXPECT_EQ(again->front().attempts, 1);
}

TEST_F(SqliteStoreSettleTest, ProcessingLeftByACrashIsRequeuedAtRestart) {
  ASSERT_TRUE(store_->settle_and_claim({}, 2'000, 5).has_value());
  store_.reset();  // a stop without recording outcomes, as after kill -9
  open_store();
  auto requeued = store_->recover_after_restart(4'000);
  ASSERT_TRUE(requeued.has_value());
  EXPECT_EQ(*requeued, 5);
  auto claimed = store_->settle_and_claim({}, 4'000, 10);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->size(), 5u);
}

TEST_F(SqliteStoreTest, SettleAfterCloseIsStoreUnavailable) {
  store_->close();
  auto r = store_->settle_and_claim({}, 1'000, 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::store_unavailable);
}

TEST_F(SqliteStoreTest, TokenEpochSeesAChangeCommittedByAnotherStoreOnTheSameFileAtOnce) {
  // A second store on the same file stands for the CLI in another process: its own
  // connections and its own mapping of the shared change counter.
  auto other = sqlite::SqliteStore::open(db_file());
  ASSERT_TRUE(other.has_value()) << other.error().detail;
  TokenRecord t;
  t.org_id = org_.id;
  t.name = "bitbucket";
  t.type = "webhook";
  t.public_id = "0123456789abcdef";
  t.secret_sealed = "sealed";
  t.created_at_ms = 1'000;
  ASSERT_TRUE((*other)->create_token(t).has_value());

  auto before = store_->token_epoch();
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(store_->token_epoch().value_or(-1), *before);  // served from memory, unchanged
  for (int i = 0; i < 3; ++i) {
    // Revoked, then asked at once: never the epoch from before the revocation.
    ASSERT_TRUE((*other)->revoke_token_by_id(1, 2'000 + i).has_value());
    TokenRecord more = t;
    more.name = "more-" + std::to_string(i);
    more.public_id = "fedcba987654321" + std::to_string(i);
    ASSERT_TRUE((*other)->create_token(more).has_value());
    auto after = store_->token_epoch();
    ASSERT_TRUE(after.has_value());
    EXPECT_GT(*after, *before) << i;
    before = after;
  }
}

TEST_F(SqliteStoreTest, TokenEpochIsUnchangedByDeliveriesAndTokenUse) {
  auto before = store_->token_epoch();
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1")).has_value());
  ASSERT_TRUE(store_->set_meta("note", "x").has_value());  // meta, but not the epoch
  EXPECT_EQ(store_->token_epoch().value_or(-1), *before);
}

TEST(SqliteConnectionTest, APreparedStatementIsReusedAndLeavesNoReadOpen) {
  testing::TempDir dir;
  auto db = sqlite::Connection::open(dir.path() / "c.db");
  ASSERT_TRUE(db.has_value()) << db.error().detail;
  ASSERT_TRUE(db->exec("CREATE TABLE t (v INTEGER)").has_value());
  ASSERT_TRUE(db->exec("INSERT INTO t VALUES (1)").has_value());
  sqlite3_stmt* first = nullptr;
  {
    auto s = db->prepare("SELECT v FROM t");
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE(s->step().value_or(false));
    first = sqlite3_next_stmt(db->handle(), nullptr);
    // Stepped but not finished: back in the cache it must be reset (no read transaction).
  }
  EXPECT_EQ(sqlite3_get_autocommit(db->handle()), 1);
  EXPECT_EQ(sqlite3_stmt_busy(first), 0);
  {
    auto s = db->prepare("SELECT v FROM t");
    ASSERT_TRUE(s.has_value());
    ASSERT_TRUE(s->step().value_or(false));
    EXPECT_EQ(s->int64(0), 1);
    // Same text while the first is in use: a second statement.
    auto t = db->prepare("SELECT v FROM t");
    ASSERT_TRUE(t.has_value());
    ASSERT_TRUE(t->step().value_or(false));
    EXPECT_EQ(t->int64(0), 1);
  }
  // Writers see a cached statement's earlier reads ended: this commits.
  ASSERT_TRUE(db->exec("BEGIN IMMEDIATE").has_value());
  ASSERT_TRUE(db->exec("UPDATE t SET v = 2").has_value());
  ASSERT_TRUE(db->exec("COMMIT").has_value());
  auto s = db->prepare("SELECT v FROM t");
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE(s->step().value_or(false));
  EXPECT_EQ(s->int64(0), 2);
}

}  // namespace
}  // namespace cb::store
