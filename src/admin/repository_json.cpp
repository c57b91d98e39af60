#include "admin/repository_json.hpp"

#include <boost/json.hpp>

#include "admin/repository_service.hpp"

namespace cb::admin {
namespace {

namespace json = boost::json;

json::value text_or_null(const std::string& s) {
  return s.empty() ? json::value() : json::value(s);
}

json::object credentials_json(const store::RepositoryRecord& r) {
  json::object c{{"type", r.credential_type}};
  if (r.credential_type == store::kCredentialNone) return c;
  c["username"] = r.credential_username;
  if (r.credential_type == store::kCredentialSsh) c["key_path"] = r.ssh_key_path;
  c["secret_set"] = r.credential_secret_set || !r.credential_secret_sealed.empty();
  return c;
}

}  // namespace

json::object repository_json(const store::RepositoryRecord& r, const std::string& org,
                             const std::string& public_base_url) {
  const RepositoryWebhookUrls urls = repository_webhook_urls(public_base_url, org, r);
  json::object o{{"id", r.id},
                 {"provider", r.provider},
                 {"project_key", r.project_key},
                 {"slug", r.slug},
                 {"name", r.display_name.empty() ? r.slug : r.display_name},
                 {"http_clone_url", text_or_null(r.clone_url)},
                 {"ssh_clone_url", text_or_null(r.ssh_clone_url)},
                 {"browse_url", text_or_null(r.browse_url)},
                 {"default_branch", text_or_null(r.default_branch)},
                 {"auto_update_alm", r.auto_update_alm},
                 {"credentials", credentials_json(r)},
                 {"trigger_url", urls.trigger}};
  if (!urls.sync.empty()) o["sync_url"] = urls.sync;
  o["created_at"] = format_utc(r.created_at_ms);
  o["updated_at"] = format_utc(r.updated_at_ms != 0 ? r.updated_at_ms : r.created_at_ms);
  return o;
}

}  // namespace cb::admin
