#pragma once
// Helpers for the SQLite store tests: a temporary directory, a synchronous persist with a
// deadline, and a delivery builder.

#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "store/migrations.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::store::testing {

/// Generous bound for anything a test waits for; never a sleep, only a deadline.
inline constexpr auto kWaitLimit = std::chrono::seconds(30);

/// Applies the embedded migrations up to `version` (inclusive) to `db` and sets user_version,
/// as an older commitbridge left its database: for upgrade tests. Call it inside
/// ASSERT_NO_FATAL_FAILURE.
inline void migrate_up_to(sqlite::Connection& db, std::int64_t version) {
  for (const auto& m : embedded_migrations()) {
    if (m.version > version) break;
    ASSERT_TRUE(db.exec(m.sql).has_value()) << m.name;
    ASSERT_TRUE(db.exec("PRAGMA user_version = " + std::to_string(m.version)).has_value());
  }
}

/// A fresh directory under the system temp directory, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "cb-store-test-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// A queued delivery of `org_id` on `endpoint` with the given external id.
inline NewDelivery make_delivery(std::int64_t org_id, std::string delivery_id,
                                 std::string external_id,
                                 std::string endpoint = "trigger-scm-push-request",
                                 UnixMillis received_at_ms = 1'700'000'000'000) {
  NewDelivery d;
  d.delivery_id = std::move(delivery_id);
  d.org_id = org_id;
  d.endpoint = std::move(endpoint);
  d.provider = "bitbucket_server";
  d.event_key = "repo:refs_changed";
  d.external_id = std::move(external_id);
  d.headers = {Header{"Content-Type", "application/json"},
               Header{"X-Event-Key", "repo:refs_changed"}};
  d.body = R"({"eventKey":"repo:refs_changed"})";
  d.received_at_ms = received_at_ms;
  return d;
}

/// Persists and waits (bounded) for the callback; the error is `internal` on timeout.
inline Result<PersistOutcome> persist_and_wait(Store& store, NewDelivery delivery) {
  auto promise = std::make_shared<std::promise<Result<PersistOutcome>>>();
  auto future = promise->get_future();
  store.persist_delivery(std::move(delivery),
                         [promise](Result<PersistOutcome> r) { promise->set_value(std::move(r)); });
  if (future.wait_for(kWaitLimit) != std::future_status::ready) {
    return fail(ErrorCode::internal, "persist_delivery did not call back in time");
  }
  return future.get();
}

}  // namespace cb::store::testing

namespace cb::store::testing {

/// Opens a store on a fresh file and creates one org, "Northwind".
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    open_store();
    auto org = store_->create_org("Northwind", 1'000);
    ASSERT_TRUE(org.has_value()) << org.error().detail;
    org_ = *org;
  }

  void open_store(sqlite::WriterOptions options = {}) {
    auto opened = sqlite::SqliteStore::open(db_file(), options);
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
  }

  [[nodiscard]] std::filesystem::path db_file() const { return dir_.path() / "test.db"; }

  TempDir dir_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  OrgRecord org_;
};

}  // namespace cb::store::testing
