// The ALM outbox: planning entries from links, enqueueing them once, and the dispatcher's
// retries, dead-letter state, crash recovery and backlog gauge, against a scripted sender.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <deque>
#include <thread>

#include "pipeline/alm_writeback.hpp"
#include "pipeline/outbox_dispatcher.hpp"
#include "pipeline/outbox_planner.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline::testing {
namespace {

namespace json = boost::json;

/// Answers with the scripted results in order (sent when the script is empty) and records what
/// it was asked to send.
class ScriptedSender final : public AlmSender {
 public:
  SendResult send(const store::OutboxEntryRecord& entry, const store::AlmConnectionRecord&,
                  const std::string& secret) override {
    calls.push_back(entry);
    secrets.push_back(secret);
    if (script.empty()) return SendResult::ok();
    auto r = script.front();
    script.pop_front();
    return r;
  }
  std::deque<SendResult> script;
  std::vector<store::OutboxEntryRecord> calls;
  std::vector<std::string> secrets;
};

class ScriptedLister final : public ProjectKeyLister {
 public:
  Result<std::vector<std::string>> list_project_keys(const store::AlmConnectionRecord&,
                                                     const std::string& secret) override {
    ++calls;
    last_secret = secret;
    return keys;
  }
  Result<std::vector<std::string>> keys = std::vector<std::string>{"ABC", "ORB"};
  int calls = 0;
  std::string last_secret;
};

class AlmOutboxTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "ORB";
    r.slug = "orbit-tools";
    r.clone_url = "/srv/git/orbit-tools.git";
    r.auto_update_alm = true;
    r.created_at_ms = kStart;
    auto repo = store_->create_repository(r);
    ASSERT_TRUE(repo.has_value());
    repo_ = *repo;
    store::AlmConnectionRecord c;
    c.org_id = org_.id;
    c.public_id = "alm_00000000000000a1";
    c.name = "tracker";
    c.type = "jira";
    c.url = "https://jira.orbital.example";
    c.jira_deployment = "data_center";
    c.secret_sealed = box_.seal("pat-for-tests", store::alm_secret_aad(c.public_id));
    c.max_commit_age_ms = 7LL * 86'400'000;
    c.created_at_ms = c.updated_at_ms = kStart;
    auto conn = store_->create_alm_connection(c);
    ASSERT_TRUE(conn.has_value());
    conn_ = *conn;
  }

  store::StoryCommit commit(std::string key, std::string hash, UnixMillis authored) const {
    return store::StoryCommit{std::move(key),        std::move(hash),
                              "Ilse Vandermeer",     "ilse.vandermeer@orbital.example",
                              "ABC-1 #comment done", authored};
  }

  store::DeliveryRecord delivery(std::string id) const {
    store::DeliveryRecord d;
    d.delivery_id = std::move(id);
    d.org_id = org_.id;
    d.org_name = org_.name;
    return d;
  }

  OutboxOptions options() const {
    OutboxOptions o;
    o.max_attempts = 3;
    o.base_backoff_ms = 1000;
    o.max_backoff_ms = 60'000;
    return o;
  }

  store::RepositoryRecord repo_;
  store::AlmConnectionRecord conn_;
};

std::vector<AlmCommand> three_commands() {
  return {AlmCommand{AlmCommand::Kind::worklog, "wiring", "1h 30m", 5400, ""},
          AlmCommand{AlmCommand::Kind::comment, "first", "", 0, ""},
          AlmCommand{AlmCommand::Kind::transition, "ready", "", 0, "start-progress"},
          AlmCommand{AlmCommand::Kind::comment, "second", "", 0, ""}};
}

TEST_F(AlmOutboxTest, PlanGivesOneEntryPerActionWithOrdinalsAndPayload) {
  PlannedCommit p;
  p.org_id = org_.id;
  p.repository = &repo_;
  p.branch = "main";
  p.delivery_id = "d-1";
  p.commit = commit("ABC-1", std::string(40, 'a'), kStart - 1000);
  p.commands = three_commands();
  auto entries = plan_outbox(p, {conn_}, kStart);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].action, "remote_link");
  EXPECT_EQ(entries[1].action, "worklog");
  EXPECT_EQ(entries[1].ordinal, 1);
  EXPECT_EQ(entries[2].action, "comment");
  EXPECT_EQ(entries[2].ordinal, 1);
  EXPECT_EQ(entries[3].action, "transition");
  EXPECT_EQ(entries[4].action, "comment");
  EXPECT_EQ(entries[4].ordinal, 2);
  const auto link = json::parse(entries[0].payload_json).as_object();
  EXPECT_EQ(link.at("global_id").as_string(),
            "commitbridge:bitbucket_server:ORB/orbit-tools:" + std::string(40, 'a'));
  EXPECT_EQ(link.at("repository").as_string(), "ORB/orbit-tools");
  const auto work = json::parse(entries[1].payload_json).as_object();
  EXPECT_EQ(work.at("time_spent").as_string(), "1h 30m");
  EXPECT_EQ(work.at("seconds").as_int64(), 5400);
  EXPECT_EQ(work.at("text").as_string(), "wiring");
  const auto tr = json::parse(entries[3].payload_json).as_object();
  EXPECT_EQ(tr.at("transition").as_string(), "start-progress");
  EXPECT_EQ(link.at("clone_url").as_string(), "/srv/git/orbit-tools.git");
  EXPECT_EQ(link.at("authored_at_ms").as_int64(), kStart - 1000);

  // Credentials in a clone URL never reach a payload.
  store::RepositoryRecord with_user = repo_;
  with_user.clone_url = "https://build-bot:hunter2@scm.orbital.example/scm/orb/orbit-tools.git";
  p.repository = &with_user;
  const auto again = plan_outbox(p, {conn_}, kStart);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(json::parse(again[0].payload_json).at("clone_url").as_string(),
            "https://scm.orbital.example/scm/orb/orbit-tools.git");
  EXPECT_EQ(again[0].payload_json.find("hunter2"), std::string::npos);
}

TEST_F(AlmOutboxTest, CommandsOfAnOldCommitAndReposWithoutAutoUpdateAreNotPlanned) {
  PlannedCommit p;
  p.org_id = org_.id;
  p.repository = &repo_;
  p.commit = commit("ABC-1", std::string(40, 'a'), kStart - conn_.max_commit_age_ms);
  p.commands = three_commands();
  auto entries = plan_outbox(p, {conn_}, kStart);
  ASSERT_EQ(entries.size(), 1u);  // the remote link only: the commit is exactly too old
  EXPECT_EQ(entries[0].action, "remote_link");

  p.commit.authored_at_ms = kStart - conn_.max_commit_age_ms + 1;
  EXPECT_EQ(plan_outbox(p, {conn_}, kStart).size(), 5u);

  store::RepositoryRecord manual = repo_;
  manual.auto_update_alm = false;
  p.repository = &manual;
  EXPECT_TRUE(plan_outbox(p, {conn_}, kStart).empty());

  store::AlmConnectionRecord hook = conn_;
  hook.type = "webhook";
  p.repository = &repo_;
  auto hooked = plan_outbox(p, {hook}, kStart);
  ASSERT_EQ(hooked.size(), 1u);
  EXPECT_EQ(hooked[0].action, "webhook");
  EXPECT_EQ(json::parse(hooked[0].payload_json).at("commands").as_array().size(), 4u);
}

TEST_F(AlmOutboxTest, TheSameCommitOnAnotherBranchAddsNoSecondEntry) {
  AlmWriteback writeback(*store_, clock_);
  writeback.set_command_source(
      [](std::int64_t, const std::string&, const std::string&) -> Result<std::vector<AlmCommand>> {
        return std::vector<AlmCommand>{AlmCommand{AlmCommand::Kind::comment, "done", "", 0, ""}};
      });
  int woken = 0;
  writeback.set_on_enqueued([&] { ++woken; });
  const auto c = commit("ABC-1", std::string(40, 'd'), kStart);
  auto first = writeback.write_back(delivery("d-1"), repo_, {LinkedCommit{"main", c}});
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  EXPECT_EQ(*first, 2u);
  auto second = writeback.write_back(delivery("d-2"), repo_, {LinkedCommit{"release/2.1", c}});
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, 0u);
  EXPECT_EQ(woken, 1);
  auto all = store_->list_outbox(store::OutboxQuery{org_.id, std::nullopt, 0, 50});
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].delivery_id, "d-1");
}

TEST_F(AlmOutboxTest, ATransientFailureIsRetriedAfterTheBackoffThenSent) {
  ASSERT_TRUE(
      store_
          ->enqueue_outbox({store::NewOutboxEntry{org_.id, conn_.id, repo_.id, "ABC-1",
                                                  std::string(40, 'e'), "comment", 1, "{}", "d-1"}},
                           kStart)
          .has_value());
  ScriptedSender sender;
  sender.script.push_back(SendResult::retry_later("Jira answered 500"));
  OutboxDispatcher d(*store_, box_, sender, clock_, options());
  EXPECT_EQ(d.drain(), 1u);
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.secrets[0], "pat-for-tests");
  auto pending = store_->list_outbox(store::OutboxQuery{org_.id, std::string("pending"), 0, 10});
  ASSERT_TRUE(pending.has_value());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].next_attempt_ms, kStart + 1000);
  EXPECT_EQ((*pending)[0].last_error, "attempt 1 failed, will retry: Jira answered 500");

  clock_.advance(999);
  EXPECT_EQ(d.drain(), 0u);
  clock_.advance(1);
  EXPECT_EQ(d.drain(), 1u);
  auto sent = store_->list_outbox(store::OutboxQuery{org_.id, std::string("sent"), 0, 10});
  ASSERT_TRUE(sent.has_value());
  ASSERT_EQ(sent->size(), 1u);
  EXPECT_EQ((*sent)[0].attempts, 2);
}

TEST_F(AlmOutboxTest, RetryAfterIsHonouredAndTooManyAttemptsEndInDeadLetter) {
  ASSERT_TRUE(
      store_
          ->enqueue_outbox({store::NewOutboxEntry{org_.id, conn_.id, repo_.id, "ABC-1",
                                                  std::string(40, 'f'), "worklog", 1, "{}", "d-1"}},
                           kStart)
          .has_value());
  ScriptedSender sender;
  sender.script = {SendResult::retry_later("Jira answered 429", 30'000),
                   SendResult::retry_later("Jira answered 503"),
                   SendResult::retry_later("timed out after 10000 ms")};
  OutboxDispatcher d(*store_, box_, sender, clock_, options());
  EXPECT_EQ(d.drain(), 1u);
  auto e = store_->list_outbox(store::OutboxQuery{org_.id, std::nullopt, 0, 10});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ((*e)[0].next_attempt_ms, kStart + 30'000);
  clock_.advance(30'000);
  EXPECT_EQ(d.drain(), 1u);  // attempt 2 waits base * 2
  clock_.advance(2'000);
  EXPECT_EQ(d.drain(), 1u);
  auto dead = store_->list_outbox(store::OutboxQuery{org_.id, std::string("dead"), 0, 10});
  ASSERT_TRUE(dead.has_value());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].attempts, 3);
  EXPECT_EQ((*dead)[0].last_error, "gave up after 3 attempts: timed out after 10000 ms");
  clock_.advance(3'600'000);
  EXPECT_EQ(d.drain(), 0u);
}

TEST_F(AlmOutboxTest, APermanentErrorIsDeadAtOnceWithItsMessage) {
  ASSERT_TRUE(store_
                  ->enqueue_outbox(
                      {store::NewOutboxEntry{org_.id, conn_.id, repo_.id, "ABC-1",
                                             std::string(40, '1'), "transition", 1, "{}", "d-1"}},
                      kStart)
                  .has_value());
  ScriptedSender sender;
  sender.script.push_back(SendResult::failed(
      "ABC-1 has no transition named 'deploy' (available: Start Progress, Done)"));
  OutboxDispatcher d(*store_, box_, sender, clock_, options());
  EXPECT_EQ(d.drain(), 1u);
  auto dead = store_->list_outbox(store::OutboxQuery{org_.id, std::string("dead"), 0, 10});
  ASSERT_TRUE(dead.has_value());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].attempts, 1);
  EXPECT_EQ((*dead)[0].last_error,
            "ABC-1 has no transition named 'deploy' (available: Start Progress, Done)");
}

TEST_F(AlmOutboxTest, AnEntryLeftSendingByACrashIsSentAgainAtStart) {
  ASSERT_TRUE(store_
                  ->enqueue_outbox(
                      {store::NewOutboxEntry{org_.id, conn_.id, repo_.id, "ABC-1",
                                             std::string(40, '2'), "remote_link", 0, "{}", "d-1"}},
                      kStart)
                  .has_value());
  auto claimed = store_->claim_outbox_entry(kStart);  // the "crashed" run claimed it
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  ScriptedSender sender;
  const auto metrics_registry = std::make_unique<metrics::Registry>();
  const auto m = PipelineMetrics::register_in(*metrics_registry);
  auto o = options();
  o.metrics = &m;
  o.poll_interval_ms = 10;
  OutboxDispatcher d(*store_, box_, sender, clock_, o);
  d.update_backlog();
  EXPECT_EQ(m.outbox_backlog->value(), 1.0);
  d.start();
  ASSERT_TRUE([&] {
    const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto sent = store_->list_outbox(store::OutboxQuery{org_.id, std::string("sent"), 0, 10});
      if (sent && sent->size() == 1 && m.outbox_backlog->value() == 0.0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // poll, not a fixed wait
    }
    return false;
  }());
  d.stop();
  ASSERT_EQ(sender.calls.size(), 1u);
  EXPECT_EQ(sender.calls[0].attempts, 2);
}

TEST_F(AlmOutboxTest, ProjectKeysAreRefreshedWithTheOpenedSecret) {
  ScriptedSender sender;
  ScriptedLister lister;
  auto o = options();
  o.project_keys_refresh_ms = 60'000;
  OutboxDispatcher d(*store_, box_, sender, clock_, o, &lister);
  d.refresh_project_keys();
  EXPECT_EQ(lister.calls, 1);
  EXPECT_EQ(lister.last_secret, "pat-for-tests");
  auto keys = store_->jira_project_keys(org_.id);
  ASSERT_TRUE(keys.has_value() && keys->has_value());
  EXPECT_EQ(**keys, (std::vector<std::string>{"ABC", "ORB"}));
  d.refresh_project_keys();  // not due yet
  EXPECT_EQ(lister.calls, 1);
  clock_.advance(60'001);
  d.refresh_project_keys();
  EXPECT_EQ(lister.calls, 2);
}

TEST(OutboxRetryDelay, DoublesFromTheBaseAndStopsAtTheCap) {
  OutboxOptions o;
  o.base_backoff_ms = 1000;
  o.max_backoff_ms = 5000;
  EXPECT_EQ(OutboxDispatcher::retry_delay_ms(o, 1, 0), 1000);
  EXPECT_EQ(OutboxDispatcher::retry_delay_ms(o, 2, 0), 2000);
  EXPECT_EQ(OutboxDispatcher::retry_delay_ms(o, 3, 0), 4000);
  EXPECT_EQ(OutboxDispatcher::retry_delay_ms(o, 4, 0), 5000);
  EXPECT_EQ(OutboxDispatcher::retry_delay_ms(o, 100, 0), 5000);
  EXPECT_EQ(OutboxDispatcher::retry_delay_ms(o, 1, 3000), 3000);
  EXPECT_EQ(OutboxDispatcher::retry_delay_ms(o, 1, 9000), 5000);
}

}  // namespace
}  // namespace cb::pipeline::testing
