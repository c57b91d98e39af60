#include "app/server_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace cb::app {

Result<ServerLock> ServerLock::acquire(const std::filesystem::path& data_dir) {
  const auto path = data_dir / "server.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::internal, "cannot open " + path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(ErrorCode::conflict, "a commitbridge server is running on " + data_dir.string());
  }
  return ServerLock(fd);
}

ServerLock::~ServerLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace cb::app
