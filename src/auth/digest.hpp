#pragma once
// Hashes, HMACs, hex/base64 codecs and constant-time comparison, all on top of OpenSSL 3.
//
// Every function works on byte strings held in std::string / std::string_view: "raw" means the
// bytes themselves (a SHA-256 digest is 32 bytes, not 64 hex characters).

#include <optional>
#include <string>
#include <string_view>

namespace cb::auth {

/// Size in bytes of a raw SHA-256 digest / HMAC-SHA256 value.
inline constexpr std::size_t kSha256Size = 32;
/// Size in bytes of a raw SHA-1 HMAC value.
inline constexpr std::size_t kSha1Size = 20;

/// HMAC-SHA256 of `data` keyed with `key` (RFC 2104 / FIPS 198-1). Returns the raw 32-byte MAC.
/// Any key length is accepted, including empty. Terminates the process if OpenSSL fails, which
/// only happens when the crypto library itself is broken.
[[nodiscard]] std::string hmac_sha256(std::string_view key, std::string_view data);

/// HMAC-SHA1 of `data` keyed with `key`. Returns the raw 20-byte MAC. Only for verifying legacy
/// `X-Hub-Signature: sha1=` headers; never use it for anything new.
/// Terminates the process if OpenSSL fails.
[[nodiscard]] std::string hmac_sha1(std::string_view key, std::string_view data);

/// SHA-256 of `data`. Returns the raw 32-byte digest. Terminates the process if OpenSSL fails.
[[nodiscard]] std::string sha256(std::string_view data);

/// Lower-case hexadecimal form of `bytes` (two characters per byte).
[[nodiscard]] std::string to_hex(std::string_view bytes);

/// Bytes of a hexadecimal string (upper- or lower-case digits accepted), or nullopt when `hex`
/// has an odd length or a character that is not a hex digit. The empty string decodes to empty.
[[nodiscard]] std::optional<std::string> from_hex(std::string_view hex);

/// True when `a` and `b` hold the same bytes. The time taken depends only on the lengths, never
/// on the content (CRYPTO_memcmp); inputs of different lengths return false.
[[nodiscard]] bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

/// Standard base64 (RFC 4648 §4, alphabet `A-Z a-z 0-9 + /`) of `bytes`, with `=` padding.
[[nodiscard]] std::string base64_encode(std::string_view bytes);

/// Bytes of standard base64 text, or nullopt when `text` is not valid base64: a character
/// outside the alphabet (whitespace included), `=` anywhere but at the end, more than two `=`,
/// or a length that cannot be a base64 encoding. Missing trailing padding is accepted.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

}  // namespace cb::auth
