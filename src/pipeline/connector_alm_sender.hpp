#pragma once
// The AlmSender and ProjectKeyLister of a running server: outbox entries of jira connections go
// through connectors::JiraClient (Jira REST v2), those of webhook connections through
// connectors::OutboundWebhookSender (JSON POST signed with X-Hub-Signature-256).

#include <chrono>

#include "connectors/http_client.hpp"
#include "core/clock.hpp"
#include "pipeline/alm_sender.hpp"

namespace cb::pipeline {

/// Sends outbox entries with the real connectors. Thread-safe if the HttpClient is.
///
/// Per action (payload fields: pipeline/outbox_planner.hpp):
/// - remote_link: JiraClient::upsert_commit_link, repository "<provider>:<PROJECT/slug>" (so the
///   globalId is "commitbridge:<provider>:<PROJECT/slug>:<hash>"), the commit's web page (or the
///   clone URL when none is known), title "<PROJECT/slug> <first 11 hex digits>", summary the
///   first line of the message;
/// - comment: ordinal 0 a comment describing the commit, otherwise the #comment text;
/// - worklog: JiraClient::add_worklog with the #time duration as written, its comment and the
///   commit's author time as "started";
/// - transition: JiraClient::transition (lists the transitions, matches the name, posts
///   its id) with the command's comment;
/// - webhook: the payload POSTed as is, event "commit_linked", delivery id "outbox-<entry id>"
///   (the same on every attempt, so receivers can de-duplicate).
/// Retryable connector failures become SendResult retry (with Retry-After), the others
/// permanent.
class ConnectorAlmSender final : public AlmSender, public ProjectKeyLister {
 public:
  /// `http` and `clock` must outlive the sender; `timeout` bounds each request.
  ConnectorAlmSender(connectors::HttpClient& http, const Clock& clock,
                     std::chrono::milliseconds timeout)
      : http_(http), clock_(clock), timeout_(timeout) {}

  [[nodiscard]] SendResult send(const store::OutboxEntryRecord& entry,
                                const store::AlmConnectionRecord& connection,
                                const std::string& secret) override;
  /// JiraClient::list_project_keys. Errors: peer_unavailable with the connector's message.
  [[nodiscard]] Result<std::vector<std::string>> list_project_keys(
      const store::AlmConnectionRecord& connection, const std::string& secret) override;

 private:
  connectors::HttpClient& http_;
  const Clock& clock_;
  std::chrono::milliseconds timeout_;
};

}  // namespace cb::pipeline
