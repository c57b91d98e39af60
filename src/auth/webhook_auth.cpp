#include "auth/webhook_auth.hpp"

#include <vector>

#include "auth/digest.hpp"

namespace cb::auth {
namespace {

constexpr std::string_view kHubSignature256 = "X-Hub-Signature-256";
constexpr std::string_view kHubSignature = "X-Hub-Signature";
constexpr std::string_view kGiteaSignature = "X-Gitea-Signature";
constexpr std::string_view kAuthorization = "Authorization";
constexpr std::string_view kGitlabToken = "X-Gitlab-Token";

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

/// Splits `v` at the first `sep`; nullopt when there is none.
std::optional<std::pair<std::string_view, std::string_view>> split_once(std::string_view v,
                                                                        char sep) noexcept {
  const auto pos = v.find(sep);
  if (pos == std::string_view::npos) return std::nullopt;
  return std::pair{v.substr(0, pos), v.substr(pos + 1)};
}

/// The trimmed value of a credential header, or empty when the header is absent or offers no
/// credential (Gitea sends `X-Hub-Signature: sha1=` etc. with no digits when it has no secret).
std::string_view offered(const RawDelivery& d, std::string_view name) {
  const std::string_view v = trim(d.header(name));
  if (name == kHubSignature || name == kHubSignature256) {
    if (const auto parts = split_once(v, '='); parts && trim(parts->second).empty()) return {};
  }
  return v;
}

/// True when the credential may authenticate a webhook at `now_ms`.
bool is_active_webhook(const WebhookCredential& c, UnixMillis now_ms) noexcept {
  return c.type == TokenType::webhook && !c.revoked_at_ms.has_value() &&
         (!c.expires_at_ms.has_value() || *c.expires_at_ms > now_ms);
}

/// Why an inactive credential does not authenticate ("token is revoked", ...).
std::string_view inactive_reason(const WebhookCredential& c, UnixMillis now_ms) noexcept {
  if (c.type != TokenType::webhook) return "token is not a webhook token";
  if (c.revoked_at_ms.has_value()) return "token is revoked";
  if (c.expires_at_ms.has_value() && *c.expires_at_ms <= now_ms) return "token has expired";
  return "token is active";
}

/// The full token text of a credential (the HMAC key the user pasted), or nullopt when the
/// stored parts are not a well-formed token: an empty or short secret must never become a key
/// that anybody who knows the public id could compute.
std::optional<std::string> full_token_text(const WebhookCredential& c) {
  std::string text = format_token(TokenParts{c.type, c.public_id, c.secret});
  if (!parse_token(text)) return std::nullopt;
  return text;
}

// ---- Gitea form mode --------------------------------------------------------------------------

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// application/x-www-form-urlencoded decoding of one value; nullopt on a bad %-escape.
std::optional<std::string> form_decode(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '+') {
      out.push_back(' ');
    } else if (v[i] == '%') {
      if (i + 2 >= v.size()) return std::nullopt;
      const int hi = hex_digit(v[i + 1]);
      const int lo = hex_digit(v[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>((hi << 4) | lo));
      i += 2;
    } else {
      out.push_back(v[i]);
    }
  }
  return out;
}

/// For a Gitea/Forgejo/Gogs delivery sent form-encoded, the decoded `payload` field: those
/// senders sign the JSON text, not the form body. nullopt for every other delivery.
std::optional<std::string> gitea_form_payload(const RawDelivery& d) {
  if (!d.has_header("X-Gitea-Event") && !d.has_header("X-Forgejo-Event") &&
      !d.has_header("X-Gogs-Event")) {
    return std::nullopt;
  }
  std::string_view media = d.header("Content-Type");
  if (const auto semi = media.find(';'); semi != std::string_view::npos) {
    media = media.substr(0, semi);
  }
  if (!iequals(trim(media), "application/x-www-form-urlencoded")) return std::nullopt;
  std::string_view rest = d.body;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view field = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (field.starts_with("payload=")) return form_decode(field.substr(8));
  }
  return std::nullopt;
}

// ---- HMAC methods -----------------------------------------------------------------------------

enum class HmacAlg { sha256, sha1 };

/// Checks an HMAC digest given as hex in `header` against every active webhook token.
Result<AuthOutcome> check_hmac(const RawDelivery& d, std::span<const WebhookCredential> tokens,
                               UnixMillis now_ms, std::string_view header, HmacAlg alg,
                               std::string_view hex, AuthMethod method) {
  const std::string_view alg_name = alg == HmacAlg::sha256 ? "sha256" : "sha1";
  const std::size_t size = alg == HmacAlg::sha256 ? kSha256Size : kSha1Size;
  const std::string what = std::string(header) + " " + std::string(alg_name);

  const auto expected = from_hex(hex);
  if (!expected) {
    return fail(ErrorCode::malformed_credentials,
                what + " signature is not " + std::to_string(2 * size) + " hex digits");
  }
  if (expected->size() != size) {
    return fail(ErrorCode::malformed_credentials,
                what + " signature must be " + std::to_string(2 * size) + " hex digits, got " +
                    std::to_string(hex.size()));
  }

  std::vector<std::string_view> messages{d.body};
  const auto form_payload = gitea_form_payload(d);
  if (form_payload) messages.emplace_back(*form_payload);

  const auto mac = [&](std::string_view key, std::string_view msg) {
    return alg == HmacAlg::sha256 ? hmac_sha256(key, msg) : hmac_sha1(key, msg);
  };
  const auto matches = [&](const std::string& key) {
    for (const auto msg : messages) {
      if (constant_time_equals(mac(key, msg), *expected)) return true;
    }
    return false;
  };

  for (const auto& c : tokens) {
    if (!is_active_webhook(c, now_ms)) continue;
    const auto key = full_token_text(c);
    if (key && matches(*key)) return AuthOutcome{c.token_id, c.public_id, method};
  }

  std::string message = what + " HMAC over " + std::to_string(d.body.size()) + " body bytes";
  if (form_payload) {
    message += " (or the " + std::to_string(form_payload->size()) + "-byte form field payload)";
  }
  message += " matches no active webhook token of this org";
  // Tell the admin when the sender still uses a token that was revoked or has expired: only a
  // holder of that token's secret can produce this match, so it reveals nothing new.
  for (const auto& c : tokens) {
    if (is_active_webhook(c, now_ms)) continue;
    const auto key = full_token_text(c);
    if (key && matches(*key)) {
      message += " (it matches token " + c.public_id + ": " +
                 std::string(inactive_reason(c, now_ms)) + ")";
      break;
    }
  }
  return fail(ErrorCode::invalid_signature, std::move(message),
              std::to_string(tokens.size()) + " tokens of the org considered");
}

Result<AuthOutcome> check_hub_signature_256(const RawDelivery& d,
                                            std::span<const WebhookCredential> tokens,
                                            UnixMillis now_ms, std::string_view value) {
  const auto parts = split_once(value, '=');
  if (!parts || !iequals(trim(parts->first), "sha256")) {
    return fail(ErrorCode::malformed_credentials,
                std::string(kHubSignature256) + " must read sha256=<64 hex digits>");
  }
  return check_hmac(d, tokens, now_ms, kHubSignature256, HmacAlg::sha256, trim(parts->second),
                    AuthMethod::hmac_sha256);
}

Result<AuthOutcome> check_hub_signature(const RawDelivery& d,
                                        std::span<const WebhookCredential> tokens,
                                        UnixMillis now_ms, std::string_view value) {
  const auto parts = split_once(value, '=');
  if (!parts) {
    return fail(ErrorCode::malformed_credentials,
                std::string(kHubSignature) + " must read sha256=<hex> or sha1=<hex>");
  }
  const std::string_view alg = trim(parts->first);
  if (iequals(alg, "sha256")) {
    return check_hmac(d, tokens, now_ms, kHubSignature, HmacAlg::sha256, trim(parts->second),
                      AuthMethod::hmac_sha256);
  }
  if (iequals(alg, "sha1")) {
    return check_hmac(d, tokens, now_ms, kHubSignature, HmacAlg::sha1, trim(parts->second),
                      AuthMethod::hmac_sha1);
  }
  return fail(ErrorCode::malformed_credentials,
              std::string(kHubSignature) +
                  " names an unsupported algorithm (expected the prefix sha256= or sha1=)");
}

// ---- token methods ----------------------------------------------------------------------------

/// Checks a presented token text; `label` names where it came from, e.g. "Authorization Bearer".
Result<AuthOutcome> check_token(std::span<const WebhookCredential> tokens, UnixMillis now_ms,
                                std::string_view label, std::string_view text, AuthMethod method) {
  const std::string where(label);
  const auto parts = parse_token(text);
  if (!parts) {
    return fail(ErrorCode::invalid_token,
                where + ": token is not in the cbw_<16 hex public id>_<64 hex secret> format");
  }
  const std::string id = " (public id " + parts->public_id + ")";
  if (parts->type != TokenType::webhook) {
    return fail(ErrorCode::invalid_token, where + ": token is not a webhook token" + id);
  }
  for (const auto& c : tokens) {
    if (c.public_id != parts->public_id) continue;
    // A wrong secret reads like an unknown token: the public id alone proves nothing. Several
    // credentials may share a public id (the previous secret of a rotated token).
    if (!constant_time_equals(c.secret, parts->secret)) continue;
    if (!is_active_webhook(c, now_ms)) {
      return fail(ErrorCode::invalid_token,
                  where + ": " + std::string(inactive_reason(c, now_ms)) + id);
    }
    return AuthOutcome{c.token_id, c.public_id, method};
  }
  return fail(ErrorCode::invalid_token, where + ": token is not known for this org" + id);
}

Result<AuthOutcome> check_authorization(std::span<const WebhookCredential> tokens,
                                        UnixMillis now_ms, std::string_view value) {
  std::size_t sp = 0;
  while (sp < value.size() && !is_ows(value[sp])) ++sp;
  const std::string_view scheme = value.substr(0, sp);
  const std::string_view credentials = trim(value.substr(sp));

  if (iequals(scheme, "Basic")) {
    if (credentials.empty()) {
      return fail(ErrorCode::malformed_credentials, "Authorization Basic carries no credentials");
    }
    const auto decoded = base64_decode(credentials);
    if (!decoded) {
      return fail(ErrorCode::malformed_credentials,
                  "Authorization Basic credentials are not valid base64");
    }
    const auto user_pass = split_once(*decoded, ':');
    if (!user_pass) {
      return fail(ErrorCode::malformed_credentials,
                  "Authorization Basic credentials have no ':' between user name and token");
    }
    return check_token(tokens, now_ms, "Authorization Basic password", user_pass->second,
                       AuthMethod::basic);
  }
  if (iequals(scheme, "Bearer")) {
    if (credentials.empty()) {
      return fail(ErrorCode::malformed_credentials, "Authorization Bearer carries no token");
    }
    return check_token(tokens, now_ms, "Authorization Bearer", credentials, AuthMethod::bearer);
  }
  return fail(ErrorCode::malformed_credentials,
              "Authorization must use the Basic or Bearer scheme");
}

}  // namespace

std::string_view to_string(AuthMethod method) noexcept {
  switch (method) {
    case AuthMethod::hmac_sha256:
      return "hmac_sha256";
    case AuthMethod::hmac_sha1:
      return "hmac_sha1";
    case AuthMethod::basic:
      return "basic";
    case AuthMethod::bearer:
      return "bearer";
    case AuthMethod::gitlab_token:
      return "gitlab_token";
    case AuthMethod::gitea_signature:
      return "gitea_signature";
  }
  return "unknown";
}

bool has_credentials(const RawDelivery& d) {
  for (const auto name :
       {kHubSignature256, kHubSignature, kGiteaSignature, kAuthorization, kGitlabToken}) {
    if (!offered(d, name).empty()) return true;
  }
  return false;
}

Result<AuthOutcome> authenticate_webhook(const RawDelivery& d,
                                         std::span<const WebhookCredential> org_tokens,
                                         UnixMillis now_ms) {
  if (const auto v = offered(d, kHubSignature256); !v.empty()) {
    return check_hub_signature_256(d, org_tokens, now_ms, v);
  }
  if (const auto v = offered(d, kHubSignature); !v.empty()) {
    return check_hub_signature(d, org_tokens, now_ms, v);
  }
  if (const auto v = offered(d, kGiteaSignature); !v.empty()) {
    return check_hmac(d, org_tokens, now_ms, kGiteaSignature, HmacAlg::sha256, v,
                      AuthMethod::gitea_signature);
  }
  if (const auto v = offered(d, kAuthorization); !v.empty()) {
    return check_authorization(org_tokens, now_ms, v);
  }
  if (const auto v = offered(d, kGitlabToken); !v.empty()) {
    return check_token(org_tokens, now_ms, kGitlabToken, v, AuthMethod::gitlab_token);
  }
  return fail(ErrorCode::missing_credentials,
              "no X-Hub-Signature, X-Hub-Signature-256, X-Gitea-Signature, Authorization or "
              "X-Gitlab-Token header");
}

}  // namespace cb::auth
