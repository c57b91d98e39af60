// The stable JSON form of normalized events and the pretty printer used for goldens.

#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "providers/event_json.hpp"
#include "providers/json_fields.hpp"

namespace cb::providers {
namespace {

namespace json = boost::json;

TEST(EventJson, PingAndUnsupported) {
  EXPECT_EQ(json::serialize(to_json(NormalizedEvent{PingEvent{}})), R"({"type":"ping"})");
  EXPECT_EQ(json::serialize(to_json(NormalizedEvent{UnsupportedEvent{"repo:forked"}})),
            R"({"type":"unsupported","event_key":"repo:forked"})");
}

TEST(EventJson, PushHasEveryFieldInOrder) {
  PushEvent push;
  push.repository = {"bitbucket_server", "NWA", "fp", "Flight Planner", "h", "s", "b"};
  push.actor = {"Ana Bello", "a@b.example", "abello"};
  push.changes.push_back(RefChange{"refs/tags/v1", "v1", RefType::tag, RefChangeType::remove,
                                   "1111111111111111111111111111111111111111",
                                   std::string(kZeroHash)});
  CommitPreview c;
  c.hash = "2222222222222222222222222222222222222222";
  c.message = "m";
  c.author_time_ms = 1772359361000;
  c.parents = {"1111111111111111111111111111111111111111"};
  push.commits.push_back(c);

  const json::value v = to_json(NormalizedEvent{push});
  EXPECT_EQ(json::serialize(v),
            R"({"type":"push",)"
            R"("repository":{"provider":"bitbucket_server","project_key":"NWA","slug":"fp",)"
            R"("name":"Flight Planner","http_clone_url":"h","ssh_clone_url":"s","browse_url":"b"},)"
            R"("actor":{"name":"Ana Bello","email":"a@b.example","username":"abello"},)"
            R"("changes":[{"ref_id":"refs/tags/v1","display_id":"v1","ref_type":"tag",)"
            R"("type":"delete","from_hash":"1111111111111111111111111111111111111111",)"
            R"("to_hash":"0000000000000000000000000000000000000000"}],)"
            R"("commits":[{"hash":"2222222222222222222222222222222222222222","message":"m",)"
            R"("author":{"name":"","email":"","username":""},)"
            R"("author_time":"2026-03-01T10:02:41.000Z","author_time_ms":1772359361000,)"
            R"("parents":["1111111111111111111111111111111111111111"]}],)"
            R"("to_commit":null})");
}

TEST(EventJson, ZeroTimesAreNullIsoStrings) {
  PullRequestEvent pr;
  pr.action = PullRequestAction::target_changed;
  pr.updated_at_ms = 1773065112000;
  const json::value v = to_json(NormalizedEvent{pr});
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("type"), "pull_request");
  EXPECT_EQ(o.at("action"), "target_changed");
  EXPECT_TRUE(o.at("created_at").is_null());
  EXPECT_EQ(o.at("created_at_ms"), 0);
  EXPECT_EQ(o.at("updated_at"), "2026-03-09T14:05:12.000Z");
  EXPECT_EQ(o.at("updated_at_ms"), 1773065112000);
  EXPECT_EQ(o.size(), 20u);
}

TEST(EventJson, PrettyPrinter) {
  const json::value v =
      json::parse(R"({"a": 1, "b": [], "c": {}, "d": [true, null, "x\"y\n"], "e": {"f": -2.5}})");
  EXPECT_EQ(to_pretty_json(v),
            "{\n"
            "  \"a\": 1,\n"
            "  \"b\": [],\n"
            "  \"c\": {},\n"
            "  \"d\": [\n"
            "    true,\n"
            "    null,\n"
            "    \"x\\\"y\\n\"\n"
            "  ],\n"
            "  \"e\": {\n"
            "    \"f\": -2.5E0\n"
            "  }\n"
            "}\n");
  EXPECT_EQ(to_pretty_json(json::value(3)), "3\n");
  EXPECT_EQ(json::parse(to_pretty_json(v)), v);  // round-trips
}

TEST(JsonFields, QuoteForMessageTruncatesAndSanitizes) {
  EXPECT_EQ(quote_for_message("MOVE"), "\"MOVE\"");
  EXPECT_EQ(quote_for_message("a\nb\"c\\"), "\"a?b?c?\"");
  EXPECT_EQ(quote_for_message(std::string(100, 'x')), "\"" + std::string(64, 'x') + "\"...");
}

TEST(JsonFields, PathsAndMessages) {
  const JsonPath root{"Bitbucket pr:opened payload", ""};
  EXPECT_EQ((root / "pullRequest" / "toRef").path, "pullRequest.toRef");
  EXPECT_EQ((root / "changes")[3].path, "changes[3]");
  EXPECT_EQ(root.missing().message, "Bitbucket pr:opened payload is empty");
  EXPECT_EQ(root.wrong_type("an object").message, "Bitbucket pr:opened payload is not an object");
  EXPECT_EQ((root / "id").missing().code, ErrorCode::malformed_payload);
}

TEST(JsonFields, TypedAccess) {
  const json::value v =
      json::parse(R"({"s": "x", "n": null, "i": 7, "big": 1e300, "b": true, "o": {}, "a": []})");
  const json::object& o = v.as_object();
  const JsonPath at{"P", "r"};
  EXPECT_EQ(optional_string(o, "s", at).value(), "x");
  EXPECT_EQ(optional_string(o, "n", at).value(), "");
  EXPECT_EQ(optional_string(o, "absent", at).value(), "");
  EXPECT_EQ(optional_string(o, "i", at).error().message, "P: r.i is not a string");
  EXPECT_EQ(required_string(o, "n", at).error().message, "P has no r.n");
  EXPECT_EQ(required_int64(o, "i", at).value(), 7);
  EXPECT_EQ(required_int64(o, "big", at).error().message, "P: r.big is not a 64-bit integer");
  EXPECT_EQ(optional_bool(o, "b", at, false).value(), true);
  EXPECT_EQ(optional_bool(o, "absent", at, true).value(), true);
  EXPECT_FALSE(optional_bool(o, "s", at, true).has_value());
  EXPECT_NE(required_object(o, "o", at).value(), nullptr);
  EXPECT_EQ(optional_object(o, "n", at).value(), nullptr);
  EXPECT_FALSE(required_object(o, "a", at).has_value());
  EXPECT_NE(required_array(o, "a", at).value(), nullptr);
  EXPECT_EQ(required_array(o, "absent", at).error().message, "P has no r.absent");
}

}  // namespace
}  // namespace cb::providers
