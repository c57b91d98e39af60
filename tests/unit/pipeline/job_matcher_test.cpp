// Job matching: which job runs for which ref change or pull request. A table of tags versus
// branches, pull-request target versus source rules, exclusions, `**`, non-ASCII names and event
// selection, plus the skip marker.

#include "pipeline/job_matcher.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cb::pipeline {
namespace {

/// What is pushed or changed: a branch, a tag, or a pull request (target + source).
enum class Kind { branch, tag, pull_request };

struct MatchCase {
  const char* what;  ///< description
  const char* events;
  const char* branches;
  const char* tags;
  const char* target_rules;
  const char* source_rules;
  Kind kind;
  const char* name;    ///< branch or tag name; the pull request's target branch
  const char* source;  ///< the pull request's source branch
  bool runs;
};

std::ostream& operator<<(std::ostream& os, const MatchCase& c) { return os << c.what; }

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? comma : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

class JobMatchTableTest : public ::testing::TestWithParam<MatchCase> {};

TEST_P(JobMatchTableTest, RunsOrNot) {
  const MatchCase& c = GetParam();
  store::JobRecord job;
  job.id = 1;
  job.name = "j";
  job.events = split(c.events);
  job.branches = c.branches;
  job.tags = c.tags;
  job.target_branches = c.target_rules;
  job.source_branches = c.source_rules;
  JobMatch m;
  if (c.kind == Kind::pull_request) {
    PullRequestEvent pr;
    pr.action = PullRequestAction::opened;
    pr.id = 5;
    pr.target_branch = c.name;
    pr.source_branch = c.source;
    pr.source_hash = std::string(40, 'a');
    m = match_pull_request({job}, "P/r", pr, "d", 0, {});
  } else {
    PushEvent push;
    RefChange change;
    const bool tag = c.kind == Kind::tag;
    change.ref_id = std::string(tag ? "refs/tags/" : "refs/heads/") + c.name;
    change.display_id = c.name;
    change.ref_type = tag ? RefType::tag : RefType::branch;
    change.type = RefChangeType::update;
    change.from_hash = std::string(40, '1');
    change.to_hash = std::string(40, '2');
    push.changes.push_back(change);
    m = match_push({job}, "P/r", push, "d", 0, {});
  }
  EXPECT_EQ(m.runs.size(), c.runs ? 1u : 0u) << (m.not_run.empty() ? "" : m.not_run.front());
  if (!c.runs) {
    EXPECT_FALSE(m.not_run.empty()) << "a job that does not run says why";
  }
}

constexpr Kind B = Kind::branch;
constexpr Kind T = Kind::tag;
constexpr Kind PR = Kind::pull_request;

// clang-format off
const MatchCase kCases[] = {
    // tags versus branches
    {"branch push, push job",               "push",      "main", "", "", "", B, "main", "", true},
    {"tag named like a branch rule",        "push",      "main", "", "", "", T, "main", "", false},
    {"tag, tag job, every tag",             "tag",       "main", "", "", "", T, "v1.0", "", true},
    {"tag, tag rules v*",                   "tag",       "main", "v*", "", "", T, "v1.0", "", true},
    {"tag, tag rules release-*",            "tag",       "main", "release-*", "", "", T, "v1.0", "", false},
    {"tag, push+tag job",                   "push,tag",  "main", "v*", "", "", T, "v2.0.1", "", true},
    {"branch named v1.0, tag-only job",     "tag",       "**", "v*", "", "", B, "v1.0", "", false},
    {"tag with slash, * stays in segment",  "tag",       "main", "release/*", "", "", T, "release/1.0", "", true},
    {"tag with two slashes, * does not",    "tag",       "main", "release/*", "", "", T, "release/1/0", "", false},
    {"tag with slashes, **",                "tag",       "main", "release/**", "", "", T, "release/1/0", "", true},
    {"tag excluded",                        "tag",       "main", "v*,!v*-rc*", "", "", T, "v2.0-rc1", "", false},
    {"tag rules do not apply to branches",  "push,tag",  "main", "**", "", "", B, "develop", "", false},
    // branches: slashes, non-ASCII, exclusions, **
    {"non-ASCII branch in a segment",       "push",      "feature/*", "", "", "", B, "feature/ünïcode", "", true},
    {"non-ASCII segments, **",              "push",      "feature/**", "", "", "", B, "feature/日本語/x", "", true},
    {"non-ASCII segments, * is one",        "push",      "feature/*", "", "", "", B, "feature/日本語/x", "", false},
    {"? is one code point",                 "push",      "fix/?", "", "", "", B, "fix/ß", "", true},
    {"excluded by !release/*",              "push",      "**,!release/*", "", "", "", B, "release/2.1", "", false},
    {"not excluded one level deeper",       "push",      "**,!release/*", "", "", "", B, "release/2.1/hf", "", true},
    {"**/hotfix at top level",              "push",      "**/hotfix", "", "", "", B, "hotfix", "", true},
    {"**/hotfix nested",                    "push",      "**/hotfix", "", "", "", B, "a/b/hotfix", "", true},
    {"pr-only job ignores pushes",          "pr:opened", "**", "", "", "", B, "main", "", false},
    // pull requests: target versus source
    {"PR into main, branches main",         "pr:opened", "main", "", "", "", PR, "main", "feature/x", true},
    {"PR into release, branches main",      "pr:opened", "main", "", "", "", PR, "release/2.1", "feature/x", false},
    {"target rules override branches",      "pr:opened", "main", "", "release/*", "", PR, "release/2.1", "feature/x", true},
    {"target rules, branches not used",     "pr:opened", "main", "", "release/*", "", PR, "main", "feature/x", false},
    {"branches rule is not the source rule","pr:opened", "feature/*", "", "", "", PR, "main", "feature/x", false},
    {"source rules match",                  "pr:opened", "**", "", "", "feature/**", PR, "main", "feature/a/b", true},
    {"source rules do not match",           "pr:opened", "**", "", "", "feature/**", PR, "main", "bugfix/x", false},
    {"source exclusion",                    "pr:opened", "**", "", "", "!wip/*", PR, "main", "wip/try", false},
    {"source exclusion, other source",      "pr:opened", "**", "", "", "!wip/*", PR, "main", "feature/a", true},
    {"target exclusion",                    "pr:opened", "**,!main", "", "", "", PR, "main", "feature/a", false},
    {"source non-ASCII",                    "pr:opened", "main", "", "", "feature/?", PR, "main", "feature/ß", true},
    {"source rules are not target rules",   "pr:opened", "**", "", "", "main", PR, "main", "feature/a", false},
    {"PR event not selected",               "push",      "**", "", "", "", PR, "main", "feature/a", false},
    {"other PR event not selected",         "pr:merged", "**", "", "", "", PR, "main", "feature/a", false},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(Table, JobMatchTableTest, ::testing::ValuesIn(kCases));

TEST(JobMatcherTest, SkipMarkersAreFoundInAnyCase) {
  EXPECT_EQ(skip_marker_in("Docs only [skip ci]"), std::optional<std::string>("[skip ci]"));
  EXPECT_EQ(skip_marker_in("[CI SKIP] typo"), std::optional<std::string>("[ci skip]"));
  EXPECT_EQ(skip_marker_in("skip ci"), std::nullopt);
  EXPECT_EQ(skip_marker_in("[skip-ci]"), std::nullopt);
}

TEST(JobMatcherTest, PullRequestActionsMapToJobEvents) {
  EXPECT_EQ(job_event_of(PullRequestAction::source_updated), "pr:source_updated");
  EXPECT_EQ(job_event_of(PullRequestAction::target_changed), "pr:target_changed");
  EXPECT_EQ(job_event_of(PullRequestAction::modified), std::nullopt);
  EXPECT_TRUE(is_job_event("pr:deleted"));
  EXPECT_FALSE(is_job_event("pr:modified"));
}

TEST(JobMatcherTest, HeadCommitMessageIsLookedUpOncePerHash) {
  store::JobRecord a;
  a.id = 1;
  a.name = "a";
  a.branches = "**";
  store::JobRecord b = a;
  b.id = 2;
  b.name = "b";
  PushEvent push;
  RefChange change;
  change.ref_id = "refs/heads/main";
  change.display_id = "main";
  change.to_hash = std::string(40, 'c');
  push.changes = {change};
  int lookups = 0;
  const auto m = match_push({a, b}, "P/r", push, "d", 0, [&](const std::string&) {
    ++lookups;
    return std::optional<std::string>("Release notes\n\n[skip ci]");
  });
  EXPECT_EQ(lookups, 1);
  EXPECT_TRUE(m.runs.empty());
  EXPECT_EQ(m.not_run,
            std::vector<std::string>{
                "skip marker [skip ci] in head commit ccccccc of branch main skipped jobs a, b"});
}

TEST(JobMatcherTest, AMatchingJobSkippedByTheMarkerIsNamedAndNoJobMatchesIsNotSaid) {
  store::JobRecord build;
  build.id = 1;
  build.name = "build";
  build.branches = "main";
  store::JobRecord deploy = build;
  deploy.id = 2;
  deploy.name = "deploy";
  deploy.branches = "release/*";
  PushEvent push;
  RefChange change;
  change.ref_id = "refs/heads/main";
  change.display_id = "main";
  change.to_hash = "3844482" + std::string(33, 'a');
  push.changes = {change};
  const auto m = match_push({build, deploy}, "P/r", push, "d", 0, [](const std::string&) {
    return std::optional<std::string>("wip [CI SKIP]");
  });
  EXPECT_TRUE(m.runs.empty());
  EXPECT_EQ(m.not_run, std::vector<std::string>{"skip marker [ci skip] in head commit 3844482 of "
                                                "branch main skipped job build"});

  // Without the marker the same jobs run build; with no job matching, that is what is said.
  const auto plain = match_push({build, deploy}, "P/r", push, "d", 0, [](const std::string&) {
    return std::optional<std::string>("wip");
  });
  ASSERT_EQ(plain.runs.size(), 1u);
  EXPECT_EQ(plain.runs[0].job_name, "build");
  EXPECT_TRUE(plain.not_run.empty());
  const auto none = match_push({deploy}, "P/r", push, "d", 0, [](const std::string&) {
    return std::optional<std::string>("wip [CI SKIP]");
  });
  EXPECT_EQ(none.not_run, std::vector<std::string>{"no job matches branch main"});
}

}  // namespace
}  // namespace cb::pipeline
