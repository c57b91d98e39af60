#include "connectors/outbound_webhook.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>

#include "auth/digest.hpp"
#include "connectors/http_action.hpp"

namespace cb::connectors {

namespace {

constexpr std::size_t kExcerptBytes = 200;

std::string one_line(std::string_view body) {
  std::string out(body.substr(0, kExcerptBytes));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (body.size() > kExcerptBytes) out += "...";
  return out;
}

}  // namespace

std::string webhook_signature(std::string_view secret, std::string_view body) {
  return "sha256=" + auth::to_hex(auth::hmac_sha256(secret, body));
}

OutboundWebhookSender::OutboundWebhookSender(OutboundWebhookConfig config, HttpClient& http,
                                             const Clock& clock)
    : config_(std::move(config)), http_(http), clock_(clock) {}

ConnectorResult<int> OutboundWebhookSender::send(std::string_view json_body, std::string_view event,
                                                 std::string_view delivery_id) {
  HttpRequest req;
  req.method = "POST";
  req.url = config_.url;
  req.timeout = config_.timeout;
  req.connect_timeout = std::min(config_.timeout, req.connect_timeout);
  req.verify_tls = config_.verify_tls;
  req.max_response_bytes = 64 * 1024;
  req.body = std::string(json_body);
  req.headers = config_.headers;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!config_.secret.empty()) {
    req.headers.emplace_back("X-Hub-Signature-256", webhook_signature(config_.secret, json_body));
  }
  if (!event.empty()) req.headers.emplace_back("X-Commitbridge-Event", std::string(event));
  if (!delivery_id.empty()) {
    req.headers.emplace_back("X-Commitbridge-Delivery", std::string(delivery_id));
  }

  // Everything that must not show: secret header values, the HMAC key, URL credentials.
  std::vector<std::string> secrets = {config_.secret};
  for (const auto& [name, value] : config_.headers) {
    if (is_secret_header(name)) secrets.push_back(value);
  }
  if (auto parsed = boost::urls::parse_uri_reference(config_.url);
      parsed && parsed->has_password()) {
    secrets.emplace_back(parsed->password());
    secrets.emplace_back(parsed->encoded_password());
  }
  const std::string shown_url = redact_url(config_.url);

  auto res = http_.send(req);
  if (!res) {
    auto failure = failure_from_transport(res.error(), "webhook POST " + shown_url);
    failure.message = redact_secrets(std::move(failure.message), secrets);
    return std::unexpected(std::move(failure));
  }
  if (res->status < 200 || res->status > 299) {
    std::string message =
        "webhook receiver " + shown_url + " answered HTTP " + std::to_string(res->status);
    if (!res->body.empty()) message += ": " + one_line(res->body);
    return std::unexpected(
        failure_from_response(*res, clock_.now_ms(), redact_secrets(std::move(message), secrets)));
  }
  return res->status;
}

}  // namespace cb::connectors
