#include "pipeline/payload_body.hpp"

#include <boost/json.hpp>
#include <boost/url/parse_query.hpp>

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

Result<std::string> check_json_object(std::string text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) {
    return fail(ErrorCode::malformed_payload, "body is not valid JSON (" + ec.message() +
                                                  ") after " + std::to_string(text.size()) +
                                                  " bytes");
  }
  if (!value.is_object()) {
    return fail(ErrorCode::malformed_payload, "body is JSON but not an object");
  }
  return text;
}

}  // namespace

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

Result<std::string> json_payload(std::string_view content_type, std::string_view body) {
  std::string decoded;
  auto text = json_text(content_type, body, decoded);
  if (!text) return std::unexpected(text.error());
  return check_json_object(std::string(*text));
}

}  // namespace cb::pipeline
