#pragma once
// The HTTP action of the job runner on top of connectors::run_http_action and libcurl.

#include "core/clock.hpp"
#include "pipeline/job_runner.hpp"

namespace cb::pipeline {

/// An executor that sends a run's HTTP action with a libcurl client (one per run): templates
/// expanded with the run's placeholder values, retries on 5xx, 429 and timeouts with
/// exponential backoff and jitter, log written with secrets redacted, stopped by the run's
/// cancel flag. `clock` must outlive the executor.
[[nodiscard]] HttpActionExecutor make_http_executor(const Clock& clock);

}  // namespace cb::pipeline
