#pragma once
// The JSON form of a pattern spec, shared by the admin API, the CLI and the test fixtures:
// {"kind": "jira"|"azure_boards"|"github_issue"|"rally"|"versionone"|"custom",
//  "regex": "..." (custom only), "allowed_projects": ["ABC", ...] (optional)}.

#include <boost/json/value.hpp>

#include "smartcommit/pattern_set.hpp"

namespace cb::smartcommit {

/// Reads one spec. Errors (invalid_argument naming the field): not an object, kind missing or
/// unknown, regex or allowed_projects of the wrong type, unknown fields. The spec is not
/// compiled here: PatternSet::compile checks the regex and the allow-list.
[[nodiscard]] Result<PatternSpec> pattern_spec_from_json(const boost::json::value& value);

/// {"kind", "regex" (custom only), "allowed_projects"}.
[[nodiscard]] boost::json::object pattern_spec_json(const PatternSpec& spec);

}  // namespace cb::smartcommit
