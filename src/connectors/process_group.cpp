#include "connectors/process_group.hpp"

#include <signal.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace cb::connectors {

namespace {

constexpr auto kPollPeriod = std::chrono::milliseconds(10);

/// Fields of /proc/<pid>/stat we need. `comm` (field 2) may hold spaces and parentheses: the
/// fields are counted after its last ')'.
struct StatFields {
  char state = '?';         ///< field 3
  pid_t pgrp = 0;           ///< field 5
  std::uint64_t start = 0;  ///< field 22, clock ticks since boot
};

/// nullopt when the file does not exist or cannot be parsed (`parsed` tells which).
std::optional<StatFields> read_stat(const std::filesystem::path& file, bool* parsed = nullptr) {
  if (parsed != nullptr) *parsed = true;
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  const auto close = text.rfind(')');
  if (close == std::string::npos) {
    if (parsed != nullptr) *parsed = text.empty();  // empty: the process just exited
    return std::nullopt;
  }
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> fields;  // fields[0] is field 3
  for (std::string f; rest >> f;) fields.push_back(std::move(f));
  StatFields out;
  long long pgrp = 0;
  if (fields.size() < 20 || fields[0].size() != 1 ||
      std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), pgrp).ec !=
          std::errc() ||
      std::from_chars(fields[19].data(), fields[19].data() + fields[19].size(), out.start).ec !=
          std::errc()) {
    if (parsed != nullptr) *parsed = false;
    return std::nullopt;
  }
  out.state = fields[0][0];
  out.pgrp = static_cast<pid_t>(pgrp);
  return out;
}

/// True when the group has no process left that could still run.
bool group_gone(pid_t pgid) {
  if (::kill(-pgid, 0) != 0 && errno == ESRCH) return true;
  return !group_has_live_member(pgid);
}

}  // namespace

Result<std::string> current_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  if (!in || !std::getline(in, id) || id.empty()) {
    return fail(ErrorCode::internal, "cannot read the boot id",
                "/proc/sys/kernel/random/boot_id is not readable");
  }
  return id;
}

Result<std::optional<std::uint64_t>> process_start_ticks(pid_t pid) {
  const auto file = std::filesystem::path("/proc") / std::to_string(pid) / "stat";
  bool parsed = true;
  auto stat = read_stat(file, &parsed);
  if (stat) return std::optional<std::uint64_t>(stat->start);
  if (!parsed) {
    return fail(ErrorCode::internal, "cannot parse the process status", file.string());
  }
  return std::optional<std::uint64_t>();
}

Result<ProcessGroupIdentity> identify_process_group(pid_t leader) {
  auto boot = current_boot_id();
  if (!boot) return std::unexpected(std::move(boot.error()));
  auto start = process_start_ticks(leader);
  if (!start) return std::unexpected(std::move(start.error()));
  if (!*start) {
    return fail(ErrorCode::not_found, "process " + std::to_string(leader) + " does not exist");
  }
  return ProcessGroupIdentity{leader, **start, std::move(*boot)};
}

std::string_view to_string(GroupKill outcome) {
  switch (outcome) {
    case GroupKill::killed:
      return "killed";
    case GroupKill::already_gone:
      return "already gone";
    case GroupKill::other_boot:
      return "recorded in another boot";
    case GroupKill::pid_reused:
      return "pid reused by another process";
    case GroupKill::still_alive:
      return "still alive after SIGKILL";
    case GroupKill::failed:
      return "cannot be checked";
  }
  return "unknown";
}

bool group_has_live_member(pid_t pgid) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto stat = read_stat(it->path() / "stat");
    if (stat && stat->pgrp == pgid && stat->state != 'Z' && stat->state != 'X') return true;
  }
  return false;
}

GroupKill kill_recorded_group(const ProcessGroupIdentity& recorded,
                              std::chrono::milliseconds wait) {
  if (recorded.pgid <= 1) return GroupKill::failed;
  auto boot = current_boot_id();
  if (!boot) return GroupKill::failed;
  if (*boot != recorded.boot_id) return GroupKill::other_boot;
  auto start = process_start_ticks(recorded.pgid);
  if (!start) return GroupKill::failed;
  if (*start && **start != recorded.start_ticks) return GroupKill::pid_reused;
  if (group_gone(recorded.pgid)) return GroupKill::already_gone;
  if (::kill(-recorded.pgid, SIGKILL) != 0) {
    return errno == ESRCH ? GroupKill::already_gone : GroupKill::failed;
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!group_gone(recorded.pgid)) {
    if (std::chrono::steady_clock::now() >= deadline) return GroupKill::still_alive;
    std::this_thread::sleep_for(kPollPeriod);
  }
  return GroupKill::killed;
}

}  // namespace cb::connectors
