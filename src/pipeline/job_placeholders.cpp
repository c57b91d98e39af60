#include "pipeline/job_placeholders.hpp"

#include <algorithm>

#include "connectors/template_expansion.hpp"

namespace cb::pipeline {

const std::vector<std::string_view>& job_placeholder_names() {
  static const std::vector<std::string_view> names{"org",
                                                   "repository",
                                                   "project_key",
                                                   "repository_slug",
                                                   "event",
                                                   "event_key",
                                                   "branch",
                                                   "ref",
                                                   "from_hash",
                                                   "to_hash",
                                                   "delivery_id",
                                                   "run_id",
                                                   "job",
                                                   "pull_request.id",
                                                   "pull_request.title",
                                                   "pull_request.source_branch",
                                                   "pull_request.target_branch"};
  return names;
}

namespace {

std::pair<std::string, std::string> split_repository(const std::string& repository) {
  const auto slash = repository.find('/');
  if (slash == std::string::npos) return {repository, ""};
  return {repository.substr(0, slash), repository.substr(slash + 1)};
}

}  // namespace

PlaceholderValues run_placeholder_values(const store::JobRunRecord& run) {
  const auto [project, slug] = split_repository(run.repository);
  return PlaceholderValues{
      {"org", run.org_name},
      {"repository", run.repository},
      {"project_key", project},
      {"repository_slug", slug},
      {"event", run.event},
      {"event_key", run.event_key},
      {"branch", run.branch},
      {"ref", run.ref_id},
      {"from_hash", run.from_hash},
      {"to_hash", run.to_hash},
      {"delivery_id", run.delivery_id},
      {"run_id", std::to_string(run.id)},
      {"job", run.job_name},
      {"pull_request.id", run.pull_request_id ? std::to_string(*run.pull_request_id) : ""},
      {"pull_request.title", run.pull_request_title},
      {"pull_request.source_branch", run.source_branch},
      {"pull_request.target_branch", run.target_branch},
  };
}

std::vector<std::pair<std::string, std::string>> run_environment(
    const store::JobRunRecord& run, const std::filesystem::path& payload_file) {
  const auto [project, slug] = split_repository(run.repository);
  std::vector<std::pair<std::string, std::string>> env{
      {"COMMITBRIDGE_ORG", run.org_name},
      {"COMMITBRIDGE_REPOSITORY", run.repository},
      {"COMMITBRIDGE_PROJECT_KEY", project},
      {"COMMITBRIDGE_REPOSITORY_SLUG", slug},
      {"COMMITBRIDGE_EVENT", run.event},
      {"COMMITBRIDGE_EVENT_KEY", run.event_key},
      {"COMMITBRIDGE_REF", run.ref_id},
      {"COMMITBRIDGE_BRANCH", run.branch},
      {"COMMITBRIDGE_FROM_HASH", run.from_hash},
      {"COMMITBRIDGE_TO_HASH", run.to_hash},
      {"COMMITBRIDGE_DELIVERY_ID", run.delivery_id},
      {"COMMITBRIDGE_PAYLOAD_FILE", payload_file.string()},
      {"COMMITBRIDGE_JOB", run.job_name},
      {"COMMITBRIDGE_RUN_ID", std::to_string(run.id)},
      {"COMMITBRIDGE_ATTEMPT", std::to_string(run.attempt)},
  };
  if (run.pull_request_id) {
    env.emplace_back("COMMITBRIDGE_PULL_REQUEST_ID", std::to_string(*run.pull_request_id));
    env.emplace_back("COMMITBRIDGE_PULL_REQUEST_TITLE", run.pull_request_title);
    env.emplace_back("COMMITBRIDGE_PULL_REQUEST_SOURCE_BRANCH", run.source_branch);
    env.emplace_back("COMMITBRIDGE_PULL_REQUEST_TARGET_BRANCH", run.target_branch);
  }
  return env;
}

Result<void> check_template(std::string_view field, std::string_view tmpl) {
  auto used = connectors::template_placeholders(tmpl);
  if (!used) {
    return fail(ErrorCode::invalid_argument, std::string(field) + ": " + used.error().message);
  }
  const auto& names = job_placeholder_names();
  for (const auto& name : *used) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string known;
      for (const auto n : names) {
        if (!known.empty()) known += ", ";
        known += n;
      }
      return fail(ErrorCode::invalid_argument, std::string(field) + ": unknown placeholder {{" +
                                                   name + "}} (known: " + known + ")");
    }
  }
  return {};
}

}  // namespace cb::pipeline
