#include "app/key_rotation.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "app/server_lock.hpp"
#include "auth/digest.hpp"
#include "auth/token_format.hpp"

namespace cb::app {
namespace {

std::filesystem::path pending_key_file(const Config& config) {
  auto p = config.effective_key_file();
  p += ".new";
  return p;
}

Result<void> write_key_file(const std::filesystem::path& path, const std::string& key) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::internal, "cannot create " + path.string());
  const bool ok =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return fail(ErrorCode::internal, "cannot write " + path.string());
  return {};
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Result<KeyRotation> rotate_key(Application& app) {
  const Config& config = app.config();
  // A running server keeps the old key in memory and would seal new tokens with it.
  auto lock = ServerLock::acquire(config.data_dir);
  if (!lock) {
    if (lock.error().code == ErrorCode::conflict) {
      return fail(ErrorCode::conflict, lock.error().message + "; stop it before rotating the key");
    }
    return std::unexpected(lock.error());
  }
  const auth::SecretBox& old_box = app.secret_box();
  auto recorded = app.store().meta("key_fingerprint");
  if (!recorded) return std::unexpected(recorded.error());
  if (*recorded && **recorded != old_box.key_fingerprint()) {
    return fail(ErrorCode::invalid_argument,
                "the current key (fingerprint " + old_box.key_fingerprint() +
                    ") is not the one the database was sealed with (" + **recorded + ")");
  }
  auto key = auth::from_hex(auth::random_hex(auth::SecretBox::kKeySize));
  if (!key) return fail(ErrorCode::internal, "cannot generate a key");
  const auth::SecretBox new_box = auth::SecretBox::from_key(*key);
  const bool from_env = !config.key.empty();
  const auto pending = pending_key_file(config);
  if (!from_env) {
    if (auto r = write_key_file(pending, *key); !r) return std::unexpected(r.error());
  }
  auto count = app.store().rewrap_secrets(
      [&](const std::string& sealed, const std::string& aad) -> Result<std::string> {
        auto plain = old_box.open(sealed, aad);
        if (!plain) return std::unexpected(plain.error());
        return new_box.seal(*plain, aad);
      },
      new_box.key_fingerprint());
  if (!count) {
    std::error_code ec;
    if (!from_env) std::filesystem::remove(pending, ec);
    return std::unexpected(count.error());
  }
  KeyRotation out{*count, new_box.key_fingerprint(), {}, {}};
  if (from_env) {
    out.new_key_hex = auth::to_hex(*key);
    out.key_source = config.key_source.empty() ? "COMMITBRIDGE_SECURITY_KEY" : config.key_source;
    return out;
  }
  std::error_code ec;
  std::filesystem::rename(pending, config.effective_key_file(), ec);
  if (ec) {
    return fail(ErrorCode::internal, "the database uses the new key but " + pending.string() +
                                         " could not replace the key file (" + ec.message() +
                                         "); it is completed at the next start");
  }
  sync_directory(config.effective_key_file().parent_path());
  return out;
}

Result<void> recover_key_rotation(const Config& config, store::Store& store) {
  const auto pending = pending_key_file(config);
  std::error_code ec;
  if (!config.key.empty() || !std::filesystem::exists(pending, ec)) return {};
  std::ifstream in(pending, std::ios::binary);
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto recorded = store.meta("key_fingerprint");
  if (!recorded) return std::unexpected(recorded.error());
  if (key.size() == auth::SecretBox::kKeySize && *recorded &&
      **recorded == auth::SecretBox::from_key(key).key_fingerprint()) {
    std::filesystem::rename(pending, config.effective_key_file(), ec);
    if (ec) return fail(ErrorCode::internal, "cannot complete the key rotation: " + ec.message());
    sync_directory(config.effective_key_file().parent_path());
    return {};
  }
  std::filesystem::remove(pending, ec);  // the rotation never committed: the old key stays
  return {};
}

}  // namespace cb::app
