#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
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

Response route_error(const ErrorResponder& on_error, ErrorCode code, std::string message,
                     unsigned version, bool keep_alive) {
  return on_error(make_error(code, std::move(message)), version, keep_alive);
}

asio::awaitable<void> run_session(beast::tcp_stream stream, ServerOptions options,
                                  const Router& router, ErrorResponder on_error,
                                  std::shared_ptr<Server::State> state) {
  beast::flat_buffer buffer;
  RequestContext base_ctx;
  {
    boost::system::error_code rec;
    auto remote = stream.socket().remote_endpoint(rec);
    if (!rec) base_ctx.remote_address = remote.address().to_string();
  }
  bool first = true;
  while (!state->stopping.load()) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser.body_limit(options.max_body_bytes);
    stream.expires_after(first ? options.header_timeout : options.idle_timeout);
    first = false;
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    (void)hn;
    std::optional<Response> early;
    if (hec == bhttp::error::header_limit) {
      early = route_error(
          on_error, ErrorCode::invalid_argument,
          "request headers exceed " + std::to_string(options.max_header_bytes) + " bytes", 11,
          false);
      early->result(bhttp::status::request_header_fields_too_large);
    } else if (hec == bhttp::error::body_limit) {
      early = route_error(
          on_error, ErrorCode::payload_too_large,
          "request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes",
          11, false);
    } else if (hec) {
      break;  // closed, timed out, or garbage: nothing to answer
    }
    if (!early) {
      stream.expires_after(options.body_timeout);
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      (void)bn;
      if (bec == bhttp::error::body_limit) {
        early = route_error(on_error, ErrorCode::payload_too_large,
                            "request body exceeds the limit of " +
                                std::to_string(options.max_body_bytes) + " bytes",
                            parser.get().version(), false);
      } else if (bec) {
        break;
      }
    }
    if (early) {
      early->prepare_payload();
      stream.expires_after(options.header_timeout);
      co_await bhttp::async_write(stream, *early, kTuple);
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
      res = on_error(
          make_error(ErrorCode::invalid_argument,
                     "method " + std::string(req.method_string()) + " is not allowed on this path"),
          req.version(), req.keep_alive());
      res.result(bhttp::status::method_not_allowed);
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
    const auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
    spdlog::debug("request_id={} {} {} -> {} in {} us", ctx.request_id,
                  std::string(req.method_string()), std::string(req.target()), res.result_int(),
                  elapsed_us);
    state->in_flight.fetch_sub(1);
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor,
                                  std::shared_ptr<Server::State> state, asio::io_context& ioc,
                                  ServerOptions options, const Router& router,
                                  ErrorResponder on_error) {
  while (!state->stopping.load()) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(ioc), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(
        executor,
        run_session(beast::tcp_stream(std::move(socket)), options, router, on_error, state),
        asio::detached);
  }
}

}  // namespace

Server::Server(asio::io_context& ioc, ServerOptions options, const Router& router,
               ErrorResponder on_error)
    : ioc_(ioc), options_(std::move(options)), router_(router), on_error_(std::move(on_error)) {}

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

  asio::co_spawn(acceptor_->get_executor(),
                 accept_loop(acceptor_, state_, ioc_, options_, router_, on_error_),
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
