#pragma once
// The Bitbucket Server / Data Center provider: recognizes its deliveries and parses their JSON
// bodies into normalized events.
//
// Source of the format: Atlassian "Event payload" (Bitbucket Server/DC 8.9 and the current DC
// page), the "Manage webhooks" page (headers, "Test connection"), and the DC 10.3 date change;
// see /work/shared/reference/protocols.md §1 and README.md in this folder.

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/event.hpp"
#include "core/raw_delivery.hpp"
#include "providers/provider.hpp"

namespace cb::providers::bitbucket_server {

/// Event key header sent with every Bitbucket DC webhook, e.g. "repo:refs_changed".
inline constexpr std::string_view kEventKeyHeader = "X-Event-Key";
/// Delivery id header (a UUID unique to each request) sent with every Bitbucket DC webhook.
inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";
/// Event key of the "Test connection" button.
inline constexpr std::string_view kPingEventKey = "diagnostics:ping";

/// Bitbucket Server / Data Center webhooks (id "bitbucket_server").
///
/// Recognized event keys (from the `X-Event-Key` header, else the body's `eventKey`):
/// - `repo:refs_changed`, `mirror:repo_synchronized` → PushEvent
/// - `pr:opened`, `pr:from_ref_updated`, `pr:modified`, `pr:merged`, `pr:declined`,
///   `pr:deleted` → PullRequestEvent (repository = the target repository, `toRef.repository`)
/// - `diagnostics:ping` → PingEvent
/// - any other key → UnsupportedEvent{key}
///
/// Stateless and thread-safe; never throws out of its member functions except std::bad_alloc.
class BitbucketServerProvider final : public Provider {
 public:
  /// "bitbucket_server".
  [[nodiscard]] std::string_view id() const noexcept override;

  /// True when the delivery carries `X-Event-Key` and `X-Request-Id` (any header-name case) and
  /// none of the markers of other providers that also send an event key: `X-GitHub-Event`,
  /// `X-Gitlab-Event`, `X-Gitea-Event`, or `X-Request-UUID` (Bitbucket Cloud).
  [[nodiscard]] bool detect(const RawDelivery& delivery) const override;

  /// The `X-Event-Key` header (surrounding blanks trimmed); when absent or blank, the body's
  /// top-level `eventKey` string; empty when neither is there or the body is not a JSON object.
  [[nodiscard]] std::string event_key(const RawDelivery& delivery) const override;

  /// The `X-Request-Id` header (surrounding blanks trimmed); empty when absent.
  [[nodiscard]] std::string external_id(const RawDelivery& delivery) const override;

  /// True when event_key() is "diagnostics:ping".
  [[nodiscard]] bool is_ping(const RawDelivery& delivery) const override;

  /// Parses `delivery.body` (JSON; a form-encoded `payload=` body must be decoded by the
  /// caller) into a normalized event, see the class comment for the mapping. A ping gives
  /// PingEvent whatever its body (Bitbucket's test body is not a fixed format).
  /// Errors (ErrorCode::malformed_payload, message names the event and JSON path, e.g.
  /// "Bitbucket repo:refs_changed payload has no repository.project.key"): the body is not
  /// JSON or not an object; no event key in header or body; a push without `repository` or
  /// `changes` (`changes` may be absent from a `mirror:repo_synchronized` whose
  /// `refLimitExceeded` is true); a pull-request event without `pullRequest`, its `id`,
  /// `fromRef.id`, `toRef.id` or `toRef.repository`; any present field of the wrong type, an
  /// unknown change type, a hash that is not hex, or a date that does not parse.
  [[nodiscard]] Result<NormalizedEvent> parse(const RawDelivery& delivery) const override;
};

}  // namespace cb::providers::bitbucket_server
