#include "pipeline/payload_body.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/url/parse_query.hpp>
#include <cstdint>

namespace cb::pipeline {
namespace {

std::string media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view mt = content_type.substr(0, semi);
  while (!mt.empty() && (mt.back() == ' ' || mt.back() == '\t')) mt.remove_suffix(1);
  while (!mt.empty() && (mt.front() == ' ' || mt.front() == '\t')) mt.remove_prefix(1);
  std::string out(mt);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

/// A handler for Boost.JSON's push parser that keeps nothing: the parser checks the syntax and
/// the nesting depth; the handler notes whether the document is an object.
struct SyntaxCheck {
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  using ec_t = boost::json::error_code;
  using sv = boost::json::string_view;

  bool started = false;
  bool object = false;

  bool value() {
    started = true;
    return true;
  }
  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) { return value(); }
  bool on_array_end(std::size_t, ec_t&) { return true; }
  bool on_object_begin(ec_t&) {
    if (!started) object = true;
    return value();
  }
  bool on_object_end(std::size_t, ec_t&) { return true; }
  bool on_string_part(sv, std::size_t, ec_t&) { return value(); }
  bool on_string(sv, std::size_t, ec_t&) { return value(); }
  bool on_key_part(sv, std::size_t, ec_t&) { return true; }
  bool on_key(sv, std::size_t, ec_t&) { return true; }
  bool on_number_part(sv, ec_t&) { return value(); }
  bool on_int64(std::int64_t, sv, ec_t&) { return value(); }
  bool on_uint64(std::uint64_t, sv, ec_t&) { return value(); }
  bool on_double(double, sv, ec_t&) { return value(); }
  bool on_bool(bool, ec_t&) { return value(); }
  bool on_null(ec_t&) { return value(); }
  bool on_comment_part(sv, ec_t&) { return true; }
  bool on_comment(sv, ec_t&) { return true; }
};

}  // namespace

Result<void> check_json_object(std::string_view text) {
  boost::json::basic_parser<SyntaxCheck> parser{boost::json::parse_options{}};
  boost::json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = boost::json::error::extra_data;
  if (ec == boost::json::error::too_deep) {
    return fail(ErrorCode::malformed_payload,
                "body nests JSON arrays and objects deeper than " +
                    std::to_string(boost::json::parse_options{}.max_depth) +
                    " levels (the limit of commitbridge's JSON parser)");
  }
  if (ec) {
    return fail(ErrorCode::malformed_payload, "body is not valid JSON (" + ec.message() +
                                                  ") after " + std::to_string(text.size()) +
                                                  " bytes");
  }
  if (!parser.handler().object) {
    return fail(ErrorCode::malformed_payload, "body is JSON but not an object");
  }
  return {};
}

Result<std::string_view> json_text(std::string_view content_type, std::string_view body,
                                   std::string& decoded) {
  const std::string mt = media_type(content_type);
  if (mt.empty() || mt == "application/json" || mt == "text/json" ||
      (mt.size() > 5 && mt.ends_with("+json"))) {
    return body;
  }
  if (mt == "application/x-www-form-urlencoded") {
    auto params = boost::urls::parse_query(body);
    if (!params) {
      return fail(ErrorCode::malformed_payload,
                  "form-encoded body cannot be parsed; to send JSON, set Content-Type: "
                  "application/json (curl --data-binary sends a form type unless told)");
    }
    for (auto param : *params) {
      if (param.key == "payload" && param.has_value) {
        boost::urls::encoding_opts opts;
        opts.space_as_plus = true;
        decoded = param.value.decode(opts);
        return std::string_view(decoded);
      }
    }
    return fail(ErrorCode::unsupported_media_type,
                "form-encoded body has no 'payload' field; send the event as application/json");
  }
  return fail(ErrorCode::unsupported_media_type,
              "Content-Type '" + std::string(content_type.substr(0, 100)) +
                  "' is not supported; send application/json or form-encoded payload=");
}

Result<std::string_view> json_object_text(std::string_view content_type, std::string_view body,
                                          std::string& decoded) {
  auto text = json_text(content_type, body, decoded);
  if (!text) return std::unexpected(text.error());
  if (auto checked = check_json_object(*text); !checked) return std::unexpected(checked.error());
  return text;
}

}  // namespace cb::pipeline
