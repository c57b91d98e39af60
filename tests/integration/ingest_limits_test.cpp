// What the receiver refuses before storing anything (body size, media type, JSON), and the
// form-encoded `payload=` body that Bitbucket-style senders may use.

#include <gtest/gtest.h>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kTrigger = "trigger-scm-push-request";

class IngestLimitsTest : public IntegrationTest {
 protected:
  void SetUp() override {
    create_org("acme");
    token_ = create_token("acme", "bitbucket");
    add_repo("acme", "ORB", "orbit-tools", (tmp_ / "no-such-repo.git").string());
    add_job("acme", "ORB/orbit-tools", "build", "main,release/*", {"/bin/true"});
    ASSERT_TRUE(start_server({{"COMMITBRIDGE_SERVER_MAX_BODY_BYTES", "2048"}}));
  }

  std::string url() const { return server_->webhook_url("acme", kTrigger); }

  /// Signed push headers with `content_type`.
  Headers headers(const std::string& body, const std::string& content_type) const {
    Headers h = signed_push_headers(token_, body, new_request_id());
    for (auto& [name, value] : h) {
      if (name == "Content-Type") value = content_type;
    }
    return h;
  }

  /// A push to main padded with an extra member to exactly `size` bytes.
  static std::string padded_push(std::size_t size) {
    auto v = json::parse(
        bitbucket_push_body("ORB", "orbit-tools",
                            {branch_change("main", "UPDATE", fake_hash("p@1"), fake_hash("p@2"))}));
    v.as_object()["padding"] = "";
    const std::size_t base = json::serialize(v).size();
    EXPECT_LT(base, size);
    v.as_object()["padding"] = std::string(size - base, 'x');
    std::string out = json::serialize(v);
    EXPECT_EQ(out.size(), size);
    return out;
  }

  void expect_nothing_stored() {
    const auto all = deliveries();
    EXPECT_TRUE(all.empty()) << json::serialize(all);
    EXPECT_TRUE(runs().empty());
  }

  std::string token_;
};

TEST_F(IngestLimitsTest, BodyOverTheConfiguredLimitIs413) {
  std::vector<RefChange> changes;
  for (int i = 0; i < 12; ++i) {
    const std::string b = "release/" + std::to_string(i) + ".0";
    changes.push_back(branch_change(b, "ADD", kZeroHash, fake_hash(b)));
  }
  const std::string big = bitbucket_push_body("ORB", "orbit-tools", changes);
  ASSERT_GT(big.size(), 2048u);

  // With and without "Expect: 100-continue" (curl sends it for large bodies).
  for (const bool expect_continue : {false, true}) {
    Headers h = headers(big, "application/json");
    if (expect_continue) h.emplace_back("Expect", "100-continue");
    const auto r = post(url(), h, big);
    EXPECT_EQ(r.status, 413) << "expect-continue=" << expect_continue << " " << r.describe();
    EXPECT_EQ(r.error_code(), "payload_too_large") << r.describe();
    EXPECT_TRUE(Contains(r.error_message(), "2048"));
  }
  expect_nothing_stored();

  // One byte over is refused, exactly at the limit goes through.
  const std::string over = padded_push(2049);
  const auto r = post(url(), headers(over, "application/json"), over);
  EXPECT_EQ(r.status, 413) << r.describe();
  expect_nothing_stored();
  const std::string at_limit = padded_push(2048);
  const auto ok = post(url(), headers(at_limit, "application/json"), at_limit);
  EXPECT_EQ(ok.status, 202) << ok.describe();
  const std::string id = str(ok.json(), "delivery_id");
  EXPECT_EQ(str(wait_processed(id), "status"), "done");
  EXPECT_EQ(runs(id).size(), 1u);
}

TEST_F(IngestLimitsTest, TextPlainIs415) {
  const std::string body = bitbucket_push_body(
      "ORB", "orbit-tools", {branch_change("main", "UPDATE", fake_hash("t@1"), fake_hash("t@2"))});
  const auto r = post(url(), headers(body, "text/plain"), body);
  EXPECT_EQ(r.status, 415) << r.describe();
  EXPECT_EQ(r.error_code(), "unsupported_media_type");
  EXPECT_TRUE(Contains(r.error_message(), "text/plain"));
  expect_nothing_stored();
}

TEST_F(IngestLimitsTest, InvalidJsonIs400) {
  const std::string full = bitbucket_push_body(
      "ORB", "orbit-tools", {branch_change("main", "UPDATE", fake_hash("j@1"), fake_hash("j@2"))});
  const std::string truncated = full.substr(0, full.size() / 2);
  const auto r = post(url(), headers(truncated, "application/json"), truncated);
  EXPECT_EQ(r.status, 400) << r.describe();
  EXPECT_EQ(r.error_code(), "malformed_payload");
  // JSON that is not an object is refused the same way.
  const std::string array = "[1, 2, 3]";
  const auto r2 = post(url(), headers(array, "application/json"), array);
  EXPECT_EQ(r2.status, 400) << r2.describe();
  EXPECT_EQ(r2.error_code(), "malformed_payload");
  expect_nothing_stored();
}

TEST_F(IngestLimitsTest, AJsonObjectTheProviderCannotReadIsStoredAndFailsWithTheParsersReason) {
  // A JSON object that is no Bitbucket push (no repository): accepted and kept, so that nothing
  // a sender delivered is lost; processing marks it failed and says why.
  const std::string no_repo = R"({"eventKey":"repo:refs_changed","changes":[]})";
  const auto r = post(url(), headers(no_repo, "application/json"), no_repo);
  ASSERT_EQ(r.status, 202) << r.describe();
  const auto done = wait_processed(str(r.json(), "delivery_id"));
  EXPECT_EQ(str(done, "status"), "failed");
  EXPECT_TRUE(Contains(str(done, "reason"), "repository")) << str(done, "reason");
}

TEST_F(IngestLimitsTest, FormEncodedPayloadIsAcceptedWithHmacOverTheRawForm) {
  const std::string json_text = bitbucket_push_body(
      "ORB", "orbit-tools",
      {branch_change("release/4.2", "ADD", kZeroHash, fake_hash("release/4.2"))});
  const std::string form = "payload=" + form_encode(json_text);
  ASSERT_NE(form, "payload=" + json_text);
  ASSERT_LT(form.size(), 2048u);

  // An HMAC over the decoded JSON instead of the raw form body is refused.
  Headers wrong = headers(json_text, "application/x-www-form-urlencoded");
  const auto refused = post(url(), wrong, form);
  EXPECT_EQ(refused.status, 401) << refused.describe();
  EXPECT_EQ(refused.error_code(), "invalid_signature");

  const auto r = post(url(), headers(form, "application/x-www-form-urlencoded"), form);
  ASSERT_EQ(r.status, 202) << r.describe();
  const std::string id = str(r.json(), "delivery_id");

  const auto d = wait_processed(id);
  EXPECT_EQ(str(d, "status"), "done");
  EXPECT_EQ(str(d, "reason"), "1 job run queued: build@release/4.2 (run 1)");
  const auto list = wait_runs_settled(id);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(str(list[0], "status"), "succeeded");
  EXPECT_EQ(str(list[0], "branch"), "release/4.2");
  // The job's payload file holds the decoded JSON.
  const fs::path payload = data_dir_ / "payloads" / (id + ".json");
  EXPECT_EQ(read_file(payload), json_text);

  // A form without a payload field is refused and not stored.
  const std::string no_payload = "event=" + form_encode(json_text);
  const auto r3 = post(url(), headers(no_payload, "application/x-www-form-urlencoded"), no_payload);
  EXPECT_EQ(r3.status, 415) << r3.describe();
  EXPECT_EQ(deliveries().size(), 1u);
}

TEST_F(IngestLimitsTest, UnknownEndpointIs404AndGetIs405) {
  const std::string body = bitbucket_push_body(
      "ORB", "orbit-tools", {branch_change("main", "UPDATE", fake_hash("u@1"), fake_hash("u@2"))});
  const auto r = post(server_->webhook_url("acme", "trigger-everything"),
                      headers(body, "application/json"), body);
  EXPECT_EQ(r.status, 404) << r.describe();
  EXPECT_EQ(r.error_code(), "not_found");
  const auto g = get(url());
  EXPECT_EQ(g.status, 405) << g.describe();
  const auto h = get(server_->base_url() + "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(str(h.json(), "status"), "ok");
  expect_nothing_stored();
}

}  // namespace
}  // namespace cbtest
