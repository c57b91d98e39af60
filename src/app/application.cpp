#include "app/application.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "api/error_mapping.hpp"
#include "api/webhook_routes.hpp"
#include "http/server.hpp"
#include "pipeline/commit_sync.hpp"
#include "pipeline/delivery_processor.hpp"
#include "pipeline/ingest.hpp"
#include "pipeline/job_dispatch.hpp"
#include "pipeline/org_directory.hpp"
#include "pipeline/worker.hpp"
#include "smartcommit/story_key_pattern.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cb::app {

void configure_logging(const Config& config) {
  auto logger = spdlog::stderr_color_mt("commitbridge");
  if (config.log_json) {
    logger->set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"message":"%v"})",
        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(config.log_level));
  spdlog::set_default_logger(logger);
}

Result<std::unique_ptr<Application>> Application::open(const Config& config) {
  std::error_code ec;
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
  auto box = auth::SecretBox::load_or_create(config.effective_key_file(), config.key);
  if (!box) return std::unexpected(box.error());
  return std::unique_ptr<Application>(
      new Application(config, std::shared_ptr<store::Store>(std::move(*store)),
                      std::make_unique<auth::SecretBox>(std::move(*box))));
}

int Application::serve(const std::optional<std::filesystem::path>& port_file) {
  namespace asio = boost::asio;
  SystemClock clock;

  if (auto requeued = store_->recover_after_restart(clock.now_ms()); !requeued) {
    spdlog::error("recovery failed: {}", requeued.error().detail);
    return 1;
  } else if (*requeued > 0) {
    spdlog::info("re-queued {} deliveries left in processing by the previous run", *requeued);
  }

  auto pattern = smartcommit::StoryKeyPattern::jira_default();
  if (!pattern) {
    spdlog::error("cannot compile the story-key pattern: {}", pattern.error().message);
    return 1;
  }
  const auto paths = pipeline::PipelinePaths::under(config_.data_dir);
  pipeline::OrgDirectory orgs(*store_, *box_, clock);
  pipeline::Ingest ingest(orgs, clock);
  std::atomic<bool> stopping{false};
  pipeline::JobDispatch jobs(*store_, clock, paths,
                             std::chrono::milliseconds(config_.job_timeout_ms), &stopping);
  pipeline::CommitSync sync(*store_, clock, paths, *pattern);
  pipeline::DeliveryProcessor processor(*store_, jobs, sync);
  pipeline::WorkerOptions worker_options;
  worker_options.max_attempts = config_.max_attempts;
  worker_options.base_backoff_ms = config_.retry_backoff_ms;
  pipeline::Worker worker(*store_, processor, clock, worker_options);

  http::Router router;
  api::add_health_routes(router);
  api::add_webhook_routes(router, ingest, *store_, [&worker] { worker.notify(); });

  asio::io_context ioc(static_cast<int>(config_.threads));
  http::ServerOptions options;
  options.host = config_.listen_host;
  options.port = config_.listen_port;
  options.max_body_bytes = config_.max_body_bytes;
  options.max_header_bytes = config_.max_header_bytes;
  options.header_timeout = std::chrono::milliseconds(config_.header_timeout_ms);
  options.body_timeout = std::chrono::milliseconds(config_.body_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config_.idle_timeout_ms);
  http::Server server(ioc, options, router, api::error_response);
  auto port = server.start();
  if (!port) {
    spdlog::error("{}", port.error().message);
    return 1;
  }
  worker.start();

  Config shown = config_;
  shown.listen_port = *port;
  const std::string base = shown.effective_public_url();
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
        return;
      }
      drain_timer->expires_after(std::chrono::milliseconds(20));
      drain_timer->async_wait([check](const boost::system::error_code&) { (*check)(); });
    };
    (*check)();
  });

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < config_.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();

  stopping.store(true);  // stops a running job command (its run becomes interrupted)
  worker.stop();
  if (auto* sqlite = dynamic_cast<store::sqlite::SqliteStore*>(store_.get())) sqlite->close();
  spdlog::info("commitbridge stopped");
  return 0;
}

}  // namespace cb::app
