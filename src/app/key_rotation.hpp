#pragma once
// `commitbridge keys rotate`: re-seals every stored webhook secret under a new key, crash-safe.

#include <string>

#include "app/application.hpp"

namespace cb::app {

/// What a rotation did.
struct KeyRotation {
  std::size_t resealed = 0;  ///< sealed secrets re-encrypted (current and previous ones)
  std::string fingerprint;   ///< fingerprint of the new key
  std::string new_key_hex;   ///< set only when the key is configured (environment or file)
  std::string key_source;    ///< where that key is set: "COMMITBRIDGE_SECURITY_KEY" or
                             ///< "<config file>: security.key"
};

/// Generates a new 256-bit key and re-seals every webhook secret with it in one transaction.
/// With a key file: the new key is first written to `<key file>.new` (0600, fsynced), the
/// database is rewritten together with the new key's fingerprint, then the file replaces the
/// old one; a crash in between is completed or undone by recover_key_rotation() at the next
/// start. With COMMITBRIDGE_SECURITY_KEY: the new key is returned in hex for the operator to set.
/// Refused (conflict) while a server runs on the data directory: it keeps the old key in memory.
/// Errors: conflict, internal (file system), store_unavailable.
[[nodiscard]] Result<KeyRotation> rotate_key(Application& app);

/// At start-up, before the key is loaded: when `<key file>.new` exists, completes the rotation
/// if the database already records the new key's fingerprint, else removes the leftover.
[[nodiscard]] Result<void> recover_key_rotation(const Config& config, store::Store& store);

}  // namespace cb::app
