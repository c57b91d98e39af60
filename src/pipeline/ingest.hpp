#pragma once
// The ingest decision: org → authenticate → content check → the delivery to persist.
// Runs on an I/O thread; persisting is the caller's asynchronous step.

#include <string>
#include <variant>
#include <vector>

#include "core/clock.hpp"
#include "core/raw_delivery.hpp"
#include "pipeline/endpoint.hpp"
#include "pipeline/org_directory.hpp"
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
/// malformed_credentials, invalid_signature, invalid_token, unsupported_media_type,
/// malformed_payload (also when the provider cannot parse the payload), store_unavailable (org
/// lookup). A failed request stores nothing.
class Ingest {
 public:
  Ingest(OrgDirectory& orgs, const Clock& clock) : orgs_(orgs), clock_(clock) {}

  [[nodiscard]] Result<IngestPlan> prepare(IngestRequest request) const;

 private:
  OrgDirectory& orgs_;
  const Clock& clock_;
};

/// A random UUID (version 4), lower-case, e.g. "3b0c5e1a-...". Used as our delivery id.
[[nodiscard]] std::string new_uuid();

}  // namespace cb::pipeline
