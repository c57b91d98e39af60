#include "auth/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace cb::auth {
namespace {

[[noreturn]] void crypto_failure(const char* what) {
  std::fprintf(stderr, "commitbridge: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

const unsigned char* bytes_of(std::string_view s) {
  // OpenSSL rejects some NULL pointers even with a zero length; point at a real byte instead.
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

/// One HMAC context per thread and digest, its algorithm fetched once: OpenSSL 3's one-shot
/// HMAC() fetches the algorithm and builds a context on every call, which cost about as much as
/// hashing a 4 KB body.
class ThreadMac {
 public:
  explicit ThreadMac(const char* digest) {
    static EVP_MAC* const algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (algorithm == nullptr) crypto_failure("EVP_MAC_fetch(HMAC)");
    ctx_ = EVP_MAC_CTX_new(algorithm);
    if (ctx_ == nullptr) crypto_failure("EVP_MAC_CTX_new");
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(ctx_, params) != 1) crypto_failure("EVP_MAC_CTX_set_params");
  }
  ~ThreadMac() { EVP_MAC_CTX_free(ctx_); }
  ThreadMac(const ThreadMac&) = delete;
  ThreadMac& operator=(const ThreadMac&) = delete;

  std::string mac(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t out_len = 0;
    // bytes_of never passes NULL: a NULL key would mean "the previous call's key" to OpenSSL.
    if (EVP_MAC_init(ctx_, bytes_of(key), key.size(), nullptr) != 1 ||
        EVP_MAC_update(ctx_, bytes_of(data), data.size()) != 1 ||
        EVP_MAC_final(ctx_, out, &out_len, sizeof(out)) != 1) {
      crypto_failure("HMAC");
    }
    return std::string(reinterpret_cast<const char*>(out), out_len);
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  thread_local ThreadMac mac("SHA256");
  return mac.mac(key, data);
}

std::string hmac_sha1(std::string_view key, std::string_view data) {
  thread_local ThreadMac mac("SHA1");
  return mac.mac(key, data);
}

std::string sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_Digest(bytes_of(data), data.size(), out, &out_len, EVP_sha256(), nullptr) != 1) {
    crypto_failure("EVP_Digest(SHA-256)");
  }
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0x0f];
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.resize(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) {
    // Spend the same time as a real comparison of `a`, then fail: only the length is revealed.
    (void)CRYPTO_memcmp(bytes_of(a), bytes_of(a), a.size());
    return false;
  }
  return CRYPTO_memcmp(bytes_of(a), bytes_of(b), a.size()) == 0;
}

std::string base64_encode(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (bytes.size() > static_cast<std::size_t>(INT_MAX / 4 * 3)) {
    crypto_failure("EVP_EncodeBlock (input too long)");
  }
  std::string out;
  out.resize(4 * ((bytes.size() + 2) / 3) + 1);  // +1: EVP_EncodeBlock writes a NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(bytes),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock silently skips surrounding whitespace and returns padding as zero bytes, so
  // validate strictly here and strip the padding length ourselves.
  std::size_t data_len = text.size();
  while (data_len > 0 && text[data_len - 1] == '=') --data_len;
  const std::size_t pad = text.size() - data_len;
  if (pad > 2) return std::nullopt;
  for (std::size_t i = 0; i < data_len; ++i) {
    if (!is_base64_char(text[i])) return std::nullopt;
  }
  if (data_len % 4 == 1) return std::nullopt;                // no encoding ends with a lone sextet
  if (pad > 0 && text.size() % 4 != 0) return std::nullopt;  // padding present but wrong
  if (data_len == 0) return std::string{};
  if (data_len > static_cast<std::size_t>(INT_MAX - 4)) return std::nullopt;

  std::string padded(text.substr(0, data_len));
  while (padded.size() % 4 != 0) padded.push_back('=');
  const std::size_t missing = padded.size() - data_len;  // 0, 1 or 2 output bytes to drop

  std::string out;
  out.resize(padded.size() / 4 * 3);
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_of(padded),
                                static_cast<int>(padded.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size()) return std::nullopt;
  out.resize(out.size() - missing);
  return out;
}

}  // namespace cb::auth
