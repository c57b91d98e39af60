#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <random>

namespace cb::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
/// Refused connections being answered and closed at once, at least; beyond that (and beyond
/// max_connections) an excess connection is closed without an answer.
constexpr std::size_t kMinRefusing = 64;

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  auto v = rng();
  for (auto& c : id) {
    c = kHex[v & 0xf];
    v >>= 4;
  }
  return id;
}

/// Everything a session needs, shared by the accept loop and every session coroutine.
struct Shared {
  std::vector<asio::io_context*>
      session_contexts;  ///< empty: sessions on strands of the acceptor's
  ServerOptions options;
  const Router& router;
  ErrorResponder on_error;
  ServerMetrics metrics;
  std::shared_ptr<Server::State> state;
};

/// An answer the server gives itself: built by the responder, with the status forced (so that
/// the HTTP semantics do not depend on the responder) and `Connection: close`.
Response own_answer(const Shared& shared, ErrorCode code, bhttp::status status, std::string message,
                    unsigned version) {
  Response res = shared.on_error(make_error(code, std::move(message)), version, false);
  res.result(status);
  if (status == bhttp::status::service_unavailable && res.count(bhttp::field::retry_after) == 0) {
    res.set(bhttp::field::retry_after, "1");
  }
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

/// Keeps the connection count while a session runs.
struct ConnectionSlot {
  const Shared& shared;
  explicit ConnectionSlot(const Shared& s) : shared(s) {
    if (shared.metrics.open_connections != nullptr) shared.metrics.open_connections->add(1);
  }
  ~ConnectionSlot() {
    shared.state->connections.fetch_sub(1);
    if (shared.metrics.open_connections != nullptr) shared.metrics.open_connections->add(-1);
  }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
};

/// Shuts the sending side, then reads and discards what the client still sends (at most
/// 64 KiB, at most `linger`) so that closing does not reset the connection and destroy the
/// answer before the client read it ("lingering close").
asio::awaitable<void> lingering_close(beast::tcp_stream& stream, std::chrono::milliseconds linger) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream.expires_after(linger);
  std::array<char, 4096> sink{};
  std::size_t discarded = 0;
  while (discarded < 64 * 1024) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (rec) break;
    discarded += n;
  }
  stream.socket().close(ec);
}

/// A connection over max_connections: answered 503 at once, without reading the request.
asio::awaitable<void> refuse_connection(beast::tcp_stream stream, std::shared_ptr<Shared> shared) {
  Response res = own_answer(*shared, ErrorCode::overloaded, bhttp::status::service_unavailable,
                            "the server is serving its limit of " +
                                std::to_string(shared->options.max_connections) +
                                " connections; retry shortly",
                            11);
  stream.expires_after(std::chrono::seconds(2));
  auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
  (void)wn;
  if (!wec) co_await lingering_close(stream, std::chrono::seconds(1));
  shared->state->refusing.fetch_sub(1);
}

asio::awaitable<void> run_session(beast::tcp_stream stream, std::shared_ptr<Shared> shared) {
  const ConnectionSlot slot(*shared);
  const ServerOptions& options = shared->options;
  const Router& router = shared->router;
  const ErrorResponder& on_error = shared->on_error;
  const auto& state = shared->state;
  beast::flat_buffer buffer;
  RequestContext base_ctx;
  {
    boost::system::error_code rec;
    auto remote = stream.socket().remote_endpoint(rec);
    if (!rec) base_ctx.remote_address = remote.address().to_string();
  }
  bool first = true;
  bool linger = false;
  while (!state->stopping.load()) {
    if (!first && buffer.size() == 0) {
      // Keep-alive: idle_timeout for the next request to begin, then header_timeout for its
      // header block, so that a slow sender gets no more time on a reused connection.
      stream.expires_after(options.idle_timeout);
      auto [iec, in] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (iec) break;
      buffer.commit(in);
    }
    first = false;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    stream.expires_after(options.header_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    (void)hn;
    std::optional<Response> early;
    if (hec == bhttp::error::header_limit) {
      early = own_answer(
          *shared, ErrorCode::headers_too_large, bhttp::status::request_header_fields_too_large,
          "request headers exceed " + std::to_string(options.max_header_bytes) + " bytes", 11);
    } else if (hec == bhttp::error::body_limit) {
      early = own_answer(
          *shared, ErrorCode::payload_too_large, bhttp::status::payload_too_large,
          "request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes",
          11);
    } else if (hec) {
      break;  // closed, timed out, or garbage: nothing to answer
    } else if (const auto count = static_cast<std::size_t>(
                   std::distance(parser.get().begin(), parser.get().end()));
               count > options.max_header_count) {
      early = own_answer(*shared, ErrorCode::headers_too_large,
                         bhttp::status::request_header_fields_too_large,
                         "request has " + std::to_string(count) + " header fields; the limit is " +
                             std::to_string(options.max_header_count),
                         parser.get().version());
    }
    if (!early) {
      // A route may refuse the request from its headers alone, before the body is read.
      auto pre = router.match(parser.get().method(), parser.get().target());
      if (pre.check != nullptr) {
        RequestContext pre_ctx = base_ctx;
        pre_ctx.request_id = new_request_id();
        pre_ctx.params = std::move(pre.params);
        if (auto refused = (*pre.check)(parser.get(), pre_ctx)) {
          early = on_error(*refused, parser.get().version(), false);
          early->keep_alive(false);
          early->prepare_payload();
        }
      }
    }
    if (!early) {
      stream.expires_after(options.body_timeout);
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      (void)bn;
      if (bec == bhttp::error::body_limit) {
        early = own_answer(*shared, ErrorCode::payload_too_large, bhttp::status::payload_too_large,
                           "request body exceeds the limit of " +
                               std::to_string(options.max_body_bytes) + " bytes",
                           parser.get().version());
      } else if (bec) {
        break;
      }
    }
    if (early) {
      stream.expires_after(options.header_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, *early, kTuple);
      (void)wn;
      linger = !wec;
      break;
    }

    state->in_flight.fetch_add(1);
    Request req = parser.release();
    RequestContext ctx = base_ctx;
    ctx.request_id = new_request_id();
    const auto started = std::chrono::steady_clock::now();
    Response res;
    auto match = router.match(req.method(), req.target());
    if (match.handler != nullptr) {
      ctx.params = std::move(match.params);
      try {
        res = co_await (*match.handler)(req, ctx);
      } catch (const std::exception& e) {
        spdlog::error("request_id={} handler threw: {}", ctx.request_id, e.what());
        res = on_error(make_error(ErrorCode::internal, "internal error"), req.version(),
                       req.keep_alive());
      }
    } else if (match.path_matched) {
      std::string allow;
      for (const auto verb : match.allowed) {
        allow += (allow.empty() ? "" : ", ") + std::string(bhttp::to_string(verb));
      }
      res = on_error(make_error(ErrorCode::method_not_allowed,
                                "method " + std::string(req.method_string()) +
                                    " is not allowed on this path; allowed: " + allow),
                     req.version(), req.keep_alive());
      res.result(bhttp::status::method_not_allowed);
      res.set(bhttp::field::allow, allow);
    } else {
      res = on_error(
          make_error(ErrorCode::not_found, "no route for " + std::string(req.method_string()) +
                                               " " + std::string(req.target())),
          req.version(), req.keep_alive());
    }
    const bool keep_alive = req.keep_alive() && !state->stopping.load();
    res.keep_alive(keep_alive);
    res.prepare_payload();
    stream.expires_after(options.body_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
    (void)wn;
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (shared->metrics.request_seconds != nullptr) {
      shared->metrics.request_seconds->observe(std::chrono::duration<double>(elapsed).count());
    }
    spdlog::debug("request_id={} {} {} -> {} in {} us", ctx.request_id,
                  std::string(req.method_string()), std::string(req.target()), res.result_int(),
                  std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
    state->in_flight.fetch_sub(1);
    if (wec || !keep_alive) break;
  }
  if (linger) {
    // An early answer (413, 431) leaves the rest of the request unread.
    co_await lingering_close(stream, std::chrono::seconds(1));
  } else {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

/// Errors of accept() that mean "out of resources for now": retrying at once would spin.
bool out_of_resources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, asio::io_context& ioc,
                                  std::shared_ptr<Shared> shared) {
  const auto& state = shared->state;
  asio::steady_timer pause(acceptor->get_executor());
  std::size_t next_context = 0;
  while (!state->stopping.load()) {
    // A session runs on the next session context (one thread each: no strand needed), or on a
    // strand of the shared io_context.
    const asio::any_io_executor session_executor =
        shared->session_contexts.empty()
            ? asio::any_io_executor(asio::make_strand(ioc))
            : asio::any_io_executor(
                  shared->session_contexts[next_context++ % shared->session_contexts.size()]
                      ->get_executor());
    auto [ec, socket] = co_await acceptor->async_accept(session_executor, kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
      spdlog::warn("accept failed: {}", ec.message());
      if (out_of_resources(ec)) {
        // The connection stays in the backlog; wait for sessions to end instead of spinning.
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(kTuple);
      }
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    // Only this loop increments, so the check and the increment cannot race.
    if (state->connections.load() >= shared->options.max_connections) {
      if (shared->metrics.refused_connections != nullptr)
        shared->metrics.refused_connections->inc();
      if (state->refusing.load() >=
          std::max<std::size_t>(kMinRefusing, shared->options.max_connections)) {
        socket.close(ec);  // a flood: do not even answer
        continue;
      }
      state->refusing.fetch_add(1);
      asio::co_spawn(executor, refuse_connection(beast::tcp_stream(std::move(socket)), shared),
                     asio::detached);
      continue;
    }
    state->connections.fetch_add(1);
    asio::co_spawn(executor, run_session(beast::tcp_stream(std::move(socket)), shared),
                   asio::detached);
  }
}

}  // namespace

Server::Server(asio::io_context& ioc, ServerOptions options, const Router& router,
               ErrorResponder on_error, ServerMetrics metrics,
               std::vector<asio::io_context*> session_contexts)
    : ioc_(ioc),
      session_contexts_(std::move(session_contexts)),
      options_(std::move(options)),
      router_(router),
      on_error_(std::move(on_error)),
      metrics_(metrics) {}

Result<std::uint16_t> Server::start() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return fail(ErrorCode::invalid_argument, "cannot parse listen address '" + options_.host + "'");
  }
  tcp::endpoint endpoint(address, options_.port);
  acceptor_ = std::make_shared<tcp::acceptor>(asio::make_strand(ioc_));
  if (acceptor_->open(endpoint.protocol(), ec); ec) {
    return fail(ErrorCode::internal, "cannot open socket: " + ec.message());
  }
  acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (acceptor_->bind(endpoint, ec); ec) {
    return fail(ErrorCode::internal, "cannot listen on " + options_.host + ":" +
                                         std::to_string(options_.port) + ": " + ec.message());
  }
  if (acceptor_->listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fail(ErrorCode::internal, "cannot listen: " + ec.message());
  }
  const auto port = acceptor_->local_endpoint().port();

  auto shared = std::make_shared<Shared>(
      Shared{session_contexts_, options_, router_, on_error_, metrics_, state_});
  asio::co_spawn(acceptor_->get_executor(), accept_loop(acceptor_, ioc_, std::move(shared)),
                 asio::detached);
  return port;
}

void Server::stop_accepting() {
  state_->stopping.store(true);
  if (acceptor_) {
    asio::post(acceptor_->get_executor(), [acceptor = acceptor_] {
      boost::system::error_code ec;
      acceptor->close(ec);
    });
  }
}

}  // namespace cb::http
