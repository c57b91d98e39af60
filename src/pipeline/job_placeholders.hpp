#pragma once
// What a job's action gets to know about its run: the environment of a command and the
// placeholder values of an HTTP action's templates ({{branch}}, {{pull_request.id}}, ...).

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "store/records.hpp"

namespace cb::pipeline {

/// Placeholder name → value, as the HTTP action's template expansion takes it.
using PlaceholderValues = std::map<std::string, std::string, std::less<>>;

/// Every placeholder an HTTP action template may use: org, repository, project_key,
/// repository_slug, event, event_key, branch, ref, from_hash, to_hash, delivery_id, run_id, job,
/// pull_request.id, pull_request.title, pull_request.source_branch,
/// pull_request.target_branch.
[[nodiscard]] const std::vector<std::string_view>& job_placeholder_names();

/// The placeholder values of a run (pull-request values are empty for pushes).
[[nodiscard]] PlaceholderValues run_placeholder_values(const store::JobRunRecord& run);

/// The COMMITBRIDGE_* variables of a command run: ORG, REPOSITORY, PROJECT_KEY,
/// REPOSITORY_SLUG, EVENT, EVENT_KEY, REF, BRANCH, FROM_HASH, TO_HASH, DELIVERY_ID,
/// PAYLOAD_FILE, JOB, RUN_ID, ATTEMPT and, for pull-request runs, PULL_REQUEST_ID,
/// PULL_REQUEST_TITLE, PULL_REQUEST_SOURCE_BRANCH, PULL_REQUEST_TARGET_BRANCH.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> run_environment(
    const store::JobRunRecord& run, const std::filesystem::path& payload_file);

/// Checks that every {{placeholder}} of `tmpl` is known. Errors: invalid_argument
/// "<field>: unknown placeholder {{name}} (known: ...)", or the syntax error of
/// connectors::template_placeholders (unclosed "{{", empty name, ...) after "<field>: ".
[[nodiscard]] Result<void> check_template(std::string_view field, std::string_view tmpl);

}  // namespace cb::pipeline
