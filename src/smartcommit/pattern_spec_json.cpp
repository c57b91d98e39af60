#include "smartcommit/pattern_spec_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace cb::smartcommit {

Result<PatternSpec> pattern_spec_from_json(const boost::json::value& value) {
  if (!value.is_object()) return fail(ErrorCode::invalid_argument, "a pattern must be an object");
  const auto& o = value.as_object();
  for (const auto& field : o) {
    if (field.key() != "kind" && field.key() != "regex" && field.key() != "allowed_projects") {
      return fail(ErrorCode::invalid_argument,
                  std::string(field.key().substr(0, 40)) +
                      ": unknown field (a pattern has kind, regex and allowed_projects)");
    }
  }
  PatternSpec spec;
  const auto* kind = o.if_contains("kind");
  if (kind == nullptr || !kind->is_string()) {
    return fail(ErrorCode::invalid_argument,
                "kind: required, one of jira, azure_boards, github_issue, rally, versionone, "
                "custom");
  }
  auto parsed = parse_pattern_kind(std::string_view(kind->as_string()));
  if (!parsed) {
    return fail(ErrorCode::invalid_argument,
                "kind: '" + std::string(kind->as_string().subview().substr(0, 40)) +
                    "' is not one of jira, azure_boards, github_issue, rally, versionone, custom");
  }
  spec.kind = *parsed;
  if (const auto* regex = o.if_contains("regex"); regex != nullptr && !regex->is_null()) {
    if (!regex->is_string()) return fail(ErrorCode::invalid_argument, "regex: must be a string");
    spec.regex = std::string(regex->as_string());
  }
  if (const auto* allowed = o.if_contains("allowed_projects");
      allowed != nullptr && !allowed->is_null()) {
    if (!allowed->is_array()) {
      return fail(ErrorCode::invalid_argument, "allowed_projects: must be an array of strings");
    }
    for (const auto& p : allowed->as_array()) {
      if (!p.is_string()) {
        return fail(ErrorCode::invalid_argument, "allowed_projects: must be an array of strings");
      }
      spec.allowed_projects.emplace_back(p.as_string());
    }
  }
  return spec;
}

boost::json::object pattern_spec_json(const PatternSpec& spec) {
  boost::json::object o{{"kind", pattern_kind_name(spec.kind)}};
  if (spec.kind == PatternKind::custom) o["regex"] = spec.regex;
  boost::json::array allowed;
  for (const auto& p : spec.allowed_projects) allowed.emplace_back(p);
  o["allowed_projects"] = std::move(allowed);
  return o;
}

}  // namespace cb::smartcommit
