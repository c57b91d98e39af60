#pragma once
// Extracts the JSON document from a webhook body: JSON as is, or form-encoded `payload=`.

#include <string>
#include <string_view>

#include "core/error.hpp"

namespace cb::pipeline {

/// Checks that `text` is one JSON object (RFC 8259 syntax, at most 32 levels deep, nothing
/// after it) without building it: Boost.JSON's push parser with a handler that keeps nothing.
/// Errors: malformed_payload "body is not valid JSON (<reason>) after N bytes", "body nests JSON
/// arrays and objects deeper than 32 levels ..." or "body is JSON but not an object".
[[nodiscard]] Result<void> check_json_object(std::string_view text);

/// The JSON text carried by a body with the given Content-Type, not parsed: `body` itself for
/// `application/json` (or any `+json` type, or no type), else the url-decoded `payload` field of
/// an `application/x-www-form-urlencoded` body, stored in `decoded` which the returned view then
/// points into. For a caller that parses it next anyway (the worker: the provider's parser checks
/// that it is a JSON object). Errors: unsupported_media_type for other types or a form without
/// `payload`; malformed_payload for a form that does not parse.
[[nodiscard]] Result<std::string_view> json_text(std::string_view content_type,
                                                 std::string_view body, std::string& decoded);

/// json_text(), then check_json_object() of the text: what ingest accepts as a webhook body,
/// without building the document. The view points into `body` or `decoded`. Errors: those of
/// both.
[[nodiscard]] Result<std::string_view> json_object_text(std::string_view content_type,
                                                        std::string_view body,
                                                        std::string& decoded);

}  // namespace cb::pipeline
