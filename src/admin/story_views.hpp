#pragma once
// The JSON shapes of story links and story summaries shared by the admin API and the CLI's
// --json output (documented in docs/openapi.json as StoryLink, StorySighting, StorySummary).

#include <boost/json/object.hpp>
#include <string_view>

#include "store/records.hpp"

namespace cb::admin {

/// {"repository" ("PROJECT/slug"), "branch", "reachable", "removed_at" (null while reachable),
/// "removed_by_delivery_id" (null while reachable), "delivery_id" (first seen by), "seen_at",
/// "commit_url" (the commit in the SCM's web UI; null when it cannot be derived)} for a sighting
/// of commit `hash`. Times ISO-8601 UTC.
[[nodiscard]] boost::json::object story_sighting_json(const store::StorySighting& sighting,
                                                      std::string_view hash);

/// {"story_key", "org", "commit" (40 hex), "author_name", "author_email", "authored_at",
/// "message" (full), "linked_at", "reachable" (true when any branch still reaches the commit),
/// "seen": [story_sighting_json...]}.
[[nodiscard]] boost::json::object story_link_json(const store::StoryLinkRecord& link);

/// {"story_key", "commits" (number of linked commits), "last_linked_at"}.
[[nodiscard]] boost::json::object story_summary_json(const store::StorySummary& story);

}  // namespace cb::admin
