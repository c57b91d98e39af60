#include "pipeline/org_directory.hpp"

#include <spdlog/spdlog.h>

namespace cb::pipeline {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

OrgDirectory::OrgDirectory(store::Store& store, const auth::SecretBox& box, const Clock& clock,
                           std::chrono::milliseconds ttl)
    : store_(store), box_(box), clock_(clock), ttl_(ttl) {}

void OrgDirectory::invalidate() {
  std::lock_guard lock(mutex_);
  cache_.clear();
}

Result<std::shared_ptr<const OrgCredentials>> OrgDirectory::lookup(const std::string& org_name) {
  const std::string key = ascii_lower(org_name);
  const UnixMillis now = clock_.now_ms();
  // The epoch is read before loading: an entry is tagged with an epoch no newer than its data,
  // so a change committed meanwhile makes the next lookup reload.
  auto epoch = store_.token_epoch();
  if (!epoch) return std::unexpected(epoch.error());
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.epoch == *epoch &&
        now - it->second.loaded_at_ms < ttl_.count()) {
      return it->second.value;
    }
  }
  auto loaded = load(org_name);
  if (!loaded) return loaded;
  std::lock_guard lock(mutex_);
  if (cache_.size() > 10000) cache_.clear();  // bound memory under unknown-org floods
  cache_[key] = Entry{*loaded, now, *epoch};
  return loaded;
}

Result<std::shared_ptr<const OrgCredentials>> OrgDirectory::load(const std::string& org_name) {
  auto org = store_.find_org(org_name);
  if (!org) return std::unexpected(org.error());
  if (!*org) return std::shared_ptr<const OrgCredentials>{};
  auto tokens = store_.list_tokens((*org)->id);
  if (!tokens) return std::unexpected(tokens.error());
  auto creds = std::make_shared<OrgCredentials>();
  creds->org = **org;
  for (const auto& t : *tokens) {
    auto type = auth::parse_token_type(t.type);
    if (!type) continue;
    auth::WebhookCredential c;
    c.token_id = t.id;
    c.public_id = t.public_id;
    c.type = *type;
    c.expires_at_ms = t.expires_at_ms;
    c.revoked_at_ms = t.revoked_at_ms;
    if (*type == auth::TokenType::webhook) {
      auto secret = box_.open(t.secret_sealed, t.public_id);
      if (!secret) {
        spdlog::error("token {} of org {} cannot be decrypted: {}", t.public_id, creds->org.name,
                      secret.error().message);
        continue;
      }
      c.secret = std::move(*secret);
      // A rotated token's previous secret stays valid until the end of its grace period.
      if (!t.previous_secret_sealed.empty() && t.previous_valid_until_ms) {
        auto previous = box_.open(t.previous_secret_sealed, t.public_id);
        if (previous) {
          auth::WebhookCredential p = c;
          p.secret = std::move(*previous);
          p.expires_at_ms = t.expires_at_ms ? std::min(*t.expires_at_ms, *t.previous_valid_until_ms)
                                            : *t.previous_valid_until_ms;
          creds->tokens.push_back(std::move(p));
        }
      }
    }
    creds->tokens.push_back(std::move(c));
  }
  return std::shared_ptr<const OrgCredentials>(std::move(creds));
}

}  // namespace cb::pipeline
