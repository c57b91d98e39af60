#pragma once
// AES-256-GCM encryption of stored webhook-token secrets.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace cb::auth {

/// Encrypts and decrypts webhook-token secrets with one server-wide AES-256-GCM key.
///
/// Webhook tokens must be stored recoverable (an HMAC needs the secret itself), so the store
/// keeps only `seal(secret, public_id)`. A sealed value is
///   1 version byte (0x01) | 12-byte random nonce | ciphertext | 16-byte GCM tag,
/// and the token's public id is bound as additional authenticated data, so a sealed secret
/// copied onto another token row does not open.
///
/// The key is 32 bytes. Copies share nothing; the key bytes are wiped when an object dies.
class SecretBox {
 public:
  /// Size of the key in bytes.
  static constexpr std::size_t kKeySize = 32;
  /// First byte of every sealed value of the current format.
  static constexpr unsigned char kVersion = 0x01;
  /// Size of the random GCM nonce in bytes.
  static constexpr std::size_t kNonceSize = 12;
  /// Size of the GCM authentication tag in bytes.
  static constexpr std::size_t kTagSize = 16;

  /// Loads the key, creating a key file on first use.
  ///
  /// - `key` non-empty (surrounding whitespace ignored): it is the key, written either as 64
  ///   hex characters or as standard base64 of 32 bytes; `key_file` is not touched.
  /// - otherwise `key_file` is read and must hold exactly 32 raw bytes;
  /// - when `key_file` does not exist, 32 bytes from RAND_bytes are written to a new file with
  ///   mode 0600 (created with O_CREAT|O_EXCL and linked into place atomically, so two processes
  ///   starting together end up with the same key), after creating its parent directories.
  ///
  /// Errors: invalid_argument when `key` is neither form (its value is never echoed; the message
  /// starts with `key_source`, where the key was set, e.g. "COMMITBRIDGE_SECURITY_KEY: " or
  /// "<file>: security.key: ", when given) or the key file does not hold 32 bytes; internal when
  /// the file or its directory cannot be read or created (the message names the path and the
  /// system error).
  [[nodiscard]] static Result<SecretBox> load_or_create(const std::filesystem::path& key_file,
                                                        std::string_view key,
                                                        std::string_view key_source = {});

  /// A box using `key32` directly, for tests and tools.
  /// Throws std::invalid_argument unless `key32` has exactly 32 bytes (a programming error).
  [[nodiscard]] static SecretBox from_key(std::string key32);

  SecretBox(const SecretBox&) = default;
  SecretBox(SecretBox&&) noexcept = default;
  SecretBox& operator=(const SecretBox&) = default;
  SecretBox& operator=(SecretBox&&) noexcept = default;
  /// Wipes the key bytes.
  ~SecretBox();

  /// Encrypts `plaintext` with a fresh random nonce, binding `aad` (the token's public id).
  /// Returns 1 + 12 + plaintext.size() + 16 bytes (see the class comment).
  /// Terminates the process if OpenSSL or the random generator fails.
  [[nodiscard]] std::string seal(std::string_view plaintext, std::string_view aad) const;

  /// Decrypts a value made by seal() with the same key and the same `aad`.
  /// Errors: internal "stored secret cannot be decrypted with the current key" when the tag does
  /// not verify (other key, other aad, tampered bytes); internal when the value is too short to
  /// be sealed or carries an unknown version byte.
  [[nodiscard]] Result<std::string> open(std::string_view sealed, std::string_view aad) const;

  /// First 8 lower-case hex characters of SHA-256(key): identifies the key in logs without
  /// revealing it.
  [[nodiscard]] std::string key_fingerprint() const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}

  std::string key_;  ///< 32 raw bytes
};

}  // namespace cb::auth
