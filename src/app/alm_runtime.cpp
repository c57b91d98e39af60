#include "app/alm_runtime.hpp"

#include "admin/commit_links.hpp"
#include "api/alm_routes.hpp"
#include "pipeline/connector_alm_sender.hpp"
#include "pipeline/smart_commands.hpp"

namespace cb::app {
namespace {

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
    : http_(std::make_unique<connectors::CurlHttpClient>()),
      sender_(std::make_unique<pipeline::ConnectorAlmSender>(
          *http_, clock, std::chrono::milliseconds(config.alm_request_timeout_ms))),
      writeback_(store, clock),
      service_(store, box, clock),
      dispatcher_(store, box, *sender_, clock, outbox_options(config, metrics), sender_.get()) {
  writeback_.set_on_enqueued([this] { dispatcher_.notify(); });
}

AlmRuntime::~AlmRuntime() { stop(); }

void AlmRuntime::attach(pipeline::CommitSync& sync, pipeline::OrgPatternCache& patterns) {
  writeback_.set_command_source(pipeline::smart_commit_commands(patterns));
  writeback_.set_commit_url([](const store::RepositoryRecord& r, const std::string& hash) {
    return admin::commit_web_url(
        admin::RepositoryWebInfo{r.provider, r.project_key, r.slug, r.clone_url, r.browse_url},
        hash);
  });
  sync.set_writeback(&writeback_);
}

void AlmRuntime::add_routes(http::Router& router, admin::AdminService& admin,
                            boost::asio::thread_pool& pool) {
  api::add_alm_routes(router, admin, service_, pool, [this] { dispatcher_.notify(); });
}

void AlmRuntime::start() { dispatcher_.start(); }

void AlmRuntime::stop() { dispatcher_.stop(); }

}  // namespace cb::app
