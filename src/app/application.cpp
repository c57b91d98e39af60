#include "app/application.hpp"
#include "core/thread_name.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "admin/admin_service.hpp"
#include "admin/token_use_flusher.hpp"
#include "api/admin_routes.hpp"
#include "api/error_mapping.hpp"
#include "api/job_routes.hpp"
#include "api/metrics_routes.hpp"
#include "api/repository_routes.hpp"
#include "api/smart_commit_routes.hpp"
#include "api/story_routes.hpp"
#include "api/webhook_routes.hpp"
#include "app/alm_runtime.hpp"
#include "app/json_log_formatter.hpp"
#include "app/key_rotation.hpp"
#include "app/server_lock.hpp"
#include "core/metrics.hpp"
#include "http/server.hpp"
#include "pipeline/commit_sync.hpp"
#include "pipeline/delivery_processor.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/job_dispatch.hpp"
#include "pipeline/job_http_executor.hpp"
#include "pipeline/job_runner.hpp"
#include "pipeline/job_service.hpp"
#include "pipeline/org_directory.hpp"
#include "pipeline/org_pattern_cache.hpp"
#include "pipeline/orphan_commands.hpp"
#include "pipeline/pipeline_metrics.hpp"
#include "pipeline/rate_limiter.hpp"
#include "pipeline/store_probe.hpp"
#include "pipeline/worker.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::app {

void configure_logging(const Config& config) {
  auto logger = spdlog::stderr_color_mt("commitbridge");
  if (config.log_json) {
    logger->set_formatter(std::make_unique<JsonLogFormatter>());  // escapes; a pattern cannot
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_default_logger(logger);
}

Result<std::unique_ptr<Application>> Application::open(const Config& config, bool create) {
  std::error_code ec;
  if (!create && !std::filesystem::exists(config.database_file(), ec)) {
    return fail(ErrorCode::not_found,
                "no commitbridge database at " + config.database_file().string() +
                    "; give the server's --data-dir (or COMMITBRIDGE_STORAGE_DATA_DIR), or start "
                    "with `commitbridge org create NAME`");
  }
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return fail(ErrorCode::internal,
                "cannot create data directory " + config.data_dir.string() + ": " + ec.message());
  }
  store::sqlite::WriterOptions writer;
  writer.max_queue = config.write_queue_max;
  auto store = store::sqlite::SqliteStore::open(config.database_file(), writer);
  if (!store) {
    Error e = store.error();
    e.message = "cannot open the store " + config.database_file().string() + ": " + e.detail;
    return std::unexpected(std::move(e));
  }
  if (auto r = recover_key_rotation(config, **store); !r) return std::unexpected(r.error());
  auto box =
      auth::SecretBox::load_or_create(config.effective_key_file(), config.key, config.key_source);
  if (box) {
    // Record which key sealed the secrets, so that a wrong key file is detected, not guessed.
    auto recorded = (*store)->meta("key_fingerprint");
    if (recorded && !*recorded) (void)(*store)->set_meta("key_fingerprint", box->key_fingerprint());
  }
  if (!box) return std::unexpected(box.error());
  return std::unique_ptr<Application>(
      new Application(config, std::shared_ptr<store::Store>(std::move(*store)),
                      std::make_unique<auth::SecretBox>(std::move(*box))));
}

int Application::serve(const std::optional<std::filesystem::path>& port_file) {
  namespace asio = boost::asio;
  SystemClock clock;

  auto lock = ServerLock::acquire(config_.data_dir);
  if (!lock) {
    spdlog::error("{}", lock.error().message);
    return 1;
  }

  // Commands the previous server process left running go first: their runs are about to be
  // marked interrupted and maybe re-queued.
  if (auto orphans = pipeline::stop_orphaned_commands(*store_); !orphans) {
    spdlog::error("cannot check for commands left running: {}", orphans.error().detail);
    return 1;
  }
  if (auto runs = store_->recover_runs(clock.now_ms()); !runs) {
    spdlog::error("recovery of job runs failed: {}", runs.error().detail);
    return 1;
  } else if (runs->interrupted > 0) {
    spdlog::info(
        "{} job runs left running by the previous run are interrupted ({} re-queued, {} not "
        "re-queued because a newer run of their ref exists)",
        runs->interrupted, runs->requeued, runs->not_requeued);
  }
  if (auto requeued = store_->recover_after_restart(clock.now_ms()); !requeued) {
    spdlog::error("recovery failed: {}", requeued.error().detail);
    return 1;
  } else if (*requeued > 0) {
    spdlog::info("re-queued {} deliveries left in processing by the previous run", *requeued);
  }

  const auto paths = pipeline::PipelinePaths::under(config_.data_dir);
  metrics::Registry registry;
  const auto pipeline_metrics = pipeline::PipelineMetrics::register_in(registry);
  http::ServerMetrics server_metrics;
  server_metrics.request_seconds =
      &registry
           .histogram("commitbridge_http_request_duration_seconds",
                      "Time from the end of a request to the end of its answer, in seconds.",
                      metrics::latency_buckets_seconds())
           .with({});
  server_metrics.open_connections =
      &registry.gauge("commitbridge_http_connections", "HTTP connections being served.").with({});
  server_metrics.refused_connections =
      &registry
           .counter("commitbridge_http_connections_refused_total",
                    "Connections answered 503 because server.max_connections were open.")
           .with({});
  pipeline::OrgDirectory orgs(*store_, *box_, clock);
  pipeline::RateLimiter limiter(
      pipeline::RateLimitOptions{static_cast<double>(config_.org_requests_per_second),
                                 static_cast<double>(config_.org_burst)},
      clock);
  pipeline::Ingest ingest(orgs, clock, &limiter);
  admin::AdminService admin_service(*store_, *box_, clock);
  admin::TokenUseFlusher token_uses(admin_service, *store_, std::chrono::seconds(2));
  ingest.on_token_used([&admin_service](std::int64_t id) { admin_service.record_token_use(id); });
  pipeline::JobRunnerOptions runner_options;
  runner_options.threads = static_cast<unsigned>(config_.runner_threads);
  runner_options.command_timeout = std::chrono::milliseconds(config_.job_timeout_ms);
  pipeline::JobRunner runner(*store_, clock, paths, box_.get(), pipeline::make_http_executor(clock),
                             runner_options);
  runner.set_on_run_finished(
      [&pipeline_metrics](std::string_view status) { pipeline_metrics.count_run(status); });
  pipeline::JobDispatch jobs(*store_, clock, paths);
  jobs.set_on_runs_queued([&runner] { runner.notify(); });
  pipeline::OrgPatternCache patterns(*store_);  // each org's smart-commit patterns, compiled once
  pipeline::CommitSync sync(*store_, clock, paths, patterns, box_.get());
  AlmRuntime alm(config_, *store_, *box_, clock, &pipeline_metrics);
  alm.attach(sync, patterns);
  pipeline::DeliveryProcessor processor(*store_, jobs, sync);
  pipeline::WorkerOptions worker_options;
  worker_options.max_attempts = config_.max_attempts;
  worker_options.base_backoff_ms = config_.retry_backoff_ms;
  worker_options.metrics = &pipeline_metrics;
  pipeline::Worker worker(*store_, processor, clock, worker_options);

  http::Router router;
  api::add_health_routes(router);
  api::add_webhook_routes(
      router, ingest, *store_, [&worker] { worker.notify(); }, &pipeline_metrics);
  // Readiness and the queue-depth gauge come from a probe thread, never from the I/O threads.
  pipeline::StoreProbe probe(*store_, clock, std::chrono::seconds(1), &pipeline_metrics);
  probe.check_now();
  api::add_metrics_route(router, registry);
  api::add_readiness_route(router, probe, clock, std::chrono::seconds(5));
  admin::StoryService story_service(*store_);
  admin::SmartCommitService smart_commits(*store_, clock);
  boost::asio::thread_pool admin_pool(2);  // the admin API's store work, off the I/O threads
  api::add_admin_routes(router, admin_service, admin_pool);
  api::add_story_routes(router, admin_service, story_service, admin_pool);
  api::add_smart_commit_routes(router, admin_service, smart_commits, admin_pool);
  admin::RepositoryService repository_service(*store_, *box_, clock);
  std::string public_base_url = config_.effective_public_url();  // final once the port is bound
  api::add_repository_routes(router, admin_service, repository_service, admin_pool,
                             [&public_base_url] { return public_base_url; });
  pipeline::JobService job_service(*store_, *box_, clock);
  api::add_job_routes(router, admin_service, job_service, &runner, admin_pool);
  alm.add_routes(router, admin_service, admin_pool);

  // The acceptor, signals and the drain timer run on `ioc` (main thread); connections are
  // served by one io_context per I/O thread (server.threads of them), each run by exactly one
  // thread, so that sessions need no strand and the I/O threads share no lock per handler.
  // Declared before `ioc` so that they are destroyed after it: an accept still pending on `ioc`
  // at shutdown holds a socket of one of them.
  std::vector<std::unique_ptr<asio::io_context>> session_contexts;
  std::vector<asio::io_context*> session_context_ptrs;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> session_work;
  for (unsigned i = 0; i < std::max(1U, config_.threads); ++i) {
    session_contexts.push_back(std::make_unique<asio::io_context>(1));
    session_context_ptrs.push_back(session_contexts.back().get());
    session_work.push_back(asio::make_work_guard(*session_contexts.back()));
  }
  asio::io_context ioc(1);
  http::ServerOptions options;
  options.host = config_.listen_host;
  options.port = config_.listen_port;
  options.max_body_bytes = config_.max_body_bytes;
  options.max_header_bytes = config_.max_header_bytes;
  options.max_header_count = config_.max_header_count;
  options.max_connections = config_.max_connections;
  options.header_timeout = std::chrono::milliseconds(config_.header_timeout_ms);
  options.body_timeout = std::chrono::milliseconds(config_.body_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config_.idle_timeout_ms);
  http::Server server(ioc, options, router, api::error_response, server_metrics,
                      session_context_ptrs);
  auto port = server.start();
  if (!port) {
    spdlog::error("{}", port.error().message);
    return 1;
  }
  worker.start();
  alm.start();
  runner.start();
  probe.start();

  Config shown = config_;
  shown.listen_port = *port;
  const std::string base = shown.effective_public_url();
  public_base_url = base;  // before any request is served: the I/O threads start below
  spdlog::info("commitbridge listening on {}:{} (data in {})", config_.listen_host, *port,
               config_.data_dir.string());
  std::cout << "commitbridge is listening on " << config_.listen_host << ":" << *port << "\n"
            << "Webhook URLs for Bitbucket Data Center / Server (replace {org}):\n"
            << "  build on commit:  " << base
            << "/api/webhook/v2/{org}/enterprise/trigger-scm-push-request\n"
            << "  ALM commit sync:  " << base
            << "/api/webhook/v2/{org}/enterprise/sync-alm-commits\n"
            << "Create a webhook token with:\n"
            << "  commitbridge token create --data-dir " << config_.data_dir.string()
            << " --org {org} --name bitbucket --type webhook\n"
            << std::flush;
  if (port_file) {
    std::ofstream out(*port_file, std::ios::trunc);
    out << *port << "\n";
  }

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  auto drain_timer = std::make_shared<asio::steady_timer>(ioc);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("signal {} received: finishing requests in progress", signo);
    server.stop_accepting();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto check = std::make_shared<std::function<void()>>();
    *check = [&, deadline, check]() {
      if (server.in_flight() == 0 || std::chrono::steady_clock::now() > deadline) {
        ioc.stop();
        for (auto& c : session_contexts) c->stop();
        return;
      }
      drain_timer->expires_after(std::chrono::milliseconds(20));
      drain_timer->async_wait([check](const boost::system::error_code&) { (*check)(); });
    };
    (*check)();
  });

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < session_contexts.size(); ++i) {
    threads.emplace_back([context = session_contexts[i].get(), i] {
      set_thread_name("cb-io-" + std::to_string(i));
      context->run();
    });
  }
  ioc.run();
  for (auto& t : threads) t.join();
  session_work.clear();

  worker.stop();
  alm.stop();
  runner.stop();  // stops running actions (their runs become interrupted)
  probe.stop();
  admin_pool.join();
  token_uses.stop();
  if (auto* sqlite = dynamic_cast<store::sqlite::SqliteStore*>(store_.get())) sqlite->close();
  spdlog::info("commitbridge stopped");
  return 0;
}

}  // namespace cb::app
