#pragma once
// Authentication of an incoming webhook request against the webhook tokens of its org.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "auth/token_format.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/raw_delivery.hpp"

namespace cb::auth {

/// One token of the org named in the webhook URL, with its secret already decrypted.
struct WebhookCredential {
  std::int64_t token_id = 0;  ///< store id of the token
  std::string public_id;      ///< 16 lower-case hex characters
  std::string secret;         ///< 64 lower-case hex characters (the secret part only); never log
  TokenType type = TokenType::webhook;
  std::optional<UnixMillis> expires_at_ms;  ///< the token is valid while now < expires_at_ms
  std::optional<UnixMillis> revoked_at_ms;  ///< set once the token is revoked
};

/// How a request proved knowledge of a token.
enum class AuthMethod {
  hmac_sha256,      ///< `X-Hub-Signature-256: sha256=` or `X-Hub-Signature: sha256=`
  hmac_sha1,        ///< legacy `X-Hub-Signature: sha1=`
  basic,            ///< `Authorization: Basic base64(user:token)`
  bearer,           ///< `Authorization: Bearer <token>`
  gitlab_token,     ///< `X-Gitlab-Token: <token>`
  gitea_signature,  ///< `X-Gitea-Signature: <hex HMAC-SHA256>`
};

/// The snake_case name of a method, e.g. "hmac_sha256" (for logs and the delivery record).
[[nodiscard]] std::string_view to_string(AuthMethod method) noexcept;

/// The token that authenticated a request, and how.
struct AuthOutcome {
  std::int64_t token_id = 0;
  std::string public_id;
  AuthMethod method = AuthMethod::hmac_sha256;
};

/// True when the request offers a credential: one of X-Hub-Signature-256, X-Hub-Signature,
/// X-Gitea-Signature, Authorization or X-Gitlab-Token with a non-empty value (names compared
/// case-insensitively). A signature header that is empty, or only `sha256=` / `sha1=` with no
/// digits, does not count: Gitea sends exactly that when no secret is configured.
/// authenticate_webhook() fails with missing_credentials exactly when this is false.
[[nodiscard]] bool has_credentials(const RawDelivery& d);

/// Checks that `d` proves knowledge of an active webhook token among `org_tokens`, which must be
/// all tokens of the org named in the URL (secrets decrypted). A token counts only when its type
/// is webhook, it is not revoked and `now_ms` < its expiry (when it has one).
///
/// The first credential header offered, in this order, decides; later ones are not consulted
/// (so a bad signature cannot be outvoted by a token header that does not protect the body):
///  1. `X-Hub-Signature-256: sha256=<hex>`
///  2. `X-Hub-Signature: sha256=<hex>` or `sha1=<hex>` (algorithm from the prefix)
///  3. `X-Gitea-Signature: <hex>` (HMAC-SHA256, no prefix)
///  4. `Authorization: Basic base64(user:token)` (user ignored) or `Authorization: Bearer <token>`
///  5. `X-Gitlab-Token: <token>`
/// An HMAC is computed over the raw body with the full token text `cbw_<public id>_<secret>` as
/// key and compared in constant time. For a Gitea/Forgejo/Gogs delivery in form mode
/// (`application/x-www-form-urlencoded`), whose signatures cover the JSON text rather than the
/// body, the URL-decoded `payload` field is tried as well. Token headers are parsed, matched by
/// public id and their secret compared in constant time.
///
/// Errors (messages name the header checked and never contain a secret or a presented value):
/// - missing_credentials: no credential is offered (see has_credentials());
/// - malformed_credentials: a header is present but cannot be read (non-hex or wrong-length
///   digest, unknown algorithm prefix or missing `=`, unknown Authorization scheme, bad base64,
///   no `:` in Basic credentials, empty token);
/// - invalid_signature: the HMAC matches no active webhook token of the org (when it matches a
///   revoked, expired or api token, the message says which public id and why);
/// - invalid_token: a Basic/Bearer/X-Gitlab-Token token is not in token format, is unknown to
///   this org (or its secret is wrong), is revoked, has expired or is not a webhook token.
[[nodiscard]] Result<AuthOutcome> authenticate_webhook(
    const RawDelivery& d, std::span<const WebhookCredential> org_tokens, UnixMillis now_ms);

}  // namespace cb::auth
