// Bitbucket Server wire mapping: dates, users, repositories, ref changes, commits.

#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "providers/bitbucket_server/payload.hpp"

namespace cb::providers::bitbucket_server {
namespace {

namespace json = boost::json;

const JsonPath kAt{"Bitbucket repo:refs_changed payload", "x"};

json::value js(std::string_view text) { return json::parse(text); }

// ---------------------------------------------------------------------------------------------
// Dates

TEST(BitbucketServerDates, IsoWithColonlessOffset) {
  // 11:02:41 at +01:00 is 10:02:41 UTC.
  EXPECT_EQ(parse_iso8601("2026-03-01T11:02:41+0100").value(), 1772359361000);
  EXPECT_EQ(parse_iso8601("2026-03-09T16:05:12+0200").value(), 1773065112000);
  EXPECT_EQ(parse_iso8601("2026-03-09T16:05:12+02:00").value(), 1773065112000);
  EXPECT_EQ(parse_iso8601("2026-03-09T16:05:12+02").value(), 1773065112000);
  EXPECT_EQ(parse_iso8601("2026-03-09T14:05:12Z").value(), 1773065112000);
  EXPECT_EQ(parse_iso8601("2026-03-09T14:05:12+0000").value(), 1773065112000);
}

TEST(BitbucketServerDates, NegativeOffsetAndDayRollover) {
  // 2026-03-01T06:02:41-0530 is 11:32:41 UTC.
  EXPECT_EQ(parse_iso8601("2026-03-01T06:02:41-0530").value(), 1772364761000);
  // 23:30 at -01:00 is 00:30 the next day, across a month end.
  EXPECT_EQ(format_utc(parse_iso8601("2026-02-28T23:30:00-0100").value()),
            "2026-03-01T00:30:00.000Z");
}

TEST(BitbucketServerDates, FractionsAreMilliseconds) {
  EXPECT_EQ(parse_iso8601("2026-03-09T14:05:12.000Z").value(), 1773065112000);
  EXPECT_EQ(parse_iso8601("2026-03-09T14:05:12.5Z").value(), 1773065112500);
  EXPECT_EQ(parse_iso8601("2026-03-09T14:05:12.417+0200").value(), 1773065112417 - 7200000);
  EXPECT_EQ(parse_iso8601("2026-03-09T14:05:12.123456789Z").value(), 1773065112123);
}

TEST(BitbucketServerDates, LeapDayAndEpoch) {
  EXPECT_EQ(parse_iso8601("2024-02-29T23:59:59Z").value(), 1709251199000);
  EXPECT_EQ(parse_iso8601("1970-01-01T00:00:00Z").value(), 0);
  EXPECT_EQ(parse_iso8601("1969-12-31T23:59:59Z").value(), -1000);
}

TEST(BitbucketServerDates, RejectsWhatIsNotAnInstant) {
  for (const char* bad :
       {"", "yesterday", "2026-03-09", "2026-03-09T14:05:12", "2026-03-09T14:05Z",
        "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-03-09T24:00:00Z", "2026-03-09T14:60:00Z", "2026-03-09T14:05:12+2400",
        "2026-03-09T14:05:12+02:60", "2026-03-09T14:05:12+020", "2026-03-09T14:05:12Zjunk",
        "2026-03-09T14:05:12.Z", "26-03-09T14:05:12Z", "2026-3-09T14:05:12Z"}) {
    const auto r = parse_iso8601(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::malformed_payload) << bad;
    }
  }
}

TEST(BitbucketServerDates, ParseDateAcceptsEpochMillisAndIso) {
  EXPECT_EQ(parse_date(js("1772359361000"), kAt).value(), 1772359361000);
  EXPECT_EQ(parse_date(json::value(std::uint64_t{1772359361000}), kAt).value(), 1772359361000);
  EXPECT_EQ(parse_date(js("1.772359361E12"), kAt).value(), 1772359361000);
  EXPECT_EQ(parse_date(js("\"1772359361000\""), kAt).value(), 1772359361000);
  EXPECT_EQ(parse_date(js("\"2026-03-01T11:02:41+0100\""), kAt).value(), 1772359361000);
}

TEST(BitbucketServerDates, ParseDateRejectsOtherValues) {
  for (const char* bad : {"true", "{}", "[]", "1.5", "18446744073709551615", "\"\"", "\"12ab\"",
                          "\"99999999999999999999\""}) {
    const auto r = parse_date(js(bad), kAt);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::malformed_payload);
      EXPECT_NE(r.error().message.find("Bitbucket repo:refs_changed payload: x "),
                std::string::npos)
          << r.error().message;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// People

TEST(BitbucketServerPeople, UserMapsDisplayNameLoginAndEmail) {
  const Person p = parse_user(js(R"({"name": "mkowalski", "displayName": "Marta Kowalski",
      "emailAddress": "m.kowalski@northwind.example", "slug": "mkowalski", "id": 4211})"),
                              kAt)
                       .value();
  EXPECT_EQ(p.name, "Marta Kowalski");
  EXPECT_EQ(p.username, "mkowalski");
  EXPECT_EQ(p.email, "m.kowalski@northwind.example");
}

TEST(BitbucketServerPeople, UserFallbacks) {
  const Person only_login = parse_user(js(R"({"name": "svc-ci"})"), kAt).value();
  EXPECT_EQ(only_login.name, "svc-ci");
  EXPECT_EQ(only_login.username, "svc-ci");
  const Person only_slug =
      parse_user(js(R"({"slug": "svc-ci", "displayName": "CI"})"), kAt).value();
  EXPECT_EQ(only_slug.username, "svc-ci");
  EXPECT_EQ(only_slug.name, "CI");
  EXPECT_FALSE(parse_user(js("[]"), kAt).has_value());
  EXPECT_FALSE(parse_user(js(R"({"name": 3})"), kAt).has_value());
}

TEST(BitbucketServerPeople, CommitAuthorGitIdentityOrLinkedUser) {
  const Person git =
      parse_commit_author(
          js(R"({"name": "Marta Kowalski", "emailAddress": "m@northwind.example"})"), kAt)
          .value();
  EXPECT_EQ(git.name, "Marta Kowalski");
  EXPECT_EQ(git.username, "");
  EXPECT_EQ(git.email, "m@northwind.example");
  const Person linked = parse_commit_author(js(R"({"name": "mkowalski",
      "displayName": "Marta Kowalski", "emailAddress": "m@northwind.example"})"),
                                            kAt)
                            .value();
  EXPECT_EQ(linked.name, "Marta Kowalski");
  EXPECT_EQ(linked.username, "mkowalski");
}

// ---------------------------------------------------------------------------------------------
// Repositories

TEST(BitbucketServerRepository, HttpsCloneLinkAndFirstOfEachName) {
  const RepositoryRef r = parse_repository(js(R"({"slug": "fp", "name": "Flight Planner",
      "project": {"key": "NWA"},
      "links": {"clone": [{"name": "https", "href": "https://a.example/scm/nwa/fp.git"},
                          {"name": "http", "href": "https://b.example/scm/nwa/fp.git"},
                          {"name": "ssh"},
                          {"name": "ssh", "href": "ssh://git@a.example:7999/nwa/fp.git"}],
                "self": [{"href": "https://a.example/projects/NWA/repos/fp/browse"},
                         {"href": "https://b.example/ignored"}]}})"),
                                           kAt)
                              .value();
  EXPECT_EQ(r.provider, "bitbucket_server");
  EXPECT_EQ(r.project_key, "NWA");
  EXPECT_EQ(r.slug, "fp");
  EXPECT_EQ(r.name, "Flight Planner");
  EXPECT_EQ(r.http_clone_url, "https://a.example/scm/nwa/fp.git");
  EXPECT_EQ(r.ssh_clone_url,
            "ssh://git@a.example:7999/nwa/fp.git");  // the one without href skipped
  EXPECT_EQ(r.browse_url, "https://a.example/projects/NWA/repos/fp/browse");
}

TEST(BitbucketServerRepository, LinksOptionalAndNullTolerated) {
  const RepositoryRef r =
      parse_repository(js(R"({"slug": "fp", "project": {"key": "~ABELLO"}, "links": null})"), kAt)
          .value();
  EXPECT_EQ(r.project_key, "~ABELLO");
  EXPECT_EQ(r.name, "");
  EXPECT_EQ(r.http_clone_url, "");
  EXPECT_EQ(r.browse_url, "");
  const RepositoryRef empty_self =
      parse_repository(js(R"({"slug": "fp", "project": {"key": "NWA"}, "links": {"self": []}})"),
                       kAt)
          .value();
  EXPECT_EQ(empty_self.browse_url, "");
}

TEST(BitbucketServerRepository, ErrorsNameThePath) {
  const JsonPath at{"Bitbucket pr:opened payload", "pullRequest.toRef.repository"};
  EXPECT_EQ(parse_repository(js(R"({"slug": "fp"})"), at).error().message,
            "Bitbucket pr:opened payload has no pullRequest.toRef.repository.project.key");
  EXPECT_EQ(parse_repository(js(R"({"slug": "fp", "project": "NWA"})"), at).error().message,
            "Bitbucket pr:opened payload: pullRequest.toRef.repository.project is not an object");
  EXPECT_EQ(parse_repository(js(R"({"slug": "fp", "project": {"key": "NWA"},
                                     "links": {"clone": [5]}})"),
                             at)
                .error()
                .message,
            "Bitbucket pr:opened payload: pullRequest.toRef.repository.links.clone[0] is not an "
            "object");
  EXPECT_EQ(parse_repository(js("7"), at).error().message,
            "Bitbucket pr:opened payload: pullRequest.toRef.repository is not an object");
}

// ---------------------------------------------------------------------------------------------
// Ref changes

constexpr std::string_view kA = "1111111111111111111111111111111111111111";
constexpr std::string_view kB = "2222222222222222222222222222222222222222";

TEST(BitbucketServerRefChange, DisplayIdDerivedFromRefIdWhenAbsent) {
  const RefChange c =
      parse_ref_change(js(R"({"ref": {"id": "refs/heads/user/refs/heads/x"}, "type": "UPDATE",
                              "fromHash": "1111111111111111111111111111111111111111",
                              "toHash": "2222222222222222222222222222222222222222"})"),
                       kAt)
          .value();
  EXPECT_EQ(c.display_id, "user/refs/heads/x");  // only the leading refs/heads/ is stripped
  EXPECT_EQ(c.ref_type, RefType::branch);        // inferred from the prefix
  EXPECT_EQ(c.from_hash, kA);
  EXPECT_EQ(c.to_hash, kB);
}

TEST(BitbucketServerRefChange, RefIdFallbackAndTypeInference) {
  const RefChange tag = parse_ref_change(js(R"({"refId": "refs/tags/v1.0", "type": "DELETE",
                              "fromHash": "1111111111111111111111111111111111111111",
                              "toHash": "0000000000000000000000000000000000000000"})"),
                                         kAt)
                            .value();
  EXPECT_EQ(tag.ref_id, "refs/tags/v1.0");
  EXPECT_EQ(tag.display_id, "v1.0");
  EXPECT_EQ(tag.ref_type, RefType::tag);
  EXPECT_EQ(tag.type, RefChangeType::remove);

  const RefChange notes = parse_ref_change(js(R"({"ref": {"id": "refs/notes/commits"},
                              "type": "UPDATE",
                              "fromHash": "1111111111111111111111111111111111111111",
                              "toHash": "2222222222222222222222222222222222222222"})"),
                                           kAt)
                              .value();
  EXPECT_EQ(notes.ref_type, RefType::other);
  EXPECT_EQ(notes.display_id, "refs/notes/commits");

  // An explicit type other than BRANCH/TAG is "other", even under refs/heads/.
  const RefChange odd = parse_ref_change(js(R"({"ref": {"id": "refs/heads/x", "type": "SPECIAL"},
                              "type": "UPDATE",
                              "fromHash": "1111111111111111111111111111111111111111",
                              "toHash": "2222222222222222222222222222222222222222"})"),
                                         kAt)
                            .value();
  EXPECT_EQ(odd.ref_type, RefType::other);
}

TEST(BitbucketServerRefChange, MissingZeroSideHashDefaultsToZero) {
  const RefChange add = parse_ref_change(js(R"({"ref": {"id": "refs/heads/n"}, "type": "ADD",
                              "toHash": "2222222222222222222222222222222222222222"})"),
                                         kAt)
                            .value();
  EXPECT_EQ(add.from_hash, kZeroHash);
  const RefChange del = parse_ref_change(js(R"({"ref": {"id": "refs/heads/n"}, "type": "DELETE",
                              "fromHash": "1111111111111111111111111111111111111111"})"),
                                         kAt)
                            .value();
  EXPECT_EQ(del.to_hash, kZeroHash);
  // ... but not on UPDATE.
  const auto upd = parse_ref_change(js(R"({"ref": {"id": "refs/heads/n"}, "type": "UPDATE",
                              "fromHash": "1111111111111111111111111111111111111111"})"),
                                    kAt);
  ASSERT_FALSE(upd.has_value());
  EXPECT_EQ(upd.error().message, "Bitbucket repo:refs_changed payload has no x.toHash");
}

TEST(BitbucketServerRefChange, Errors) {
  EXPECT_EQ(parse_ref_change(js(R"({"type": "UPDATE"})"), kAt).error().message,
            "Bitbucket repo:refs_changed payload has no x.ref.id");
  EXPECT_EQ(parse_ref_change(js(R"({"ref": {"id": "refs/heads/n"}})"), kAt).error().message,
            "Bitbucket repo:refs_changed payload has no x.type");
  EXPECT_FALSE(parse_ref_changes(js("{}"), kAt).has_value());
  const auto second_bad =
      parse_ref_changes(js(R"([{"ref": {"id": "refs/heads/a"}, "type": "ADD",
              "toHash": "2222222222222222222222222222222222222222"},
             {"ref": {"id": "refs/heads/b"}, "type": "add",
              "toHash": "2222222222222222222222222222222222222222"}])"),
                        JsonPath{"Bitbucket repo:refs_changed payload", "changes"});
  ASSERT_FALSE(second_bad.has_value());
  EXPECT_EQ(second_bad.error().message,
            "Bitbucket repo:refs_changed payload: changes[1].type is \"add\", expected ADD, "
            "UPDATE or DELETE");
}

// ---------------------------------------------------------------------------------------------
// Commits

TEST(BitbucketServerCommit, MapsFieldsAndParents) {
  const CommitPreview c = parse_commit(js(R"({"id": "AB12ab12ab12ab12ab12ab12ab12ab12ab12ab12",
      "message": "NWA-1 #done", "author": {"name": "Ana Bello", "emailAddress": "a@b.example"},
      "authorTimestamp": 1772359361000,
      "parents": [{"id": "1111111111111111111111111111111111111111"},
                  {"id": "2222222222222222222222222222222222222222", "message": "full object"}]})"),
                                       kAt)
                              .value();
  EXPECT_EQ(c.hash, "AB12ab12ab12ab12ab12ab12ab12ab12ab12ab12");
  EXPECT_EQ(c.message, "NWA-1 #done");
  EXPECT_EQ(c.author.name, "Ana Bello");
  EXPECT_EQ(c.author_time_ms, 1772359361000);
  EXPECT_EQ(c.parents, (std::vector<std::string>{std::string(kA), std::string(kB)}));
}

TEST(BitbucketServerCommit, OptionalFieldsAndErrors) {
  const CommitPreview bare =
      parse_commit(js(R"({"id": "1111111111111111111111111111111111111111"})"), kAt).value();
  EXPECT_EQ(bare.author_time_ms, 0);
  EXPECT_TRUE(bare.parents.empty());
  EXPECT_EQ(parse_commit(js(R"({"message": "m"})"), kAt).error().message,
            "Bitbucket repo:refs_changed payload has no x.id");
  EXPECT_EQ(parse_commit(js(R"({"id": "1111111111111111111111111111111111111111",
                                 "parents": [{}]})"),
                         kAt)
                .error()
                .message,
            "Bitbucket repo:refs_changed payload has no x.parents[0].id");
  EXPECT_FALSE(parse_commit(js(R"({"id": "1111111111111111111111111111111111111111",
                                    "authorTimestamp": "soon"})"),
                            kAt)
                   .has_value());
  EXPECT_FALSE(parse_commits(js(R"([{"id": "1111111111111111111111111111111111111111"}, 3])"), kAt)
                   .has_value());
}

// ---------------------------------------------------------------------------------------------
// Small helpers

TEST(BitbucketServerHelpers, ShortRefName) {
  EXPECT_EQ(short_ref_name("refs/heads/main"), "main");
  EXPECT_EQ(short_ref_name("refs/heads/release/2.1"), "release/2.1");
  EXPECT_EQ(short_ref_name("refs/tags/v1.0"), "v1.0");
  EXPECT_EQ(short_ref_name("refs/heads/"), "");
  EXPECT_EQ(short_ref_name("refs/pull-requests/3/from"), "refs/pull-requests/3/from");
  EXPECT_EQ(short_ref_name("main"), "main");
}

TEST(BitbucketServerHelpers, IsHexHash) {
  EXPECT_TRUE(is_hex_hash("0123456789abcdefABCDEF0123456789abcdef01"));
  EXPECT_TRUE(is_hex_hash(std::string(64, 'f')));
  EXPECT_FALSE(is_hex_hash(std::string(39, 'a')));
  EXPECT_FALSE(is_hex_hash(std::string(41, 'a')));
  EXPECT_FALSE(is_hex_hash("g123456789abcdefABCDEF0123456789abcdef01"));
  EXPECT_FALSE(is_hex_hash(""));
}

}  // namespace
}  // namespace cb::providers::bitbucket_server
