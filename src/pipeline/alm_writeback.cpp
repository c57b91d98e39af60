#include "pipeline/alm_writeback.hpp"

namespace cb::pipeline {

Result<std::size_t> AlmWriteback::write_back(const store::DeliveryRecord& delivery,
                                             const store::RepositoryRecord& repository,
                                             const std::vector<LinkedCommit>& links) {
  if (!repository.auto_update_alm || links.empty()) return std::size_t{0};
  std::vector<store::AlmConnectionRecord> connections;
  store::PageQuery page{0, 200};
  while (true) {
    auto batch = store_.list_alm_connections(delivery.org_id, page);
    if (!batch) return std::unexpected(batch.error());
    if (batch->empty()) break;
    page.after_id = batch->back().id;
    const bool last = batch->size() < page.limit;
    for (auto& c : *batch) connections.push_back(std::move(c));
    if (last) break;
  }
  if (connections.empty()) return std::size_t{0};
  const UnixMillis now = clock_.now_ms();
  std::vector<store::NewOutboxEntry> entries;
  for (const auto& link : links) {
    PlannedCommit p;
    p.org_id = delivery.org_id;
    p.repository = &repository;
    p.branch = link.branch;
    p.delivery_id = delivery.delivery_id;
    p.commit = link.commit;
    if (commands_) {
      auto commands = commands_(delivery.org_id, link.commit.message, link.commit.story_key);
      if (!commands) return std::unexpected(commands.error());
      p.commands = std::move(*commands);
    }
    if (commit_url_) p.commit_url = commit_url_(repository, link.commit.commit_hash);
    auto planned = plan_outbox(p, connections, now);
    for (auto& e : planned) entries.push_back(std::move(e));
  }
  auto inserted = store_.enqueue_outbox(entries, now);
  if (!inserted) return std::unexpected(inserted.error());
  if (*inserted > 0 && on_enqueued_) on_enqueued_();
  return *inserted;
}

}  // namespace cb::pipeline
