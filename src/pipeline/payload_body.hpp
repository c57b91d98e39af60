#pragma once
// Extracts the JSON document from a webhook body: JSON as is, or form-encoded `payload=`.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace cb::pipeline {

/// Returns the JSON text carried by a body with the given Content-Type: the body itself for
/// `application/json` (or any `+json` type, or no type), the url-decoded `payload` field for
/// `application/x-www-form-urlencoded`. Errors: unsupported_media_type for other types or a
/// form without `payload`; malformed_payload when the text is not a JSON object.
[[nodiscard]] Result<std::string> json_payload(std::string_view content_type,
                                               std::string_view body);

}  // namespace cb::pipeline
