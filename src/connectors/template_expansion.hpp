#pragma once
// {{placeholder}} templates of job actions (URL, headers, body of an HTTP action).
//
// Syntax: "{{" optional spaces, a name, optional spaces, "}}". A name is one or more of
// A-Z a-z 0-9 _ . - (e.g. "branch", "to_hash", "pull_request.id"). Everything else is literal
// text. There is no escape for a literal "{{": a "{{" that does not open a well-formed
// placeholder is an error, so that a typo never reaches a peer silently.

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace cb::connectors {

/// Placeholder values by name, e.g. "branch", "to_hash", "pull_request.id".
using TemplateValues = std::map<std::string, std::string, std::less<>>;

/// How a value is escaped when substituted.
enum class TemplateEscape {
  none,  ///< inserted as is
  url,   ///< percent-encoded: every byte except A-Z a-z 0-9 - . _ ~ becomes %XX (RFC 3986
         ///< unreserved), so a value is always one path segment or query value
  json,  ///< escaped as inside a JSON string (quotes, backslash, control characters), without
         ///< the surrounding quotes: the template writes them, e.g. {"ref": "{{branch}}"}
};

/// Replaces every {{name}} (optional spaces inside the braces) in `tmpl` by its value from
/// `values`, escaped with `escape`. Literal text is copied unchanged.
/// Errors: invalid_argument naming the placeholder for an unknown name ("unknown placeholder
/// {{nme}}"), and for malformed syntax (unclosed "{{", empty name, invalid character in a name),
/// with the byte offset.
[[nodiscard]] Result<std::string> expand_template(std::string_view tmpl,
                                                  const TemplateValues& values,
                                                  TemplateEscape escape);

/// Names used in a template, each once, in order of first use (to validate a job definition
/// before saving it). Errors: the syntax errors of expand_template.
[[nodiscard]] Result<std::vector<std::string>> template_placeholders(std::string_view tmpl);

/// `value` percent-encoded as TemplateEscape::url does.
[[nodiscard]] std::string percent_encode(std::string_view value);

/// `value` escaped as TemplateEscape::json does (the content of a JSON string, no quotes).
[[nodiscard]] std::string json_escape(std::string_view value);

}  // namespace cb::connectors
