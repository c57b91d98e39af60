// Server on 127.0.0.1, port 0, with an io_context on its own thread; a plain-socket client
// (bounded by socket timeouts) speaks HTTP/1.1 to it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/router.hpp"
#include "http/server.hpp"

namespace cb::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using ::testing::HasSubstr;

constexpr auto kWaitLimit = std::chrono::seconds(30);

/// A connected loopback TCP socket with 10 s send/receive timeouts; closed on destruction.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      connect_errno_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] int connect_errno() const { return connect_errno_; }

  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// Reads one whole response; nullopt on timeout, reset or a malformed response.
  std::optional<bhttp::response<bhttp::string_body>> read_response() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    while (!parser.is_done()) {
      if (!pending_.empty()) {
        boost::system::error_code ec;
        const auto used = parser.put(asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (!ec) continue;
        if (ec != bhttp::error::need_more) return std::nullopt;
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0) return std::nullopt;
      if (n == 0) {
        boost::system::error_code ec;
        parser.put_eof(ec);
        if (ec) return std::nullopt;
        break;
      }
      pending_.append(chunk, static_cast<std::size_t>(n));
    }
    return parser.release();
  }

  /// True when the server closed the connection (end of file, nothing more sent) within the
  /// socket timeout.
  bool closed_by_peer() {
    if (!pending_.empty()) return false;
    char c = 0;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  int fd_ = -1;
  int connect_errno_ = 0;
  std::string pending_;
};

std::string get_request(std::string_view target, bool close = false) {
  std::string r = "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (close) r += "Connection: close\r\n";
  return r + "\r\n";
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(bhttp::verb::get, "/hello/{name}",
                [](Request& req, RequestContext& ctx) -> asio::awaitable<Response> {
                  Response res{bhttp::status::ok, req.version()};
                  res.set(bhttp::field::content_type, "text/plain");
                  res.body() =
                      "hello " + std::string(ctx.param("name")) + " from " + ctx.remote_address;
                  res.keep_alive(req.keep_alive());
                  co_return res;
                });
    router_.add(bhttp::verb::post, "/echo",
                [](Request& req, RequestContext&) -> asio::awaitable<Response> {
                  Response res{bhttp::status::ok, req.version()};
                  res.body() = std::to_string(req.body().size()) + ":" + req.body();
                  co_return res;
                });
    router_.add(bhttp::verb::get, "/wait",
                [this](Request& req, RequestContext&) -> asio::awaitable<Response> {
                  auto timer = std::make_shared<asio::steady_timer>(
                      co_await asio::this_coro::executor, std::chrono::hours(1));
                  {
                    std::lock_guard lock(mutex_);
                    wait_timer_ = timer;
                  }
                  auto [ec] = co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
                  (void)ec;
                  Response res{bhttp::status::ok, req.version()};
                  res.body() = "released";
                  co_return res;
                });
    router_.add(bhttp::verb::get, "/boom",
                [](Request&, RequestContext&) -> asio::awaitable<Response> {
                  throw std::runtime_error("handler bug");
                  co_return Response{};
                });
  }

  void start(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(
        ioc_, options, router_, [this](const Error& e, unsigned version, bool keep_alive) {
          {
            std::lock_guard lock(mutex_);
            responder_codes_.push_back(e.code);
          }
          unsigned status = 500;
          if (e.code == ErrorCode::not_found) status = 404;
          if (e.code == ErrorCode::payload_too_large) status = 413;
          if (e.code == ErrorCode::invalid_argument) status = 400;
          Response res{static_cast<bhttp::status>(status), version};
          res.set(bhttp::field::content_type, "application/json");
          res.body() = "{\"error\":\"" + std::string(to_string(e.code)) + "\",\"message\":\"" +
                       e.message + "\"}";
          res.keep_alive(keep_alive);
          return res;
        });
    auto port = server_->start();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    ASSERT_NE(*port, 0);
    port_ = *port;
    runner_ = std::thread([this] { ioc_.run(); });
  }

  void TearDown() override {
    if (server_) server_->stop_accepting();
    work_.reset();
    ioc_.stop();
    if (runner_.joinable()) runner_.join();
  }

  std::vector<ErrorCode> responder_codes() {
    std::lock_guard lock(mutex_);
    return responder_codes_;
  }

  Router router_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread runner_;
  std::mutex mutex_;
  std::vector<ErrorCode> responder_codes_;
  std::shared_ptr<asio::steady_timer> wait_timer_;
};

TEST_F(ServerTest, BadListenAddressIsInvalidArgument) {
  ServerOptions o;
  o.host = "not an address";
  o.port = 0;
  Server server(ioc_, o, router_, [](const Error&, unsigned v, bool) { return Response{{}, v}; });
  auto r = server.start();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(r.error().message, HasSubstr("'not an address'"));
}

TEST_F(ServerTest, GetRouteAnswers200WithTheHandlersBody) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected()) << c.connect_errno();
  ASSERT_TRUE(c.send_all(get_request("/hello/Nor%20thwind?x=1", true)));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::ok);
  EXPECT_EQ(res->body(), "hello Nor thwind from 127.0.0.1");
  EXPECT_EQ((*res)[bhttp::field::content_type], "text/plain");
  EXPECT_EQ((*res)[bhttp::field::content_length], std::to_string(res->body().size()));
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(responder_codes().empty());
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  // Two pipelined requests, then a third after reading both answers.
  ASSERT_TRUE(c.send_all(get_request("/hello/a") + get_request("/hello/b")));
  auto a = c.read_response();
  auto b = c.read_response();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->body(), "hello a from 127.0.0.1");
  EXPECT_EQ(b->body(), "hello b from 127.0.0.1");
  EXPECT_TRUE(a->keep_alive());
  ASSERT_TRUE(c.send_all(get_request("/hello/c", true)));
  auto last = c.read_response();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->body(), "hello c from 127.0.0.1");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerTest, PostBodyReachesTheHandler) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  const std::string body("bytes\0with\0nul", 14);
  ASSERT_TRUE(c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\n\r\n" + body));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::ok);
  EXPECT_EQ(res->body(), "14:" + body);
}

TEST_F(ServerTest, UnknownRouteUsesTheErrorResponder) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all(get_request("/nowhere?q=1")));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::not_found);
  EXPECT_EQ(res->body(), "{\"error\":\"not_found\",\"message\":\"no route for GET /nowhere?q=1\"}");
  EXPECT_EQ((*res)[bhttp::field::content_type], "application/json");
  EXPECT_TRUE(res->keep_alive());  // the connection stays usable
  EXPECT_EQ(responder_codes(), std::vector<ErrorCode>{ErrorCode::not_found});

  ASSERT_TRUE(c.send_all(get_request("/hello/again", true)));
  auto next = c.read_response();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->result(), bhttp::status::ok);
}

TEST_F(ServerTest, WrongMethodIs405ThroughTheErrorResponder) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all("DELETE /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::method_not_allowed);
  EXPECT_THAT(res->body(), HasSubstr("method DELETE is not allowed on this path; allowed: POST"));
  EXPECT_EQ((*res)[bhttp::field::allow], "POST");
  EXPECT_EQ(responder_codes(), std::vector<ErrorCode>{ErrorCode::method_not_allowed});
}

TEST_F(ServerTest, ThrowingHandlerIsAnswered500) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all(get_request("/boom", true)));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::internal_server_error);
  EXPECT_EQ(res->body(), "{\"error\":\"internal\",\"message\":\"internal error\"}");
  EXPECT_EQ(responder_codes(), std::vector<ErrorCode>{ErrorCode::internal});
}

TEST_F(ServerTest, BodyOverTheLimitIs413AndTheConnectionCloses) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  // Only the header is sent: the declared length alone exceeds the limit, so the server answers
  // without reading a body (and nothing unread is left to reset the connection).
  ASSERT_TRUE(c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n"));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::payload_too_large);
  EXPECT_EQ(res->body(),
            "{\"error\":\"payload_too_large\",\"message\":\"request body exceeds the limit of "
            "1024 bytes\"}");
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(responder_codes(), std::vector<ErrorCode>{ErrorCode::payload_too_large});
}

TEST_F(ServerTest, BodyExactlyAtTheLimitIsAccepted) {
  ServerOptions o;
  o.max_body_bytes = 1024;
  start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  const std::string body(1024, 'b');
  ASSERT_TRUE(c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + body));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::ok);
  EXPECT_EQ(res->body(), "1024:" + body);
}

TEST_F(ServerTest, InFlightReturnsToZeroAfterTheAnswer) {
  start();
  {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send_all(get_request("/hello/x", true)));
    ASSERT_TRUE(c.read_response().has_value());
  }
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (server_->in_flight() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling interval
  }
  EXPECT_EQ(server_->in_flight(), 0u);
}

TEST_F(ServerTest, StopAcceptingRefusesNewConnections) {
  start();
  {
    Client before(port_);
    ASSERT_TRUE(before.connected());
    ASSERT_TRUE(before.send_all(get_request("/hello/before", true)));
    auto res = before.read_response();
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->result(), bhttp::status::ok);
  }
  server_->stop_accepting();

  // The acceptor closes on the I/O thread: poll until a connection attempt is refused. While it
  // closes, an attempt may still be accepted into the backlog or reset mid-handshake.
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  int last_errno = 0;
  bool refused = false;
  while (std::chrono::steady_clock::now() < deadline) {
    Client probe(port_);
    last_errno = probe.connected() ? 0 : probe.connect_errno();
    if (last_errno == ECONNREFUSED) {
      refused = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling interval
  }
  ASSERT_TRUE(refused) << "last connect errno " << last_errno;
  // And it stays refused.
  Client after(port_);
  EXPECT_FALSE(after.connected());
  EXPECT_EQ(after.connect_errno(), ECONNREFUSED);
}

TEST_F(ServerTest, RequestInFlightDuringStopIsAnsweredThenTheConnectionCloses) {
  start();
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all(get_request("/wait")));  // keep-alive requested

  // Poll until the handler is suspended in its wait, i.e. the request is in flight.
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  std::shared_ptr<asio::steady_timer> timer;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex_);
      timer = wait_timer_;
    }
    if (timer) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling interval
  }
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(server_->in_flight(), 1u);

  server_->stop_accepting();
  asio::post(timer->get_executor(), [timer] { timer->cancel(); });

  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::ok);
  EXPECT_EQ(res->body(), "released");
  EXPECT_FALSE(res->keep_alive());  // the server is stopping: no further requests
  EXPECT_TRUE(c.closed_by_peer());
}

TEST(ServerSessionContextsTest, ConnectionsAreServedInTurnByTheSessionContextsNotTheAcceptors) {
  // The acceptor on one io_context, sessions on two others, each run by one thread: the threads
  // that answer are the two session threads, in turn, with keep-alive kept on the same thread.
  Router router;
  router.add(bhttp::verb::get, "/thread",
             [](Request& req, RequestContext&) -> asio::awaitable<Response> {
               Response res{bhttp::status::ok, req.version()};
               std::ostringstream id;
               id << std::this_thread::get_id();
               res.body() = id.str();
               res.keep_alive(req.keep_alive());
               co_return res;
             });
  // The session contexts outlive the acceptor's: its pending accept holds a socket of one of
  // them until it is destroyed.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::io_context*> pointers;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  for (int i = 0; i < 2; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    pointers.push_back(contexts.back().get());
    work.push_back(asio::make_work_guard(*contexts.back()));
  }
  asio::io_context acceptor_context(1);
  auto acceptor_work = asio::make_work_guard(acceptor_context);
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  Server server(
      acceptor_context, options, router,
      [](const Error&, unsigned v, bool) {
        return Response{bhttp::status::internal_server_error, v};
      },
      {}, pointers);
  auto port = server.start();
  ASSERT_TRUE(port.has_value());
  std::vector<std::thread> threads;
  std::vector<std::string> session_ids(2);
  std::promise<void> named[2];
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      std::ostringstream id;
      id << std::this_thread::get_id();
      session_ids[static_cast<std::size_t>(i)] = id.str();
      named[i].set_value();
      contexts[static_cast<std::size_t>(i)]->run();
    });
  }
  std::string acceptor_id;
  std::promise<void> acceptor_named;
  threads.emplace_back([&] {
    std::ostringstream id;
    id << std::this_thread::get_id();
    acceptor_id = id.str();
    acceptor_named.set_value();
    acceptor_context.run();
  });
  for (auto& n : named) n.get_future().wait();
  acceptor_named.get_future().wait();

  std::vector<std::string> answered_by;
  for (int c = 0; c < 4; ++c) {
    Client client(*port);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.send_all(get_request("/thread") + get_request("/thread", true)));
    auto first = client.read_response();
    auto second = client.read_response();
    ASSERT_TRUE(first.has_value() && second.has_value());
    EXPECT_EQ(first->body(), second->body()) << "a connection stays on its context";
    answered_by.push_back(first->body());
  }
  server.stop_accepting();
  work.clear();
  acceptor_work.reset();
  acceptor_context.stop();
  for (auto& c : contexts) c->stop();
  for (auto& t : threads) t.join();

  EXPECT_EQ(answered_by[0], session_ids[0]);
  EXPECT_EQ(answered_by[1], session_ids[1]);
  EXPECT_EQ(answered_by[2], session_ids[0]);
  EXPECT_EQ(answered_by[3], session_ids[1]);
  EXPECT_NE(answered_by[0], acceptor_id);
}

}  // namespace
}  // namespace cb::http
