#pragma once
// Helpers for the pipeline tests: temp directories, fixtures, a store with an org and a webhook
// token, and signing.

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "auth/digest.hpp"
#include "auth/secret_box.hpp"
#include "auth/token_format.hpp"
#include "core/clock.hpp"
#include "core/raw_delivery.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::pipeline::testing {

/// Bound for anything a test waits for (never a sleep).
inline constexpr auto kWaitLimit = std::chrono::seconds(30);

/// A fresh directory under the system temp directory, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string templ =
        (std::filesystem::temp_directory_path() / "cb-pipeline-test-XXXXXX").string();
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

/// The whole file as bytes; empty when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// tests/fixtures/providers/bitbucket_server/<name>
inline std::filesystem::path bitbucket_fixture(std::string_view name) {
  return std::filesystem::path(CB_FIXTURES_DIR) / "providers" / "bitbucket_server" / name;
}

/// Parses `Name: value` lines.
inline std::vector<Header> parse_headers(std::string_view text) {
  std::vector<Header> out;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    const auto colon = line.find(':');
    if (line.empty() || colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    out.push_back(Header{std::string(line.substr(0, colon)), std::string(value)});
  }
  return out;
}

/// `X-Hub-Signature` value for `body` signed with the full token text.
inline std::string hub_signature(std::string_view token_text, std::string_view body) {
  return "sha256=" + auth::to_hex(auth::hmac_sha256(token_text, body));
}

/// The key every pipeline test seals secrets with.
inline auth::SecretBox test_box() { return auth::SecretBox::from_key(std::string(32, 'k')); }

/// A webhook token stored (sealed) for `org_id`; returns its clear text.
inline std::string add_webhook_token(store::Store& store, const auth::SecretBox& box,
                                     std::int64_t org_id, const std::string& name, UnixMillis now) {
  const auto parts = auth::generate_token(auth::TokenType::webhook);
  store::TokenRecord t;
  t.org_id = org_id;
  t.name = name;
  t.type = "webhook";
  t.public_id = parts.public_id;
  t.secret_sealed = box.seal(parts.secret, parts.public_id);
  t.created_at_ms = now;
  auto created = store.create_token(t);
  EXPECT_TRUE(created.has_value());
  return auth::format_token(parts);
}

/// Persists and waits (bounded) for the group commit.
inline Result<store::PersistOutcome> persist_and_wait(store::Store& store,
                                                      store::NewDelivery delivery) {
  auto promise = std::make_shared<std::promise<Result<store::PersistOutcome>>>();
  auto future = promise->get_future();
  store.persist_delivery(std::move(delivery), [promise](Result<store::PersistOutcome> r) {
    promise->set_value(std::move(r));
  });
  if (future.wait_for(kWaitLimit) != std::future_status::ready) {
    return fail(ErrorCode::internal, "persist_delivery did not call back in time");
  }
  return future.get();
}

/// A SQLite store in a temp directory with the org "Northwind".
class StoreFixture : public ::testing::Test {
 protected:
  static constexpr UnixMillis kStart = 1'772'000'000'000;

  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto opened = store::sqlite::SqliteStore::open(dir_.path() / "test.db");
    ASSERT_TRUE(opened.has_value()) << opened.error().detail;
    store_ = std::move(*opened);
    auto org = store_->create_org("Northwind", kStart);
    ASSERT_TRUE(org.has_value());
    org_ = *org;
  }

  TempDir dir_;
  std::unique_ptr<store::sqlite::SqliteStore> store_;
  store::OrgRecord org_;
  ManualClock clock_{kStart};
  auth::SecretBox box_ = test_box();
};

}  // namespace cb::pipeline::testing
