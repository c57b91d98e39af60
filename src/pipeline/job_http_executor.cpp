#include "pipeline/job_http_executor.hpp"

#include "connectors/http_action.hpp"
#include "connectors/http_client.hpp"

namespace cb::pipeline {

HttpActionExecutor make_http_executor(const Clock& clock) {
  return [&clock](const HttpActionRequest& req) -> Result<HttpActionOutcome> {
    connectors::HttpActionSpec spec;
    spec.method = req.action.method;
    spec.url_template = req.action.url_template;
    spec.headers = req.headers;
    spec.body_template = req.action.body_template;
    spec.timeout = std::chrono::milliseconds(req.action.timeout_ms);
    spec.max_attempts = req.action.max_attempts;
    spec.base_backoff = std::chrono::milliseconds(req.action.base_backoff_ms);
    spec.max_backoff = std::chrono::milliseconds(req.action.max_backoff_ms);
    spec.log_file = req.log_file;
    spec.cancel = req.cancel;
    connectors::CurlHttpClient client;
    auto result = connectors::run_http_action(spec, req.values, client, clock);
    if (!result) return std::unexpected(result.error());
    HttpActionOutcome out;
    out.succeeded = result->succeeded;
    out.cancelled = result->cancelled;
    out.last_status = result->last_status;
    out.attempts = result->attempts;
    out.output_tail = result->output_tail;
    out.error = result->error;
    return out;
  };
}

}  // namespace cb::pipeline
