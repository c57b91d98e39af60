// Server limits: header field count, header bytes, concurrent connections, and the header,
// body and idle keep-alive timeouts; plus the server's metrics. A server on 127.0.0.1 port 0
// with its io_context on two threads; plain-socket clients with 10 s socket timeouts.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "core/metrics.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace cb::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kWaitLimit = 30s;

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
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() { close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  [[nodiscard]] bool connected() const { return fd_ >= 0; }

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

  /// True when the server closed the connection (end of file or reset, nothing sent) within
  /// the socket timeout.
  bool closed_by_peer() {
    if (!pending_.empty()) return false;
    char c = 0;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  std::string pending_;
};

std::string get_request(std::string_view target, bool close = false) {
  std::string r = "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (close) r += "Connection: close\r\n";
  return r + "\r\n";
}

/// Milliseconds since `start`.
std::int64_t ms_since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
}

/// Polls `predicate` (every 2 ms) until it holds or kWaitLimit passes.
template <class F>
bool poll_until(F predicate) {
  const auto deadline = SteadyClock::now() + kWaitLimit;
  while (!predicate()) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);  // polling interval
  }
  return true;
}

class ServerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.add(bhttp::verb::get, "/hello/{name}",
                [](Request& req, RequestContext& ctx) -> asio::awaitable<Response> {
                  Response res{bhttp::status::ok, req.version()};
                  res.body() = "hello " + std::string(ctx.param("name"));
                  res.keep_alive(req.keep_alive());
                  co_return res;
                });
    router_.add(bhttp::verb::post, "/echo",
                [](Request& req, RequestContext&) -> asio::awaitable<Response> {
                  Response res{bhttp::status::ok, req.version()};
                  res.body() = std::to_string(req.body().size());
                  co_return res;
                });
  }

  void start(ServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    ServerMetrics m;
    m.request_seconds = &registry_.histogram("t_seconds", "T.", {0.001, 10}).with({});
    m.open_connections = &registry_.gauge("t_connections", "T.").with({});
    m.refused_connections = &registry_.counter("t_refused_total", "T.").with({});
    metrics_ = m;
    // The responder of the API answers with the code's status; this one always says 500 so
    // that the tests see the server force the right status itself.
    server_ = std::make_unique<Server>(
        ioc_, options, router_,
        [](const Error& e, unsigned version, bool keep_alive) {
          Response res{bhttp::status::internal_server_error, version};
          res.body() = std::string(to_string(e.code)) + ": " + e.message;
          res.keep_alive(keep_alive);
          return res;
        },
        m);
    auto port = server_->start();
    ASSERT_TRUE(port.has_value()) << port.error().message;
    port_ = *port;
    for (int i = 0; i < 2; ++i) runners_.emplace_back([this] { ioc_.run(); });
  }

  void TearDown() override {
    if (server_) server_->stop_accepting();
    work_.reset();
    ioc_.stop();
    for (auto& t : runners_) t.join();
  }

  /// A keep-alive GET on `c`, expecting 200.
  void expect_hello(Client& c, const std::string& name) {
    ASSERT_TRUE(c.send_all(get_request("/hello/" + name)));
    auto res = c.read_response();
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->result(), bhttp::status::ok);
    EXPECT_EQ(res->body(), "hello " + name);
  }

  Router router_;
  metrics::Registry registry_;  // before ioc_: sessions destroyed with it still update metrics
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  ServerMetrics metrics_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::vector<std::thread> runners_;
};

TEST_F(ServerLimitsTest, MoreHeaderFieldsThanTheLimitIs431) {
  ServerOptions o;
  o.max_header_count = 5;
  start(o);
  // Host + 4 more: exactly 5 fields are fine.
  {
    Client c(port_);
    ASSERT_TRUE(c.connected());
    std::string req = "GET /hello/five HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 4; ++i) req += "X-Field-" + std::to_string(i) + ": v\r\n";
    ASSERT_TRUE(c.send_all(req + "\r\n"));
    auto res = c.read_response();
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->result(), bhttp::status::ok);
  }
  // One more is refused before the body is read, and the connection closes.
  Client c(port_);
  ASSERT_TRUE(c.connected());
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n";
  for (int i = 0; i < 4; ++i) req += "X-Field-" + std::to_string(i) + ": v\r\n";
  ASSERT_TRUE(c.send_all(req + "\r\nabc"));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::request_header_fields_too_large);
  EXPECT_EQ(res->body(), "headers_too_large: request has 6 header fields; the limit is 5");
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerLimitsTest, HeaderBlockOverTheByteLimitIs431) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send_all("GET /hello/x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'b') +
                         "\r\n\r\n"));
  auto res = c.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::request_header_fields_too_large);
  EXPECT_EQ(res->body(), "headers_too_large: request headers exceed 1024 bytes");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(ServerLimitsTest, ConnectionsOverTheLimitAreAnswered503WithRetryAfter) {
  ServerOptions o;
  o.max_connections = 2;
  start(o);
  Client a(port_);
  Client b(port_);
  ASSERT_TRUE(a.connected() && b.connected());
  expect_hello(a, "a");
  expect_hello(b, "b");
  EXPECT_EQ(server_->connections(), 2u);
  EXPECT_DOUBLE_EQ(metrics_.open_connections->value(), 2.0);

  Client third(port_);
  ASSERT_TRUE(third.connected());
  ASSERT_TRUE(third.send_all(get_request("/hello/third")));
  auto res = third.read_response();
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->result(), bhttp::status::service_unavailable);
  EXPECT_EQ((*res)[bhttp::field::retry_after], "1");
  EXPECT_EQ(res->body(),
            "overloaded: the server is serving its limit of 2 connections; retry shortly");
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(third.closed_by_peer());
  EXPECT_EQ(metrics_.refused_connections->value(), 1u);

  // The first two are still served; once one closes, a new connection is served again.
  expect_hello(a, "again");
  b.close();
  ASSERT_TRUE(poll_until([&] { return server_->connections() == 1; }));
  Client fourth(port_);
  ASSERT_TRUE(fourth.connected());
  expect_hello(fourth, "fourth");
  a.close();
  fourth.close();
  ASSERT_TRUE(poll_until([&] { return server_->connections() == 0; }));
  EXPECT_DOUBLE_EQ(metrics_.open_connections->value(), 0.0);
}

TEST_F(ServerLimitsTest, HalfAHeaderBlockIsDisconnectedAfterTheHeaderTimeout) {
  ServerOptions o;
  o.header_timeout = 300ms;
  start(o);
  const auto started = SteadyClock::now();
  Client slow(port_);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.send_all("GET /hello/slow HTTP/1.1\r\nHost: x\r\nX-Partial: "));

  // Other clients are served meanwhile.
  for (int i = 0; i < 5; ++i) {
    Client other(port_);
    ASSERT_TRUE(other.connected());
    ASSERT_TRUE(other.send_all(get_request("/hello/other", true)));
    auto res = other.read_response();
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->result(), bhttp::status::ok);
  }

  EXPECT_TRUE(slow.closed_by_peer());  // no answer, just the end of the connection
  EXPECT_GE(ms_since(started), 300);
}

TEST_F(ServerLimitsTest, KeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  ServerOptions o;
  o.idle_timeout = 300ms;
  start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  expect_hello(c, "one");
  const auto answered = SteadyClock::now();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_GE(ms_since(answered), 300);
}

TEST_F(ServerLimitsTest, SlowHeaderOnAKeptAliveConnectionGetsTheHeaderTimeoutNotTheIdleOne) {
  ServerOptions o;
  o.idle_timeout = 20s;
  o.header_timeout = 300ms;
  start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  expect_hello(c, "one");
  const auto started = SteadyClock::now();
  ASSERT_TRUE(c.send_all("GET /hello/two HTTP/1.1\r\nHo"));
  EXPECT_TRUE(c.closed_by_peer());
  const auto elapsed = ms_since(started);
  EXPECT_GE(elapsed, 300);
  EXPECT_LT(elapsed, 10'000);  // well before the 20 s idle timeout (and the socket timeout)
}

TEST_F(ServerLimitsTest, SlowBodyIsDisconnectedAfterTheBodyTimeout) {
  ServerOptions o;
  o.body_timeout = 300ms;
  start(o);
  Client c(port_);
  ASSERT_TRUE(c.connected());
  const auto started = SteadyClock::now();
  ASSERT_TRUE(
      c.send_all("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_GE(ms_since(started), 300);
}

TEST_F(ServerLimitsTest, EachAnsweredRequestIsObservedInTheLatencyHistogram) {
  start(ServerOptions{});
  Client c(port_);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) expect_hello(c, std::to_string(i));
  ASSERT_TRUE(c.send_all(get_request("/nowhere", true)));  // a 404 is a request too
  ASSERT_TRUE(c.read_response().has_value());
  ASSERT_TRUE(poll_until([&] { return metrics_.request_seconds->snapshot().count == 4; }));
  const auto snap = metrics_.request_seconds->snapshot();
  EXPECT_EQ(snap.cumulative.back(), 4u);
  EXPECT_GE(snap.sum, 0.0);
  EXPECT_LT(snap.sum, 40.0);
  EXPECT_THAT(registry_.render(), HasSubstr("t_seconds_count 4\n"));
}

}  // namespace
}  // namespace cb::http
