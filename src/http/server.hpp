#pragma once
// Beast HTTP/1.1 listener and sessions on Asio C++20 coroutines. Knows nothing of webhooks.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <vector>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/metrics.hpp"
#include "http/router.hpp"
#include "http/types.hpp"

namespace cb::http {

/// Limits and timeouts of the HTTP server.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;                      ///< 0 picks a free port
  std::size_t max_body_bytes = 25 * 1024 * 1024;  ///< larger bodies get 413
  std::size_t max_header_bytes = 64 * 1024;       ///< larger header blocks get 431
  std::size_t max_header_count = 100;             ///< more header fields get 431
  /// Connections served at once. One more is accepted, answered 503 with `Retry-After` without
  /// reading its request, and closed.
  std::size_t max_connections = 1024;
  /// From the first byte of a request to the end of its header block. A new connection gets
  /// this long for its first request; a client sending half a header block is disconnected
  /// (without an answer) when it passes.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};  ///< to receive a request's body
  /// Keep-alive wait for the first byte of the next request (then header_timeout applies).
  std::chrono::milliseconds idle_timeout{60'000};
};

/// Optional metrics the server updates (each may be null; none is owned). They must outlive
/// the io_context: a session destroyed with it still updates them.
struct ServerMetrics {
  /// Seconds from the end of a request's body to the end of writing its answer.
  metrics::Histogram* request_seconds = nullptr;
  metrics::Gauge* open_connections = nullptr;       ///< connections being served
  metrics::Counter* refused_connections = nullptr;  ///< refused over max_connections
};

/// Accepts connections and serves requests through a Router. start() binds.
///
/// Two ways to run it:
/// - one io_context (`session_contexts` empty): the acceptor and every session run on `ioc`,
///   each session on its own strand; the caller runs `ioc` on as many threads as it likes;
/// - one io_context per thread (`session_contexts`, each run by exactly one thread): the
///   acceptor runs on `ioc` and hands connections to the session contexts in turn; a session
///   stays on its context and needs no strand. This is the faster way (no strand, no lock
///   shared by the I/O threads for every handler); the server uses it.
class Server {
 public:
  /// `router` must outlive the server and its sessions. `on_error` builds the answers the
  /// server gives itself (404, 405, 413, 431, 500, 503); the server then forces the status
  /// and, for 503, a `Retry-After`. The contexts must outlive the server's sessions.
  Server(boost::asio::io_context& ioc, ServerOptions options, const Router& router,
         ErrorResponder on_error, ServerMetrics metrics = {},
         std::vector<boost::asio::io_context*> session_contexts = {});

  /// Binds and starts accepting. Returns the bound port. Errors: invalid_argument when the
  /// address cannot be parsed, internal when it cannot be bound (with the OS message).
  [[nodiscard]] Result<std::uint16_t> start();

  /// Stops accepting new connections; requests in progress finish, then their connections
  /// close.
  void stop_accepting();

  /// Requests being handled right now.
  [[nodiscard]] std::size_t in_flight() const { return state_->in_flight.load(); }
  /// Connections being served right now (not counting refused ones being closed).
  [[nodiscard]] std::size_t connections() const { return state_->connections.load(); }

  /// Counters shared with the session coroutines (which may outlive a stop request).
  struct State {
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> refusing{0};  ///< refused connections still being closed
    std::atomic<bool> stopping{false};
  };

 private:
  boost::asio::io_context& ioc_;
  std::vector<boost::asio::io_context*> session_contexts_;
  ServerOptions options_;
  const Router& router_;
  ErrorResponder on_error_;
  ServerMetrics metrics_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
};

}  // namespace cb::http
