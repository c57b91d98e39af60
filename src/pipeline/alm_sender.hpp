#pragma once
// The outbound side of the ALM outbox: something that performs one outbox entry against its
// connection (Jira REST or an outbound webhook) and says whether it worked.

#include <cstdint>
#include <string>

#include <vector>

#include "core/error.hpp"
#include "store/alm_records.hpp"

namespace cb::pipeline {

/// The outcome of one attempt at an outbox entry.
struct SendResult {
  enum class Kind {
    sent,       ///< the ALM accepted it
    retry,      ///< a transient failure (5xx, 429, timeout, connection refused): try again
    permanent,  ///< it can never work as it is (4xx, unknown transition): dead-letter at once
  };
  Kind kind = Kind::sent;
  /// For retry: the wait the peer asked for (Retry-After), in milliseconds; 0 when it gave none.
  std::int64_t retry_after_ms = 0;
  /// For retry and permanent: what went wrong, shown to users (never contains a secret).
  std::string error;

  [[nodiscard]] static SendResult ok() { return {}; }
  [[nodiscard]] static SendResult retry_later(std::string error, std::int64_t after_ms = 0) {
    return SendResult{Kind::retry, after_ms, std::move(error)};
  }
  [[nodiscard]] static SendResult failed(std::string error) {
    return SendResult{Kind::permanent, 0, std::move(error)};
  }
};

/// Performs outbox entries. Implementations must be safe to call from the dispatcher thread.
class AlmSender {
 public:
  virtual ~AlmSender() = default;
  /// Performs `entry` (its payload_json is described in pipeline/outbox_planner.hpp) against
  /// `connection`, authenticating with `secret` (the opened connection secret).
  [[nodiscard]] virtual SendResult send(const store::OutboxEntryRecord& entry,
                                        const store::AlmConnectionRecord& connection,
                                        const std::string& secret) = 0;
};

/// Lists the project keys a Jira connection can see (for the default allow-list of the jira
/// story-key pattern).
class ProjectKeyLister {
 public:
  virtual ~ProjectKeyLister() = default;
  /// The project keys, or an error message (never containing a secret).
  [[nodiscard]] virtual Result<std::vector<std::string>> list_project_keys(
      const store::AlmConnectionRecord& connection, const std::string& secret) = 0;
};

}  // namespace cb::pipeline
