#pragma once
// Beast HTTP/1.1 listener and sessions on Asio C++20 coroutines. Knows nothing of webhooks.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/router.hpp"
#include "http/types.hpp"

namespace cb::http {

/// Limits and timeouts of the HTTP server.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;                         ///< 0 picks a free port
  std::size_t max_body_bytes = 25 * 1024 * 1024;     ///< larger bodies get 413
  std::size_t max_header_bytes = 64 * 1024;          ///< larger header blocks get 431
  std::chrono::milliseconds header_timeout{10'000};  ///< to receive a request's headers
  std::chrono::milliseconds body_timeout{60'000};    ///< to receive a request's body
  std::chrono::milliseconds idle_timeout{60'000};    ///< keep-alive wait for the next request
};

/// Accepts connections and serves requests through a Router. start() binds; the caller runs
/// the io_context on as many threads as it likes.
class Server {
 public:
  Server(boost::asio::io_context& ioc, ServerOptions options, const Router& router,
         ErrorResponder on_error);

  /// Binds and starts accepting. Returns the bound port. Errors: invalid_argument when the
  /// address cannot be parsed, internal when it cannot be bound (with the OS message).
  [[nodiscard]] Result<std::uint16_t> start();

  /// Stops accepting new connections; requests in progress finish, then their connections
  /// close.
  void stop_accepting();

  /// Requests being handled right now.
  [[nodiscard]] std::size_t in_flight() const { return state_->in_flight.load(); }

  /// Counters shared with the session coroutines (which may outlive a stop request).
  struct State {
    std::atomic<std::size_t> in_flight{0};
    std::atomic<bool> stopping{false};
  };

 private:
  boost::asio::io_context& ioc_;
  ServerOptions options_;
  const Router& router_;
  ErrorResponder on_error_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::shared_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
};

}  // namespace cb::http
