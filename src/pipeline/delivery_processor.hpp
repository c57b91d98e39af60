#pragma once
// Processes one claimed delivery: parse with its provider, find the repository, dispatch to
// build-on-commit or ALM commit sync.

#include "pipeline/commit_sync.hpp"
#include "pipeline/job_dispatch.hpp"
#include "pipeline/outcome.hpp"

namespace cb::pipeline {

/// Turns a stored delivery into effects. Stateless apart from its collaborators.
class DeliveryProcessor {
 public:
  DeliveryProcessor(store::Store& store, JobDispatch& jobs, CommitSync& sync)
      : store_(store), jobs_(jobs), sync_(sync) {}

  /// Processes one delivery (status processing) and says what became of it.
  [[nodiscard]] ProcessOutcome process(const store::DeliveryRecord& delivery);

 private:
  store::Store& store_;
  JobDispatch& jobs_;
  CommitSync& sync_;
};

}  // namespace cb::pipeline
