#pragma once
// The JSON shape of a repository, shared by the admin API and the CLI's --json output
// (documented in docs/openapi.json as Repository). Never contains a credential secret.

#include <boost/json/object.hpp>
#include <string>

#include "store/records.hpp"

namespace cb::admin {

/// {"id", "provider", "project_key", "slug", "name", "http_clone_url", "ssh_clone_url",
/// "browse_url", "default_branch" (null when unset), "auto_update_alm",
/// "credentials": {"type": "none"} | {"type": "http", "username", "secret_set"} |
/// {"type": "ssh", "username", "key_path", "secret_set"},
/// "trigger_url", "sync_url" (only when auto update on webhook is on), "created_at",
/// "updated_at"}. Webhook URLs are built from `public_base_url` and the org's name.
[[nodiscard]] boost::json::object repository_json(const store::RepositoryRecord& repo,
                                                  const std::string& org,
                                                  const std::string& public_base_url);

}  // namespace cb::admin
