#pragma once
// Administration of ALM connections and of the write-back outbox, shared by the admin API and
// the CLI: validates input, seals secrets, writes the audit log, never returns a secret.

#include <optional>
#include <string>

#include "admin/admin_service.hpp"
#include "auth/secret_box.hpp"
#include "core/clock.hpp"
#include "store/store.hpp"

namespace cb::admin {

/// Fields of a connection to create or change; an empty optional leaves the field as it is
/// (or takes its default on create).
struct AlmConnectionSpec {
  std::optional<std::string> name;        ///< 1 to 100 characters, unique in the org
  std::optional<std::string> type;        ///< "jira" or "webhook"; fixed once created
  std::optional<std::string> url;         ///< http(s) URL: Jira base URL or webhook URL
  std::optional<std::string> deployment;  ///< jira: "cloud" or "data_center"
  std::optional<std::string> email;       ///< jira cloud: the account of the API token
  /// jira cloud: API token; jira data_center: personal access token; webhook: signing secret.
  std::optional<std::string> secret;
  std::optional<bool> add_remote_link;  ///< jira; default true
  std::optional<bool> add_comment;      ///< jira; default false
  std::optional<bool> run_commands;     ///< jira; default true
  /// jira: commands run only for commits younger than this; 60 s to 3650 days, default 30 days.
  std::optional<std::int64_t> max_commit_age_seconds;
  std::optional<bool> enabled;  ///< default true
};

/// Default of max_commit_age_seconds: 30 days.
inline constexpr std::int64_t kDefaultMaxCommitAgeSeconds = 30LL * 86400;

/// ALM connections and outbox of an org. Errors: invalid_argument naming the field, not_found,
/// conflict, store_unavailable.
class AlmService {
 public:
  AlmService(store::Store& store, const auth::SecretBox& box, const Clock& clock)
      : store_(store), box_(box), clock_(clock) {}

  /// Creates a connection. Required: name, type, url, secret; jira also deployment, and email
  /// for cloud.
  [[nodiscard]] Result<store::AlmConnectionRecord> create_connection(const std::string& org,
                                                                     const AlmConnectionSpec& spec,
                                                                     const Actor& actor = {});
  /// One page of the org's connections, by creation.
  [[nodiscard]] Result<Page<store::AlmConnectionRecord>> list_connections(const std::string& org,
                                                                          const PageRequest& page);
  /// The connection with this id (e.g. alm_3f2a...) or name.
  [[nodiscard]] Result<store::AlmConnectionRecord> get_connection(const std::string& org,
                                                                  const std::string& id_or_name);
  /// Changes the given fields (type cannot change: invalid_argument).
  [[nodiscard]] Result<store::AlmConnectionRecord> update_connection(const std::string& org,
                                                                     const std::string& id_or_name,
                                                                     const AlmConnectionSpec& spec,
                                                                     const Actor& actor = {});
  /// Deletes the connection with its outbox entries.
  [[nodiscard]] Result<void> remove_connection(const std::string& org,
                                               const std::string& id_or_name,
                                               const Actor& actor = {});

  /// One page of the org's outbox entries (oldest first), of one status when given (pending,
  /// sending, sent, dead).
  [[nodiscard]] Result<Page<store::OutboxEntryRecord>> list_outbox(
      const std::string& org, const std::optional<std::string>& status, const PageRequest& page);
  /// Sends a dead (or pending) entry again at once with a fresh count of attempts. conflict when
  /// it is sending or sent.
  [[nodiscard]] Result<store::OutboxEntryRecord> retry_outbox_entry(const std::string& org,
                                                                    std::int64_t entry_id,
                                                                    const Actor& actor = {});

 private:
  Result<store::OrgRecord> org_named(const std::string& name);
  Result<void> apply(store::AlmConnectionRecord& c, const AlmConnectionSpec& spec, bool creating);
  void audit(std::int64_t org_id, const Actor& actor, std::string action, std::string target,
             std::string detail);

  store::Store& store_;
  const auth::SecretBox& box_;
  const Clock& clock_;
};

}  // namespace cb::admin
