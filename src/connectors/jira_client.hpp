#pragma once
// Jira REST v2 client (Cloud and Data Center/Server) for ALM write-back: remote links to
// commits, comments, worklogs, transitions, and the project list.
//
// Wire format: Jira REST API v2 (plain wiki-markup strings, accepted by Cloud and DC), see
// /work/shared/reference/protocols.md §8 and Atlassian's REST v2 reference. Every call returns a
// ConnectorResult: the value on success, otherwise a ConnectorFailure that is retryable (5xx,
// 408, 429 with its Retry-After, timeout, connection failure) or permanent (other 4xx with
// Jira's errorMessages/errors text, unknown transition, invalid issue key).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/connector_outcome.hpp"
#include "connectors/http_client.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"

namespace cb::connectors {

/// Which Jira product is called; decides the authentication scheme.
enum class JiraFlavour {
  cloud,        ///< *.atlassian.net: Basic base64(email:api_token)
  data_center,  ///< Jira Data Center / Server 8.14+: Bearer personal access token
};

/// How to reach one Jira site.
struct JiraConfig {
  /// Site root, http(s), with the context path if any: "https://example.atlassian.net",
  /// "https://jira.example.com/jira". A trailing '/' is ignored.
  std::string base_url{};
  JiraFlavour flavour = JiraFlavour::cloud;
  /// Cloud: the account's email and an API token (id.atlassian.com). Secret: api_token.
  std::string email{};
  std::string api_token{};
  /// Data Center: a personal access token. Secret.
  std::string personal_access_token{};
  /// Deadline of each request, in milliseconds.
  std::chrono::milliseconds timeout{30000};
  /// Verify the site's TLS certificate.
  bool verify_tls = true;
};

/// Checks a config: http(s) base URL; email + api_token for Cloud, personal_access_token for
/// DC. Errors: invalid_argument naming the missing or wrong field (never a secret's value).
[[nodiscard]] Result<void> validate_jira_config(const JiraConfig& config);

/// A remote link from an issue to a commit.
struct JiraCommitLink {
  std::string repository{};   ///< stable repository identity, e.g. "PROJ/repo" or its clone URL
  std::string commit_hash{};  ///< full commit hash
  std::string url{};          ///< web page of the commit (the link target)
  std::string title{};        ///< link text, e.g. "PROJ/repo a1b2c3d"
  std::string summary{};      ///< e.g. the commit's first line
  std::string icon_url{};     ///< 16x16 icon; "" = none
};

/// A workflow transition available on an issue.
struct JiraTransition {
  std::string id{};         ///< e.g. "31"
  std::string name{};       ///< e.g. "Start Progress"
  std::string to_status{};  ///< name of the target status, "" when Jira did not say
};

/// The globalId of a commit's remote link: "commitbridge:<repository>:<commit_hash>", or, when
/// that exceeds Jira's 255 characters, "commitbridge:sha256:<hex of sha256(repository)>:<hash>".
/// The same commit of the same repository always gives the same id, so a retried call updates
/// the link instead of adding a second one.
[[nodiscard]] std::string remote_link_global_id(std::string_view repository,
                                                std::string_view commit_hash);

/// True for issue keys in Jira's default format, "two or more uppercase letters, hyphen,
/// number": [A-Z][A-Z0-9_]+-[1-9][0-9]* (e.g. "ABC-123").
[[nodiscard]] bool is_valid_issue_key(std::string_view key) noexcept;

/// Calls one Jira site through an HttpClient. Thread-safe if the HttpClient is.
class JiraClient {
 public:
  /// `config` should have passed validate_jira_config; calls on an invalid one fail
  /// permanently. `http` and `clock` must outlive the client.
  JiraClient(JiraConfig config, HttpClient& http, const Clock& clock);

  /// Adds or updates the remote link of `link`'s commit on `issue_key`:
  /// POST /rest/api/2/issue/{key}/remotelink with globalId = remote_link_global_id(...),
  /// relationship "commit", application {type "com.commitbridge", name "commitbridge"}.
  /// Success: 200 (updated) or 201 (created).
  [[nodiscard]] ConnectorResult<void> upsert_commit_link(std::string_view issue_key,
                                                         const JiraCommitLink& link);

  /// Adds a comment (wiki markup) to `issue_key`: POST /rest/api/2/issue/{key}/comment
  /// {"body": ...}. Returns the new comment's id ("" if Jira did not send one).
  [[nodiscard]] ConnectorResult<std::string> add_comment(std::string_view issue_key,
                                                         std::string_view body);

  /// Logs work on `issue_key`: POST /rest/api/2/issue/{key}/worklog {"timeSpent": time_spent}
  /// with time_spent as written in the smart commit (e.g. "1w 2d 1.5h 30m"; Jira parses it),
  /// plus "comment" when non-empty and "started" (yyyy-MM-dd'T'HH:mm:ss.SSS+0000, UTC) when
  /// given (ms since the epoch). Returns the new worklog's id.
  [[nodiscard]] ConnectorResult<std::string> add_worklog(
      std::string_view issue_key, std::string_view time_spent, std::string_view comment = {},
      std::optional<UnixMillis> started_ms = std::nullopt);

  /// The transitions `issue_key` can take now: GET /rest/api/2/issue/{key}/transitions.
  [[nodiscard]] ConnectorResult<std::vector<JiraTransition>> list_transitions(
      std::string_view issue_key);

  /// Runs the transition a smart-commit command names, e.g. "start-progress" or "resolve":
  /// hyphens stand for spaces and names compare case-insensitively. A command equal to a whole
  /// transition name wins; otherwise it is compared with the first word of each name (Jira's
  /// rule: "#start" runs "Start Progress"). Then POST /rest/api/2/issue/{key}/transitions
  /// {"transition":{"id":...}} (+ the comment, when non-empty, as
  /// "update":{"comment":[{"add":{"body":...}}]}); success is 204. Returns the transition run.
  /// Permanent failures: no match ("no transition \"x\" on ABC-1; available: A, B") or several
  /// ("transition \"x\" on ABC-1 is ambiguous: A, B").
  [[nodiscard]] ConnectorResult<JiraTransition> transition(std::string_view issue_key,
                                                           std::string_view command,
                                                           std::string_view comment = {});

  /// Keys of the projects the account can see: GET /rest/api/2/project.
  [[nodiscard]] ConnectorResult<std::vector<std::string>> list_project_keys();

 private:
  struct Reply;
  [[nodiscard]] ConnectorResult<Reply> call(std::string_view method, std::string path,
                                            std::string body);

  JiraConfig config_;
  HttpClient& http_;
  const Clock& clock_;
};

}  // namespace cb::connectors
