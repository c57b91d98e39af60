#include "providers/json_fields.hpp"

#include <cmath>
#include <limits>
#include <utility>

namespace cb::providers {

namespace json = boost::json;

JsonPath JsonPath::operator/(std::string_view key) const {
  JsonPath child{subject, path};
  if (!child.path.empty()) child.path += '.';
  child.path += key;
  return child;
}

JsonPath JsonPath::operator[](std::size_t index) const {
  JsonPath child{subject, path};
  child.path += '[';
  child.path += std::to_string(index);
  child.path += ']';
  return child;
}

Error JsonPath::missing() const {
  if (path.empty()) return make_error(ErrorCode::malformed_payload, subject + " is empty");
  return make_error(ErrorCode::malformed_payload, subject + " has no " + path);
}

Error JsonPath::wrong_type(std::string_view expected) const {
  std::string message = subject;
  if (path.empty()) {
    message += " is not ";
  } else {
    message += ": ";
    message += path;
    message += " is not ";
  }
  message += expected;
  return make_error(ErrorCode::malformed_payload, std::move(message));
}

Error JsonPath::invalid(std::string_view problem) const {
  std::string message = subject;
  if (!path.empty()) {
    message += ": ";
    message += path;
  }
  message += ' ';
  message += problem;
  return make_error(ErrorCode::malformed_payload, std::move(message));
}

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '?';
  }
  out += '"';
  if (text.size() > kMax) out += "...";
  return out;
}

const json::value* find_member(const json::object& object, std::string_view key) noexcept {
  const json::value* v = object.if_contains(key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

Result<const json::object*> as_object(const json::value& value, const JsonPath& at) {
  if (const json::object* o = value.if_object()) return o;
  return std::unexpected(at.wrong_type("an object"));
}

Result<std::string> optional_string(const json::object& object, std::string_view key,
                                    const JsonPath& at) {
  const json::value* v = find_member(object, key);
  if (v == nullptr) return std::string{};
  if (const json::string* s = v->if_string()) return std::string(s->data(), s->size());
  return std::unexpected((at / key).wrong_type("a string"));
}

Result<std::string> required_string(const json::object& object, std::string_view key,
                                    const JsonPath& at) {
  CB_PROVIDERS_TRY(std::string s, optional_string(object, key, at));
  if (s.empty()) return std::unexpected((at / key).missing());
  return s;
}

Result<const json::object*> optional_object(const json::object& object, std::string_view key,
                                            const JsonPath& at) {
  const json::value* v = find_member(object, key);
  if (v == nullptr) return nullptr;
  return as_object(*v, at / key);
}

Result<const json::object*> required_object(const json::object& object, std::string_view key,
                                            const JsonPath& at) {
  const json::value* v = find_member(object, key);
  if (v == nullptr) return std::unexpected((at / key).missing());
  return as_object(*v, at / key);
}

Result<const json::array*> optional_array(const json::object& object, std::string_view key,
                                          const JsonPath& at) {
  const json::value* v = find_member(object, key);
  if (v == nullptr) return nullptr;
  if (const json::array* a = v->if_array()) return a;
  return std::unexpected((at / key).wrong_type("an array"));
}

Result<const json::array*> required_array(const json::object& object, std::string_view key,
                                          const JsonPath& at) {
  if (find_member(object, key) == nullptr) return std::unexpected((at / key).missing());
  return optional_array(object, key, at);
}

bool to_int64(const json::value& value, std::int64_t& out) noexcept {
  if (const std::int64_t* i = value.if_int64()) {
    out = *i;
    return true;
  }
  if (const std::uint64_t* u = value.if_uint64()) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    out = static_cast<std::int64_t>(*u);
    return true;
  }
  if (const double* d = value.if_double()) {
    // 2^63 is exactly representable; every double below it in magnitude fits in int64.
    constexpr double kLimit = 9223372036854775808.0;
    if (!std::isfinite(*d) || std::trunc(*d) != *d || *d >= kLimit || *d < -kLimit) return false;
    out = static_cast<std::int64_t>(*d);
    return true;
  }
  return false;
}

Result<std::int64_t> required_int64(const json::object& object, std::string_view key,
                                    const JsonPath& at) {
  const json::value* v = find_member(object, key);
  if (v == nullptr) return std::unexpected((at / key).missing());
  std::int64_t out = 0;
  if (!to_int64(*v, out)) return std::unexpected((at / key).wrong_type("a 64-bit integer"));
  return out;
}

Result<bool> optional_bool(const json::object& object, std::string_view key, const JsonPath& at,
                           bool fallback) {
  const json::value* v = find_member(object, key);
  if (v == nullptr) return fallback;
  if (const bool* b = v->if_bool()) return *b;
  return std::unexpected((at / key).wrong_type("a boolean"));
}

}  // namespace cb::providers
