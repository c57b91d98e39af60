#pragma once
// Token text format, parsing and generation.
//
// A token reads `<prefix>_<public_id>_<secret>`:
//   prefix     `cbw` for a webhook token, `cba` for an API token (greppable by secret scanners);
//   public_id  16 lower-case hex characters (64 random bits), safe to show in lists and logs;
//   secret     64 lower-case hex characters (256 random bits from RAND_bytes), never shown again
//              after creation and never put into a log or an error message.
// Example: cbw_0123456789abcdef_<64 hex>.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace cb::auth {

/// What a token may be used for.
enum class TokenType {
  webhook,  ///< authenticates incoming webhooks of its org; text prefix `cbw`
  api,      ///< authenticates calls to the admin API; text prefix `cba`
};

/// Number of random bytes in a public id (16 hex characters).
inline constexpr std::size_t kPublicIdBytes = 8;
/// Number of random bytes in a secret (64 hex characters, 256 bits).
inline constexpr std::size_t kSecretBytes = 32;

/// The lower-case name of a token type: "webhook" or "api" (as used in the API, CLI and store).
[[nodiscard]] std::string_view to_string(TokenType type) noexcept;

/// The token type named `name` ("webhook" or "api", exact lower case).
/// Errors: invalid_argument naming the accepted values.
[[nodiscard]] Result<TokenType> parse_token_type(std::string_view name);

/// The text prefix of a token type, without the underscore: "cbw" or "cba".
[[nodiscard]] std::string_view token_prefix(TokenType type) noexcept;

/// The three parts of a token.
struct TokenParts {
  TokenType type = TokenType::webhook;
  std::string public_id;  ///< 16 lower-case hex characters
  std::string secret;     ///< 64 lower-case hex characters; never log it
};

/// Splits a token text into its parts. Accepts exactly `cbw_` or `cba_`, 16 lower-case hex, `_`,
/// 64 lower-case hex, with nothing around it.
/// Errors: invalid_token with a message that names the expected format and never contains the
/// presented text or any part of the secret.
[[nodiscard]] Result<TokenParts> parse_token(std::string_view text);

/// The text form `<prefix>_<public_id>_<secret>` of `parts` (no validation of the parts).
[[nodiscard]] std::string format_token(const TokenParts& parts);

/// A new token of `type` with a fresh random public id and a fresh 256-bit random secret.
/// Terminates the process if the system random generator fails (a predictable token would be
/// worse than no token).
[[nodiscard]] TokenParts generate_token(TokenType type);

/// `bytes` random bytes from RAND_bytes, as 2 * `bytes` lower-case hex characters.
/// Terminates the process if the system random generator fails.
[[nodiscard]] std::string random_hex(std::size_t bytes);

}  // namespace cb::auth
