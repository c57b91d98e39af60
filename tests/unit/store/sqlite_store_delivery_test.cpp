// SqliteStore deliveries: group-commit persist, deduplication, back-pressure, claim/finish,
// recovery, listing and durability.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite/sqlite_store.hpp"
#include "store_test_util.hpp"

namespace cb::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kWaitLimit;
using testing::make_delivery;
using testing::persist_and_wait;
using testing::SqliteStoreTest;

/// Every delivery of the store, newest first.
std::vector<DeliveryRecord> all_deliveries(Store& store) {
  DeliveryQuery q;
  q.limit = 100'000;
  auto r = store.list_deliveries(q);
  EXPECT_TRUE(r.has_value());
  return r.value_or(std::vector<DeliveryRecord>{});
}

TEST_F(SqliteStoreTest, PersistCallsBackExactlyOnceWithTheOutcome) {
  std::atomic<int> calls{0};
  std::promise<Result<PersistOutcome>> promise;
  auto future = promise.get_future();
  store_->persist_delivery(make_delivery(org_.id, "d-1", "ext-1"),
                           [&calls, &promise](Result<PersistOutcome> r) {
                             if (calls.fetch_add(1) == 0) promise.set_value(std::move(r));
                           });
  ASSERT_EQ(future.wait_for(kWaitLimit), std::future_status::ready);
  auto outcome = future.get();
  ASSERT_TRUE(outcome.has_value()) << outcome.error().detail;
  EXPECT_EQ(outcome->delivery_id, "d-1");
  EXPECT_FALSE(outcome->duplicate);
  EXPECT_EQ(outcome->status, "queued");
  store_->close();  // joins the writer: any second call would have happened by now
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(SqliteStoreTest, PersistedDeliveryHasEveryFieldAndIsPending) {
  auto d = make_delivery(org_.id, "d-1", "ext-1", "sync-alm-commits", 42'000);
  d.reason = "";
  ASSERT_TRUE(persist_and_wait(*store_, d).has_value());
  auto got = store_->get_delivery("d-1");
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  const DeliveryRecord& r = **got;
  EXPECT_GT(r.seq, 0);
  EXPECT_EQ(r.delivery_id, "d-1");
  EXPECT_EQ(r.org_id, org_.id);
  EXPECT_EQ(r.org_name, "Northwind");
  EXPECT_EQ(r.endpoint, "sync-alm-commits");
  EXPECT_EQ(r.provider, "bitbucket_server");
  EXPECT_EQ(r.event_key, "repo:refs_changed");
  EXPECT_EQ(r.external_id, "ext-1");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[0].name, "Content-Type");
  EXPECT_EQ(r.headers[0].value, "application/json");
  EXPECT_EQ(r.headers[1].name, "X-Event-Key");
  EXPECT_EQ(r.headers[1].value, "repo:refs_changed");
  EXPECT_EQ(r.body, R"({"eventKey":"repo:refs_changed"})");
  EXPECT_EQ(r.received_at_ms, 42'000);
  EXPECT_EQ(r.updated_at_ms, 42'000);
  EXPECT_EQ(r.status, "queued");
  EXPECT_EQ(r.attempts, 0);
  auto pending = store_->pending_deliveries();
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(*pending, 1);
}

TEST_F(SqliteStoreTest, IgnoredDeliveryIsStoredWithItsReasonAndIsNotPending) {
  auto d = make_delivery(org_.id, "d-1", "ext-1");
  d.status = "ignored";
  d.reason = "the sender's provider could not be recognised";
  auto outcome = persist_and_wait(*store_, d);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, "ignored");
  auto got = store_->get_delivery("d-1");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->status, "ignored");
  EXPECT_EQ((*got)->reason, "the sender's provider could not be recognised");
  EXPECT_EQ(store_->pending_deliveries().value_or(-1), 0);
  auto claimed = store_->claim_next_delivery(1'800'000'000'000);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_FALSE(claimed->has_value());
}

TEST_F(SqliteStoreTest, SameExternalIdOnTheSameEndpointIsADuplicateOfTheFirst) {
  auto first = persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1"));
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->duplicate);

  auto second = persist_and_wait(*store_, make_delivery(org_.id, "d-2", "ext-1"));
  ASSERT_TRUE(second.has_value()) << second.error().detail;
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(second->delivery_id, "d-1");
  EXPECT_EQ(second->status, "queued");

  const auto rows = all_deliveries(*store_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].delivery_id, "d-1");
  auto missing = store_->get_delivery("d-2");
  ASSERT_TRUE(missing.has_value());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(SqliteStoreTest, DuplicateReportsTheCurrentStatusOfTheFirst) {
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1")).has_value());
  ASSERT_TRUE(store_->finish_delivery("d-1", "done", "1 job run", 50, 0).has_value());
  auto again = persist_and_wait(*store_, make_delivery(org_.id, "d-2", "ext-1"));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->delivery_id, "d-1");
  EXPECT_EQ(again->status, "done");
}

TEST_F(SqliteStoreTest, SameExternalIdOnTheOtherEndpointOrOrgIsNotADuplicate) {
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1")).has_value());
  auto other_endpoint =
      persist_and_wait(*store_, make_delivery(org_.id, "d-2", "ext-1", "sync-alm-commits"));
  ASSERT_TRUE(other_endpoint.has_value());
  EXPECT_FALSE(other_endpoint->duplicate);
  EXPECT_EQ(other_endpoint->delivery_id, "d-2");

  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  auto other_org = persist_and_wait(*store_, make_delivery(other->id, "d-3", "ext-1"));
  ASSERT_TRUE(other_org.has_value());
  EXPECT_FALSE(other_org->duplicate);
  EXPECT_EQ(other_org->delivery_id, "d-3");
  EXPECT_EQ(all_deliveries(*store_).size(), 3u);
}

TEST_F(SqliteStoreTest, EmptyExternalIdIsNeverDeduplicated) {
  for (const std::string id : {"d-1", "d-2", "d-3"}) {
    auto r = persist_and_wait(*store_, make_delivery(org_.id, id, ""));
    ASSERT_TRUE(r.has_value()) << r.error().detail;
    EXPECT_FALSE(r->duplicate);
    EXPECT_EQ(r->delivery_id, id);
  }
  const auto rows = all_deliveries(*store_);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) EXPECT_EQ(row.external_id, "");
}

TEST_F(SqliteStoreTest, DuplicatesInsideOneBatchAreDetected) {
  // Both go into the queue before the writer can take them, most of the time in one batch; in
  // either case the second is a duplicate of the first.
  std::promise<Result<PersistOutcome>> p1;
  std::promise<Result<PersistOutcome>> p2;
  auto f1 = p1.get_future();
  auto f2 = p2.get_future();
  store_->persist_delivery(make_delivery(org_.id, "d-1", "ext-same"),
                           [&p1](Result<PersistOutcome> r) { p1.set_value(std::move(r)); });
  store_->persist_delivery(make_delivery(org_.id, "d-2", "ext-same"),
                           [&p2](Result<PersistOutcome> r) { p2.set_value(std::move(r)); });
  ASSERT_EQ(f1.wait_for(kWaitLimit), std::future_status::ready);
  ASSERT_EQ(f2.wait_for(kWaitLimit), std::future_status::ready);
  auto r1 = f1.get();
  auto r2 = f2.get();
  ASSERT_TRUE(r1.has_value());
  ASSERT_TRUE(r2.has_value());
  EXPECT_FALSE(r1->duplicate);
  EXPECT_EQ(r1->delivery_id, "d-1");
  EXPECT_TRUE(r2->duplicate);
  EXPECT_EQ(r2->delivery_id, "d-1");
}

TEST_F(SqliteStoreTest, ConcurrentPersistsFromFourThreadsAreAllCommittedOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 125;
  constexpr int kTotal = kThreads * kPerThread;

  std::mutex mutex;
  std::condition_variable cv;
  std::vector<Result<PersistOutcome>> outcomes;
  std::atomic<int> callbacks{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string n = std::to_string(t) + "-" + std::to_string(i);
        store_->persist_delivery(make_delivery(org_.id, "d-" + n, "ext-" + n),
                                 [&](Result<PersistOutcome> r) {
                                   {
                                     std::lock_guard lock(mutex);
                                     outcomes.push_back(std::move(r));
                                   }
                                   callbacks.fetch_add(1);
                                   cv.notify_all();
                                 });
      }
    });
  }
  for (auto& th : threads) th.join();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, kWaitLimit, [&] { return outcomes.size() == kTotal; }))
        << "only " << outcomes.size() << " callbacks";
  }
  store_->close();
  EXPECT_EQ(callbacks.load(), kTotal);

  std::set<std::string> ids;
  for (const auto& o : outcomes) {
    ASSERT_TRUE(o.has_value()) << o.error().detail;
    EXPECT_FALSE(o->duplicate);
    EXPECT_EQ(o->status, "queued");
    ids.insert(o->delivery_id);
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kTotal));

  const auto rows = all_deliveries(*store_);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kTotal));
  std::set<std::string> stored;
  std::set<std::int64_t> seqs;
  for (const auto& r : rows) {
    stored.insert(r.delivery_id);
    seqs.insert(r.seq);
  }
  EXPECT_EQ(stored, ids);
  EXPECT_EQ(seqs.size(), static_cast<std::size_t>(kTotal));
  EXPECT_EQ(store_->pending_deliveries().value_or(-1), kTotal);
}

TEST_F(SqliteStoreTest, FullQueueRefusesWithQueueFullAndKeepsEveryAcceptedDelivery) {
  store_.reset();
  open_store(sqlite::WriterOptions{1, 1});

  // The first delivery's callback runs on the writer thread; holding it there keeps the writer
  // from draining the queue, so what happens next does not depend on timing.
  std::promise<void> entered;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  std::atomic<int> first_calls{0};
  std::atomic<bool> first_ok{false};
  store_->persist_delivery(make_delivery(org_.id, "d-0", "ext-0"),
                           [&, release_future](Result<PersistOutcome> r) {
                             first_ok.store(r.has_value());
                             if (first_calls.fetch_add(1) == 0) entered.set_value();
                             (void)release_future.wait_for(kWaitLimit);
                           });
  ASSERT_EQ(entered.get_future().wait_for(kWaitLimit), std::future_status::ready);
  ASSERT_TRUE(first_ok.load());

  constexpr int kFlood = 50;
  std::mutex mutex;
  std::vector<std::pair<std::string, Result<PersistOutcome>>> results;
  std::atomic<int> callbacks{0};
  for (int i = 1; i <= kFlood; ++i) {
    const std::string id = "d-" + std::to_string(i);
    store_->persist_delivery(make_delivery(org_.id, id, "ext-" + std::to_string(i)),
                             [&, id](Result<PersistOutcome> r) {
                               std::lock_guard lock(mutex);
                               results.emplace_back(id, std::move(r));
                               callbacks.fetch_add(1);
                             });
  }
  release.set_value();
  store_->close();  // commits what was queued, then joins the writer

  ASSERT_EQ(callbacks.load(), kFlood);
  EXPECT_EQ(first_calls.load(), 1);
  std::vector<std::string> accepted;
  int refused = 0;
  for (const auto& [id, r] : results) {
    if (r.has_value()) {
      EXPECT_EQ(r->delivery_id, id);
      EXPECT_FALSE(r->duplicate);
      accepted.push_back(id);
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::queue_full) << r.error().message;
      EXPECT_THAT(r.error().message, HasSubstr("queue is full"));
      ++refused;
    }
  }
  // The queue holds one delivery while the writer is busy: exactly one more got in.
  EXPECT_THAT(accepted, ElementsAre("d-1"));
  EXPECT_EQ(refused, kFlood - 1);

  std::set<std::string> stored;
  for (const auto& row : all_deliveries(*store_)) stored.insert(row.delivery_id);
  EXPECT_EQ(stored, (std::set<std::string>{"d-0", "d-1"}));
}

TEST_F(SqliteStoreTest, PersistAfterCloseFailsWithStoreUnavailable) {
  store_->close();
  store_->close();  // idempotent
  auto r = persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::store_unavailable);
  EXPECT_TRUE(all_deliveries(*store_).empty());
}

TEST_F(SqliteStoreTest, CloseCommitsWhatIsQueued) {
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    store_->persist_delivery(make_delivery(org_.id, "d-" + std::to_string(i), ""),
                             [&ok](Result<PersistOutcome> r) {
                               if (r) ok.fetch_add(1);
                             });
  }
  store_->close();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(all_deliveries(*store_).size(), 20u);
}

// ---- claim / finish / recover -------------------------------------------------------------------

TEST_F(SqliteStoreTest, ClaimReturnsTheOldestQueuedDeliveryWithHeadersAndBinaryBody) {
  auto first = make_delivery(org_.id, "d-1", "ext-1");
  const std::string binary("\x00\x01{\"a\":\x00\xff\xfe}\x00", 13);
  first.body = binary;
  first.headers = {Header{"Content-Type", "application/octet-stream"},
                   Header{"X-Request-Id", "ext-1"}, Header{"X-Odd", "va\"lue\\ with ünï"}};
  ASSERT_TRUE(persist_and_wait(*store_, first).has_value());
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-2", "ext-2")).has_value());

  auto claimed = store_->claim_next_delivery(1'800'000'000'000);
  ASSERT_TRUE(claimed.has_value()) << claimed.error().detail;
  ASSERT_TRUE(claimed->has_value());
  const DeliveryRecord& d = **claimed;
  EXPECT_EQ(d.delivery_id, "d-1");
  EXPECT_EQ(d.status, "processing");
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.org_name, "Northwind");
  ASSERT_EQ(d.body.size(), 13u);
  EXPECT_EQ(d.body, binary);
  ASSERT_EQ(d.headers.size(), 3u);
  EXPECT_EQ(d.headers[0].name, "Content-Type");
  EXPECT_EQ(d.headers[0].value, "application/octet-stream");
  EXPECT_EQ(d.headers[1].name, "X-Request-Id");
  EXPECT_EQ(d.headers[1].value, "ext-1");
  EXPECT_EQ(d.headers[2].name, "X-Odd");
  EXPECT_EQ(d.headers[2].value, "va\"lue\\ with ünï");

  auto stored = store_->get_delivery("d-1");
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->status, "processing");
  EXPECT_EQ((*stored)->attempts, 1);
  EXPECT_EQ((*stored)->updated_at_ms, 1'800'000'000'000);
  EXPECT_EQ((*stored)->body, binary);

  auto next = store_->claim_next_delivery(1'800'000'000'000);
  ASSERT_TRUE(next.has_value() && next->has_value());
  EXPECT_EQ((*next)->delivery_id, "d-2");

  auto none = store_->claim_next_delivery(1'800'000'000'000);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(store_->pending_deliveries().value_or(-1), 2);  // both processing
}

TEST_F(SqliteStoreTest, ClaimRespectsNextAttemptTime) {
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1")).has_value());
  auto claimed = store_->claim_next_delivery(1'000);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  ASSERT_TRUE(store_->finish_delivery("d-1", "queued", "attempt 1 failed", 1'000, 5'000));

  auto early = store_->claim_next_delivery(4'999);
  ASSERT_TRUE(early.has_value());
  EXPECT_FALSE(early->has_value());

  auto due = store_->claim_next_delivery(5'000);
  ASSERT_TRUE(due.has_value() && due->has_value());
  EXPECT_EQ((*due)->delivery_id, "d-1");
  EXPECT_EQ((*due)->attempts, 2);
  EXPECT_EQ((*due)->reason, "attempt 1 failed");
}

TEST_F(SqliteStoreTest, ARetryDueLaterDoesNotBlockANewerDelivery) {
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1")).has_value());
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-2", "ext-2")).has_value());
  ASSERT_TRUE(store_->claim_next_delivery(1'000).has_value());
  ASSERT_TRUE(store_->finish_delivery("d-1", "queued", "retry", 1'000, 9'000));
  auto next = store_->claim_next_delivery(2'000);
  ASSERT_TRUE(next.has_value() && next->has_value());
  EXPECT_EQ((*next)->delivery_id, "d-2");
}

TEST_F(SqliteStoreTest, FinishDeliveryRecordsStatusReasonAndTime) {
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1")).has_value());
  ASSERT_TRUE(store_->claim_next_delivery(2'000).has_value());
  ASSERT_TRUE(store_->finish_delivery("d-1", "done", "1 job run: build@main succeeded", 3'000, 0));
  auto got = store_->get_delivery("d-1");
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->status, "done");
  EXPECT_EQ((*got)->reason, "1 job run: build@main succeeded");
  EXPECT_EQ((*got)->updated_at_ms, 3'000);
  EXPECT_EQ((*got)->attempts, 1);
  EXPECT_EQ(store_->pending_deliveries().value_or(-1), 0);
  auto none = store_->claim_next_delivery(10'000);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

TEST_F(SqliteStoreTest, GetDeliveryOfAnUnknownIdIsEmpty) {
  auto got = store_->get_delivery("no-such-delivery");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_value());
}

TEST_F(SqliteStoreTest, RecoverAfterRestartRequeuesProcessingAndInterruptsRunningRuns) {
  RepositoryRecord repo;
  repo.org_id = org_.id;
  repo.provider = "bitbucket_server";
  repo.project_key = "NWA";
  repo.slug = "planner";
  repo.clone_url = "/dev/null";
  auto r = store_->create_repository(repo);
  ASSERT_TRUE(r.has_value());
  JobRecord job;
  job.org_id = org_.id;
  job.repository_id = r->id;
  job.name = "build";
  job.branches = "main";
  job.argv = {"true"};
  auto j = store_->create_job(job);
  ASSERT_TRUE(j.has_value());

  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-1", "ext-1")).has_value());
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-2", "ext-2")).has_value());
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-3", "ext-3")).has_value());
  ASSERT_TRUE(store_->claim_next_delivery(1'000).has_value());  // d-1 processing
  ASSERT_TRUE(store_->claim_next_delivery(1'000).has_value());  // d-2 processing
  ASSERT_TRUE(store_->finish_delivery("d-2", "done", "ok", 1'500, 0));

  JobRunRecord run;
  run.job_id = j->id;
  run.delivery_id = "d-1";
  run.ref_id = "refs/heads/main";
  run.branch = "main";
  run.from_hash = std::string(40, 'a');
  run.to_hash = std::string(40, 'b');
  run.status = "queued";
  run.created_at_ms = 1'100;
  auto created = store_->create_job_run(run);
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(store_->mark_run_started(created->first.id, 1'200, "/logs/1.log"));

  // A restart: close and reopen the same file.
  store_.reset();
  open_store();
  auto requeued = store_->recover_after_restart(5'000);
  ASSERT_TRUE(requeued.has_value()) << requeued.error().detail;
  EXPECT_EQ(*requeued, 1);

  auto d1 = store_->get_delivery("d-1");
  ASSERT_TRUE(d1.has_value() && d1->has_value());
  EXPECT_EQ((*d1)->status, "queued");
  EXPECT_EQ((*d1)->updated_at_ms, 5'000);
  EXPECT_EQ((*d1)->attempts, 1);
  auto d2 = store_->get_delivery("d-2");
  ASSERT_TRUE(d2.has_value() && d2->has_value());
  EXPECT_EQ((*d2)->status, "done");

  RunQuery q;
  q.delivery_id = "d-1";
  auto runs = store_->list_runs(q);
  ASSERT_TRUE(runs.has_value());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->front().status, "interrupted");
  EXPECT_EQ(runs->front().finished_at_ms, std::optional<UnixMillis>(5'000));
  EXPECT_EQ(runs->front().started_at_ms, std::optional<UnixMillis>(1'200));

  // The re-queued delivery is claimed first again (oldest), with its second attempt.
  auto again = store_->claim_next_delivery(6'000);
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_EQ((*again)->delivery_id, "d-1");
  EXPECT_EQ((*again)->attempts, 2);

  // Nothing left to recover a second time except the one just claimed.
  auto second = store_->recover_after_restart(7'000);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, 1);
}

// ---- listing ------------------------------------------------------------------------------------

std::vector<std::int64_t> seqs_of(const std::vector<DeliveryRecord>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.seq);
  return out;
}

std::vector<std::string> ids_of(const std::vector<DeliveryRecord>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.delivery_id);
  return out;
}

TEST_F(SqliteStoreTest, ListDeliveriesPagesNewestFirstWithBeforeSeq) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "d-" + std::to_string(i), "")));
  }
  const auto all = all_deliveries(*store_);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_THAT(ids_of(all), ElementsAre("d-5", "d-4", "d-3", "d-2", "d-1"));
  const auto seq = seqs_of(all);  // descending
  for (std::size_t i = 1; i < seq.size(); ++i) EXPECT_GT(seq[i - 1], seq[i]);

  DeliveryQuery q;
  q.limit = 2;
  auto page1 = store_->list_deliveries(q);
  ASSERT_TRUE(page1.has_value());
  EXPECT_THAT(ids_of(*page1), ElementsAre("d-5", "d-4"));
  // Listing does not load headers and body.
  EXPECT_TRUE(page1->front().headers.empty());
  EXPECT_TRUE(page1->front().body.empty());

  q.before_seq = page1->back().seq;
  auto page2 = store_->list_deliveries(q);
  ASSERT_TRUE(page2.has_value());
  EXPECT_THAT(ids_of(*page2), ElementsAre("d-3", "d-2"));

  q.before_seq = page2->back().seq;
  auto page3 = store_->list_deliveries(q);
  ASSERT_TRUE(page3.has_value());
  EXPECT_THAT(ids_of(*page3), ElementsAre("d-1"));

  q.before_seq = page3->back().seq;
  auto page4 = store_->list_deliveries(q);
  ASSERT_TRUE(page4.has_value());
  EXPECT_TRUE(page4->empty());
}

TEST_F(SqliteStoreTest, ListDeliveriesFiltersByOrg) {
  auto other = store_->create_org("Southwind", 1);
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "n-1", "")));
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(other->id, "s-1", "")));
  ASSERT_TRUE(persist_and_wait(*store_, make_delivery(org_.id, "n-2", "")));
  DeliveryQuery q;
  q.org_id = org_.id;
  auto mine = store_->list_deliveries(q);
  ASSERT_TRUE(mine.has_value());
  EXPECT_THAT(ids_of(*mine), ElementsAre("n-2", "n-1"));
  q.org_id = other->id;
  auto theirs = store_->list_deliveries(q);
  ASSERT_TRUE(theirs.has_value());
  ASSERT_THAT(ids_of(*theirs), ElementsAre("s-1"));
  EXPECT_EQ(theirs->front().org_name, "Southwind");
}

// ---- durability ---------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, PersistedDeliverySurvivesCloseAndReopen) {
  auto d = make_delivery(org_.id, "d-durable", "ext-durable");
  d.body = std::string("payload\0with\0nul", 16);
  auto outcome = persist_and_wait(*store_, d);
  ASSERT_TRUE(outcome.has_value());
  store_->close();
  store_.reset();

  open_store();
  auto got = store_->get_delivery("d-durable");
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->org_name, "Northwind");
  EXPECT_EQ((*got)->external_id, "ext-durable");
  EXPECT_EQ((*got)->status, "queued");
  EXPECT_EQ((*got)->body, std::string("payload\0with\0nul", 16));
  // Deduplication still holds after the restart.
  auto again = persist_and_wait(*store_, make_delivery(org_.id, "d-other", "ext-durable"));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->delivery_id, "d-durable");
}

}  // namespace
}  // namespace cb::store

namespace cb::store {
namespace {

TEST(SqliteStoreBatchTest, ADeliveryThatCannotBeStoredFailsAloneInItsBatch) {
  testing::TempDir dir;
  auto opened = sqlite::SqliteStore::open(dir.path() / "batch.db", sqlite::WriterOptions{64, 100});
  ASSERT_TRUE(opened.has_value()) << opened.error().detail;
  auto& store = **opened;
  auto org = store.create_org("acme", 1000);
  ASSERT_TRUE(org.has_value());

  // Hold the writer inside the first callback so that the next three are committed together.
  std::promise<void> entered;
  std::promise<void> release;
  auto release_future = release.get_future().share();
  store.persist_delivery(make_delivery(org->id, "d-0", "ext-0"),
                         [&, release_future](Result<PersistOutcome>) {
                           entered.set_value();
                           (void)release_future.wait_for(kWaitLimit);
                         });
  ASSERT_EQ(entered.get_future().wait_for(kWaitLimit), std::future_status::ready);

  std::mutex mutex;
  std::map<std::string, Result<PersistOutcome>> results;
  auto record = [&](std::string id) {
    return [&, id](Result<PersistOutcome> r) {
      std::lock_guard lock(mutex);
      results.emplace(id, std::move(r));
    };
  };
  store.persist_delivery(make_delivery(org->id, "d-1", "ext-1"), record("d-1"));
  store.persist_delivery(make_delivery(org->id + 999, "d-bad", "ext-2"), record("d-bad"));  // FK
  store.persist_delivery(make_delivery(org->id, "d-3", "ext-3"), record("d-3"));
  release.set_value();
  store.close();

  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results.at("d-1").has_value());
  EXPECT_TRUE(results.at("d-3").has_value());
  ASSERT_FALSE(results.at("d-bad").has_value());
  EXPECT_EQ(results.at("d-bad").error().code, ErrorCode::store_unavailable);
  std::set<std::string> stored;
  for (const auto& row : all_deliveries(store)) stored.insert(row.delivery_id);
  EXPECT_EQ(stored, (std::set<std::string>{"d-0", "d-1", "d-3"}));
}

}  // namespace
}  // namespace cb::store

namespace cb::store {
namespace {

using testing::make_delivery;
using testing::persist_and_wait;
using testing::SqliteStoreTest;

/// A store at migration 11 with three deliveries whose bodies and headers are in `deliveries`.
void create_version_11_store(const std::filesystem::path& file) {
  auto db = sqlite::Connection::open(file);
  ASSERT_TRUE(db.has_value());
  ASSERT_NO_FATAL_FAILURE(testing::migrate_up_to(*db, 11));
  ASSERT_TRUE(
      db->exec("INSERT INTO orgs (id, name, created_at_ms) VALUES (1, 'acme', 1);"
               "INSERT INTO deliveries (seq, delivery_id, org_id, endpoint, provider, event_key, "
               "external_id, headers_json, body, received_at_ms, status, reason, attempts, "
               "updated_at_ms) VALUES "
               "(1, 'd-done', 1, 'trigger-scm-push-request', 'bitbucket_server', "
               "'repo:refs_changed', 'x-1', '[[\"X-Request-Id\",\"x-1\"]]', X'7B7D00FF', 10, "
               "'ignored', 'no job', 1, 11),"
               "(2, 'd-processing', 1, 'trigger-scm-push-request', 'bitbucket_server', "
               "'repo:refs_changed', 'x-2', '[[\"X-Event-Key\",\"repo:refs_changed\"]]', "
               "'{\"a\":2}', 20, 'processing', '', 1, 21),"
               "(3, 'd-queued', 1, 'sync-alm-commits', 'bitbucket_server', 'repo:refs_changed', "
               "'x-3', '[]', '{\"a\":3}', 30, 'queued', '', 0, 30);")
          .has_value());
}

TEST(SqliteStoreUpgradeTest, DeliveriesStoredBeforeMigration12KeepTheirBodiesHeadersAndQueue) {
  testing::TempDir dir;
  const auto file = dir.path() / "old.db";
  ASSERT_NO_FATAL_FAILURE(create_version_11_store(file));
  auto opened = sqlite::SqliteStore::open(file);
  ASSERT_TRUE(opened.has_value()) << opened.error().detail;
  auto& store = **opened;

  auto done = store.get_delivery("d-done");
  ASSERT_TRUE(done && *done);
  EXPECT_EQ((*done)->body, std::string("{}\0\xff", 4));  // byte for byte, NUL included
  ASSERT_EQ((*done)->headers.size(), 1u);
  EXPECT_EQ((*done)->headers[0].name, "X-Request-Id");
  EXPECT_EQ((*done)->headers[0].value, "x-1");
  EXPECT_EQ((*done)->status, "ignored");
  EXPECT_EQ((*done)->reason, "no job");

  // The open deliveries are still found: counted, recovered, claimed in order with their bodies.
  auto pending = store.pending_deliveries();
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(*pending, 2);
  auto requeued = store.recover_after_restart(100);
  ASSERT_TRUE(requeued.has_value());
  EXPECT_EQ(*requeued, 1);
  auto claimed = store.settle_and_claim({}, 100, 10);
  ASSERT_TRUE(claimed.has_value()) << claimed.error().detail;
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].delivery_id, "d-processing");
  EXPECT_EQ((*claimed)[0].body, "{\"a\":2}");
  ASSERT_EQ((*claimed)[0].headers.size(), 1u);
  EXPECT_EQ((*claimed)[0].headers[0].value, "repo:refs_changed");
  EXPECT_EQ((*claimed)[1].delivery_id, "d-queued");
  EXPECT_EQ((*claimed)[1].body, "{\"a\":3}");
  EXPECT_EQ((*claimed)[1].endpoint, "sync-alm-commits");

  // A new delivery after the upgrade gets the next seq and its payload row; duplicates of an
  // old external id are still recognised.
  auto fresh = persist_and_wait(store, make_delivery(1, "d-new", "x-4"));
  ASSERT_TRUE(fresh.has_value());
  EXPECT_FALSE(fresh->duplicate);
  auto dup = persist_and_wait(store, make_delivery(1, "d-dup", "x-1"));
  ASSERT_TRUE(dup.has_value());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->delivery_id, "d-done");
  auto got = store.get_delivery("d-new");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->seq, 4);
  EXPECT_EQ((*got)->body, make_delivery(1, "d-new", "x-4").body);
}

TEST_F(SqliteStoreTest, ClaimsAndOutcomesLeaveTheBodyWhereItWasWritten) {
  auto d = make_delivery(org_.id, "d-body", "ext-body");
  d.body = std::string(6000, 'b');  // over one page: the body has overflow pages
  ASSERT_TRUE(persist_and_wait(*store_, d).has_value());
  auto claimed = store_->settle_and_claim({}, 2000, 1);
  ASSERT_TRUE(claimed.has_value());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().body, d.body);
  const std::vector<DeliveryOutcome> outcome{
      DeliveryOutcome{"d-body", "ignored", "nothing to do", 2001, 0, false}};
  ASSERT_TRUE(store_->settle_and_claim(outcome, 2001, 0).has_value());
  auto got = store_->get_delivery("d-body");
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->status, "ignored");
  EXPECT_EQ((*got)->body, d.body);
  EXPECT_EQ((*got)->attempts, 1);
}

}  // namespace
}  // namespace cb::store
