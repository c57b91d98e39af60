#include "admin/alm_service.hpp"

#include "admin/page_cursor.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>

#include "auth/token_format.hpp"

namespace cb::admin {
namespace {

constexpr std::int64_t kMinCommitAgeSeconds = 60;
constexpr std::int64_t kMaxCommitAgeSeconds = 3650LL * 86400;

Result<void> check_text(std::string_view field, const std::string& value, std::size_t max_bytes,
                        bool allow_empty = false) {
  if (value.empty() && !allow_empty) {
    return fail(ErrorCode::invalid_argument, std::string(field) + ": is empty");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return fail(ErrorCode::invalid_argument,
                  std::string(field) + ": contains a control character");
    }
  }
  if (value.size() > max_bytes) {
    return fail(ErrorCode::invalid_argument,
                std::string(field) + ": longer than " + std::to_string(max_bytes) + " bytes");
  }
  return {};
}

/// An absolute http or https URL with a host; returned without a trailing '/'.
Result<std::string> check_url(const std::string& text) {
  if (auto r = check_text("url", text, 2000); !r) return std::unexpected(r.error());
  auto u = boost::urls::parse_absolute_uri(text);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty()) {
    return fail(ErrorCode::invalid_argument,
                "url: must be an absolute http:// or https:// URL with a host");
  }
  if (u->has_userinfo()) {
    return fail(ErrorCode::invalid_argument,
                "url: must not carry credentials; give them as the secret");
  }
  std::string out = text;
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

template <class T>
Page<T> to_page(std::vector<T> rows, std::size_t limit) {
  Page<T> out;
  if (rows.size() > limit) {
    rows.resize(limit);
    out.next_cursor = std::to_string(rows.back().id);
  }
  out.items = std::move(rows);
  return out;
}

}  // namespace

Result<store::OrgRecord> AlmService::org_named(const std::string& name) {
  auto org = store_.find_org(name);
  if (!org) return std::unexpected(org.error());
  if (!*org) return fail(ErrorCode::not_found, "no org named '" + name.substr(0, 100) + "'");
  return **org;
}

void AlmService::audit(std::int64_t org_id, const Actor& actor, std::string action,
                       std::string target, std::string detail) {
  store::AuditEvent e;
  e.org_id = org_id;
  e.actor = actor.name.empty() ? "unknown" : actor.name;
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote_address = actor.remote_address;
  e.created_at_ms = clock_.now_ms();
  if (auto r = store_.append_audit(e); !r) {
    spdlog::error("audit event {} {} not written: {}", e.action, e.target, r.error().detail);
  }
}

Result<void> AlmService::apply(store::AlmConnectionRecord& c, const AlmConnectionSpec& spec,
                               bool creating) {
  if (spec.type && !creating && *spec.type != c.type) {
    return fail(ErrorCode::invalid_argument,
                "type: a connection's type cannot change; create a new connection");
  }
  if (creating) {
    if (!spec.type) return fail(ErrorCode::invalid_argument, "type: is required (jira or webhook)");
    if (*spec.type != "jira" && *spec.type != "webhook") {
      return fail(ErrorCode::invalid_argument, "type: must be jira or webhook");
    }
    c.type = *spec.type;
    if (!spec.name) return fail(ErrorCode::invalid_argument, "name: is required");
    if (!spec.url) return fail(ErrorCode::invalid_argument, "url: is required");
    if (!spec.secret) {
      return fail(ErrorCode::invalid_argument,
                  c.type == "jira" ? "secret: is required (Cloud: API token; Data Center: "
                                     "personal access token)"
                                   : "secret: is required (the HMAC-SHA256 signing secret)");
    }
  }
  if (spec.name) {
    if (auto r = check_text("name", *spec.name, 100); !r) return r;
    c.name = *spec.name;
  }
  if (spec.url) {
    auto url = check_url(*spec.url);
    if (!url) return std::unexpected(url.error());
    c.url = *url;
  }
  if (spec.secret) {
    if (spec.secret->empty()) return fail(ErrorCode::invalid_argument, "secret: is empty");
    if (spec.secret->size() > 4096) {
      return fail(ErrorCode::invalid_argument, "secret: longer than 4096 bytes");
    }
    for (unsigned char ch : *spec.secret) {
      if (ch < 0x20 || ch == 0x7f) {
        return fail(ErrorCode::invalid_argument, "secret: contains a control character");
      }
    }
  }
  if (spec.enabled) c.enabled = *spec.enabled;
  if (c.type == "webhook") {
    const bool jira_field = spec.deployment || spec.email || spec.add_remote_link ||
                            spec.add_comment || spec.run_commands || spec.max_commit_age_seconds;
    if (jira_field) {
      return fail(ErrorCode::invalid_argument,
                  "deployment, email, add_remote_link, add_comment, run_commands and "
                  "max_commit_age_seconds apply to jira connections only");
    }
    c.add_remote_link = c.add_comment = c.run_commands = false;
    if (creating) c.max_commit_age_ms = kDefaultMaxCommitAgeSeconds * 1000;
    return {};
  }
  if (spec.deployment) {
    if (*spec.deployment != "cloud" && *spec.deployment != "data_center") {
      return fail(ErrorCode::invalid_argument, "deployment: must be cloud or data_center");
    }
    c.jira_deployment = *spec.deployment;
  } else if (creating) {
    return fail(ErrorCode::invalid_argument, "deployment: is required (cloud or data_center)");
  }
  if (spec.email) {
    if (auto r = check_text("email", *spec.email, 320, /*allow_empty=*/true); !r) return r;
    c.jira_email = *spec.email;
  }
  if (c.jira_deployment == "cloud" && c.jira_email.find('@') == std::string::npos) {
    return fail(ErrorCode::invalid_argument,
                "email: Jira Cloud needs the e-mail address of the API token's account");
  }
  if (c.jira_deployment == "data_center") c.jira_email.clear();
  if (spec.add_remote_link) c.add_remote_link = *spec.add_remote_link;
  if (spec.add_comment) c.add_comment = *spec.add_comment;
  if (spec.run_commands) c.run_commands = *spec.run_commands;
  if (spec.max_commit_age_seconds) {
    const auto s = *spec.max_commit_age_seconds;
    if (s < kMinCommitAgeSeconds || s > kMaxCommitAgeSeconds) {
      return fail(ErrorCode::invalid_argument,
                  "max_commit_age_seconds: must be from 60 to 315360000 (3650 days)");
    }
    c.max_commit_age_ms = s * 1000;
  } else if (creating) {
    c.max_commit_age_ms = kDefaultMaxCommitAgeSeconds * 1000;
  }
  return {};
}

Result<store::AlmConnectionRecord> AlmService::create_connection(const std::string& org_name,
                                                                 const AlmConnectionSpec& spec,
                                                                 const Actor& actor) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  store::AlmConnectionRecord c;
  c.org_id = org->id;
  c.public_id = "alm_" + auth::random_hex(8);
  if (auto r = apply(c, spec, /*creating=*/true); !r) return std::unexpected(r.error());
  c.secret_sealed = box_.seal(*spec.secret, store::alm_secret_aad(c.public_id));
  c.created_at_ms = c.updated_at_ms = clock_.now_ms();
  auto stored = store_.create_alm_connection(c);
  if (!stored) {
    if (stored.error().code == ErrorCode::conflict) {
      return fail(ErrorCode::conflict,
                  "org " + org->name + " already has an ALM connection named '" + c.name + "'");
    }
    return std::unexpected(stored.error());
  }
  stored->secret_sealed.clear();
  audit(org->id, actor, "alm_connection.create", stored->public_id,
        boost::json::serialize(boost::json::object{
            {"name", stored->name}, {"type", stored->type}, {"url", stored->url}}));
  return stored;
}

Result<Page<store::AlmConnectionRecord>> AlmService::list_connections(const std::string& org_name,
                                                                      const PageRequest& page) {
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  auto after = decode_cursor(page.cursor);
  if (!after) return std::unexpected(after.error());
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto rows = store_.list_alm_connections(org->id, store::PageQuery{*after, *limit + 1});
  if (!rows) return std::unexpected(rows.error());
  for (auto& c : *rows) {
    c.secret_sealed.clear();
    // The list query leaves project keys out; load them for the page shown.
    auto full = store_.find_alm_connection(org->id, c.public_id);
    if (full && *full) c.project_keys = (*full)->project_keys;
  }
  return to_page(std::move(*rows), *limit);
}

Result<store::AlmConnectionRecord> AlmService::get_connection(const std::string& org_name,
                                                              const std::string& id_or_name) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto found = store_.find_alm_connection(org->id, id_or_name);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    store::PageQuery page{0, 200};
    while (!*found) {
      auto rows = store_.list_alm_connections(org->id, page);
      if (!rows) return std::unexpected(rows.error());
      for (const auto& c : *rows) {
        if (c.name == id_or_name) {
          auto full = store_.find_alm_connection(org->id, c.public_id);
          if (!full) return std::unexpected(full.error());
          *found = std::move(*full);
          break;
        }
      }
      if (rows->size() < page.limit) break;
      page.after_id = rows->back().id;
    }
  }
  if (!*found) {
    return fail(ErrorCode::not_found,
                "no ALM connection '" + id_or_name.substr(0, 100) + "' in org " + org->name);
  }
  (*found)->secret_sealed.clear();
  return std::move(**found);
}

Result<store::AlmConnectionRecord> AlmService::update_connection(const std::string& org_name,
                                                                 const std::string& id_or_name,
                                                                 const AlmConnectionSpec& spec,
                                                                 const Actor& actor) {
  auto current = get_connection(org_name, id_or_name);
  if (!current) return current;
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto full = store_.find_alm_connection(org->id, current->public_id);  // with its sealed secret
  if (!full) return std::unexpected(full.error());
  if (!*full) return fail(ErrorCode::not_found, "no ALM connection '" + id_or_name + "'");
  store::AlmConnectionRecord c = std::move(**full);
  if (auto r = apply(c, spec, /*creating=*/false); !r) return std::unexpected(r.error());
  if (spec.secret) c.secret_sealed = box_.seal(*spec.secret, store::alm_secret_aad(c.public_id));
  c.updated_at_ms = clock_.now_ms();
  auto stored = store_.update_alm_connection(c);
  if (!stored) {
    if (stored.error().code == ErrorCode::conflict) {
      return fail(ErrorCode::conflict,
                  "org " + org->name + " already has an ALM connection named '" + c.name + "'");
    }
    return std::unexpected(stored.error());
  }
  stored->secret_sealed.clear();
  boost::json::array changed;
  auto note = [&](bool given, std::string_view field) {
    if (given) changed.push_back(boost::json::string(field));
  };
  note(spec.name.has_value(), "name");
  note(spec.url.has_value(), "url");
  note(spec.deployment.has_value(), "deployment");
  note(spec.email.has_value(), "email");
  note(spec.secret.has_value(), "secret");
  note(spec.add_remote_link.has_value(), "add_remote_link");
  note(spec.add_comment.has_value(), "add_comment");
  note(spec.run_commands.has_value(), "run_commands");
  note(spec.max_commit_age_seconds.has_value(), "max_commit_age_seconds");
  note(spec.enabled.has_value(), "enabled");
  audit(org->id, actor, "alm_connection.update", stored->public_id,
        boost::json::serialize(
            boost::json::object{{"name", stored->name}, {"changed", std::move(changed)}}));
  return stored;
}

Result<void> AlmService::remove_connection(const std::string& org_name,
                                           const std::string& id_or_name, const Actor& actor) {
  auto c = get_connection(org_name, id_or_name);
  if (!c) return std::unexpected(c.error());
  if (auto r = store_.delete_alm_connection(c->id); !r) return r;
  audit(c->org_id, actor, "alm_connection.delete", c->public_id,
        boost::json::serialize(boost::json::object{{"name", c->name}, {"type", c->type}}));
  return {};
}

Result<Page<store::OutboxEntryRecord>> AlmService::list_outbox(
    const std::string& org_name, const std::optional<std::string>& status,
    const PageRequest& page) {
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  auto after = decode_cursor(page.cursor);
  if (!after) return std::unexpected(after.error());
  if (status && *status != store::kOutboxPending && *status != store::kOutboxSending &&
      *status != store::kOutboxSent && *status != store::kOutboxDead) {
    return fail(ErrorCode::invalid_argument, "status: must be pending, sending, sent or dead");
  }
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto rows = store_.list_outbox(store::OutboxQuery{org->id, status, *after, *limit + 1});
  if (!rows) return std::unexpected(rows.error());
  return to_page(std::move(*rows), *limit);
}

Result<store::OutboxEntryRecord> AlmService::retry_outbox_entry(const std::string& org_name,
                                                                std::int64_t entry_id,
                                                                const Actor& actor) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto before = store_.get_outbox_entry(org->id, entry_id);
  if (!before) return std::unexpected(before.error());
  auto entry = store_.retry_outbox_entry(org->id, entry_id, clock_.now_ms());
  if (!entry) return entry;
  audit(org->id, actor, "outbox.retry", std::to_string(entry_id),
        boost::json::serialize(
            boost::json::object{{"action", entry->action},
                                {"story_key", entry->story_key},
                                {"commit", entry->commit_hash},
                                {"previous_status", *before ? (*before)->status : std::string{}}}));
  return entry;
}

}  // namespace cb::admin
