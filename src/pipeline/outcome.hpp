#pragma once
// The outcome of processing one delivery, written back on the delivery.

#include <string>

namespace cb::pipeline {

/// Status ("done", "ignored", "failed") and a reason a user can read. `retry` asks the worker
/// to queue the delivery again (transient failure: store busy, git remote down).
struct ProcessOutcome {
  std::string status;
  std::string reason;
  bool retry = false;
};

}  // namespace cb::pipeline
