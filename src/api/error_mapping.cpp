#include "api/error_mapping.hpp"

#include <boost/json.hpp>

namespace cb::api {

namespace bhttp = boost::beast::http;

bhttp::status http_status(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument:
      return bhttp::status::bad_request;
    case ErrorCode::not_found:
      return bhttp::status::not_found;
    case ErrorCode::unknown_org:
      return bhttp::status::not_found;
    case ErrorCode::missing_credentials:
      return bhttp::status::unauthorized;
    case ErrorCode::malformed_credentials:
      return bhttp::status::unauthorized;
    case ErrorCode::invalid_signature:
      return bhttp::status::unauthorized;
    case ErrorCode::invalid_token:
      return bhttp::status::unauthorized;
    case ErrorCode::forbidden:
      return bhttp::status::forbidden;
    case ErrorCode::payload_too_large:
      return bhttp::status::payload_too_large;
    case ErrorCode::headers_too_large:
      return bhttp::status::request_header_fields_too_large;
    case ErrorCode::unsupported_media_type:
      return bhttp::status::unsupported_media_type;
    case ErrorCode::malformed_payload:
      return bhttp::status::bad_request;
    case ErrorCode::conflict:
      return bhttp::status::conflict;
    case ErrorCode::store_unavailable:
      return bhttp::status::service_unavailable;
    case ErrorCode::queue_full:
      return bhttp::status::service_unavailable;
    case ErrorCode::rate_limited:
      return bhttp::status::too_many_requests;
    case ErrorCode::overloaded:
      return bhttp::status::service_unavailable;
    case ErrorCode::peer_unavailable:
      return bhttp::status::bad_gateway;
    case ErrorCode::method_not_allowed:
      return bhttp::status::method_not_allowed;
    case ErrorCode::internal:
      return bhttp::status::internal_server_error;
  }
  return bhttp::status::internal_server_error;
}

http::Response json_response(bhttp::status status, std::string body, unsigned version,
                             bool keep_alive) {
  http::Response res{status, version};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

http::Response error_response(const Error& error, unsigned version, bool keep_alive) {
  boost::json::object inner;
  inner["code"] = to_string(error.code);
  inner["message"] = error.message;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  const auto status = http_status(error.code);
  auto res = json_response(status, boost::json::serialize(outer), version, keep_alive);
  if (status == bhttp::status::service_unavailable || status == bhttp::status::too_many_requests) {
    res.set(bhttp::field::retry_after,
            std::to_string(error.retry_after_s > 0 ? error.retry_after_s : 1));
  }
  if (status == bhttp::status::unauthorized) {
    res.set(bhttp::field::www_authenticate, "Basic realm=\"commitbridge\"");
  }
  return res;
}

}  // namespace cb::api
