#include "connectors/http_client.hpp"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http_stub.hpp"

namespace cb::connectors {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

/// A URL on 127.0.0.1 where nothing listens (a stub's port after the stub is gone).
std::string closed_port_url(std::string_view path) {
  cbtest::HttpStub stub;
  return stub.url(path);
}

TEST(HttpClientTest, GetReturnsStatusHeadersAndBody) {
  cbtest::HttpStub stub;
  stub.enqueue({.status = 200,
                .headers = {{"Content-Type", "application/json"}, {"X-Thing", " padded "}},
                .body = R"({"ok":true})"});
  CurlHttpClient client;
  HttpRequest req;
  req.url = stub.url("/path/x?q=1");
  req.headers = {{"Accept", "application/json"}, {"X-Custom", "v1"}};
  auto res = client.send(req);
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, R"({"ok":true})");
  EXPECT_FALSE(res->body_truncated);
  EXPECT_EQ(res->content_type(), "application/json");
  EXPECT_EQ(res->header("x-thing"), "padded");
  EXPECT_EQ(res->header("missing"), std::nullopt);

  const auto received = stub.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "GET");
  EXPECT_EQ(received[0].target, "/path/x?q=1");
  EXPECT_EQ(received[0].header("Accept"), "application/json");
  EXPECT_EQ(received[0].header("X-Custom"), "v1");
  EXPECT_EQ(received[0].header("User-Agent"), "commitbridge/0.1");
  EXPECT_EQ(received[0].header("Expect"), std::nullopt);
  EXPECT_EQ(received[0].body, "");
}

TEST(HttpClientTest, PostAndPutSendTheBodyVerbatim) {
  cbtest::HttpStub stub;
  stub.enqueue({.status = 201});
  stub.enqueue({.status = 204});
  CurlHttpClient client;
  HttpRequest req;
  req.method = "POST";
  req.url = stub.url("/a");
  req.headers = {{"Content-Type", "application/json"}};
  req.body = std::string(5000, 'x') + "\r\n\0end";  // larger than curl's Expect threshold
  auto res = client.send(req);
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 201);

  req.method = "PUT";
  req.body = "{}";
  auto put = client.send(req);
  ASSERT_TRUE(put.has_value()) << put.error().message;
  EXPECT_EQ(put->status, 204);

  const auto received = stub.requests();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].method, "POST");
  EXPECT_EQ(received[0].body, std::string(5000, 'x') + "\r\n\0end");
  EXPECT_EQ(received[0].header("Content-Type"), "application/json");
  EXPECT_EQ(received[0].header("Expect"), std::nullopt);
  EXPECT_EQ(received[1].method, "PUT");
  EXPECT_EQ(received[1].body, "{}");
}

TEST(HttpClientTest, ErrorStatusesAreValues) {
  cbtest::HttpStub stub;
  stub.enqueue({.status = 503, .headers = {{"Retry-After", "7"}}, .body = "busy"});
  CurlHttpClient client;
  auto res = client.send({.url = stub.url("/")});
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "busy");
  EXPECT_EQ(res->retry_after(0), 7000ms);
}

TEST(HttpClientTest, BodyIsCappedAndMarkedTruncated) {
  cbtest::HttpStub stub;
  stub.enqueue({.status = 200, .body = std::string(200000, 'b')});
  CurlHttpClient client;
  HttpRequest req;
  req.url = stub.url("/big");
  req.max_response_bytes = 100;
  auto res = client.send(req);
  ASSERT_TRUE(res.has_value()) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, std::string(100, 'b'));
  EXPECT_TRUE(res->body_truncated);
}

TEST(HttpClientTest, RedirectsAreNotFollowedByDefault) {
  cbtest::HttpStub stub;
  stub.set_handler([&](const cbtest::StubRequest& r) {
    if (r.path() == "/old") {
      return cbtest::StubResponse{.status = 302, .headers = {{"Location", "/new"}}};
    }
    return cbtest::StubResponse{.status = 200, .body = "new"};
  });
  CurlHttpClient client;
  HttpRequest req;
  req.url = stub.url("/old");
  auto res = client.send(req);
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 302);
  EXPECT_EQ(res->header("Location"), "/new");
  EXPECT_EQ(stub.request_count(), 1u);

  req.follow_redirects = true;
  auto followed = client.send(req);
  ASSERT_TRUE(followed.has_value());
  EXPECT_EQ(followed->status, 200);
  EXPECT_EQ(followed->body, "new");
}

TEST(HttpClientTest, TimeoutIsClassified) {
  cbtest::HttpStub stub;
  stub.enqueue({.status = 200, .delay = 5s});
  CurlHttpClient client;
  HttpRequest req;
  req.url = stub.url("/slow");
  req.timeout = 200ms;
  const auto started = std::chrono::steady_clock::now();
  auto res = client.send(req);
  ASSERT_FALSE(res.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
  EXPECT_EQ(http_failure_of(res.error()), HttpFailure::timeout);
  EXPECT_EQ(res.error().code, ErrorCode::peer_unavailable);
  EXPECT_THAT(res.error().message, HasSubstr("within 200 ms"));
  EXPECT_TRUE(is_transient(HttpFailure::timeout));
}

TEST(HttpClientTest, ConnectionRefusedIsClassifiedAndHidesUserinfo) {
  CurlHttpClient client;
  std::string url = closed_port_url("/x?token=s3cr3t-q");
  url.insert(std::string("http://").size(), "alice:hunter2-pw@");
  auto res = client.send({.url = url});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(http_failure_of(res.error()), HttpFailure::connection_refused);
  EXPECT_THAT(res.error().message, Not(HasSubstr("hunter2-pw")));
  EXPECT_THAT(res.error().message, Not(HasSubstr("s3cr3t-q")));
  EXPECT_THAT(res.error().detail, Not(HasSubstr("hunter2-pw")));
  EXPECT_THAT(res.error().message, HasSubstr("127.0.0.1"));
}

TEST(HttpClientTest, ClosedWithoutAnswerIsAConnectionFailure) {
  cbtest::HttpStub stub;
  stub.enqueue({.close_without_response = true});
  CurlHttpClient client;
  auto res = client.send({.url = stub.url("/")});
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(http_failure_of(res.error()), HttpFailure::connection);
}

TEST(HttpClientTest, TlsFailureIsClassified) {
  cbtest::HttpStub stub;  // speaks plain HTTP: the TLS handshake fails
  CurlHttpClient client;
  std::string url = stub.url("/");
  url.replace(0, 4, "https");
  HttpRequest req;
  req.url = url;
  req.timeout = 5s;
  auto res = client.send(req);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(http_failure_of(res.error()), HttpFailure::tls) << res.error().message;
  EXPECT_FALSE(is_transient(HttpFailure::tls));
}

TEST(HttpClientTest, CancelAbortsTheTransfer) {
  cbtest::HttpStub stub;
  stub.enqueue({.status = 200, .delay = 10s});
  std::atomic<bool> cancel{true};
  CurlHttpClient client;
  HttpRequest req;
  req.url = stub.url("/");
  req.cancel = &cancel;
  const auto started = std::chrono::steady_clock::now();
  auto res = client.send(req);
  ASSERT_FALSE(res.has_value());
  EXPECT_EQ(http_failure_of(res.error()), HttpFailure::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(HttpClientTest, InvalidRequestsAreRejectedBeforeSending) {
  cbtest::HttpStub stub;
  CurlHttpClient client;
  const auto expect_invalid = [&](const HttpRequest& req) {
    auto res = client.send(req);
    ASSERT_FALSE(res.has_value());
    EXPECT_EQ(http_failure_of(res.error()), HttpFailure::invalid_request);
    EXPECT_EQ(res.error().code, ErrorCode::invalid_argument);
  };
  expect_invalid({.url = "ftp://127.0.0.1/"});
  expect_invalid({.url = "not a url"});
  expect_invalid({.method = "GE T", .url = stub.url("/")});
  expect_invalid({.url = stub.url("/"), .headers = {{"X-A", "v\r\nX-Injected: 1"}}});
  expect_invalid({.url = stub.url("/"), .headers = {{"Bad Name", "v"}}});
  expect_invalid({.url = stub.url("/"), .timeout = 0ms});
  EXPECT_EQ(stub.request_count(), 0u);
}

TEST(HttpClientTest, ConcurrentRequestsFromSeveralThreads) {
  cbtest::HttpStub stub;
  stub.set_handler([](const cbtest::StubRequest& r) {
    return cbtest::StubResponse{.status = 200, .body = r.path()};
  });
  CurlHttpClient client;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        auto res = client.send({.url = stub.url(path)});
        if (res && res->status == 200 && res->body == path) {
          ok.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 30);
  EXPECT_EQ(stub.request_count(), 30u);
}

// Each test runs in its own process (gtest_discover_tests), so these are the process's first
// sends: libcurl is initialised by whichever of the threads, released together, sends first.
TEST(HttpClientTest, FirstSendsFromThreadsReleasedTogetherAllSucceed) {
  cbtest::HttpStub stub;
  stub.set_handler([](const cbtest::StubRequest& r) {
    return cbtest::StubResponse{.status = 200, .body = r.path()};
  });
  constexpr int kThreads = 8;
  std::atomic<int> waiting{kThreads};
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CurlHttpClient client;  // one client per thread: none has sent before
      waiting.fetch_sub(1);
      while (waiting.load() > 0) std::this_thread::yield();
      const std::string path = "/first/" + std::to_string(t);
      auto res = client.send({.url = stub.url(path)});
      if (res && res->status == 200 && res->body == path) ok.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(stub.request_count(), static_cast<std::size_t>(kThreads));
}

TEST(HttpResponseTest, RetryAfterAcceptsSecondsAndHttpDates) {
  HttpResponse res;
  EXPECT_EQ(res.retry_after(0), std::nullopt);
  res.headers = {{"retry-after", "120"}};
  EXPECT_EQ(res.retry_after(0), 120000ms);
  // Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s since the epoch.
  res.headers = {{"Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"}};
  EXPECT_EQ(res.retry_after(784111777000 - 5000), 5000ms);
  EXPECT_EQ(res.retry_after(784111777000 + 5000), 0ms);  // in the past
  res.headers = {{"Retry-After", "soon"}};
  EXPECT_EQ(res.retry_after(0), std::nullopt);
  res.headers = {{"Retry-After", "-3"}};
  EXPECT_EQ(res.retry_after(0), std::nullopt);
}

TEST(HttpClientHelpersTest, RedactUrlHidesUserinfoAndSecretQueryValues) {
  EXPECT_EQ(redact_url("https://bob:pw@host.example/p?a=1&api_token=xyz&Sig=abc&b=2"),
            "https://***@host.example/p?a=1&api_token=***&Sig=***&b=2");
  EXPECT_EQ(redact_url("http://host.example:8080/p"), "http://host.example:8080/p");
  EXPECT_EQ(redact_url("http://[bad"), "<invalid URL>");
}

TEST(HttpClientHelpersTest, SecretHeaderNames) {
  EXPECT_TRUE(is_secret_header("Authorization"));
  EXPECT_TRUE(is_secret_header("proxy-authorization"));
  EXPECT_TRUE(is_secret_header("X-Api-Key"));
  EXPECT_TRUE(is_secret_header("X-Gitlab-Token"));
  EXPECT_TRUE(is_secret_header("X-Client-Secret"));
  EXPECT_TRUE(is_secret_header("DB-PASSWORD"));
  EXPECT_FALSE(is_secret_header("Content-Type"));
  EXPECT_FALSE(is_secret_header("X-Request-Id"));
}

TEST(HttpClientHelpersTest, FailureNamesRoundTrip) {
  for (auto f : {HttpFailure::timeout, HttpFailure::connection_refused, HttpFailure::dns,
                 HttpFailure::tls, HttpFailure::connection, HttpFailure::cancelled,
                 HttpFailure::invalid_request, HttpFailure::other}) {
    EXPECT_EQ(http_failure_of(make_http_error(f, "x")), f) << to_string(f);
  }
  EXPECT_EQ(http_failure_of(make_error(ErrorCode::internal, "timeout")), HttpFailure::other);
  EXPECT_TRUE(is_transient(HttpFailure::dns));
  EXPECT_FALSE(is_transient(HttpFailure::invalid_request));
}

}  // namespace
}  // namespace cb::connectors
