#pragma once
// The compiled smart-commit pattern set of each org, compiled once and kept until the org's
// patterns change (also when another process, such as the CLI, changes them).

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "smartcommit/pattern_set.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// Per-org cache of compiled pattern sets. Thread-safe.
class OrgPatternCache {
 public:
  explicit OrgPatternCache(store::Store& store) : store_(store) {}

  /// The org's pattern set: its stored patterns in id order, or the `jira` built-in when it has
  /// none. A `jira` pattern without an allow-list of its own is limited to the project keys that
  /// the org's Jira connections list (Store::jira_project_keys), once they have been read. Each
  /// call costs two small queries (the patterns' version, the Jira project keys); the set is
  /// compiled again only when either changed. Errors: store_unavailable; internal when a stored
  /// pattern has an unknown kind; invalid_argument when stored patterns no longer compile.
  [[nodiscard]] Result<smartcommit::PatternSet> get(std::int64_t org_id);

 private:
  struct Entry {
    store::SmartCommitPatternsVersion version;
    std::vector<std::string> jira_keys;
    smartcommit::PatternSet set;
  };
  store::Store& store_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, Entry> entries_;
};

}  // namespace cb::pipeline
