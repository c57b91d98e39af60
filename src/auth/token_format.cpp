#include "auth/token_format.hpp"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "auth/digest.hpp"

namespace cb::auth {
namespace {

constexpr std::size_t kPublicIdHex = 2 * kPublicIdBytes;
constexpr std::size_t kSecretHex = 2 * kSecretBytes;
constexpr std::size_t kPrefixLen = 4;  // "cbw_" / "cba_"
constexpr std::size_t kTokenLen = kPrefixLen + kPublicIdHex + 1 + kSecretHex;

bool is_lower_hex(std::string_view s) noexcept {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(TokenType type) noexcept {
  switch (type) {
    case TokenType::webhook:
      return "webhook";
    case TokenType::api:
      return "api";
  }
  return "unknown";
}

Result<TokenType> parse_token_type(std::string_view name) {
  if (name == "webhook") return TokenType::webhook;
  if (name == "api") return TokenType::api;
  return fail(ErrorCode::invalid_argument, "token type must be \"webhook\" or \"api\"");
}

std::string_view token_prefix(TokenType type) noexcept {
  return type == TokenType::api ? "cba" : "cbw";
}

Result<TokenParts> parse_token(std::string_view text) {
  // The messages below describe the shape only: the text may be a mistyped secret.
  constexpr std::string_view kShape =
      "token is not in the cbw_/cba_<16 hex public id>_<64 hex secret> format";
  TokenParts parts;
  if (text.starts_with("cbw_")) {
    parts.type = TokenType::webhook;
  } else if (text.starts_with("cba_")) {
    parts.type = TokenType::api;
  } else {
    return fail(ErrorCode::invalid_token, std::string(kShape), "unknown prefix");
  }
  if (text.size() != kTokenLen) {
    return fail(
        ErrorCode::invalid_token, std::string(kShape),
        "length " + std::to_string(text.size()) + ", expected " + std::to_string(kTokenLen));
  }
  const std::string_view public_id = text.substr(kPrefixLen, kPublicIdHex);
  const std::string_view secret = text.substr(kPrefixLen + kPublicIdHex + 1);
  if (text[kPrefixLen + kPublicIdHex] != '_' || !is_lower_hex(public_id) || !is_lower_hex(secret)) {
    return fail(ErrorCode::invalid_token, std::string(kShape), "bad separator or non-hex part");
  }
  parts.public_id = std::string(public_id);
  parts.secret = std::string(secret);
  return parts;
}

std::string format_token(const TokenParts& parts) {
  std::string out;
  out.reserve(kTokenLen);
  out += token_prefix(parts.type);
  out += '_';
  out += parts.public_id;
  out += '_';
  out += parts.secret;
  return out;
}

TokenParts generate_token(TokenType type) {
  return TokenParts{type, random_hex(kPublicIdBytes), random_hex(kSecretBytes)};
}

std::string random_hex(std::size_t bytes) {
  if (bytes > static_cast<std::size_t>(INT_MAX)) {
    std::fprintf(stderr, "commitbridge: fatal: random_hex(%zu) is too large\n", bytes);
    std::abort();
  }
  std::string raw(bytes, '\0');
  if (bytes > 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    std::fprintf(stderr, "commitbridge: fatal: RAND_bytes failed\n");
    std::abort();
  }
  return to_hex(raw);
}

}  // namespace cb::auth
