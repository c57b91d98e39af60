#pragma once
// A small HTTP/1.1 server on 127.0.0.1 (port chosen by the system) standing in for a
// third-party peer (Jira, a CI server, a webhook receiver) in unit and integration tests.
//
// It records every request it receives and answers each one from, in this order: a handler
// set with set_handler, the queue filled by enqueue (one response per request, first in first
// out), the default response (200, empty body). A response may be delayed (to provoke client
// timeouts) or replaced by closing the connection.
//
//   cbtest::HttpStub stub;
//   stub.enqueue({.status = 503, .headers = {{"Retry-After", "2"}}});
//   stub.enqueue({.status = 201, .body = R"({"id":"1"})"});
//   ... client sends to stub.url("/rest/api/2/issue/ABC-1/comment") ...
//   ASSERT_EQ(stub.requests().size(), 2u);
//   EXPECT_EQ(stub.requests()[1].header("Authorization"), "Bearer x");
//
// Thread-safe: the server runs on its own thread; every member may be called from any thread.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbtest {

/// A request as the stub received it.
struct StubRequest {
  std::string method{};  ///< e.g. "POST"
  std::string target{};  ///< path and query as sent, e.g. "/rest/api/2/issue/ABC-1/comment?x=1"
  std::vector<std::pair<std::string, std::string>> headers{};  ///< in order, names as sent
  std::string body{};                                          ///< raw body bytes

  /// The path part of target (before '?').
  [[nodiscard]] std::string path() const;
  /// The first header named `name` (case-insensitive), or nullopt.
  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

/// How the stub answers one request.
struct StubResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers{};  ///< added to Content-Length
  std::string body{};
  /// Wait this long before answering (cut short when the stub is destroyed).
  std::chrono::milliseconds delay{0};
  /// Close the connection instead of answering (after `delay`).
  bool close_without_response = false;
};

/// The stub server. Listens from construction to destruction.
class HttpStub {
 public:
  HttpStub();
  ~HttpStub();
  HttpStub(const HttpStub&) = delete;
  HttpStub& operator=(const HttpStub&) = delete;

  /// The TCP port it listens on (127.0.0.1).
  [[nodiscard]] unsigned short port() const;
  /// "http://127.0.0.1:<port>" followed by `path`.
  [[nodiscard]] std::string url(std::string_view path = "") const;

  /// Answers the next request that no handler answers with `response`.
  void enqueue(StubResponse response);
  /// The answer once the queue is empty (initially 200 with an empty body).
  void set_default(StubResponse response);
  /// Answers every request by calling `handler` (on the server thread); overrides the queue.
  void set_handler(std::function<StubResponse(const StubRequest&)> handler);

  /// Copies of all requests received so far, in arrival order.
  [[nodiscard]] std::vector<StubRequest> requests() const;
  /// Number of requests received so far.
  [[nodiscard]] std::size_t request_count() const;
  /// Waits until at least `count` requests have arrived or `deadline` passes; true if they did.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cbtest
