#include "admin/story_views.hpp"

#include <boost/json.hpp>

#include "admin/commit_links.hpp"

namespace cb::admin {
namespace {

namespace json = boost::json;

json::value string_or_null(const std::string& s) {
  return s.empty() ? json::value() : json::value(s);
}

}  // namespace

json::object story_sighting_json(const store::StorySighting& s, std::string_view hash) {
  const std::string url = commit_web_url(
      RepositoryWebInfo{s.provider, s.project_key, s.slug, s.clone_url, /*browse_url=*/{}}, hash);
  return json::object{
      {"repository", s.repository},
      {"branch", s.branch},
      {"reachable", s.reachable},
      {"removed_at", s.removed_at_ms ? json::value(format_utc(*s.removed_at_ms)) : json::value()},
      {"removed_by_delivery_id",
       s.reachable ? json::value() : string_or_null(s.removed_delivery_id)},
      {"delivery_id", s.delivery_id},
      {"seen_at", format_utc(s.seen_at_ms)},
      {"commit_url", string_or_null(url)},
  };
}

json::object story_link_json(const store::StoryLinkRecord& l) {
  json::array seen;
  bool reachable = false;
  for (const auto& s : l.sightings) {
    seen.push_back(story_sighting_json(s, l.commit.commit_hash));
    reachable = reachable || s.reachable;
  }
  return json::object{{"story_key", l.commit.story_key},
                      {"org", l.org_name},
                      {"commit", l.commit.commit_hash},
                      {"author_name", l.commit.author_name},
                      {"author_email", l.commit.author_email},
                      {"authored_at", format_utc(l.commit.authored_at_ms)},
                      {"message", l.commit.message},
                      {"linked_at", format_utc(l.created_at_ms)},
                      {"reachable", reachable},
                      {"seen", std::move(seen)}};
}

json::object story_summary_json(const store::StorySummary& s) {
  return json::object{{"story_key", s.story_key},
                      {"commits", s.commits},
                      {"last_linked_at", format_utc(s.last_linked_at_ms)}};
}

}  // namespace cb::admin
