#pragma once
// The ALM write-back of a running server, built from the config: the planner that commit sync
// calls, the outbox dispatcher thread with the Jira and webhook connectors, the admin routes of
// connections and outbox.

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "admin/admin_service.hpp"
#include "admin/alm_service.hpp"
#include "app/config.hpp"
#include "auth/secret_box.hpp"
#include "connectors/http_client.hpp"
#include "core/clock.hpp"
#include "http/router.hpp"
#include "pipeline/alm_sender.hpp"
#include "pipeline/alm_writeback.hpp"
#include "pipeline/commit_sync.hpp"
#include "pipeline/connector_alm_sender.hpp"
#include "pipeline/org_pattern_cache.hpp"
#include "pipeline/outbox_dispatcher.hpp"
#include "pipeline/pipeline_metrics.hpp"

namespace cb::app {

/// Owns the write-back objects of `serve`. Not copyable; outlives the router and commit sync
/// it is attached to.
class AlmRuntime {
 public:
  AlmRuntime(const Config& config, store::Store& store, const auth::SecretBox& box,
             const Clock& clock, const pipeline::PipelineMetrics* metrics);
  ~AlmRuntime();
  AlmRuntime(const AlmRuntime&) = delete;
  AlmRuntime& operator=(const AlmRuntime&) = delete;

  /// Makes `sync` enqueue write-back entries after it stores links; the smart-commit commands
  /// come from the org's patterns in `patterns` (which must outlive this object).
  void attach(pipeline::CommitSync& sync, pipeline::OrgPatternCache& patterns);
  /// Registers the alm-connections and outbox routes.
  void add_routes(http::Router& router, admin::AdminService& admin, boost::asio::thread_pool& pool);
  /// Starts the dispatcher (entries left sending by a crash are sent again).
  void start();
  /// Stops the dispatcher after the entry in progress. Idempotent.
  void stop();

 private:
  std::unique_ptr<connectors::HttpClient> http_;
  std::unique_ptr<pipeline::ConnectorAlmSender> sender_;
  pipeline::AlmWriteback writeback_;
  admin::AlmService service_;
  pipeline::OutboxDispatcher dispatcher_;
};

}  // namespace cb::app
