#pragma once
// Typed, non-throwing access to members of Boost.JSON objects for provider payload mapping,
// with error messages that name the payload and the JSON path of the offending value.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/error.hpp"

/// Evaluates `expr` (a cb::Result<T>); on error returns the Error from the enclosing function
/// (which must itself return a cb::Result), otherwise initializes the declaration `decl` with
/// the value, e.g. `CB_PROVIDERS_TRY(std::string key, required_string(o, "key", at));`.
/// Expands to several statements: use it only as a statement of a braced block.
#define CB_PROVIDERS_TRY(decl, expr) \
  CB_PROVIDERS_TRY_IMPL(decl, expr, CB_PROVIDERS_TRY_CAT(cb_try_result_, __LINE__))
// Helpers of CB_PROVIDERS_TRY: a temporary named after the line, so several uses can share a scope.
#define CB_PROVIDERS_TRY_CAT2(a, b) a##b
#define CB_PROVIDERS_TRY_CAT(a, b) CB_PROVIDERS_TRY_CAT2(a, b)
#define CB_PROVIDERS_TRY_IMPL(decl, expr, tmp)                          \
  auto tmp = (expr);                                                    \
  if (!tmp.has_value()) return std::unexpected(std::move(tmp).error()); \
  decl = std::move(*tmp)

namespace cb::providers {

/// Where a JSON value sits in a webhook payload; used only to build malformed_payload errors
/// such as "Bitbucket repo:refs_changed payload has no repository.project.key".
struct JsonPath {
  std::string subject;  ///< what is being read, e.g. "Bitbucket repo:refs_changed payload"
  std::string path;     ///< dotted path from the body root, e.g. "changes[2].ref"; empty = root

  /// The path of member `key` of this object: "repository" / "project" → "repository.project".
  [[nodiscard]] JsonPath operator/(std::string_view key) const;
  /// The path of element `index` of this array: "changes"[2] → "changes[2]".
  [[nodiscard]] JsonPath operator[](std::size_t index) const;

  /// malformed_payload "<subject> has no <path>" ("<subject> is empty" at the root).
  [[nodiscard]] Error missing() const;
  /// malformed_payload "<subject>: <path> is not <expected>", e.g. expected = "a string"
  /// ("<subject> is not <expected>" at the root).
  [[nodiscard]] Error wrong_type(std::string_view expected) const;
  /// malformed_payload "<subject>: <path> <problem>", e.g. problem = "is \"MOVE\", expected
  /// ADD, UPDATE or DELETE".
  [[nodiscard]] Error invalid(std::string_view problem) const;
};

/// `text` in double quotes for an error message: at most 64 bytes (then "..."), control and
/// non-ASCII bytes replaced by '?', so a message never carries a large or binary payload part.
[[nodiscard]] std::string quote_for_message(std::string_view text);

/// Member `key` of `object`, or nullptr when absent or JSON null (senders use both for "none").
[[nodiscard]] const boost::json::value* find_member(const boost::json::object& object,
                                                    std::string_view key) noexcept;

/// `value` as an object. Errors: malformed_payload "`at` is not an object".
[[nodiscard]] Result<const boost::json::object*> as_object(const boost::json::value& value,
                                                           const JsonPath& at);

/// Member `key` of `object` (whose path is `at`) as a string; "" when absent or null.
/// Errors: malformed_payload when present with another type.
[[nodiscard]] Result<std::string> optional_string(const boost::json::object& object,
                                                  std::string_view key, const JsonPath& at);

/// Member `key` of `object` as a non-empty string.
/// Errors: malformed_payload when absent, null, empty, or of another type.
[[nodiscard]] Result<std::string> required_string(const boost::json::object& object,
                                                  std::string_view key, const JsonPath& at);

/// Member `key` of `object` as an object; nullptr when absent or null.
/// Errors: malformed_payload when present with another type.
[[nodiscard]] Result<const boost::json::object*> optional_object(const boost::json::object& object,
                                                                 std::string_view key,
                                                                 const JsonPath& at);

/// Member `key` of `object` as an object (never nullptr).
/// Errors: malformed_payload when absent, null, or of another type.
[[nodiscard]] Result<const boost::json::object*> required_object(const boost::json::object& object,
                                                                 std::string_view key,
                                                                 const JsonPath& at);

/// Member `key` of `object` as an array; nullptr when absent or null.
/// Errors: malformed_payload when present with another type.
[[nodiscard]] Result<const boost::json::array*> optional_array(const boost::json::object& object,
                                                               std::string_view key,
                                                               const JsonPath& at);

/// Member `key` of `object` as an array (never nullptr).
/// Errors: malformed_payload when absent, null, or of another type.
[[nodiscard]] Result<const boost::json::array*> required_array(const boost::json::object& object,
                                                               std::string_view key,
                                                               const JsonPath& at);

/// Member `key` of `object` as a signed 64-bit integer (JSON integers, and doubles with an
/// integral value in range).
/// Errors: malformed_payload when absent, null, of another type, or out of range.
[[nodiscard]] Result<std::int64_t> required_int64(const boost::json::object& object,
                                                  std::string_view key, const JsonPath& at);

/// Member `key` of `object` as a boolean; `fallback` when absent or null.
/// Errors: malformed_payload when present with another type.
[[nodiscard]] Result<bool> optional_bool(const boost::json::object& object, std::string_view key,
                                         const JsonPath& at, bool fallback);

/// `value` as a signed 64-bit integer when it is a JSON integer, or a double with an integral
/// value within range; false otherwise.
[[nodiscard]] bool to_int64(const boost::json::value& value, std::int64_t& out) noexcept;

}  // namespace cb::providers
