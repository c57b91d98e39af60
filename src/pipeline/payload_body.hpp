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

/// Checks that `text` is one JSON object (RFC 8259 syntax, at most 32 levels deep, nothing
/// after it) without building it: Boost.JSON's push parser with a handler that keeps nothing.
/// Errors: malformed_payload "body is not valid JSON (<reason>) after N bytes", "body nests JSON
/// arrays and objects deeper than 32 levels ..." or "body is JSON but not an object".
[[nodiscard]] Result<void> check_json_object(std::string_view text);

/// The same choice of text as json_payload() without parsing it, for a caller that parses it
/// next anyway (the provider's parser checks that it is a JSON object): `body` itself for the
/// JSON types, else the url-decoded `payload` field, stored in `decoded` which the returned
/// view then points into. Errors: unsupported_media_type, malformed_payload (a form that does
/// not parse), as json_payload().
[[nodiscard]] Result<std::string_view> json_text(std::string_view content_type,
                                                 std::string_view body, std::string& decoded);

}  // namespace cb::pipeline
