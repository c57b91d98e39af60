// BitbucketServerProvider: detection, header access, event mapping of the fixtures checked
// field by field, and malformed bodies.

#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "core/event.hpp"
#include "fixture_util.hpp"
#include "providers/bitbucket_server/parser.hpp"
#include "providers/bitbucket_server/payload.hpp"

namespace cb::providers::bitbucket_server {
namespace {

using cb::providers::testing::load_delivery;

RawDelivery fixture(std::string_view name) { return load_delivery(kProviderId, name); }

RawDelivery delivery(std::vector<Header> headers, std::string body) {
  RawDelivery d;
  d.org = "northwind";
  d.headers = std::move(headers);
  d.body = std::move(body);
  return d;
}

RawDelivery dc_delivery(std::string event_key, std::string body) {
  return delivery({{"X-Event-Key", std::move(event_key)},
                   {"X-Request-Id", "5d0b8f39-7a2c-4e61-9b7e-0c4a1d2e3f40"},
                   {"Content-Type", "application/json"}},
                  std::move(body));
}

const BitbucketServerProvider kProvider;

template <class T>
T parse_as(const RawDelivery& d) {
  const Result<NormalizedEvent> r = kProvider.parse(d);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  if (!r.has_value()) return T{};
  const T* event = std::get_if<T>(&*r);
  EXPECT_NE(event, nullptr) << "unexpected event type, index " << r->index();
  return event != nullptr ? *event : T{};
}

Error parse_error(const RawDelivery& d) {
  const Result<NormalizedEvent> r = kProvider.parse(d);
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? Error{} : r.error();
}

constexpr const char* kMinimalRepo =
    R"("repository": {"slug": "flight-planner", "name": "flight-planner",
                      "project": {"key": "NWA"}})";
constexpr const char* kMinimalChange =
    R"({"ref": {"id": "refs/heads/main", "displayId": "main", "type": "BRANCH"},
        "refId": "refs/heads/main",
        "fromHash": "1111111111111111111111111111111111111111",
        "toHash": "2222222222222222222222222222222222222222", "type": "UPDATE"})";

std::string refs_changed_body(std::string repo, std::string changes) {
  std::string body = R"({"eventKey": "repo:refs_changed")";
  if (!repo.empty()) body += ", " + repo;
  if (!changes.empty()) body += R"(, "changes": )" + changes;
  body += "}";
  return body;
}

// ---------------------------------------------------------------------------------------------
// Identity, detection and headers

TEST(BitbucketServerProvider, IdIsBitbucketServer) {
  EXPECT_EQ(kProvider.id(), "bitbucket_server");
}

TEST(BitbucketServerProvider, DetectsDataCenterHeaders) {
  EXPECT_TRUE(kProvider.detect(fixture("branch_update")));
  EXPECT_TRUE(kProvider.detect(fixture("ping")));
  EXPECT_TRUE(kProvider.detect(fixture("personal_repo")));  // lower-case header names
  EXPECT_TRUE(kProvider.detect(delivery({{"X-EVENT-KEY", "repo:refs_changed"},
                                         {"X-REQUEST-ID", "0b6e2f4c-1a3d-4e5f-8a9b-7c6d5e4f3a2b"}},
                                        "{}")));
}

TEST(BitbucketServerProvider, DoesNotDetectGitHub) {
  EXPECT_FALSE(
      kProvider.detect(delivery({{"X-GitHub-Event", "push"},
                                 {"X-GitHub-Delivery", "5e0c1f9a-8b7d-11f0-9a3c-2d4e6f8a0b1c"},
                                 {"X-Hub-Signature-256", "sha256=00"}},
                                "{}")));
  // Even with Bitbucket-like headers added, a GitHub event header wins.
  EXPECT_FALSE(kProvider.detect(delivery(
      {{"X-GitHub-Event", "push"}, {"X-Event-Key", "push"}, {"X-Request-Id", "1"}}, "{}")));
}

TEST(BitbucketServerProvider, DoesNotDetectOtherProviders) {
  // Bitbucket Cloud: same X-Event-Key, but X-Request-UUID.
  EXPECT_FALSE(
      kProvider.detect(delivery({{"X-Event-Key", "repo:push"},
                                 {"X-Request-UUID", "3c9e2a71-5f8b-4d0e-a6c4-7b1d2e3f4a5b"},
                                 {"X-Request-Id", "3c9e2a71"},
                                 {"X-Hook-UUID", "{0d9a}"}},
                                "{}")));
  EXPECT_FALSE(kProvider.detect(delivery(
      {{"X-Gitlab-Event", "Push Hook"}, {"X-Event-Key", "x"}, {"X-Request-Id", "1"}}, "{}")));
  EXPECT_FALSE(kProvider.detect(
      delivery({{"X-Gitea-Event", "push"}, {"X-Event-Key", "x"}, {"X-Request-Id", "1"}}, "{}")));
}

TEST(BitbucketServerProvider, DetectNeedsBothEventKeyAndRequestId) {
  EXPECT_FALSE(kProvider.detect(delivery({{"X-Event-Key", "repo:refs_changed"}}, "{}")));
  EXPECT_FALSE(kProvider.detect(delivery({{"X-Request-Id", "abc"}}, "{}")));
  EXPECT_FALSE(kProvider.detect(delivery({}, "{}")));
}

TEST(BitbucketServerProvider, EventKeyAndExternalIdFromHeadersInAnyCase) {
  const RawDelivery upper = delivery(
      {{"X-EVENT-KEY", "pr:opened"}, {"X-REQUEST-ID", "0b6e2f4c-1a3d-4e5f-8a9b-7c6d5e4f3a2b"}},
      "not json");
  EXPECT_EQ(kProvider.event_key(upper), "pr:opened");
  EXPECT_EQ(kProvider.external_id(upper), "0b6e2f4c-1a3d-4e5f-8a9b-7c6d5e4f3a2b");

  const RawDelivery lower = fixture("personal_repo");
  EXPECT_EQ(kProvider.event_key(lower), "repo:refs_changed");
  EXPECT_EQ(kProvider.external_id(lower), "9c276677-d425-4fea-bf6b-3bc9d5d2e34f");

  const RawDelivery mixed =
      delivery({{"x-Event-kEY", "  repo:refs_changed\t"}, {"X-Request-id", " abc "}}, "");
  EXPECT_EQ(kProvider.event_key(mixed), "repo:refs_changed");
  EXPECT_EQ(kProvider.external_id(mixed), "abc");
}

TEST(BitbucketServerProvider, EventKeyFallsBackToBodyEventKey) {
  const RawDelivery d = delivery({{"X-Request-Id", "1"}}, R"({"eventKey": "pr:merged"})");
  EXPECT_EQ(kProvider.event_key(d), "pr:merged");
  EXPECT_EQ(kProvider.event_key(delivery({}, "not json")), "");
  EXPECT_EQ(kProvider.event_key(delivery({}, R"({"eventKey": 5})")), "");
  // The header wins over the body.
  EXPECT_EQ(kProvider.event_key(dc_delivery("pr:opened", R"({"eventKey": "pr:merged"})")),
            "pr:opened");
}

TEST(BitbucketServerProvider, ExternalIdEmptyWhenAbsent) {
  EXPECT_EQ(kProvider.external_id(delivery({{"X-Event-Key", "repo:refs_changed"}}, "{}")), "");
}

TEST(BitbucketServerProvider, IsPingFromHeaderOrBody) {
  EXPECT_TRUE(kProvider.is_ping(fixture("ping")));
  EXPECT_TRUE(kProvider.is_ping(delivery({}, R"({"eventKey": "diagnostics:ping"})")));
  EXPECT_FALSE(kProvider.is_ping(fixture("branch_update")));
  EXPECT_FALSE(kProvider.is_ping(delivery({}, "")));
}

// ---------------------------------------------------------------------------------------------
// Fixtures, checked field by field (the goldens pin everything; these pin what matters most)

TEST(BitbucketServerParse, BranchCreateHasZeroFromHashAndTypeAdd) {
  const auto push = parse_as<PushEvent>(fixture("branch_create"));
  ASSERT_EQ(push.changes.size(), 1u);
  const RefChange& c = push.changes[0];
  EXPECT_EQ(c.type, RefChangeType::add);
  EXPECT_EQ(c.ref_type, RefType::branch);
  EXPECT_EQ(c.from_hash, kZeroHash);
  EXPECT_TRUE(is_zero_hash(c.from_hash));
  EXPECT_EQ(c.to_hash, "89f6bd4358b24c7ba36bb7c024bab25870a7b95e");
  EXPECT_EQ(c.ref_id, "refs/heads/feature/NWA-520-terrain-mask");
  EXPECT_EQ(c.display_id, "feature/NWA-520-terrain-mask");
  ASSERT_TRUE(push.to_commit.has_value());
  EXPECT_EQ(push.to_commit->hash, c.to_hash);
  ASSERT_EQ(push.commits.size(), 1u);
  EXPECT_EQ(push.commits[0].author_time_ms, 1772452800000);  // epoch-ms authorTimestamp
}

TEST(BitbucketServerParse, BranchDeleteHasZeroToHashAndTypeRemove) {
  const auto push = parse_as<PushEvent>(fixture("branch_delete"));
  ASSERT_EQ(push.changes.size(), 1u);
  EXPECT_EQ(push.changes[0].type, RefChangeType::remove);
  EXPECT_EQ(push.changes[0].to_hash, kZeroHash);
  EXPECT_EQ(push.changes[0].from_hash, "0f58fefc84abf7dcbda27f01afe687bf7d7241ca");
  EXPECT_TRUE(push.commits.empty());
  EXPECT_FALSE(push.to_commit.has_value());
}

TEST(BitbucketServerParse, TagCreate) {
  const auto push = parse_as<PushEvent>(fixture("tag_create"));
  ASSERT_EQ(push.changes.size(), 1u);
  EXPECT_EQ(push.changes[0].ref_type, RefType::tag);
  EXPECT_EQ(push.changes[0].type, RefChangeType::add);
  EXPECT_EQ(push.changes[0].ref_id, "refs/tags/v2.1.3");
  EXPECT_EQ(push.changes[0].display_id, "v2.1.3");
}

TEST(BitbucketServerParse, MultiRefKeepsThreeChangesInOrder) {
  const auto push = parse_as<PushEvent>(fixture("multi_ref"));
  ASSERT_EQ(push.changes.size(), 3u);
  EXPECT_EQ(push.changes[0].ref_id, "refs/heads/main");
  EXPECT_EQ(push.changes[0].type, RefChangeType::update);
  EXPECT_EQ(push.changes[0].ref_type, RefType::branch);
  EXPECT_EQ(push.changes[1].ref_id, "refs/heads/hotfix/2.1.4");
  EXPECT_EQ(push.changes[1].type, RefChangeType::add);
  EXPECT_EQ(push.changes[1].ref_type, RefType::branch);
  EXPECT_EQ(push.changes[1].display_id, "hotfix/2.1.4");
  EXPECT_EQ(push.changes[2].ref_id, "refs/tags/v2.1.4-rc1");
  EXPECT_EQ(push.changes[2].type, RefChangeType::remove);
  EXPECT_EQ(push.changes[2].ref_type, RefType::tag);
  EXPECT_EQ(push.changes[2].to_hash, kZeroHash);
  EXPECT_EQ(push.actor.username, "abello");
  EXPECT_EQ(push.commits.size(), 2u);
}

TEST(BitbucketServerParse, BranchUpdateNewDataCenterShape) {
  const auto push = parse_as<PushEvent>(fixture("branch_update"));
  EXPECT_EQ(push.repository.provider, "bitbucket_server");
  EXPECT_EQ(push.repository.project_key, "NWA");
  EXPECT_EQ(push.repository.slug, "flight-planner");
  EXPECT_EQ(push.repository.http_clone_url,
            "https://scm.northwind.example/scm/nwa/flight-planner.git");
  EXPECT_EQ(push.repository.ssh_clone_url,
            "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git");
  EXPECT_EQ(push.repository.browse_url,
            "https://scm.northwind.example/projects/NWA/repos/flight-planner/browse");
  // The actor is the pusher (a Bitbucket user), not the commit author.
  EXPECT_EQ(push.actor.name, "Jun Nakamura");
  EXPECT_EQ(push.actor.username, "jnakamura");
  EXPECT_EQ(push.actor.email, "j.nakamura@northwind.example");

  ASSERT_EQ(push.changes.size(), 1u);
  EXPECT_EQ(push.changes[0].display_id, "release/2.1");  // a '/' in a branch name survives

  ASSERT_EQ(push.commits.size(), 2u);
  const CommitPreview& merge = push.commits[0];
  EXPECT_EQ(merge.hash, "77cdab5fede3ae1fd195198a789f79f19608a760");
  EXPECT_EQ(merge.parents.size(), 2u);
  EXPECT_EQ(merge.author.name, "Jun Nakamura");    // linked user: displayName
  EXPECT_EQ(merge.author.username, "jnakamura");   // linked user: name
  EXPECT_EQ(merge.author_time_ms, 1772457605000);  // "2026-03-02T13:20:05.000Z"
  EXPECT_EQ(merge.message.rfind("Pull request #61: ", 0), 0u);

  // toCommit parents are full commit objects in DC 10.x: only their ids are kept.
  ASSERT_TRUE(push.to_commit.has_value());
  EXPECT_EQ(push.to_commit->parents,
            (std::vector<std::string>{"7d7b0fbbe25762380f81e841c905ed01b823f46d",
                                      "e373990b5aacc4fe10270a390ffcd3702f6d4418"}));
}

TEST(BitbucketServerParse, OldPayloadWithoutCommitsOrLinks) {
  const auto push = parse_as<PushEvent>(fixture("old_no_commits"));
  ASSERT_EQ(push.changes.size(), 1u);
  EXPECT_EQ(push.changes[0].display_id, "master");
  EXPECT_TRUE(push.commits.empty());
  EXPECT_FALSE(push.to_commit.has_value());
  EXPECT_EQ(push.repository.project_key, "NWA");
  EXPECT_EQ(push.repository.http_clone_url, "");
  EXPECT_EQ(push.repository.ssh_clone_url, "");
  EXPECT_EQ(push.repository.browse_url, "");
}

TEST(BitbucketServerParse, PersonalRepository) {
  const auto push = parse_as<PushEvent>(fixture("personal_repo"));
  EXPECT_EQ(push.repository.project_key, "~JNAKAMURA");
  EXPECT_EQ(push.repository.slug, "sim-scripts");
  // The ssh link comes first in this payload; each URL is still found by its name.
  EXPECT_EQ(push.repository.http_clone_url,
            "https://scm.northwind.example/scm/~jnakamura/sim-scripts.git");
  EXPECT_EQ(push.repository.ssh_clone_url,
            "ssh://git@scm.northwind.example:7999/~jnakamura/sim-scripts.git");
}

TEST(BitbucketServerParse, PullRequestOpenedEpochDates) {
  const auto pr = parse_as<PullRequestEvent>(fixture("pr_opened"));
  EXPECT_EQ(pr.action, PullRequestAction::opened);
  EXPECT_EQ(pr.id, 63);
  EXPECT_EQ(pr.state, "OPEN");
  EXPECT_EQ(pr.created_at_ms, 1772959267000);
  EXPECT_EQ(pr.updated_at_ms, 1772959267000);
  EXPECT_EQ(pr.source_ref_id, "refs/heads/feature/NWA-540-holding-entry");
  EXPECT_EQ(pr.source_branch, "feature/NWA-540-holding-entry");
  EXPECT_EQ(pr.source_hash, "d0714c487a4dc00f14c34257aa83bd18123e07d3");
  EXPECT_EQ(pr.target_branch, "main");
  EXPECT_EQ(pr.repository.project_key, "NWA");
  EXPECT_EQ(pr.repository.slug, "flight-planner");
  EXPECT_EQ(pr.actor.username, "mkowalski");
}

TEST(BitbucketServerParse, PullRequestIsoDatesWithOffsetConvertToUtc) {
  const auto pr = parse_as<PullRequestEvent>(fixture("pr_opened_iso_dates"));
  // "2026-03-09T16:05:12+0200" is 14:05:12 UTC.
  EXPECT_EQ(pr.created_at_ms, 1773065112000);
  EXPECT_EQ(format_utc(pr.created_at_ms), "2026-03-09T14:05:12.000Z");
  EXPECT_EQ(pr.updated_at_ms, 1773065113000);
}

TEST(BitbucketServerParse, PullRequestSourceUpdatedHasPreviousHash) {
  const auto pr = parse_as<PullRequestEvent>(fixture("pr_from_ref_updated"));
  EXPECT_EQ(pr.action, PullRequestAction::source_updated);
  EXPECT_EQ(pr.previous_source_hash, "d0714c487a4dc00f14c34257aa83bd18123e07d3");
  EXPECT_EQ(pr.source_hash, "409628f6131fad4d0751a13da42f936152e6cb01");
}

TEST(BitbucketServerParse, PullRequestModifiedTargetChanged) {
  const auto pr = parse_as<PullRequestEvent>(fixture("pr_modified_target"));
  EXPECT_EQ(pr.action, PullRequestAction::target_changed);
  EXPECT_EQ(pr.previous_target_branch, "main");
  EXPECT_EQ(pr.target_branch, "release/2.1");
}

TEST(BitbucketServerParse, PullRequestModifiedSameTargetIsModified) {
  const auto pr = parse_as<PullRequestEvent>(fixture("pr_modified_title"));
  EXPECT_EQ(pr.action, PullRequestAction::modified);
  EXPECT_EQ(pr.previous_target_branch, "");
}

TEST(BitbucketServerParse, PullRequestMergedHasMergeCommit) {
  const auto pr = parse_as<PullRequestEvent>(fixture("pr_merged"));
  EXPECT_EQ(pr.action, PullRequestAction::merged);
  EXPECT_EQ(pr.state, "MERGED");
  EXPECT_EQ(pr.merge_commit_hash, "0ccfc377cc485bc24874d5b5d27dafc46feb04a6");
}

TEST(BitbucketServerParse, PullRequestDeclinedAndDeleted) {
  EXPECT_EQ(parse_as<PullRequestEvent>(fixture("pr_declined")).action, PullRequestAction::declined);
  EXPECT_EQ(parse_as<PullRequestEvent>(fixture("pr_deleted")).action, PullRequestAction::deleted);
}

TEST(BitbucketServerParse, MirrorSynchronizedIsAPush) {
  const auto push = parse_as<PushEvent>(fixture("mirror_synchronized"));
  ASSERT_EQ(push.changes.size(), 2u);
  EXPECT_EQ(push.changes[1].ref_type, RefType::tag);
  EXPECT_EQ(push.actor.name, "");  // mirror syncs have no actor
}

TEST(BitbucketServerParse, MirrorRefLimitExceededGivesPushWithoutChanges) {
  const auto push = parse_as<PushEvent>(fixture("mirror_ref_limit_exceeded"));
  EXPECT_TRUE(push.changes.empty());
  EXPECT_EQ(push.repository.slug, "flight-planner");
  // Without the changes member at all, too.
  const auto no_changes = parse_as<PushEvent>(
      dc_delivery("mirror:repo_synchronized",
                  std::string(R"({"refLimitExceeded": true, )") + kMinimalRepo + "}"));
  EXPECT_TRUE(no_changes.changes.empty());
}

TEST(BitbucketServerParse, Ping) {
  parse_as<PingEvent>(fixture("ping"));
  // The ping body is not a fixed format: anything is accepted.
  parse_as<PingEvent>(dc_delivery("diagnostics:ping", ""));
  parse_as<PingEvent>(dc_delivery("diagnostics:ping", "not json"));
  // Ping named only in the body.
  parse_as<PingEvent>(delivery({}, R"({"eventKey": "diagnostics:ping"})"));
}

TEST(BitbucketServerParse, UnknownEventIsUnsupported) {
  EXPECT_EQ(parse_as<UnsupportedEvent>(fixture("unknown_event")).event_key, "repo:comment:added");
  EXPECT_EQ(parse_as<UnsupportedEvent>(dc_delivery("pr:reviewer:approved", "{}")).event_key,
            "pr:reviewer:approved");
}

TEST(BitbucketServerParse, EventKeyFromBodyWhenHeaderMissing) {
  const auto push = parse_as<PushEvent>(
      delivery({}, refs_changed_body(kMinimalRepo, std::string("[") + kMinimalChange + "]")));
  EXPECT_EQ(push.changes.size(), 1u);
}

TEST(BitbucketServerParse, HeaderEventKeyWinsOverBody) {
  // Body says refs_changed, header says a comment event: the header decides.
  const RawDelivery d =
      dc_delivery("repo:comment:added",
                  refs_changed_body(kMinimalRepo, std::string("[") + kMinimalChange + "]"));
  EXPECT_EQ(parse_as<UnsupportedEvent>(d).event_key, "repo:comment:added");
}

// ---------------------------------------------------------------------------------------------
// Malformed bodies

TEST(BitbucketServerParse, MalformedJsonIsMalformedPayload) {
  const Error e = parse_error(dc_delivery("repo:refs_changed", R"({"eventKey": "repo:refs_)"));
  EXPECT_EQ(e.code, ErrorCode::malformed_payload);
  EXPECT_NE(e.message.find("Bitbucket repo:refs_changed payload is not valid JSON"),
            std::string::npos)
      << e.message;
}

TEST(BitbucketServerParse, EmptyOrNonObjectBodyIsMalformed) {
  EXPECT_EQ(parse_error(dc_delivery("repo:refs_changed", "")).code, ErrorCode::malformed_payload);
  const Error e = parse_error(dc_delivery("repo:refs_changed", "[1, 2]"));
  EXPECT_EQ(e.code, ErrorCode::malformed_payload);
  EXPECT_EQ(e.message, "Bitbucket repo:refs_changed payload is not a JSON object");
  // Unknown events still need a JSON object body.
  EXPECT_EQ(parse_error(dc_delivery("repo:forked", "\"x\"")).code, ErrorCode::malformed_payload);
}

TEST(BitbucketServerParse, DeeplyNestedBodyIsMalformedNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(parse_error(dc_delivery("repo:refs_changed", deep)).code, ErrorCode::malformed_payload);
}

TEST(BitbucketServerParse, MissingChangesIsMalformed) {
  const Error e =
      parse_error(dc_delivery("repo:refs_changed", refs_changed_body(kMinimalRepo, "")));
  EXPECT_EQ(e.code, ErrorCode::malformed_payload);
  EXPECT_EQ(e.message, "Bitbucket repo:refs_changed payload has no changes");
  // refLimitExceeded false does not excuse a mirror sync without changes.
  const Error m =
      parse_error(dc_delivery("mirror:repo_synchronized",
                              std::string(R"({"refLimitExceeded": false, )") + kMinimalRepo + "}"));
  EXPECT_EQ(m.message, "Bitbucket mirror:repo_synchronized payload has no changes");
}

TEST(BitbucketServerParse, MissingRepositoryIsMalformed) {
  const Error e = parse_error(dc_delivery(
      "repo:refs_changed", refs_changed_body("", std::string("[") + kMinimalChange + "]")));
  EXPECT_EQ(e.code, ErrorCode::malformed_payload);
  EXPECT_EQ(e.message, "Bitbucket repo:refs_changed payload has no repository");
}

TEST(BitbucketServerParse, MissingProjectKeyIsMalformed) {
  const std::string changes = std::string("[") + kMinimalChange + "]";
  const Error no_project = parse_error(dc_delivery(
      "repo:refs_changed", refs_changed_body(R"("repository": {"slug": "x"})", changes)));
  EXPECT_EQ(no_project.message,
            "Bitbucket repo:refs_changed payload has no repository.project.key");
  const Error empty_key = parse_error(dc_delivery(
      "repo:refs_changed",
      refs_changed_body(R"("repository": {"slug": "x", "project": {"key": ""}})", changes)));
  EXPECT_EQ(empty_key.message, "Bitbucket repo:refs_changed payload has no repository.project.key");
  const Error no_slug = parse_error(
      dc_delivery("repo:refs_changed",
                  refs_changed_body(R"("repository": {"project": {"key": "NWA"}})", changes)));
  EXPECT_EQ(no_slug.message, "Bitbucket repo:refs_changed payload has no repository.slug");
}

TEST(BitbucketServerParse, WrongTypesAreMalformed) {
  const std::string changes = std::string("[") + kMinimalChange + "]";
  const Error slug = parse_error(dc_delivery(
      "repo:refs_changed",
      refs_changed_body(R"("repository": {"slug": 7, "project": {"key": "NWA"}})", changes)));
  EXPECT_EQ(slug.message, "Bitbucket repo:refs_changed payload: repository.slug is not a string");
  const Error not_array =
      parse_error(dc_delivery("repo:refs_changed", refs_changed_body(kMinimalRepo, "{}")));
  EXPECT_EQ(not_array.message, "Bitbucket repo:refs_changed payload: changes is not an array");
  const Error commits = parse_error(dc_delivery(
      "repo:refs_changed",
      R"({"changes": [], "commits": [{"id": "zz"}], )" + std::string(kMinimalRepo) + "}"));
  EXPECT_EQ(commits.code, ErrorCode::malformed_payload);
  EXPECT_NE(commits.message.find("commits[0].id"), std::string::npos) << commits.message;
}

TEST(BitbucketServerParse, UnknownChangeTypeIsMalformed) {
  const Error e = parse_error(dc_delivery(
      "repo:refs_changed", refs_changed_body(kMinimalRepo,
                                             R"([{"ref": {"id": "refs/heads/x"}, "type": "MOVE",
                            "fromHash": "1111111111111111111111111111111111111111",
                            "toHash": "2222222222222222222222222222222222222222"}])")));
  EXPECT_EQ(e.message,
            "Bitbucket repo:refs_changed payload: changes[0].type is \"MOVE\", expected ADD, "
            "UPDATE or DELETE");
}

TEST(BitbucketServerParse, NonHexHashIsMalformed) {
  const Error e = parse_error(
      dc_delivery("repo:refs_changed",
                  refs_changed_body(kMinimalRepo,
                                    R"json([{"ref": {"id": "refs/heads/x"}, "type": "UPDATE",
                            "fromHash": "1111111111111111111111111111111111111111",
                            "toHash": "$(rm -rf /)"}])json")));
  EXPECT_EQ(e.code, ErrorCode::malformed_payload);
  EXPECT_NE(e.message.find("changes[0].toHash"), std::string::npos) << e.message;
}

TEST(BitbucketServerParse, NoEventKeyAnywhereIsMalformed) {
  const Error e = parse_error(delivery({{"X-Request-Id", "1"}}, R"({"changes": []})"));
  EXPECT_EQ(e.code, ErrorCode::malformed_payload);
  EXPECT_EQ(e.message, "Bitbucket delivery has no X-Event-Key header and no eventKey in its body");
}

TEST(BitbucketServerParse, PullRequestWithoutPullRequestIsMalformed) {
  const Error e = parse_error(dc_delivery("pr:opened", R"({"eventKey": "pr:opened"})"));
  EXPECT_EQ(e.message, "Bitbucket pr:opened payload has no pullRequest");
}

TEST(BitbucketServerParse, PullRequestWithoutTargetRepositoryIsMalformed) {
  const Error e = parse_error(dc_delivery("pr:merged", R"({"pullRequest": {
      "id": 1, "fromRef": {"id": "refs/heads/a"}, "toRef": {"id": "refs/heads/main"}}})"));
  EXPECT_EQ(e.message, "Bitbucket pr:merged payload has no pullRequest.toRef.repository");
  const Error no_id = parse_error(dc_delivery("pr:merged", R"({"pullRequest": {
      "fromRef": {"id": "refs/heads/a"}, "toRef": {"id": "refs/heads/main"}}})"));
  EXPECT_EQ(no_id.message, "Bitbucket pr:merged payload has no pullRequest.id");
}

TEST(BitbucketServerParse, PullRequestWithUnreadableDateIsMalformed) {
  const Error e = parse_error(dc_delivery("pr:opened", R"({"pullRequest": {
      "id": 1, "createdDate": "yesterday",
      "fromRef": {"id": "refs/heads/a"},
      "toRef": {"id": "refs/heads/main",
                "repository": {"slug": "x", "project": {"key": "NWA"}}}}})"));
  EXPECT_EQ(e.code, ErrorCode::malformed_payload);
  EXPECT_EQ(e.message,
            "Bitbucket pr:opened payload: pullRequest.createdDate is \"yesterday\", not epoch "
            "milliseconds or an ISO-8601 date-time with offset");
}

TEST(BitbucketServerParse, PullRequestActorFallsBackToAuthor) {
  const auto pr = parse_as<PullRequestEvent>(dc_delivery("pr:opened", R"({"pullRequest": {
      "id": 9, "fromRef": {"id": "refs/heads/a"},
      "author": {"user": {"name": "abello", "displayName": "Ana Bello"}, "role": "AUTHOR"},
      "toRef": {"id": "refs/heads/main",
                "repository": {"slug": "x", "project": {"key": "NWA"}}}}})"));
  EXPECT_EQ(pr.actor.username, "abello");
  EXPECT_EQ(pr.actor.name, "Ana Bello");
  EXPECT_EQ(pr.source_branch, "a");  // derived from the ref id when displayId is absent
  EXPECT_EQ(pr.created_at_ms, 0);
}

}  // namespace
}  // namespace cb::providers::bitbucket_server

namespace cb::providers::bitbucket_server {
namespace {

TEST(BitbucketServerParse, RefNameWithAControlCharacterIsMalformed) {
  // JSON escapes decode to ESC and a new line: neither may reach logs or job environments.
  for (const std::string bad : {R"(feature\u001b[2Jx)", R"(feat\nforged log line)"}) {
    const std::string change =
        R"([{"ref": {"id": "refs/heads/)" + bad + R"(", "displayId": ")" + bad +
        R"(", "type": "BRANCH"}, "fromHash": "1111111111111111111111111111111111111111",
            "toHash": "2222222222222222222222222222222222222222", "type": "UPDATE"}])";
    const Error e =
        parse_error(dc_delivery("repo:refs_changed", refs_changed_body(kMinimalRepo, change)));
    EXPECT_EQ(e.code, ErrorCode::malformed_payload) << bad;
    EXPECT_NE(e.message.find("contains a control character"), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace cb::providers::bitbucket_server
