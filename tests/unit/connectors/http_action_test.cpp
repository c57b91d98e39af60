#include "connectors/http_action.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/digest.hpp"
#include "http_stub.hpp"

namespace cb::connectors {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

/// Records the waits asked for and advances the manual clock instead of sleeping.
class RecordingSleeper final : public RetrySleeper {
 public:
  explicit RecordingSleeper(ManualClock& clock) : clock_(clock) {}
  bool sleep_for(std::chrono::milliseconds duration, const std::atomic<bool>* cancel) override {
    waits.push_back(duration);
    clock_.advance(duration.count());
    if (on_sleep) on_sleep();
    return cancel == nullptr || !cancel->load();
  }
  std::vector<std::chrono::milliseconds> waits;
  std::function<void()> on_sleep;

 private:
  ManualClock& clock_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class HttpActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cb-http-action-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  HttpActionSpec spec_for(std::string path) {
    HttpActionSpec spec;
    spec.url_template = stub_.url(path);
    spec.timeout = 5s;
    spec.base_backoff = 1000ms;
    spec.max_backoff = 60000ms;
    spec.log_file = dir_ / "logs" / "run.log";
    return spec;
  }

  HttpActionResult run(const HttpActionSpec& spec, const TemplateValues& values = {}) {
    auto r = run_http_action(spec, values, client_, clock_, sleeper_, [] { return 0.5; });
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r.value_or(HttpActionResult{});
  }

  fs::path dir_;
  cbtest::HttpStub stub_;
  CurlHttpClient client_;
  ManualClock clock_{1'780'000'000'000};
  RecordingSleeper sleeper_{clock_};
};

TEST_F(HttpActionTest, RetriesOnServerErrorsThenSucceeds) {
  stub_.enqueue({.status = 500, .body = "boom"});
  stub_.enqueue({.status = 503});
  stub_.enqueue({.status = 502});
  stub_.enqueue({.status = 201, .body = "created"});
  const auto r = run(spec_for("/hook"));
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(r.last_status, 201);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.cancelled);
  EXPECT_EQ(stub_.request_count(), 4u);
  // Full jitter with a factor of 0.5: half of 1 s, 2 s, 4 s.
  EXPECT_THAT(sleeper_.waits, ElementsAre(500ms, 1000ms, 2000ms));
  EXPECT_EQ(r.started_at_ms, 1'780'000'000'000);
  EXPECT_EQ(r.finished_at_ms, 1'780'000'003'500);
  const std::string log = read_file(dir_ / "logs" / "run.log");
  EXPECT_THAT(log, HasSubstr("attempt 1/5: POST " + stub_.url("/hook")));
  EXPECT_THAT(log, HasSubstr("attempt 1/5: HTTP 500 in "));
  EXPECT_THAT(log, HasSubstr("attempt 1/5: response: boom"));
  EXPECT_THAT(log, HasSubstr("waiting 500 ms before attempt 2"));
  EXPECT_THAT(log, HasSubstr("attempt 4/5: HTTP 201"));
  EXPECT_THAT(log, HasSubstr("succeeded after 4 attempt(s)"));
  EXPECT_EQ(r.output_tail, log);
}

TEST_F(HttpActionTest, BackoffIsCappedByMaxBackoff) {
  stub_.set_default({.status = 500});
  auto spec = spec_for("/");
  spec.max_attempts = 6;
  spec.base_backoff = 1000ms;
  spec.max_backoff = 5000ms;
  auto r = run_http_action(spec, {}, client_, clock_, sleeper_, [] { return 1.0; });
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->succeeded);
  EXPECT_EQ(r->attempts, 6);
  EXPECT_EQ(r->last_status, 500);
  EXPECT_THAT(sleeper_.waits, ElementsAre(1000ms, 2000ms, 4000ms, 5000ms, 5000ms));
  EXPECT_THAT(r->error, HasSubstr("HTTP 500 from " + stub_.url("/")));
  EXPECT_THAT(r->output_tail, HasSubstr("giving up after 6 attempts"));
}

TEST_F(HttpActionTest, RetryAfterIsHonouredAndCapped) {
  stub_.enqueue({.status = 429, .headers = {{"Retry-After", "7"}}});
  stub_.enqueue({.status = 503, .headers = {{"Retry-After", "3600"}}});
  stub_.enqueue({.status = 200});
  const auto r = run(spec_for("/"));
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_THAT(sleeper_.waits, ElementsAre(7000ms, 60000ms));
  EXPECT_THAT(r.output_tail, HasSubstr("waiting 7000 ms before attempt 2 (Retry-After)"));
}

TEST_F(HttpActionTest, ClientErrorsAreNotRetried) {
  for (int status : {400, 404}) {
    cbtest::HttpStub stub;
    stub.set_default({.status = status, .body = "{\"error\":\"nope\"}"});
    sleeper_.waits.clear();
    HttpActionSpec spec = spec_for("/");
    spec.url_template = stub.url("/x");
    const auto r = run(spec);
    EXPECT_FALSE(r.succeeded);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.last_status, status);
    EXPECT_EQ(stub.request_count(), 1u);
    EXPECT_TRUE(sleeper_.waits.empty());
    EXPECT_EQ(r.error, "HTTP " + std::to_string(status) + " from " + stub.url("/x") +
                           ": {\"error\":\"nope\"}");
    EXPECT_THAT(r.output_tail, HasSubstr("not retried"));
  }
}

TEST_F(HttpActionTest, TimeoutIsRetried) {
  stub_.enqueue({.status = 200, .delay = 3s});
  stub_.enqueue({.status = 200, .body = "ok"});
  auto spec = spec_for("/slow");
  spec.timeout = 200ms;
  const auto r = run(spec);
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.last_status, 200);
  EXPECT_THAT(sleeper_.waits, ElementsAre(500ms));
  EXPECT_THAT(r.output_tail, HasSubstr("attempt 1/5: timeout: no complete response"));
}

TEST_F(HttpActionTest, ConnectionRefusedIsRetriedUntilAttemptsRunOut) {
  std::string url;
  {
    cbtest::HttpStub gone;
    url = gone.url("/hook");
  }
  HttpActionSpec spec = spec_for("/");
  spec.url_template = url;
  spec.max_attempts = 3;
  const auto r = run(spec);
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.last_status, 0);
  EXPECT_THAT(r.error, HasSubstr("connection_refused: "));
  EXPECT_EQ(sleeper_.waits.size(), 2u);
}

TEST_F(HttpActionTest, SendsExactlyTheExpandedRequest) {
  stub_.enqueue({.status = 204});
  HttpActionSpec spec;
  spec.method = "PUT";
  spec.url_template = stub_.url("/builds/{{ branch }}?sha={{to_hash}}");
  spec.headers = {{"Content-Type", "application/json; charset=utf-8"},
                  {"X-Ref", "refs/heads/{{branch}}"}};
  spec.body_template = R"({"ref":"{{branch}}","msg":"{{message}}","pr":{{pull_request.id}}})";
  const TemplateValues values = {{"branch", "feat/a b"},
                                 {"to_hash", "deadbeef"},
                                 {"message", "fix \"x\"\nnext"},
                                 {"pull_request.id", "7"}};
  const auto r = run(spec, values);
  EXPECT_TRUE(r.succeeded);
  const auto received = stub_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].method, "PUT");
  EXPECT_EQ(received[0].target, "/builds/feat%2Fa%20b?sha=deadbeef");
  EXPECT_EQ(received[0].header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(received[0].header("X-Ref"), "refs/heads/feat/a b");
  EXPECT_EQ(received[0].body, R"({"ref":"feat/a b","msg":"fix \"x\"\nnext","pr":7})");
}

TEST_F(HttpActionTest, BodyWithoutContentTypeIsSentAsJson) {
  stub_.enqueue({.status = 200});
  auto spec = spec_for("/");
  spec.body_template = R"({"m":"{{m}}"})";
  run(spec, {{"m", "a\"b"}});
  const auto received = stub_.requests();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].header("Content-Type"), "application/json");
  EXPECT_EQ(received[0].body, R"({"m":"a\"b"})");
}

TEST_F(HttpActionTest, NonJsonBodyIsNotEscaped) {
  stub_.enqueue({.status = 200});
  auto spec = spec_for("/");
  spec.headers = {{"Content-Type", "text/plain"}};
  spec.body_template = "msg={{m}}";
  run(spec, {{"m", "a\"b\n"}});
  ASSERT_EQ(stub_.request_count(), 1u);
  EXPECT_EQ(stub_.requests()[0].body, "msg=a\"b\n");
}

TEST_F(HttpActionTest, TemplateErrorsAreReportedBeforeSending) {
  auto spec = spec_for("/{{nope}}");
  auto r = run_http_action(spec, {}, client_, clock_, sleeper_, [] { return 0.5; });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(r.error().message, HasSubstr("URL: unknown placeholder {{nope}}"));

  spec = spec_for("/");
  spec.headers = {{"Authorization", "Bearer {{token_value}}"}};
  r = run_http_action(spec, {}, client_, clock_, sleeper_, [] { return 0.5; });
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message,
              HasSubstr("header Authorization: unknown placeholder {{token_value}}"));

  spec = spec_for("/");
  spec.max_attempts = 0;
  EXPECT_FALSE(run_http_action(spec, {}, client_, clock_, sleeper_, [] { return 0.5; }));
  EXPECT_EQ(stub_.request_count(), 0u);
}

TEST_F(HttpActionTest, SecretsNeverAppearInLogTailErrorOrServerLog) {
  const std::string bearer = "cbx-bearer-0123456789abcdef";
  const std::string api_key = "k3y-fedcba9876543210";
  const std::string basic_password = "pw-s3cr3t-hunter2";
  // The peer echoes every credential it got, in its body and in an error.
  stub_.set_handler([&](const cbtest::StubRequest& req) {
    std::string echo = "auth=" + req.header("Authorization").value_or("") +
                       " key=" + req.header("X-Api-Key").value_or("") +
                       " token=" + req.header("X-Private-Token").value_or("");
    return cbtest::StubResponse{.status = stub_.request_count() < 2 ? 500 : 401, .body = echo};
  });
  std::ostringstream server_log;
  auto logger = std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(server_log));
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);

  auto spec = spec_for("/");
  std::string url = stub_.url("/hook?api_token=qtok-987654321&ok=1");
  url.insert(std::string("http://").size(), "deploy:" + basic_password + "@");
  spec.url_template = url;
  spec.headers = {{"Authorization", "Bearer " + bearer},
                  {"X-Api-Key", api_key},
                  {"X-Private-Token", "{{secret_value}}"}};
  const auto r = run(spec, {{"secret_value", "tmpl-secret-55555"}});
  spdlog::set_default_logger(previous);

  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.last_status, 401);
  ASSERT_EQ(stub_.request_count(), 2u);
  // The peer really got the credentials...
  EXPECT_EQ(stub_.requests()[0].header("Authorization"), "Bearer " + bearer);
  EXPECT_EQ(stub_.requests()[0].header("X-Private-Token"), "tmpl-secret-55555");
  // ...but none of them shows anywhere.
  const std::string log = read_file(spec.log_file);
  for (const std::string& text : {log, r.output_tail, r.error, server_log.str()}) {
    for (const std::string& secret :
         {bearer, api_key, basic_password, std::string("qtok-987654321"),
          std::string("tmpl-secret-55555")}) {
      EXPECT_THAT(text, Not(HasSubstr(secret)));
    }
  }
  EXPECT_THAT(log, HasSubstr("response: auth=*** key=*** token=***"));
  EXPECT_THAT(log, HasSubstr("POST http://***@127.0.0.1:"));
  EXPECT_THAT(r.error, HasSubstr("HTTP 401 from http://***@127.0.0.1:"));
  EXPECT_THAT(server_log.str(), HasSubstr("-> HTTP 401"));
}

TEST_F(HttpActionTest, CancelBeforeStartSendsNothing) {
  std::atomic<bool> cancel{true};
  auto spec = spec_for("/");
  spec.cancel = &cancel;
  const auto r = run(spec);
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.succeeded);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.error, "cancelled");
  EXPECT_EQ(stub_.request_count(), 0u);
}

TEST_F(HttpActionTest, CancelDuringBackoffStopsRetrying) {
  stub_.set_default({.status = 503});
  std::atomic<bool> cancel{false};
  sleeper_.on_sleep = [&] { cancel.store(true); };
  auto spec = spec_for("/");
  spec.cancel = &cancel;
  const auto r = run(spec);
  EXPECT_TRUE(r.cancelled);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(stub_.request_count(), 1u);
  EXPECT_THAT(r.output_tail, HasSubstr("cancelled"));
}

TEST_F(HttpActionTest, SystemSleeperReturnsSoonAfterCancel) {
  // Real waiting: a 60 s backoff must end within a few 100 ms slices of the cancel.
  stub_.set_default({.status = 503});
  std::atomic<bool> cancel{false};
  auto spec = spec_for("/");
  spec.base_backoff = 60000ms;
  spec.cancel = &cancel;
  std::thread canceller([&] {
    stub_.wait_for_requests(1, 10s);
    cancel.store(true);
  });
  const auto started = std::chrono::steady_clock::now();
  auto r = run_http_action(spec, {}, client_, clock_);  // SystemRetrySleeper, random jitter
  canceller.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);

  SystemRetrySleeper sleeper;
  std::atomic<bool> set{true};
  EXPECT_FALSE(sleeper.sleep_for(10s, &set));
  EXPECT_TRUE(sleeper.sleep_for(1ms, nullptr));
}

TEST(ValidateHttpActionTest, AcceptsAGoodSpecAndNamesWhatIsWrong) {
  const std::vector<std::string> known = {"branch", "to_hash"};
  HttpActionSpec spec;
  spec.url_template = "https://ci.example.test/job/{{branch}}";
  spec.headers = {{"X-Ref", "{{ branch }}"}, {"Authorization", "Bearer literal-token"}};
  spec.body_template = R"({"sha":"{{to_hash}}"})";
  EXPECT_TRUE(validate_http_action(spec, known).has_value());

  const auto message_for = [&](const HttpActionSpec& bad) {
    auto r = validate_http_action(bad, known);
    EXPECT_FALSE(r.has_value());
    if (r) return std::string();
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    return r.error().message;
  };
  auto bad = spec;
  bad.headers[0].second = "{{brnch}}";
  EXPECT_EQ(message_for(bad), "header X-Ref: unknown placeholder {{brnch}} in template");
  bad = spec;
  bad.body_template = "{{to_hash";
  EXPECT_THAT(message_for(bad), HasSubstr("body: unclosed"));
  bad = spec;
  bad.url_template = "{{branch}}/x";
  EXPECT_EQ(message_for(bad), "URL must start with http:// or https://");
  bad = spec;
  bad.method = "PO ST";
  EXPECT_THAT(message_for(bad), HasSubstr("invalid HTTP method"));
  bad = spec;
  bad.headers.emplace_back("Bad Header", "x");
  EXPECT_THAT(message_for(bad), HasSubstr("invalid header name"));
  bad = spec;
  bad.max_attempts = 101;
  EXPECT_THAT(message_for(bad), HasSubstr("max_attempts"));
  bad = spec;
  bad.timeout = 0ms;
  EXPECT_THAT(message_for(bad), HasSubstr("timeout"));
  // The literal token never shows in any message.
  bad = spec;
  bad.headers[1].second = "Bearer {{nope}}";
  EXPECT_THAT(message_for(bad), Not(HasSubstr("literal-token")));
}

TEST(RedactSecretsTest, ReplacesLongestFirstAndIgnoresEmpty) {
  EXPECT_EQ(redact_secrets("a abc abcd x", {"abc", "abcd", ""}), "a *** *** x");
  EXPECT_EQ(redact_secrets("nothing", {}), "nothing");
}

}  // namespace
}  // namespace cb::connectors
