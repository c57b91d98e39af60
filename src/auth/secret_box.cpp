#include "auth/secret_box.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "auth/digest.hpp"
#include "auth/token_format.hpp"

namespace cb::auth {
namespace {

[[noreturn]] void crypto_failure(const char* what) {
  std::fprintf(stderr, "commitbridge: fatal: OpenSSL %s failed\n", what);
  std::abort();
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

CipherCtx new_ctx() {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) crypto_failure("EVP_CIPHER_CTX_new");
  return ctx;
}

unsigned char* ubytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* ubytes(std::string_view s) {
  static const unsigned char kEmpty = 0;
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

/// Closes a file descriptor on scope exit.
struct FdGuard {
  int fd = -1;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

/// Reads the key file: its 32 bytes, or nullopt when it does not exist.
Result<std::optional<std::string>> read_key_file(const std::filesystem::path& path) {
  FdGuard f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    const int err = errno;
    if (err == ENOENT) return std::optional<std::string>{};
    return fail(ErrorCode::internal,
                "cannot read key file " + path.string() + ": " + errno_text(err));
  }
  // Read one byte more than needed to detect an oversized file.
  std::string buf(SecretBox::kKeySize + 1, '\0');
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(f.fd, buf.data() + got, buf.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      OPENSSL_cleanse(buf.data(), buf.size());
      return fail(ErrorCode::internal,
                  "cannot read key file " + path.string() + ": " + errno_text(err));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got != SecretBox::kKeySize) {
    OPENSSL_cleanse(buf.data(), buf.size());
    return fail(ErrorCode::invalid_argument,
                "key file " + path.string() + " does not hold exactly " +
                    std::to_string(SecretBox::kKeySize) + " raw bytes" +
                    (got > SecretBox::kKeySize ? " (it is longer)"
                                               : " (it holds " + std::to_string(got) + ")"));
  }
  buf.resize(SecretBox::kKeySize);
  return std::optional<std::string>{std::move(buf)};
}

Result<void> write_all(int fd, const std::string& data, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::internal,
                  "cannot write key file " + path.string() + ": " + errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return fail(ErrorCode::internal,
                "cannot sync key file " + path.string() + ": " + errno_text(errno));
  }
  return {};
}

/// Creates `path` holding a fresh random key. Returns false (no error) when another process
/// created it first; the caller then reads that file.
Result<bool> create_key_file(const std::filesystem::path& path) {
  if (const auto parent = path.parent_path(); !parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return fail(ErrorCode::internal, "cannot create directory " + parent.string() +
                                           " for the key file: " + ec.message());
    }
  }

  std::string key(SecretBox::kKeySize, '\0');
  if (RAND_bytes(ubytes(key), static_cast<int>(key.size())) != 1) crypto_failure("RAND_bytes");

  // Write a private temporary file completely, then link it into place: link() never
  // overwrites, so a concurrent creator wins cleanly and nobody ever reads a half-written key.
  std::filesystem::path tmp = path;
  tmp += ".tmp-" + random_hex(8);
  FdGuard f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (f.fd < 0) {
    const int err = errno;
    OPENSSL_cleanse(key.data(), key.size());
    return fail(ErrorCode::internal,
                "cannot create key file " + path.string() + ": " + errno_text(err));
  }
  auto cleanup = [&] {
    OPENSSL_cleanse(key.data(), key.size());
    ::unlink(tmp.c_str());
  };
  if (::fchmod(f.fd, 0600) != 0) {  // the umask may have removed bits; make the mode exact
    const int err = errno;
    cleanup();
    return fail(ErrorCode::internal,
                "cannot set mode 0600 on key file " + path.string() + ": " + errno_text(err));
  }
  if (auto w = write_all(f.fd, key, path); !w) {
    cleanup();
    return std::unexpected(std::move(w.error()));
  }
  const bool created = ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_err = errno;
  cleanup();
  if (!created && link_err != EEXIST) {
    return fail(ErrorCode::internal,
                "cannot create key file " + path.string() + ": " + errno_text(link_err));
  }
  return created;
}

/// A key given as text (environment or config file): 64 hex characters or base64 of 32 bytes.
std::optional<std::string> decode_key_text(std::string_view text) {
  if (text.size() == 2 * SecretBox::kKeySize) {
    if (auto raw = from_hex(text)) return raw;
  }
  if (auto raw = base64_decode(text); raw && raw->size() == SecretBox::kKeySize) return raw;
  return std::nullopt;
}

}  // namespace

Result<SecretBox> SecretBox::load_or_create(const std::filesystem::path& key_file,
                                            std::string_view key, std::string_view key_source) {
  key = trim(key);
  if (!key.empty()) {
    auto raw = decode_key_text(key);
    if (!raw) {
      const std::string where = key_source.empty() ? "" : std::string(key_source) + ": ";
      return fail(ErrorCode::invalid_argument,
                  where + "the encryption key must be 64 hex characters or base64 of 32 bytes");
    }
    return SecretBox(std::move(*raw));
  }

  // Two rounds at most: if another process creates the file between our read and our create,
  // the second read sees its key.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto existing = read_key_file(key_file);
    if (!existing) return std::unexpected(std::move(existing.error()));
    if (existing->has_value()) return SecretBox(std::move(**existing));
    auto created = create_key_file(key_file);
    if (!created) return std::unexpected(std::move(created.error()));
  }
  auto last = read_key_file(key_file);
  if (!last) return std::unexpected(std::move(last.error()));
  if (!last->has_value()) {
    return fail(ErrorCode::internal, "key file " + key_file.string() + " vanished after creation");
  }
  return SecretBox(std::move(**last));
}

SecretBox SecretBox::from_key(std::string key32) {
  if (key32.size() != kKeySize) {
    throw std::invalid_argument("SecretBox::from_key needs exactly 32 key bytes");
  }
  return SecretBox(std::move(key32));
}

SecretBox::~SecretBox() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view aad) const {
  if (key_.size() != kKeySize) crypto_failure("AES-256-GCM seal (no key: moved-from SecretBox)");
  if (plaintext.size() > static_cast<std::size_t>(INT_MAX) - kTagSize ||
      aad.size() > static_cast<std::size_t>(INT_MAX)) {
    crypto_failure("AES-256-GCM seal (input too long)");
  }
  std::string out(1 + kNonceSize + plaintext.size() + kTagSize, '\0');
  out[0] = static_cast<char>(kVersion);
  unsigned char* nonce = ubytes(out) + 1;
  unsigned char* ct = nonce + kNonceSize;
  unsigned char* tag = ct + plaintext.size();
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) crypto_failure("RAND_bytes");

  CipherCtx ctx = new_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, ubytes(std::string_view(key_)), nonce) != 1) {
    crypto_failure("AES-256-GCM init");
  }
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, ubytes(aad), static_cast<int>(aad.size())) != 1) {
    crypto_failure("AES-256-GCM aad");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), ct, &len, ubytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      crypto_failure("AES-256-GCM encrypt");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), ct + written, &len) != 1) crypto_failure("AES-256-GCM final");
  written += len;
  if (static_cast<std::size_t>(written) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    crypto_failure("AES-256-GCM tag");
  }
  return out;
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view aad) const {
  if (key_.size() != kKeySize) {
    return fail(ErrorCode::internal, "the secret box has no key (moved-from object)");
  }
  if (sealed.size() < 1 + kNonceSize + kTagSize) {
    return fail(ErrorCode::internal, "stored secret is too short to be an encrypted value");
  }
  if (static_cast<unsigned char>(sealed[0]) != kVersion) {
    return fail(ErrorCode::internal, "stored secret has unknown format version " +
                                         std::to_string(static_cast<unsigned char>(sealed[0])));
  }
  if (sealed.size() > static_cast<std::size_t>(INT_MAX) ||
      aad.size() > static_cast<std::size_t>(INT_MAX)) {
    return fail(ErrorCode::internal, "stored secret is too long");
  }
  const std::string_view nonce = sealed.substr(1, kNonceSize);
  const std::string_view ct =
      sealed.substr(1 + kNonceSize, sealed.size() - 1 - kNonceSize - kTagSize);
  std::string tag(sealed.substr(sealed.size() - kTagSize));  // ctrl wants a mutable pointer

  CipherCtx ctx = new_ctx();
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceSize),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, ubytes(std::string_view(key_)),
                         ubytes(nonce)) != 1) {
    return fail(ErrorCode::internal, "AES-256-GCM initialisation failed");
  }
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, ubytes(aad), static_cast<int>(aad.size())) != 1) {
    return fail(ErrorCode::internal, "AES-256-GCM initialisation failed");
  }
  std::string plain(ct.size(), '\0');
  int written = 0;
  if (!ct.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), ubytes(plain), &len, ubytes(ct),
                          static_cast<int>(ct.size())) != 1) {
      return fail(ErrorCode::internal, "AES-256-GCM decryption failed");
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          tag.data()) != 1) {
    return fail(ErrorCode::internal, "AES-256-GCM initialisation failed");
  }
  unsigned char scratch[16];
  if (EVP_DecryptFinal_ex(ctx.get(), scratch, &len) != 1) {
    OPENSSL_cleanse(plain.data(), plain.size());
    return fail(ErrorCode::internal, "stored secret cannot be decrypted with the current key",
                "GCM tag mismatch (key " + key_fingerprint() + ")");
  }
  plain.resize(static_cast<std::size_t>(written));
  return plain;
}

std::string SecretBox::key_fingerprint() const { return to_hex(sha256(key_)).substr(0, 8); }

}  // namespace cb::auth
