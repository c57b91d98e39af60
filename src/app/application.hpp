#pragma once
// The composition root: builds the concrete store, key, pipeline and HTTP server from a Config.

#include <filesystem>
#include <memory>
#include <optional>

#include "app/config.hpp"
#include "auth/secret_box.hpp"
#include "store/store.hpp"

namespace cb::app {

/// The store and key of one data directory, shared by `serve` and the other CLI commands.
class Application {
 public:
  /// Opens (migrating) the SQLite store and loads the secret key. With `create`, a missing data
  /// directory, database and key file are created (0700 / 0600); without, a missing database is
  /// not_found (so that a mistyped --data-dir does not silently start an empty one).
  /// Errors: not_found, store_unavailable, invalid_argument (bad key), internal (file system).
  [[nodiscard]] static Result<std::unique_ptr<Application>> open(const Config& config,
                                                                 bool create = true);

  [[nodiscard]] const Config& config() const { return config_; }
  [[nodiscard]] store::Store& store() { return *store_; }
  [[nodiscard]] const auth::SecretBox& secret_box() const { return *box_; }

  /// Runs the HTTP server and the worker until SIGINT or SIGTERM, then drains: stops accepting,
  /// lets requests in progress finish (at most 10 s), finishes the delivery being processed and
  /// closes the store. Writes the bound port to `port_file` when given. Returns the exit code.
  int serve(const std::optional<std::filesystem::path>& port_file);

 private:
  Application(Config config, std::shared_ptr<store::Store> store,
              std::unique_ptr<auth::SecretBox> box)
      : config_(std::move(config)), store_(std::move(store)), box_(std::move(box)) {}

  Config config_;
  std::shared_ptr<store::Store> store_;
  std::unique_ptr<auth::SecretBox> box_;
};

/// Configures spdlog: level and plain or JSON lines on stderr.
void configure_logging(const Config& config);

}  // namespace cb::app
