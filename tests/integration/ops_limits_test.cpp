// Limits and operations of the real binary: header timeout (a slow client does not block
// others), header field count, concurrent connections, the per-org rate limit, GET /metrics,
// GET /readyz, and JSON log lines.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kTrigger = "trigger-scm-push-request";

/// A plain loopback TCP connection (10 s socket timeouts) for what libcurl cannot do: send half
/// a request, or hold a connection open without a request.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  // not inherited by CLI children
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
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// Reads until the server closes the connection (or the 10 s socket timeout); returns what was
  /// received and whether the connection was closed.
  std::pair<std::string, bool> read_until_closed() {
    std::string got;
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return {got, true};
      if (n < 0) return {got, errno == ECONNRESET};
      got.append(buf, static_cast<std::size_t>(n));
    }
  }

  /// Sends `request` and reads one answer with a Content-Length body; returns the status
  /// (0 when the connection closed or timed out first) and the whole answer.
  std::pair<int, std::string> exchange(std::string_view request) {
    if (!send_all(request)) return {0, ""};
    std::string got;
    char buf[4096];
    while (true) {
      const auto end = got.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        const auto cl = got.find("Content-Length: ");
        if (cl != std::string::npos && cl < end) length = std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + length) {
          const int status = got.size() > 12 ? std::stoi(got.substr(9, 3)) : 0;
          return {status, got};
        }
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return {0, got};
      got.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
};

/// The value of the sample `series` (name with its label set, exactly as rendered) in a
/// Prometheus text body, or -1 when absent.
double sample(const std::string& metrics, const std::string& series) {
  std::istringstream in(metrics);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return -1;
}

class OpsLimitsTest : public IntegrationTest {
 protected:
  void SetUp() override {
    create_org("acme");
    create_org("globex");
    token_ = create_token("acme", "bitbucket");
    globex_token_ = create_token("globex", "bitbucket");
    add_repo("acme", "ORB", "orbit-tools", (tmp_ / "no-such-repo.git").string());
    add_job("acme", "ORB/orbit-tools", "build", "main", {"/bin/true"});
  }

  /// A push to main of acme's repository, distinct per `n`.
  static std::string push(int n) {
    return bitbucket_push_body("ORB", "orbit-tools",
                               {branch_change("main", "UPDATE", fake_hash("m" + std::to_string(n)),
                                              fake_hash("m" + std::to_string(n + 1)))});
  }

  std::string metrics_text() {
    const auto r = get(server_->base_url() + "/metrics");
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    return r.body;
  }

  std::string token_;
  std::string globex_token_;
};

TEST_F(OpsLimitsTest, HalfAHeaderBlockIsDisconnectedAfterTheHeaderTimeoutWithoutBlockingOthers) {
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_SERVER_HEADER_TIMEOUT_MS", "600"}}));
  const auto started = SteadyClock::now();
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<RawClient>(server_->port()));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->send_all("POST /api/webhook/v2/acme/enterprise/" +
                                      std::string(kTrigger) +
                                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Event-Key: repo:"));
  }
  // While the slow clients hang, signed deliveries are accepted and health answers.
  for (int i = 0; i < 4; ++i) {
    const auto r = send_push("acme", token_, push(i));
    EXPECT_EQ(r.status, 202) << r.describe();
  }
  EXPECT_EQ(get(server_->base_url() + "/healthz").status, 200);
  // Every slow client is disconnected without an answer, no sooner than the timeout.
  for (auto& c : slow) {
    const auto [got, closed] = c->read_until_closed();
    EXPECT_TRUE(closed);
    EXPECT_EQ(got, "");
  }
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  EXPECT_GE(elapsed.count(), 600);
  EXPECT_LT(elapsed.count(), 9'000);  // the socket timeout would say 10 s
  EXPECT_EQ(deliveries("acme").size(), 4u);
}

TEST_F(OpsLimitsTest, UnknownOrgOrNoCredentialsIsRefusedBeforeTheBodyIsRead) {
  ASSERT_TRUE(start_server());
  // Announce a 20 MB body but send none of it: the answer must come from the headers alone.
  auto ask = [&](const std::string& org, const std::string& extra_header) {
    RawClient c(server_->port());
    EXPECT_TRUE(c.connected());
    return c.exchange("POST /api/webhook/v2/" + org +
                      "/enterprise/trigger-scm-push-request HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/json\r\nX-Event-Key: repo:refs_changed\r\n"
                      "X-Request-Id: 11111111-2222-3333-4444-555555555555\r\n" +
                      extra_header + "Content-Length: 20000000\r\n\r\n");
  };
  const auto unknown = ask("nosuch", "X-Hub-Signature: sha256=" + std::string(64, 'a') + "\r\n");
  EXPECT_EQ(unknown.first, 404) << unknown.second;
  EXPECT_NE(unknown.second.find("unknown_org"), std::string::npos) << unknown.second;
  const auto anonymous = ask("acme", "");
  EXPECT_EQ(anonymous.first, 401) << anonymous.second;
  EXPECT_NE(anonymous.second.find("missing_credentials"), std::string::npos) << anonymous.second;
  EXPECT_TRUE(deliveries().empty());
}

TEST_F(OpsLimitsTest, MoreHeaderFieldsThanTheLimitIs431AndNothingIsStored) {
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_SERVER_MAX_HEADER_COUNT", "20"}}));
  const std::string body = push(1);
  Headers h = signed_push_headers(token_, body, new_request_id());
  // curl adds Host, Accept and Content-Length: 8 fields so far.
  for (int i = 0; i < 12; ++i) h.emplace_back("X-Extra-" + std::to_string(i), "v");
  const auto ok = post(server_->webhook_url("acme", kTrigger), h, body);
  EXPECT_EQ(ok.status, 202) << "exactly 20 fields: " << ok.describe();
  h.emplace_back("X-One-Too-Many", "v");
  h[2].second = new_request_id();  // X-Request-Id
  const auto r = post(server_->webhook_url("acme", kTrigger), h, body);
  EXPECT_EQ(r.status, 431) << r.describe();
  EXPECT_EQ(r.error_code(), "headers_too_large");
  EXPECT_EQ(r.error_message(), "request has 21 header fields; the limit is 20");
  EXPECT_EQ(deliveries("acme").size(), 1u);
}

TEST_F(OpsLimitsTest, ConnectionsOverTheLimitAreAnswered503WithRetryAfter) {
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_SERVER_MAX_CONNECTIONS", "2"}}));
  // Two keep-alive connections that the server serves. (A connection of a request answered
  // just before may still count for a moment, and get one of them refused: then retry.)
  std::vector<std::unique_ptr<RawClient>> held;
  int refused = 0;
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  while (held.size() < 2) {
    auto c = std::make_unique<RawClient>(server_->port());
    ASSERT_TRUE(c->connected());
    const auto [status, text] = c->exchange(healthz);
    ASSERT_TRUE(status == 200 || status == 503) << text;
    if (status == 200) {
      held.push_back(std::move(c));
    } else {
      ++refused;
    }
    ASSERT_LT(refused, 50) << server_->stderr_text();
  }
  // Both are still open: a third connection is refused at once, without reading its request.
  HttpResponse last = get(server_->base_url() + "/healthz");
  ASSERT_EQ(last.status, 503) << last.describe();
  ++refused;
  EXPECT_EQ(last.header("retry-after"), "1");
  EXPECT_EQ(last.header("connection"), "close");
  EXPECT_EQ(last.error_code(), "overloaded");
  EXPECT_EQ(last.error_message(),
            "the server is serving its limit of 2 connections; retry shortly");

  // A signed delivery is refused the same way, and is not stored.
  const auto r = send_push("acme", token_, push(1));
  EXPECT_EQ(r.status, 503) << r.describe();
  ++refused;

  // The held connections are still served.
  EXPECT_EQ(held[0]->exchange(healthz).first, 200);
  // When a connection closes, requests are served again. (The connection of a request just
  // answered may still count for a moment: poll.)
  held[1]->close();
  ASSERT_TRUE(wait_until([&] {
    last = get(server_->base_url() + "/metrics");
    if (last.status == 503) ++refused;
    return last.status == 200;
  })) << last.describe();
  EXPECT_EQ(sample(last.body, "commitbridge_http_connections_refused_total"), refused);
  EXPECT_EQ(sample(last.body, "commitbridge_http_connections"), 2);  // held[0] and this scrape
  held[0]->close();
  EXPECT_TRUE(deliveries("acme").empty());
}

TEST_F(OpsLimitsTest, OrgOverItsRateLimitGets429WithRetryAfter) {
  // One request per second, bursts of 3; four requests take far less than a second here.
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_LIMITS_ORG_REQUESTS_PER_SECOND", "1"},
                            {"COMMITBRIDGE_LIMITS_ORG_BURST", "3"}}));
  // Requests with a wrong token do not use acme's budget.
  for (int i = 0; i < 5; ++i) {
    const auto r = send_push("acme", globex_token_, push(100 + i));
    EXPECT_EQ(r.status, 401) << r.describe();
  }
  for (int i = 0; i < 3; ++i) {
    const auto r = send_push("acme", token_, push(i));
    EXPECT_EQ(r.status, 202) << i << ": " << r.describe();
  }
  const auto limited = send_push("acme", token_, push(3));
  EXPECT_EQ(limited.status, 429) << limited.describe();
  EXPECT_EQ(limited.header("retry-after"), "1");
  EXPECT_EQ(limited.error_code(), "rate_limited");
  EXPECT_TRUE(StartsWith(limited.error_message(),
                         "org 'acme' is over its limit of 1 requests per second (burst 3)"));
  // Another org has its own budget.
  const auto other = post(server_->webhook_url("globex", kTrigger),
                          signed_push_headers(globex_token_, push(7), new_request_id()), push(7));
  EXPECT_EQ(other.status, 202) << other.describe();
  EXPECT_EQ(deliveries("acme").size(), 3u);
  EXPECT_EQ(sample(metrics_text(), "commitbridge_webhook_refused_total{code=\"rate_limited\"}"), 1);
}

TEST_F(OpsLimitsTest, TwoThousandDeliveriesOfOneOrgAtOnceAreAllAcceptedWithTheDefaultLimits) {
  // A thousand pushes at once, each sent to both of a repository's webhook URLs, must all be
  // stored: Bitbucket DC does not retry a refused call and opens its circuit breaker after five
  // failures in a row. The branch matches no job, so nothing runs while the test sends.
  ASSERT_TRUE(start_server());
  constexpr int kDeliveries = 2000;
  constexpr int kThreads = 32;
  std::vector<std::string> bodies;
  for (int i = 0; i < kDeliveries; ++i) {
    bodies.push_back(bitbucket_push_body(
        "ORB", "orbit-tools",
        {branch_change("feature/load", "UPDATE", fake_hash("load" + std::to_string(i)),
                       fake_hash("load" + std::to_string(i + 1)))}));
  }
  std::atomic<int> accepted{0};
  std::atomic<int> waiting{kThreads};
  std::vector<std::string> refusals(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      waiting.fetch_sub(1);
      while (waiting.load() > 0) std::this_thread::yield();  // all threads start together
      for (int i = t; i < kDeliveries; i += kThreads) {
        const auto r = send_push("acme", token_, bodies[static_cast<std::size_t>(i)]);
        if (r.status == 202) {
          accepted.fetch_add(1);
        } else if (refusals[static_cast<std::size_t>(t)].empty()) {
          refusals[static_cast<std::size_t>(t)] = r.describe();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  std::string first_refusal;
  for (const auto& r : refusals) {
    if (first_refusal.empty()) first_refusal = r;
  }
  EXPECT_EQ(accepted.load(), kDeliveries) << first_refusal;
  const std::string text = metrics_text();
  EXPECT_EQ(sample(text,
                   "commitbridge_deliveries_total{org=\"acme\",provider=\"bitbucket_server\","
                   "status=\"queued\"}"),
            kDeliveries);
  EXPECT_LE(sample(text, "commitbridge_webhook_refused_total{code=\"rate_limited\"}"),
            0);  // absent or 0
}

TEST_F(OpsLimitsTest, MetricsCountDeliveriesRunsAndFailures) {
  ASSERT_TRUE(start_server());
  std::vector<std::string> ids;
  const std::string request_id = new_request_id();
  for (int i = 0; i < 2; ++i) {
    const auto r = send_push("acme", token_, push(i), i == 0 ? request_id : new_request_id());
    ASSERT_EQ(r.status, 202) << r.describe();
    ids.push_back(str(r.json(), "delivery_id"));
  }
  EXPECT_EQ(send_push("ACME", token_, push(0), request_id).status, 200);  // duplicate
  EXPECT_EQ(send_push("acme", globex_token_, push(9)).status, 401);
  EXPECT_EQ(send_push("nobody", token_, push(9)).status, 404);
  for (const auto& id : ids) EXPECT_EQ(str(wait_processed(id), "status"), "done");

  std::string text;
  const std::string series =
      "commitbridge_deliveries_total{org=\"acme\",provider=\"bitbucket_server\"";
  // The worker counts right after recording, the runner when a run ends; the queue gauge is
  // sampled about once a second.
  ASSERT_TRUE(wait_until([&] {
    text = metrics_text();
    return sample(text, series + ",status=\"done\"}") == 2 &&
           sample(text, "commitbridge_queue_depth") == 0 &&
           sample(text, "commitbridge_job_runs_total{status=\"succeeded\"}") == 2;
  })) << text;
  EXPECT_EQ(sample(text, series + ",status=\"queued\"}"), 2);
  EXPECT_EQ(sample(text, series + ",status=\"duplicate\"}"), 1);
  EXPECT_EQ(sample(text, "commitbridge_job_runs_total{status=\"succeeded\"}"), 2);
  EXPECT_EQ(sample(text, "commitbridge_webhook_auth_failures_total{reason=\"invalid_signature\"}"),
            1);
  EXPECT_EQ(sample(text, "commitbridge_webhook_auth_failures_total{reason=\"unknown_org\"}"), 1);
  EXPECT_EQ(sample(text, "commitbridge_outbox_backlog"), 0);
  EXPECT_EQ(sample(text, "commitbridge_store_up"), 1);
  // Every answered request before this scrape is in the latency histogram (the scrape itself
  // is observed after its answer is written).
  EXPECT_GE(sample(text, "commitbridge_http_request_duration_seconds_count"), 5);
  EXPECT_EQ(sample(text, "commitbridge_http_request_duration_seconds_bucket{le=\"+Inf\"}"),
            sample(text, "commitbridge_http_request_duration_seconds_count"));
  EXPECT_GE(sample(text, "commitbridge_http_request_duration_seconds_bucket{le=\"10\"}"), 5);
}

TEST_F(OpsLimitsTest, LongSenderDeliveryIdsThatDifferOnlyAfter200BytesAreNotDuplicates) {
  ASSERT_TRUE(start_server());
  const std::string prefix(256, 'q');
  const auto a = send_push("acme", token_, push(1), prefix + "A");
  const auto b = send_push("acme", token_, push(2), prefix + "B");
  ASSERT_EQ(a.status, 202) << a.describe();
  ASSERT_EQ(b.status, 202) << b.describe();
  EXPECT_NE(str(a.json(), "delivery_id"), str(b.json(), "delivery_id"));
  const auto again = send_push("acme", token_, push(1), prefix + "A");
  ASSERT_EQ(again.status, 200) << again.describe();
  EXPECT_EQ(str(again.json(), "status"), "duplicate");
  EXPECT_EQ(str(again.json(), "delivery_id"), str(a.json(), "delivery_id"));
}

TEST_F(OpsLimitsTest, ThreadsAreNamedAndTheWorkerGivesWayToTheRequestThreads) {
  ASSERT_TRUE(start_server());
  const auto task_dir = std::filesystem::path("/proc") / std::to_string(server_->pid()) / "task";
  std::multiset<std::string> names;
  int main_nice = 0;
  int worker_nice = -100;
  for (const auto& task : std::filesystem::directory_iterator(task_dir)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    names.insert(name);
    const auto tid = static_cast<id_t>(std::stoll(task.path().filename().string()));
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, tid);
    ASSERT_EQ(errno, 0);
    if (tid == static_cast<id_t>(server_->pid())) main_nice = nice;
    if (name == "cb-worker") worker_nice = nice;
  }
  for (const char* name : {"cb-io-0", "cb-io-1", "cb-writer", "cb-checkpoint", "cb-worker",
                           "cb-recorder", "cb-outbox", "cb-runner-0"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  EXPECT_EQ(worker_nice, std::max(main_nice, 10));  // kWorkerNice, never a raise
}

TEST_F(OpsLimitsTest, ReadyzIs200WhileTheStoreAnswersAnd503WhenItDoesNot) {
  ASSERT_TRUE(start_server());
  auto r = get(server_->base_url() + "/readyz");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(str(r.json(), "status"), "ready");
  EXPECT_EQ(r.json().at("pending_deliveries").as_int64(), 0);

  // Break the store under the running server with the sqlite3 shell, then repair it.
  if (run_process({"sqlite3", "-version"}).exit_code != 0) {
    GTEST_SKIP() << "the sqlite3 shell is not installed";
  }
  const std::string db = (data_dir_ / "commitbridge.db").string();
  auto broken = run_process(
      {"sqlite3", "-cmd", ".timeout 5000", db, "ALTER TABLE deliveries RENAME TO deliveries_away"});
  ASSERT_EQ(broken.exit_code, 0) << broken.describe();
  ASSERT_TRUE(wait_until([&] {
    r = get(server_->base_url() + "/readyz");
    return r.status == 503;
  })) << r.describe();
  EXPECT_EQ(r.error_code(), "store_unavailable");
  EXPECT_EQ(r.error_message(), "the store did not answer");
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(sample(metrics_text(), "commitbridge_store_up"), 0);

  auto repaired = run_process(
      {"sqlite3", "-cmd", ".timeout 5000", db, "ALTER TABLE deliveries_away RENAME TO deliveries"});
  ASSERT_EQ(repaired.exit_code, 0) << repaired.describe();
  ASSERT_TRUE(wait_until([&] {
    r = get(server_->base_url() + "/readyz");
    return r.status == 200;
  })) << r.describe();
  EXPECT_EQ(sample(metrics_text(), "commitbridge_store_up"), 1);
}

TEST_F(OpsLimitsTest, JsonLogLinesStayValidJsonWithQuotesInMessages) {
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_LOG_JSON", "true"}}));
  // An org name with a quote, a backslash and a control character reaches the log line.
  const auto r = send_push("ac%22me%5Cx%01", token_, push(1));
  EXPECT_EQ(r.status, 404) << r.describe();
  const auto ok = send_push("acme", token_, push(2));
  ASSERT_EQ(ok.status, 202) << ok.describe();
  const std::string id = str(ok.json(), "delivery_id");
  EXPECT_EQ(str(wait_processed(id), "status"), "done");
  ASSERT_EQ(server_->stop(SIGTERM), 0);

  std::istringstream in(server_->stderr_text());
  std::string line;
  int lines = 0;
  bool saw_quote = false;
  bool saw_delivery = false;
  while (std::getline(in, line)) {
    ++lines;
    boost::system::error_code ec;
    const auto v = json::parse(line, ec);
    ASSERT_FALSE(ec) << "line " << lines << " is not JSON: " << line;
    ASSERT_TRUE(v.is_object()) << line;
    EXPECT_FALSE(str(v, "time").empty()) << line;
    EXPECT_FALSE(str(v, "level").empty()) << line;
    const std::string message = str(v, "message");
    if (message.find("org=ac\"me\\x\x01") != std::string::npos) saw_quote = true;
    if (str(v, "delivery_id") == id) saw_delivery = true;
  }
  EXPECT_GE(lines, 4);
  EXPECT_TRUE(saw_quote) << server_->stderr_text();
  EXPECT_TRUE(saw_delivery) << server_->stderr_text();
}

}  // namespace
}  // namespace cbtest
