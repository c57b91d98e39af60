#include "connectors/connector_outcome.hpp"

namespace cb::connectors {

bool is_retryable_status(int status) noexcept {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

ConnectorFailure failure_from_transport(const Error& error, std::string_view what) {
  ConnectorFailure failure;
  failure.kind =
      is_transient(http_failure_of(error)) ? FailureKind::retryable : FailureKind::permanent;
  failure.message = std::string(what) + ": " + error.message;
  return failure;
}

ConnectorFailure failure_from_response(const HttpResponse& response, UnixMillis now_ms,
                                       std::string message) {
  ConnectorFailure failure;
  failure.status = response.status;
  failure.kind =
      is_retryable_status(response.status) ? FailureKind::retryable : FailureKind::permanent;
  failure.message = std::move(message);
  if (failure.retryable()) {
    failure.retry_after = response.retry_after(now_ms).value_or(std::chrono::milliseconds(0));
  }
  return failure;
}

ConnectorFailure permanent_failure(std::string message) {
  ConnectorFailure failure;
  failure.kind = FailureKind::permanent;
  failure.message = std::move(message);
  return failure;
}

}  // namespace cb::connectors
