#pragma once
// An exclusive lock on a data directory, held by `commitbridge serve` while it runs.

#include <filesystem>

#include "core/error.hpp"

namespace cb::app {

/// flock(2) on `<data dir>/server.lock`: two servers never share a data directory, and
/// commands that must not run beside a server (keys rotate) can tell. Released on destruction
/// or process exit (also after kill -9).
class ServerLock {
 public:
  /// Takes the lock without waiting. Errors: conflict when another process holds it, internal
  /// when the file cannot be opened.
  [[nodiscard]] static Result<ServerLock> acquire(const std::filesystem::path& data_dir);
  ServerLock(ServerLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ServerLock& operator=(ServerLock&&) = delete;
  ServerLock(const ServerLock&) = delete;
  ServerLock& operator=(const ServerLock&) = delete;
  ~ServerLock();

 private:
  explicit ServerLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cb::app
