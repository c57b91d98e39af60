#include "app/alm_runtime.hpp"

#include "api/alm_routes.hpp"

namespace cb::app {
namespace {

/// Stands in for a connector this build lacks: every attempt is a transient failure, so
/// entries wait (and end in dead-letter with this message) instead of being lost.
class MissingConnector final : public pipeline::AlmSender, public pipeline::ProjectKeyLister {
 public:
  pipeline::SendResult send(const store::OutboxEntryRecord&,
                            const store::AlmConnectionRecord& connection,
                            const std::string&) override {
    return pipeline::SendResult::retry_later("no " + connection.type + " connector in this build");
  }
  Result<std::vector<std::string>> list_project_keys(const store::AlmConnectionRecord&,
                                                     const std::string&) override {
    return fail(ErrorCode::internal, "no jira connector in this build");
  }
};

pipeline::OutboxOptions outbox_options(const Config& c, const pipeline::PipelineMetrics* m) {
  pipeline::OutboxOptions o;
  o.max_attempts = c.alm_max_attempts;
  o.base_backoff_ms = c.alm_retry_backoff_ms;
  o.max_backoff_ms = c.alm_max_retry_backoff_ms;
  o.project_keys_refresh_ms = c.alm_project_keys_refresh_ms;
  o.metrics = m;
  return o;
}

}  // namespace

AlmRuntime::AlmRuntime(const Config& config, store::Store& store, const auth::SecretBox& box,
                       const Clock& clock, const pipeline::PipelineMetrics* metrics)
    : sender_(std::make_unique<MissingConnector>()),
      lister_(std::make_unique<MissingConnector>()),
      writeback_(store, clock),
      service_(store, box, clock),
      dispatcher_(store, box, *sender_, clock, outbox_options(config, metrics), lister_.get()) {
  writeback_.set_on_enqueued([this] { dispatcher_.notify(); });
}

AlmRuntime::~AlmRuntime() { stop(); }

void AlmRuntime::attach(pipeline::CommitSync& sync) { sync.set_writeback(&writeback_); }

void AlmRuntime::add_routes(http::Router& router, admin::AdminService& admin,
                            boost::asio::thread_pool& pool) {
  api::add_alm_routes(router, admin, service_, pool, [this] { dispatcher_.notify(); });
}

void AlmRuntime::start() { dispatcher_.start(); }

void AlmRuntime::stop() { dispatcher_.stop(); }

}  // namespace cb::app
