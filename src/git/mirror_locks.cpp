#include "git/mirror_locks.hpp"

#include <atomic>

namespace cb::git {

struct MirrorLocks::Guard::Entry {
  std::mutex mutex;
  std::atomic<std::size_t> users{0};
};

MirrorLocks::Guard::Guard(std::shared_ptr<Entry> entry, std::unique_lock<std::mutex> lock)
    : entry_(std::move(entry)), lock_(std::move(lock)) {}

MirrorLocks::Guard::~Guard() {
  if (!entry_) return;
  if (lock_.owns_lock()) lock_.unlock();
  entry_->users.fetch_sub(1);
}

std::string MirrorLocks::key_of(const std::filesystem::path& mirror_dir) {
  std::string key = mirror_dir.lexically_normal().string();
  while (key.size() > 1 && key.back() == '/') key.pop_back();
  return key;
}

MirrorLocks::Guard MirrorLocks::lock(const std::filesystem::path& mirror_dir) {
  std::shared_ptr<Guard::Entry> entry;
  {
    std::lock_guard registry(mutex_);
    auto& slot = entries_[key_of(mirror_dir)];
    if (!slot) slot = std::make_shared<Guard::Entry>();
    entry = slot;
    entry->users.fetch_add(1);
  }
  std::unique_lock<std::mutex> held(entry->mutex);
  return Guard(std::move(entry), std::move(held));
}

std::size_t MirrorLocks::users(const std::filesystem::path& mirror_dir) const {
  std::lock_guard registry(mutex_);
  auto it = entries_.find(key_of(mirror_dir));
  return it == entries_.end() ? 0 : it->second->users.load();
}

MirrorLocks& MirrorLocks::process_wide() {
  static MirrorLocks locks;
  return locks;
}

}  // namespace cb::git
