#pragma once
// One lock per mirror directory in the process: fetches (and walks) of one repository's mirror
// are serialized, while mirrors of different repositories are used in parallel.

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cb::git {

/// A registry of mutexes keyed by mirror directory (lexically normalized path). libgit2 and git
/// itself refuse two fetches into one repository at once (ref locks), and a mirror being created
/// must not be opened by another thread, so every user of a Mirror holds its directory's lock
/// while it opens, fetches and reads it. Thread-safe. Entries are created on first use and kept
/// (one small entry per repository).
class MirrorLocks {
 public:
  /// Holds the lock of one directory until destroyed. Move-constructible.
  class Guard {
   public:
    Guard(Guard&&) noexcept = default;
    Guard& operator=(Guard&&) = delete;
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard();

   private:
    friend class MirrorLocks;
    struct Entry;
    Guard(std::shared_ptr<Entry> entry, std::unique_lock<std::mutex> lock);
    std::shared_ptr<Entry> entry_;
    std::unique_lock<std::mutex> lock_;
  };

  MirrorLocks() = default;
  MirrorLocks(const MirrorLocks&) = delete;
  MirrorLocks& operator=(const MirrorLocks&) = delete;

  /// Blocks until the lock of `mirror_dir` is free, then takes it.
  [[nodiscard]] Guard lock(const std::filesystem::path& mirror_dir);

  /// Threads holding or waiting for the lock of `mirror_dir` right now (0 or more). For
  /// observability and tests; the value may change as soon as it is returned.
  [[nodiscard]] std::size_t users(const std::filesystem::path& mirror_dir) const;

  /// The registry shared by everything in this process that uses mirrors (commit sync, job
  /// runner, ALM outbox): one lock per directory must mean one registry.
  [[nodiscard]] static MirrorLocks& process_wide();

 private:
  [[nodiscard]] static std::string key_of(const std::filesystem::path& mirror_dir);

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Guard::Entry>> entries_;
};

}  // namespace cb::git
