#include "pipeline/ingest.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <random>

#include "auth/digest.hpp"
#include "auth/webhook_auth.hpp"
#include "pipeline/payload_body.hpp"
#include "providers/provider.hpp"

namespace cb::pipeline {

std::string new_uuid() {
  // The random part only has to make ids unique, not secret: a generator per thread, seeded
  // from the OS (getrandom), instead of OpenSSL's locked DRBG for every request.
  thread_local std::mt19937_64 random = [] {
    std::random_device os;
    std::seed_seq seed{os(), os(), os(), os(), os(), os(), os(), os()};  // 256 bits
    return std::mt19937_64(seed);
  }();
  std::array<unsigned char, 16> b{};
  const std::uint64_t r1 = random();
  const std::uint64_t r2 = random();
  for (int i = 0; i < 8; ++i) b[6 + i] = static_cast<unsigned char>(r1 >> (8 * i));
  for (int i = 0; i < 2; ++i) b[14 + i] = static_cast<unsigned char>(r2 >> (8 * i));
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

std::string stored_external_id(std::string_view id) {
  if (id.size() <= kMaxStoredExternalId) return std::string(id);
  // Cutting the id would make different ids equal (and answer a new delivery "duplicate"): the
  // start of it, for people reading it, then the SHA-256 of all of it, for the comparison.
  return std::string(id.substr(0, 120)) + "...sha256:" + auth::to_hex(auth::sha256(id));
}

bool is_recorded_header(std::string_view name) noexcept {
  static constexpr std::string_view kKept[] = {
      "content-type",      "user-agent",         "x-event-key",        "x-request-id",
      "x-request-uuid",    "x-hook-uuid",        "x-attempt-number",   "x-github-event",
      "x-github-delivery", "x-github-hook-id",   "x-gitlab-event",     "x-gitlab-event-uuid",
      "idempotency-key",   "x-gitea-event",      "x-gitea-event-type", "x-gitea-delivery",
      "x-forgejo-event",   "x-forgejo-delivery", "x-gogs-event"};
  for (auto k : kKept) {
    if (iequals(k, name)) return true;
  }
  return false;
}

std::optional<Error> Ingest::precheck(const std::string& org_name, bool enterprise,
                                      const std::vector<Header>& headers) const {
  auto org = orgs_.lookup(org_name);
  if (!org) return org.error();
  if (!*org)
    return make_error(ErrorCode::unknown_org, "no org named '" + org_name.substr(0, 100) + "'");
  RawDelivery raw;
  raw.headers = headers;
  if (auth::has_credentials(raw)) return std::nullopt;
  const providers::Provider* provider =
      enterprise ? providers::find_provider("bitbucket_server") : providers::detect_provider(raw);
  if (provider != nullptr && provider->is_ping(raw)) return std::nullopt;
  return make_error(ErrorCode::missing_credentials,
                    "no X-Hub-Signature, X-Hub-Signature-256, X-Gitea-Signature, Authorization or "
                    "X-Gitlab-Token header");
}

Result<IngestPlan> Ingest::prepare(IngestRequest request) const {
  auto org = orgs_.lookup(request.org);
  if (!org) return std::unexpected(org.error());
  if (!*org) {
    return fail(ErrorCode::unknown_org, "no org named '" + request.org.substr(0, 100) + "'");
  }

  RawDelivery raw;
  raw.org = (*org)->org.name;
  raw.headers = std::move(request.headers);
  raw.body = std::move(request.body);
  raw.received_at_ms = clock_.now_ms();

  const providers::Provider* provider = request.enterprise
                                            ? providers::find_provider("bitbucket_server")
                                            : providers::detect_provider(raw);
  const bool ping = provider != nullptr && provider->is_ping(raw);

  if (ping && !auth::has_credentials(raw)) return IngestPlan{PingAnswer{false}};
  auto outcome = auth::authenticate_webhook(raw, (*org)->tokens, raw.received_at_ms);
  if (!outcome) return std::unexpected(outcome.error());
  if (on_token_used_) on_token_used_(outcome->token_id);
  // The rate limit applies after authentication, on purpose: a flood without the org's token
  // must not use up the org's budget and lock its real sender out (that flood costs one HMAC
  // per request and is bounded by server.max_connections instead); and only authenticated
  // requests create a bucket, so the limiter's memory is bounded by the number of orgs.
  if (limiter_ != nullptr) {
    if (const auto decision = limiter_->acquire((*org)->org.id); !decision.allowed) {
      Error e = make_error(
          ErrorCode::rate_limited,
          "org '" + (*org)->org.name + "' is over its limit of " +
              std::to_string(static_cast<long long>(limiter_->options().requests_per_second)) +
              " requests per second (burst " +
              std::to_string(static_cast<long long>(limiter_->options().burst)) +
              "); retry after " + std::to_string(decision.retry_after_s) + " s");
      e.retry_after_s = static_cast<unsigned>(decision.retry_after_s);
      return std::unexpected(std::move(e));
    }
  }
  if (ping) return IngestPlan{PingAnswer{true}};

  std::string decoded;
  // Refused here: a body that is not JSON or form-encoded `payload=` (415), or not one JSON
  // object (400), while the sender can still see why. A JSON object the provider cannot read (a
  // field missing or of another type, say from a newer Bitbucket) is accepted and stored; the
  // worker's parse then marks it failed with the parser's reason. The body is parsed once, by
  // the worker: here only its syntax is checked, without building it.
  if (auto text = json_object_text(raw.header("Content-Type"), raw.body, decoded); !text) {
    return std::unexpected(text.error());
  }

  store::NewDelivery d;
  d.delivery_id = new_uuid();
  d.org_id = (*org)->org.id;
  d.endpoint = std::string(to_string(request.endpoint));
  d.provider = provider != nullptr ? std::string(provider->id()) : std::string("unknown");
  d.event_key = provider != nullptr ? provider->event_key(raw) : std::string();
  d.external_id = provider != nullptr ? provider->external_id(raw) : std::string();
  d.external_id = stored_external_id(d.external_id);
  for (auto& h : raw.headers) {
    if (is_recorded_header(h.name)) d.headers.push_back(std::move(h));
  }
  d.body = std::move(raw.body);
  d.received_at_ms = raw.received_at_ms;
  if (provider == nullptr) {
    d.status = store::kStatusIgnored;
    d.reason = "the sender's provider could not be recognised from the request headers";
  }
  return IngestPlan{std::move(d)};
}

}  // namespace cb::pipeline
