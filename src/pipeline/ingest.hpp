#pragma once
// The ingest decision: org → authenticate → content check → the delivery to persist.
// Runs on an I/O thread; persisting is the caller's asynchronous step.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/raw_delivery.hpp"
#include "pipeline/endpoint.hpp"
#include "pipeline/org_directory.hpp"
#include "pipeline/rate_limiter.hpp"
#include "store/records.hpp"

namespace cb::pipeline {

/// A webhook request as routed: the org and endpoint from the URL, whether it came on the
/// Bitbucket DC (`/enterprise/`) URL, the headers and the raw body.
struct IngestRequest {
  std::string org;
  Endpoint endpoint = Endpoint::trigger_scm_push_request;
  bool enterprise = false;
  std::vector<Header> headers;
  std::string body;
};

/// Answer to a connection test: nothing is stored.
struct PingAnswer {
  bool authenticated = false;
};

/// What to do with an accepted request: answer a ping, or persist a delivery.
using IngestPlan = std::variant<PingAnswer, store::NewDelivery>;

/// Headers kept with a stored delivery (everything else, including Authorization and
/// signatures, is dropped so that no credential is stored).
[[nodiscard]] bool is_recorded_header(std::string_view name) noexcept;

/// Decides what to do with a webhook request. Errors: unknown_org, missing_credentials,
/// malformed_credentials, invalid_signature, invalid_token, rate_limited (with
/// Error::retry_after_s), unsupported_media_type, malformed_payload (also when the provider
/// cannot parse the payload), store_unavailable (org lookup). A failed request stores nothing.
class Ingest {
 public:
  /// `limiter` (optional, not owned) applies the per-org rate limit to authenticated requests.
  Ingest(OrgDirectory& orgs, const Clock& clock, RateLimiter* limiter = nullptr)
      : orgs_(orgs), clock_(clock), limiter_(limiter) {}

  [[nodiscard]] Result<IngestPlan> prepare(IngestRequest request) const;

  /// The checks that need only the URL and the headers, run before the body is read: the org
  /// exists (unknown_org) and the request carries a credential header unless it is a ping
  /// (missing_credentials). nullopt when the request may go on. A request that passes is still
  /// fully checked by prepare().
  [[nodiscard]] std::optional<Error> precheck(const std::string& org, bool enterprise,
                                              const std::vector<Header>& headers) const;

  /// Called with the token id of every authenticated request (for the batched last_used_at
  /// update); set before the server starts.
  void on_token_used(std::function<void(std::int64_t token_id)> callback) {
    on_token_used_ = std::move(callback);
  }

 private:
  OrgDirectory& orgs_;
  const Clock& clock_;
  RateLimiter* limiter_;
  std::function<void(std::int64_t)> on_token_used_;
};

/// Longest sender delivery id (`X-Request-Id`, `X-GitHub-Delivery`, ...) stored as it is.
inline constexpr std::size_t kMaxStoredExternalId = 200;

/// The sender's delivery id as stored and compared for duplicates: `id` itself when at most
/// kMaxStoredExternalId bytes, else its first 120 bytes, "...sha256:" and the SHA-256 of the
/// whole id in hex (194 bytes): two different ids never become equal, the same id always maps
/// to the same text.
[[nodiscard]] std::string stored_external_id(std::string_view id);

/// A UUID version 7 (RFC 9562), lower-case, e.g. "019ad5e2-7c41-7a3b-9f0e-...": the current
/// Unix time in milliseconds (UTC) in the first 48 bits, then 74 random bits. Used as our
/// delivery id: ids sort by arrival time, so the store's index on them grows at one end instead
/// of changing a page at a random place for every delivery.
[[nodiscard]] std::string new_uuid();

}  // namespace cb::pipeline
