// ALM connections, project keys and the write-back outbox in the SQLite store.

#include <gtest/gtest.h>

#include "store_test_util.hpp"

namespace cb::store::testing {
namespace {

class SqliteStoreAlmTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = "bitbucket_server";
    r.project_key = "ORB";
    r.slug = "orbit-tools";
    r.clone_url = "/srv/git/orbit-tools.git";
    r.auto_update_alm = true;
    r.created_at_ms = 1'000;
    auto repo = store_->create_repository(r);
    ASSERT_TRUE(repo.has_value()) << repo.error().detail;
    repo_ = *repo;
    auto c = store_->create_alm_connection(jira("tracker", "alm_00000000000000a1"));
    ASSERT_TRUE(c.has_value()) << c.error().detail;
    conn_ = *c;
  }

  AlmConnectionRecord jira(std::string name, std::string public_id) const {
    AlmConnectionRecord c;
    c.org_id = org_.id;
    c.public_id = std::move(public_id);
    c.name = std::move(name);
    c.type = "jira";
    c.url = "https://jira.orbital.example";
    c.jira_deployment = "data_center";
    c.secret_sealed = "sealed-bytes";
    c.max_commit_age_ms = 86'400'000;
    c.created_at_ms = c.updated_at_ms = 2'000;
    return c;
  }

  NewOutboxEntry entry(std::string story, std::string commit, std::string action,
                       int ordinal = 0) const {
    NewOutboxEntry e;
    e.org_id = org_.id;
    e.connection_id = conn_.id;
    e.repository_id = repo_.id;
    e.story_key = std::move(story);
    e.commit_hash = std::move(commit);
    e.action = std::move(action);
    e.ordinal = ordinal;
    e.payload_json = R"({"text":"hello"})";
    e.delivery_id = "d-1";
    return e;
  }

  RepositoryRecord repo_;
  AlmConnectionRecord conn_;
};

TEST_F(SqliteStoreAlmTest, ConnectionsAreCreatedFoundListedUpdatedAndDeleted) {
  auto dup = store_->create_alm_connection(jira("tracker", "alm_00000000000000b2"));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ErrorCode::conflict);

  auto found = store_->find_alm_connection(org_.id, "alm_00000000000000a1");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->name, "tracker");
  EXPECT_EQ((*found)->secret_sealed, "sealed-bytes");
  EXPECT_EQ((*found)->max_commit_age_ms, 86'400'000);
  EXPECT_TRUE((*found)->add_remote_link);
  EXPECT_FALSE((*found)->add_comment);

  auto second = store_->create_alm_connection(jira("second", "alm_00000000000000c3"));
  ASSERT_TRUE(second.has_value());
  auto page1 = store_->list_alm_connections(org_.id, PageQuery{0, 1});
  ASSERT_TRUE(page1.has_value());
  ASSERT_EQ(page1->size(), 1u);
  EXPECT_EQ((*page1)[0].name, "tracker");
  auto page2 = store_->list_alm_connections(org_.id, PageQuery{(*page1)[0].id, 10});
  ASSERT_TRUE(page2.has_value());
  ASSERT_EQ(page2->size(), 1u);
  EXPECT_EQ((*page2)[0].name, "second");

  AlmConnectionRecord changed = **found;
  changed.name = "renamed";
  changed.add_comment = true;
  changed.enabled = false;
  changed.updated_at_ms = 5'000;
  auto updated = store_->update_alm_connection(changed);
  ASSERT_TRUE(updated.has_value()) << updated.error().detail;
  EXPECT_EQ(updated->name, "renamed");
  EXPECT_TRUE(updated->add_comment);
  EXPECT_FALSE(updated->enabled);
  EXPECT_EQ(updated->updated_at_ms, 5'000);

  ASSERT_TRUE(store_->delete_alm_connection(second->id).has_value());
  auto again = store_->delete_alm_connection(second->id);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::not_found);
}

TEST_F(SqliteStoreAlmTest, AnEntryIsEnqueuedOnceWhateverTheNumberOfTries) {
  const std::string c1(40, 'a');
  auto n =
      store_->enqueue_outbox({entry("ABC-1", c1, "remote_link"), entry("ABC-1", c1, "comment", 1),
                              entry("ABC-1", c1, "comment", 2)},
                             10'000);
  ASSERT_TRUE(n.has_value()) << n.error().detail;
  EXPECT_EQ(*n, 3u);
  // The same commit seen again (another branch, a merge, a replay) adds nothing.
  n = store_->enqueue_outbox({entry("ABC-1", c1, "comment", 1), entry("ABC-1", c1, "remote_link")},
                             20'000);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0u);
  auto backlog = store_->outbox_backlog();
  ASSERT_TRUE(backlog.has_value());
  EXPECT_EQ(*backlog, 3);
}

TEST_F(SqliteStoreAlmTest, ClaimFinishRecoverAndRetryFollowTheStates) {
  const std::string c1(40, 'b');
  ASSERT_TRUE(store_->enqueue_outbox({entry("ABC-2", c1, "worklog", 1)}, 10'000).has_value());
  auto none = store_->claim_outbox_entry(9'999);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  auto claimed = store_->claim_outbox_entry(10'000);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  const auto& [e, c] = **claimed;
  EXPECT_EQ(e.status, "sending");
  EXPECT_EQ(e.attempts, 1);
  EXPECT_EQ(e.repository, "ORB/orbit-tools");
  EXPECT_EQ(e.connection_public_id, "alm_00000000000000a1");
  EXPECT_EQ(c.secret_sealed, "sealed-bytes");
  EXPECT_EQ(e.payload_json, R"({"text":"hello"})");
  const std::int64_t id = e.id;

  // Nothing else is due while it is sending.
  auto second = store_->claim_outbox_entry(10'000);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->has_value());

  // A crash while sending: the entry goes back to pending, due at once.
  auto recovered = store_->recover_outbox(11'000);
  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ(*recovered, 1);
  auto due = store_->next_outbox_due();
  ASSERT_TRUE(due.has_value() && due->has_value());
  EXPECT_EQ(**due, 11'000);

  auto again = store_->claim_outbox_entry(11'000);
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_EQ((*again)->first.attempts, 2);
  ASSERT_TRUE(store_->finish_outbox_entry(id, "dead", "no such transition", 12'000, 0).has_value());
  auto dead = store_->list_outbox(OutboxQuery{org_.id, std::string("dead"), 0, 10});
  ASSERT_TRUE(dead.has_value());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].last_error, "no such transition");

  auto retried = store_->retry_outbox_entry(org_.id, id, 13'000);
  ASSERT_TRUE(retried.has_value()) << retried.error().detail;
  EXPECT_EQ(retried->status, "pending");
  EXPECT_EQ(retried->attempts, 0);
  EXPECT_EQ(retried->next_attempt_ms, 13'000);

  auto claimed3 = store_->claim_outbox_entry(13'000);
  ASSERT_TRUE(claimed3.has_value() && claimed3->has_value());
  ASSERT_TRUE(store_->finish_outbox_entry(id, "sent", "", 14'000, 0).has_value());
  auto sent = store_->get_outbox_entry(org_.id, id);
  ASSERT_TRUE(sent.has_value() && sent->has_value());
  EXPECT_EQ((*sent)->status, "sent");
  ASSERT_TRUE((*sent)->sent_at_ms.has_value());
  EXPECT_EQ(*(*sent)->sent_at_ms, 14'000);
  auto retry_sent = store_->retry_outbox_entry(org_.id, id, 15'000);
  ASSERT_FALSE(retry_sent.has_value());
  EXPECT_EQ(retry_sent.error().code, ErrorCode::conflict);
  auto missing = store_->retry_outbox_entry(org_.id, id + 100, 15'000);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto backlog = store_->outbox_backlog();
  ASSERT_TRUE(backlog.has_value());
  EXPECT_EQ(*backlog, 0);
}

TEST_F(SqliteStoreAlmTest, EntriesOfADisabledConnectionWait) {
  ASSERT_TRUE(
      store_->enqueue_outbox({entry("ABC-3", std::string(40, 'c'), "remote_link")}, 1).has_value());
  AlmConnectionRecord off = conn_;
  off.enabled = false;
  ASSERT_TRUE(store_->update_alm_connection(off).has_value());
  auto claimed = store_->claim_outbox_entry(10'000);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_FALSE(claimed->has_value());
  auto due = store_->next_outbox_due();
  ASSERT_TRUE(due.has_value());
  EXPECT_FALSE(due->has_value());
}

TEST_F(SqliteStoreAlmTest, EntriesOfADeletedOrgAreNotSent) {
  ASSERT_TRUE(
      store_->enqueue_outbox({entry("ABC-4", std::string(40, 'd'), "remote_link")}, 1).has_value());
  ASSERT_TRUE(store_->delete_org(org_.id, 2).has_value());
  auto claimed = store_->claim_outbox_entry(10'000);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_FALSE(claimed->has_value());
  auto due = store_->next_outbox_due();
  ASSERT_TRUE(due.has_value());
  EXPECT_FALSE(due->has_value());
}

TEST_F(SqliteStoreAlmTest, ProjectKeysAreTheUnionOfEnabledJiraConnections) {
  auto none = store_->jira_project_keys(org_.id + 1);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  auto to_refresh = store_->alm_connections_to_refresh(5'000);
  ASSERT_TRUE(to_refresh.has_value());
  ASSERT_EQ(to_refresh->size(), 1u);

  ASSERT_TRUE(store_->set_alm_project_keys(conn_.id, {"ORB", "ABC"}, "", 6'000).has_value());
  auto keys = store_->jira_project_keys(org_.id);
  ASSERT_TRUE(keys.has_value() && keys->has_value());
  EXPECT_EQ(**keys, (std::vector<std::string>{"ABC", "ORB"}));
  auto found = store_->find_alm_connection(org_.id, conn_.public_id);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->project_keys, (std::vector<std::string>{"ABC", "ORB"}));
  ASSERT_TRUE((*found)->project_keys_refreshed_at_ms.has_value());
  EXPECT_EQ(*(*found)->project_keys_refreshed_at_ms, 6'000);

  // A failed refresh keeps the keys and records why.
  ASSERT_TRUE(store_->set_alm_project_keys(conn_.id, {}, "Jira answered 503", 7'000).has_value());
  keys = store_->jira_project_keys(org_.id);
  ASSERT_TRUE(keys.has_value() && keys->has_value());
  EXPECT_EQ((*keys)->size(), 2u);
  found = store_->find_alm_connection(org_.id, conn_.public_id);
  EXPECT_EQ((*found)->project_keys_error, "Jira answered 503");

  to_refresh = store_->alm_connections_to_refresh(7'000);
  ASSERT_TRUE(to_refresh.has_value());
  EXPECT_TRUE(to_refresh->empty());
  to_refresh = store_->alm_connections_to_refresh(7'001);
  ASSERT_TRUE(to_refresh.has_value());
  EXPECT_EQ(to_refresh->size(), 1u);
}

TEST_F(SqliteStoreAlmTest, KeyRotationReSealsConnectionSecretsWithTheirOwnAad) {
  std::vector<std::pair<std::string, std::string>> seen;
  auto n = store_->rewrap_secrets(
      [&](const std::string& sealed, const std::string& aad) -> Result<std::string> {
        seen.emplace_back(sealed, aad);
        return "resealed:" + sealed;
      },
      "fp-2");
  ASSERT_TRUE(n.has_value()) << n.error().detail;
  EXPECT_EQ(*n, 1u);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].second, "alm-connection:alm_00000000000000a1");
  auto found = store_->find_alm_connection(org_.id, conn_.public_id);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->secret_sealed, "resealed:sealed-bytes");

  // A failure changes nothing.
  auto failed = store_->rewrap_secrets(
      [](const std::string&, const std::string&) -> Result<std::string> {
        return fail(ErrorCode::internal, "wrong key");
      },
      "fp-3");
  ASSERT_FALSE(failed.has_value());
  found = store_->find_alm_connection(org_.id, conn_.public_id);
  EXPECT_EQ((*found)->secret_sealed, "resealed:sealed-bytes");
}

}  // namespace
}  // namespace cb::store::testing
