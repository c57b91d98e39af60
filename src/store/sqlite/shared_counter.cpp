#include "store/sqlite/shared_counter.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cb::store::sqlite {

namespace {
constexpr std::size_t kMapBytes = 4096;
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free,
              "a counter shared between processes needs lock-free 64-bit atomics");
}  // namespace

std::unique_ptr<SharedCounter> SharedCounter::open(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return nullptr;
  struct stat st {};
  // Growing to the mapped size is idempotent: several processes may race here harmlessly.
  if (::fstat(fd, &st) != 0 || (static_cast<std::size_t>(st.st_size) < kMapBytes &&
                                ::ftruncate(fd, static_cast<off_t>(kMapBytes)) != 0)) {
    ::close(fd);
    return nullptr;
  }
  void* map = ::mmap(nullptr, kMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return nullptr;
  return std::unique_ptr<SharedCounter>(new SharedCounter(map, kMapBytes));
}

SharedCounter::SharedCounter(void* map, std::size_t size)
    : map_(map), size_(size), value_(static_cast<std::uint64_t*>(map)) {}

SharedCounter::~SharedCounter() { ::munmap(map_, size_); }

}  // namespace cb::store::sqlite
