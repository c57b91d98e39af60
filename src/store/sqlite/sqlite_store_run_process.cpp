// SqliteStore: process groups of running command runs (migration 0011), so that a restart can
// stop what a crashed server process left running.

#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/store_helpers.hpp"

namespace cb::store::sqlite {

Result<void> SqliteStore::set_run_process(const RunProcessRecord& process) {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("UPDATE job_runs SET process_group = ?, process_start_ticks = ?, "
                                 "process_boot_id = ? WHERE id = ?"));
  s.bind(1, process.process_group)
      .bind(2, static_cast<std::int64_t>(process.start_ticks))
      .bind(3, process.boot_id)
      .bind(4, process.run_id);
  CB_TRY(s.run());
  if (main_.changes() != 1) {
    return fail(ErrorCode::not_found, "no run " + std::to_string(process.run_id));
  }
  return {};
}

Result<std::vector<RunProcessRecord>> SqliteStore::running_run_processes() {
  std::lock_guard lock(main_mutex_);
  CB_TRY_ASSIGN(s, main_.prepare("SELECT id, process_group, process_start_ticks, process_boot_id "
                                 "FROM job_runs WHERE status = 'running' AND process_group IS NOT "
                                 "NULL ORDER BY id"));
  std::vector<RunProcessRecord> out;
  while (true) {
    CB_TRY_ASSIGN(row, s.step());
    if (!row) break;
    out.push_back(RunProcessRecord{s.int64(0), s.int64(1),
                                   static_cast<std::uint64_t>(s.optional_int64(2).value_or(0)),
                                   s.is_null(3) ? std::string() : s.text(3)});
  }
  return out;
}

}  // namespace cb::store::sqlite
