#include "providers/event_json.hpp"

#include <type_traits>
#include <utility>
#include <variant>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/clock.hpp"

namespace cb::providers {

namespace json = boost::json;

namespace {

json::value utc_or_null(UnixMillis ms) {
  if (ms == 0) return nullptr;
  return json::value(format_utc(ms));
}

json::object to_json(const RepositoryRef& r) {
  json::object o;
  o["provider"] = r.provider;
  o["project_key"] = r.project_key;
  o["slug"] = r.slug;
  o["name"] = r.name;
  o["http_clone_url"] = r.http_clone_url;
  o["ssh_clone_url"] = r.ssh_clone_url;
  o["browse_url"] = r.browse_url;
  return o;
}

json::object to_json(const Person& p) {
  json::object o;
  o["name"] = p.name;
  o["email"] = p.email;
  o["username"] = p.username;
  return o;
}

json::object to_json(const RefChange& c) {
  json::object o;
  o["ref_id"] = c.ref_id;
  o["display_id"] = c.display_id;
  o["ref_type"] = to_string(c.ref_type);
  o["type"] = to_string(c.type);
  o["from_hash"] = c.from_hash;
  o["to_hash"] = c.to_hash;
  return o;
}

json::object to_json(const CommitPreview& c) {
  json::object o;
  o["hash"] = c.hash;
  o["message"] = c.message;
  o["author"] = to_json(c.author);
  o["author_time"] = utc_or_null(c.author_time_ms);
  o["author_time_ms"] = c.author_time_ms;
  json::array parents;
  for (const auto& p : c.parents) parents.emplace_back(p);
  o["parents"] = std::move(parents);
  return o;
}

json::object to_json(const PushEvent& e) {
  json::object o;
  o["type"] = "push";
  o["repository"] = to_json(e.repository);
  o["actor"] = to_json(e.actor);
  json::array changes;
  for (const auto& c : e.changes) changes.emplace_back(to_json(c));
  o["changes"] = std::move(changes);
  json::array commits;
  for (const auto& c : e.commits) commits.emplace_back(to_json(c));
  o["commits"] = std::move(commits);
  if (e.to_commit) {
    o["to_commit"] = to_json(*e.to_commit);
  } else {
    o["to_commit"] = nullptr;
  }
  return o;
}

json::object to_json(const PullRequestEvent& e) {
  json::object o;
  o["type"] = "pull_request";
  o["repository"] = to_json(e.repository);
  o["actor"] = to_json(e.actor);
  o["action"] = to_string(e.action);
  o["id"] = e.id;
  o["title"] = e.title;
  o["state"] = e.state;
  o["source_ref_id"] = e.source_ref_id;
  o["source_branch"] = e.source_branch;
  o["source_hash"] = e.source_hash;
  o["target_ref_id"] = e.target_ref_id;
  o["target_branch"] = e.target_branch;
  o["target_hash"] = e.target_hash;
  o["previous_source_hash"] = e.previous_source_hash;
  o["previous_target_branch"] = e.previous_target_branch;
  o["merge_commit_hash"] = e.merge_commit_hash;
  o["created_at"] = utc_or_null(e.created_at_ms);
  o["created_at_ms"] = e.created_at_ms;
  o["updated_at"] = utc_or_null(e.updated_at_ms);
  o["updated_at_ms"] = e.updated_at_ms;
  return o;
}

json::object to_json(const PingEvent&) {
  json::object o;
  o["type"] = "ping";
  return o;
}

json::object to_json(const UnsupportedEvent& e) {
  json::object o;
  o["type"] = "unsupported";
  o["event_key"] = e.event_key;
  return o;
}

void indent(std::string& out, int depth) { out.append(static_cast<std::size_t>(depth) * 2, ' '); }

void write_pretty(std::string& out, const json::value& v, int depth) {
  if (const json::object* o = v.if_object()) {
    if (o->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& member : *o) {
      if (!first) out += ",\n";
      first = false;
      indent(out, depth + 1);
      out += json::serialize(json::string_view(member.key()));
      out += ": ";
      write_pretty(out, member.value(), depth + 1);
    }
    out += '\n';
    indent(out, depth);
    out += '}';
    return;
  }
  if (const json::array* a = v.if_array()) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& element : *a) {
      if (!first) out += ",\n";
      first = false;
      indent(out, depth + 1);
      write_pretty(out, element, depth + 1);
    }
    out += '\n';
    indent(out, depth);
    out += ']';
    return;
  }
  out += json::serialize(v);
}

}  // namespace

json::value to_json(const NormalizedEvent& event) {
  return std::visit([](const auto& e) { return json::value(to_json(e)); }, event);
}

std::string to_pretty_json(const json::value& value) {
  std::string out;
  write_pretty(out, value, 0);
  out += '\n';
  return out;
}

}  // namespace cb::providers
