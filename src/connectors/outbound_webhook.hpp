#pragma once
// Outbound webhooks: POST a JSON document to a user's URL, signed like GitHub signs its
// deliveries (X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body, key = secret>), so
// receivers can reuse their GitHub verification code.

#include <chrono>
#include <string>
#include <string_view>

#include "connectors/connector_outcome.hpp"
#include "connectors/http_client.hpp"
#include "core/clock.hpp"

namespace cb::connectors {

/// Where and how to send.
struct OutboundWebhookConfig {
  /// Absolute http(s) URL of the receiver. User information in it is a secret.
  std::string url{};
  /// HMAC key; when empty no signature header is sent. Secret.
  std::string secret{};
  /// Extra headers sent with every delivery (values may be secrets, see is_secret_header).
  HttpHeaders headers{};
  /// Deadline of each request, in milliseconds.
  std::chrono::milliseconds timeout{10000};
  /// Verify the receiver's TLS certificate.
  bool verify_tls = true;
};

/// "sha256=" followed by the lower-case hex HMAC-SHA256 of `body` keyed with `secret`: the
/// value of X-Hub-Signature-256.
[[nodiscard]] std::string webhook_signature(std::string_view secret, std::string_view body);

/// Sends deliveries to one receiver. Thread-safe if the HttpClient is.
class OutboundWebhookSender {
 public:
  /// `http` and `clock` must outlive the sender.
  OutboundWebhookSender(OutboundWebhookConfig config, HttpClient& http, const Clock& clock);

  /// POSTs `json_body` (sent byte for byte) with Content-Type: application/json,
  /// X-Hub-Signature-256 (when a secret is set), User-Agent commitbridge/<version>, and, when
  /// non-empty, X-Commitbridge-Event: `event` and X-Commitbridge-Delivery: `delivery_id`
  /// (stable across retries, so receivers can de-duplicate). No redirects are followed.
  /// Returns the 2xx status. Failures: retryable for 5xx, 408, 429 (with Retry-After),
  /// timeouts and connection failures; permanent otherwise. Messages name the URL without
  /// user information or secret query values and include at most 200 bytes of the answer.
  [[nodiscard]] ConnectorResult<int> send(std::string_view json_body, std::string_view event = {},
                                          std::string_view delivery_id = {});

 private:
  OutboundWebhookConfig config_;
  HttpClient& http_;
  const Clock& clock_;
};

}  // namespace cb::connectors
