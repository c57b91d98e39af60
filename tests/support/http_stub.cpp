#include "http_stub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace cbtest {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto la = static_cast<char>(std::tolower(static_cast<unsigned char>(a[i])));
    const auto lb = static_cast<char>(std::tolower(static_cast<unsigned char>(b[i])));
    if (la != lb) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string StubRequest::path() const { return target.substr(0, target.find('?')); }

std::optional<std::string> StubRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) {
      return v;
    }
  }
  return std::nullopt;
}

struct HttpStub::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  unsigned short port = 0;

  mutable std::mutex mutex;
  std::condition_variable arrived;
  std::vector<StubRequest> received;
  std::deque<StubResponse> queue;
  StubResponse fallback;
  std::function<StubResponse(const StubRequest&)> handler;

  StubResponse answer_for(const StubRequest& request) {
    std::function<StubResponse(const StubRequest&)> h;
    {
      std::lock_guard lock(mutex);
      received.push_back(request);
      h = handler;
    }
    arrived.notify_all();
    if (h) {
      return h(request);
    }
    std::lock_guard lock(mutex);
    if (!queue.empty()) {
      StubResponse r = std::move(queue.front());
      queue.pop_front();
      return r;
    }
    return fallback;
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      (void)n;
      if (ec) {
        co_return;
      }
      const auto& msg = parser.get();
      StubRequest request;
      request.method = std::string(msg.method_string());
      request.target = std::string(msg.target());
      for (const auto& field : msg) {
        request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      request.body = msg.body();
      const bool keep_alive = msg.keep_alive();

      StubResponse answer = answer_for(request);
      if (answer.delay.count() > 0) {
        asio::steady_timer timer(stream.get_executor());
        timer.expires_after(answer.delay);
        co_await timer.async_wait(kTuple);
      }
      if (answer.close_without_response) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(answer.status), 11};
      for (const auto& [name, value] : answer.headers) {
        res.insert(name, value);
      }
      res.body() = std::move(answer.body);
      res.keep_alive(keep_alive);
      res.prepare_payload();
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      (void)wn;
      if (wec || !keep_alive) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) {
        co_return;
      }
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }
};

HttpStub::HttpStub() : impl_(std::make_unique<Impl>()) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

HttpStub::~HttpStub() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

unsigned short HttpStub::port() const { return impl_->port; }

std::string HttpStub::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}

void HttpStub::enqueue(StubResponse response) {
  std::lock_guard lock(impl_->mutex);
  impl_->queue.push_back(std::move(response));
}

void HttpStub::set_default(StubResponse response) {
  std::lock_guard lock(impl_->mutex);
  impl_->fallback = std::move(response);
}

void HttpStub::set_handler(std::function<StubResponse(const StubRequest&)> handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->handler = std::move(handler);
}

std::vector<StubRequest> HttpStub::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

std::size_t HttpStub::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received.size();
}

bool HttpStub::wait_for_requests(std::size_t count, std::chrono::milliseconds deadline) {
  std::unique_lock lock(impl_->mutex);
  return impl_->arrived.wait_for(lock, deadline, [&] { return impl_->received.size() >= count; });
}

}  // namespace cbtest
