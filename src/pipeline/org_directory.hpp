#pragma once
// Org lookup with decrypted webhook credentials, cached briefly so the ingest path does not
// read the store on every request.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/secret_box.hpp"
#include "auth/webhook_auth.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// An org with every token that may be presented on its webhooks (decrypted secrets in
/// memory only; never logged).
struct OrgCredentials {
  store::OrgRecord org;
  std::vector<auth::WebhookCredential> tokens;
};

/// Caches OrgCredentials per org name (case-insensitive). Every lookup compares the store's token
/// epoch (bumped by any token or org change, also by another process such as the CLI), so a
/// revoked, rotated or new token takes effect on the next request; `ttl` bounds an entry's age
/// in any case.
///
/// The guarantee, with the SQLite store: a token or org change committed by any commitbridge
/// process on the same database (this server, the CLI, another server process) before a request
/// is read is seen by that request. Store::token_epoch() costs a memory read then: the store
/// keeps the last epoch it read and a counter shared by those processes (the file
/// `<database>-epoch`, mapped shared) that each of them bumps after committing such a change,
/// and reads the database again only when the counter moved. A change made by another program
/// (the sqlite3 shell) is seen within 100 ms (kEpochRecheck), or on every lookup when the
/// counter file cannot be mapped.
class OrgDirectory {
 public:
  OrgDirectory(store::Store& store, const auth::SecretBox& box, const Clock& clock,
               std::chrono::milliseconds ttl = std::chrono::milliseconds(60'000));

  /// The org and its tokens; nullptr when no org has this name. Errors: store_unavailable.
  [[nodiscard]] Result<std::shared_ptr<const OrgCredentials>> lookup(const std::string& org_name);

  /// Drops every cached entry (after a token or org change made in this process).
  void invalidate();

 private:
  struct Entry {
    std::shared_ptr<const OrgCredentials> value;
    UnixMillis loaded_at_ms = 0;
    std::int64_t epoch = 0;  ///< token epoch read before the entry was loaded
  };
  [[nodiscard]] Result<std::shared_ptr<const OrgCredentials>> load(const std::string& org_name);

  store::Store& store_;
  const auth::SecretBox& box_;
  const Clock& clock_;
  std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

/// Lower-cases ASCII letters (org names are matched case-insensitively).
[[nodiscard]] std::string ascii_lower(std::string_view s);

}  // namespace cb::pipeline
