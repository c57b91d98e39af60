#include "pipeline/outbox_planner.hpp"

#include "connectors/jira_client.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace cb::pipeline {
namespace {

namespace json = boost::json;

std::string_view action_of(AlmCommand::Kind kind) {
  switch (kind) {
    case AlmCommand::Kind::comment:
      return store::kActionComment;
    case AlmCommand::Kind::worklog:
      return store::kActionWorklog;
    case AlmCommand::Kind::transition:
      return store::kActionTransition;
  }
  return store::kActionComment;
}

/// The clone URL without user information (which may hold credentials); a path stays a path.
std::string public_clone_url(const std::string& clone_url) {
  auto parsed = boost::urls::parse_uri(clone_url);
  if (!parsed) return clone_url.find('@') == std::string::npos ? clone_url : std::string();
  boost::urls::url u(*parsed);
  u.remove_userinfo();
  return std::string(u.buffer());
}

json::object base_payload(const PlannedCommit& p) {
  const auto& r = *p.repository;
  return json::object{{"repository", r.project_key + "/" + r.slug},
                      {"provider", r.provider},
                      {"branch", p.branch},
                      {"commit", p.commit.commit_hash},
                      {"commit_url", p.commit_url},
                      {"clone_url", public_clone_url(r.clone_url)},
                      {"author_name", p.commit.author_name},
                      {"author_email", p.commit.author_email},
                      {"authored_at", format_utc(p.commit.authored_at_ms)},
                      {"authored_at_ms", p.commit.authored_at_ms},
                      {"message", p.commit.message},
                      {"story_key", p.commit.story_key}};
}

void add_command_fields(json::object& o, const AlmCommand& c) {
  o["text"] = c.text;
  if (c.kind == AlmCommand::Kind::worklog) {
    o["time_spent"] = c.time_spent;
    o["seconds"] = c.seconds;
  }
  if (c.kind == AlmCommand::Kind::transition) o["transition"] = c.transition_name;
}

}  // namespace

std::string remote_link_global_id(const store::RepositoryRecord& repository,
                                  const std::string& commit_hash) {
  return connectors::remote_link_global_id(
      repository.provider + ":" + repository.project_key + "/" + repository.slug, commit_hash);
}

std::vector<store::NewOutboxEntry> plan_outbox(
    const PlannedCommit& p, const std::vector<store::AlmConnectionRecord>& connections,
    UnixMillis now) {
  std::vector<store::NewOutboxEntry> out;
  if (p.repository == nullptr || !p.repository->auto_update_alm) return out;
  auto entry = [&](const store::AlmConnectionRecord& c, std::string_view action, int ordinal,
                   const json::object& payload) {
    store::NewOutboxEntry e;
    e.org_id = p.org_id;
    e.connection_id = c.id;
    e.repository_id = p.repository->id;
    e.story_key = p.commit.story_key;
    e.commit_hash = p.commit.commit_hash;
    e.action = std::string(action);
    e.ordinal = ordinal;
    e.payload_json = json::serialize(payload);
    e.delivery_id = p.delivery_id;
    out.push_back(std::move(e));
  };
  for (const auto& c : connections) {
    if (!c.enabled) continue;
    if (c.type == "webhook") {
      auto payload = base_payload(p);
      json::array commands;
      for (const auto& cmd : p.commands) {
        json::object o{{"action", action_of(cmd.kind)}};
        add_command_fields(o, cmd);
        commands.push_back(std::move(o));
      }
      payload["commands"] = std::move(commands);
      entry(c, store::kActionWebhook, 0, payload);
      continue;
    }
    if (c.type != "jira") continue;
    if (c.add_remote_link) {
      auto payload = base_payload(p);
      payload["global_id"] = remote_link_global_id(*p.repository, p.commit.commit_hash);
      entry(c, store::kActionRemoteLink, 0, payload);
    }
    if (c.add_comment) entry(c, store::kActionComment, 0, base_payload(p));
    const bool young = now - p.commit.authored_at_ms < c.max_commit_age_ms;
    if (!c.run_commands || !young) continue;
    int comments = 0, worklogs = 0, transitions = 0;
    for (const auto& cmd : p.commands) {
      int& n = cmd.kind == AlmCommand::Kind::comment   ? comments
               : cmd.kind == AlmCommand::Kind::worklog ? worklogs
                                                       : transitions;
      auto payload = base_payload(p);
      add_command_fields(payload, cmd);
      entry(c, action_of(cmd.kind), ++n, payload);
    }
  }
  return out;
}

}  // namespace cb::pipeline
