#include "pipeline/endpoint.hpp"

namespace cb::pipeline {

std::string_view to_string(Endpoint e) noexcept {
  return e == Endpoint::trigger_scm_push_request ? "trigger-scm-push-request" : "sync-alm-commits";
}

std::optional<Endpoint> parse_endpoint(std::string_view segment) noexcept {
  if (segment == "trigger-scm-push-request") return Endpoint::trigger_scm_push_request;
  if (segment == "sync-alm-commits") return Endpoint::sync_alm_commits;
  return std::nullopt;
}

}  // namespace cb::pipeline
