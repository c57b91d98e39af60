#pragma once
// The JSON view of a commit-message analysis, as the admin API's smart-commit test route and the
// CLI print it (docs/openapi.json, schema SmartCommitAnalysis).

#include <boost/json/object.hpp>

#include "smartcommit/smart_commit.hpp"

namespace cb::smartcommit {

/// {"keys": [{"key", "kind", "closing"}], "commands": [{"key", "kind" (comment|time|transition),
/// "command", "argument", "line", then per kind: comment "comment"; time "duration", "seconds",
/// "comment"; transition "transition", "comment"}], "errors": [{"line", "command", "message"}]}.
[[nodiscard]] boost::json::object analysis_json(const Analysis& analysis);

}  // namespace cb::smartcommit
