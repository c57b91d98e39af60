#include "pipeline/repository_match.hpp"

#include <array>

#include "core/repository_url.hpp"

namespace cb::pipeline {

bool repository_urls_match(const store::RepositoryRecord& repo, const RepositoryRef& ref) {
  const std::array<const std::string*, 3> ours{&repo.clone_url, &repo.ssh_clone_url,
                                               &repo.browse_url};
  const std::array<const std::string*, 3> theirs{&ref.http_clone_url, &ref.ssh_clone_url,
                                                 &ref.browse_url};
  for (const std::string* a : ours) {
    if (a->empty()) continue;
    auto key = canonical_repository_url(*a, repo.provider);
    if (!key) continue;
    for (const std::string* b : theirs) {
      if (b->empty()) continue;
      if (auto other = canonical_repository_url(*b, repo.provider); other && *other == *key) {
        return true;
      }
    }
  }
  return false;
}

Result<std::optional<store::RepositoryRecord>> match_repository(store::Store& store,
                                                                std::int64_t org_id,
                                                                const RepositoryRef& ref) {
  if (!ref.project_key.empty() && !ref.slug.empty()) {
    auto exact = store.find_repository(org_id, ref.provider, ref.project_key, ref.slug);
    if (!exact || *exact) return exact;
  }
  if (ref.http_clone_url.empty() && ref.ssh_clone_url.empty() && ref.browse_url.empty()) {
    return std::optional<store::RepositoryRecord>{};
  }
  auto all = store.list_repositories(org_id);
  if (!all) return std::unexpected(all.error());
  const store::RepositoryRecord* best = nullptr;
  for (const auto& repo : *all) {
    if (repo.provider != ref.provider || !repository_urls_match(repo, ref)) continue;
    if (best == nullptr || repo.id < best->id) best = &repo;
  }
  if (best == nullptr) return std::optional<store::RepositoryRecord>{};
  return std::optional<store::RepositoryRecord>{*best};
}

}  // namespace cb::pipeline
