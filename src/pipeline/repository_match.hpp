#pragma once
// Which registered repository a webhook payload is about.

#include <optional>

#include "core/error.hpp"
#include "core/event.hpp"
#include "store/store.hpp"

namespace cb::pipeline {

/// The org's registered repository that `ref` (the repository named by a payload) designates.
///
/// First by provider, project key and slug (case-insensitive, Store::find_repository); when that
/// finds nothing (or the payload names no project key or slug), by address: a repository of the
/// same provider matches when one of its URLs (HTTP clone URL, SSH clone URL, browse URL) has
/// the same canonical key (cb::canonical_repository_url) as one of the payload's URLs
/// (http_clone_url, ssh_clone_url, browse_url). Of several such repositories the oldest wins.
/// Returns nullopt when none matches. Errors: those of the store.
[[nodiscard]] Result<std::optional<store::RepositoryRecord>> match_repository(
    store::Store& store, std::int64_t org_id, const RepositoryRef& ref);

/// True when one of the URLs of `repo` and one of the URLs of `ref` have the same canonical key
/// (provider-specific rules of `repo.provider`). Providers are not compared.
[[nodiscard]] bool repository_urls_match(const store::RepositoryRecord& repo,
                                         const RepositoryRef& ref);

}  // namespace cb::pipeline
