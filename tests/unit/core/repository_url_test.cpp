#include "core/repository_url.hpp"

#include <ostream>
#include <string>

#include <gtest/gtest.h>

namespace cb {
namespace {

struct SameCase {
  const char* a;
  const char* b;
  const char* provider;
  bool same;
};

std::ostream& operator<<(std::ostream& os, const SameCase& c) {
  return os << "a=\"" << c.a << "\" b=\"" << c.b << "\" provider=" << c.provider
            << " same=" << c.same;
}

class SameRepositoryUrlTest : public ::testing::TestWithParam<SameCase> {};

TEST_P(SameRepositoryUrlTest, ComparesCanonicalKeys) {
  const SameCase& c = GetParam();
  EXPECT_EQ(same_repository_url(c.a, c.b, c.provider), c.same);
  EXPECT_EQ(same_repository_url(c.b, c.a, c.provider), c.same) << "not symmetric";
}

constexpr const char* kBbs = "bitbucket_server";

INSTANTIATE_TEST_SUITE_P(
    Table, SameRepositoryUrlTest,
    ::testing::Values(
        // Bitbucket Data Center: HTTP with /scm/ against SSH on port 7999.
        SameCase{"https://scm.northwind.example/scm/NWA/flight-planner.git",
                 "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git", kBbs, true},
        SameCase{"https://scm.northwind.example/scm/nwa/flight-planner.git",
                 "https://scm.northwind.example/scm/NWA/flight-planner.git", kBbs, true},
        // Trailing .git and trailing slash.
        SameCase{"https://scm.northwind.example/scm/nwa/flight-planner",
                 "https://scm.northwind.example/scm/nwa/flight-planner.git", kBbs, true},
        SameCase{"https://scm.northwind.example/scm/nwa/flight-planner.git/",
                 "https://scm.northwind.example/scm/nwa/flight-planner", kBbs, true},
        // Host case and default ports.
        SameCase{"https://SCM.Northwind.Example/scm/nwa/flight-planner.git",
                 "https://scm.northwind.example:443/scm/nwa/flight-planner.git", kBbs, true},
        SameCase{"http://scm.northwind.example:80/scm/nwa/flight-planner.git",
                 "http://scm.northwind.example/scm/nwa/flight-planner.git", kBbs, true},
        SameCase{"ssh://git@scm.northwind.example:22/nwa/flight-planner.git",
                 "git@scm.northwind.example:nwa/flight-planner.git", kBbs, true},
        // scp-like against https with /scm/.
        SameCase{"git@scm.northwind.example:NWA/flight-planner.git",
                 "https://scm.northwind.example/scm/nwa/flight-planner.git", kBbs, true},
        // User info is ignored.
        SameCase{"https://build-bot:s3cr3t@scm.northwind.example/scm/nwa/flight-planner.git",
                 "https://scm.northwind.example/scm/nwa/flight-planner.git", kBbs, true},
        SameCase{"https://marta@scm.northwind.example/scm/nwa/flight-planner.git",
                 "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git", kBbs, true},
        // A context path before /scm/.
        SameCase{"https://tools.northwind.example/bitbucket/scm/nwa/flight-planner.git",
                 "ssh://git@tools.northwind.example:7999/nwa/flight-planner.git", kBbs, true},
        // Browse URL of a project repository.
        SameCase{"https://scm.northwind.example/projects/NWA/repos/flight-planner/browse",
                 "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git", kBbs, true},
        // Personal repositories: ~user in clone URLs, /users/user/ in browse URLs.
        SameCase{"https://scm.northwind.example/scm/~marta.k/sandbox.git",
                 "ssh://git@scm.northwind.example:7999/~marta.k/sandbox.git", kBbs, true},
        SameCase{"https://scm.northwind.example/users/marta.k/repos/sandbox/browse",
                 "https://scm.northwind.example/scm/~MARTA.K/sandbox.git", kBbs, true},
        SameCase{"https://scm.northwind.example/users/marta.k/repos/sandbox/browse",
                 "https://scm.northwind.example/scm/marta.k/sandbox.git", kBbs, false},
        // Non-matches: different host, slug, project.
        SameCase{"https://scm.northwind.example/scm/nwa/flight-planner.git",
                 "https://scm.southwind.example/scm/nwa/flight-planner.git", kBbs, false},
        SameCase{"https://scm.northwind.example/scm/nwa/flight-planner.git",
                 "ssh://git@scm.northwind.example:7999/nwa/flight-planner-2.git", kBbs, false},
        SameCase{"https://scm.northwind.example/scm/nwa/flight-planner.git",
                 "ssh://git@scm.northwind.example:7999/ops/flight-planner.git", kBbs, false},
        SameCase{"git@scm.northwind.example:nwa/flight-planner.git",
                 "git@scm2.northwind.example:nwa/flight-planner.git", kBbs, false},
        // GitHub: https vs scp-like, case-insensitive owner/name.
        SameCase{"https://github.com/Northwind/Flight-Planner.git",
                 "git@github.com:northwind/flight-planner.git", "github", true},
        SameCase{"https://github.com/northwind/flight-planner",
                 "https://github.com/northwind/autopilot", "github", false},
        // GitLab nested groups.
        SameCase{"https://gitlab.example.com/avionics/nav/flight-planner.git",
                 "ssh://git@gitlab.example.com:2222/avionics/nav/flight-planner.git", "gitlab",
                 true},
        SameCase{"https://gitlab.example.com/avionics/nav/flight-planner.git",
                 "https://gitlab.example.com/avionics/flight-planner.git", "gitlab", false},
        // Bitbucket Cloud.
        SameCase{"https://marta@bitbucket.org/northwind/flight-planner.git",
                 "git@bitbucket.org:northwind/flight-planner.git", "bitbucket_cloud", true},
        // Azure DevOps: https with _git against ssh v3.
        SameCase{"https://northwind@dev.azure.com/northwind/Avionics/_git/flight-planner",
                 "git@ssh.dev.azure.com:v3/northwind/Avionics/flight-planner", "azure_devops",
                 true},
        SameCase{"https://dev.azure.com/northwind/Avionics/_git/flight-planner",
                 "https://dev.azure.com/northwind/Cabin/_git/flight-planner", "azure_devops",
                 false},
        // Gitea.
        SameCase{"https://gitea.example.com/northwind/flight-planner.git",
                 "ssh://git@gitea.example.com/northwind/flight-planner.git", "gitea", true},
        // Local paths and file URLs (no provider: case-sensitive).
        SameCase{"/srv/git/flight-planner.git", "file:///srv/git/flight-planner.git", "", true},
        SameCase{"/srv/git/Flight-Planner.git", "/srv/git/flight-planner.git", "", false},
        // Not URLs at all never match, not even themselves.
        SameCase{"flight-planner", "flight-planner", kBbs, false}, SameCase{"", "", kBbs, false},
        SameCase{"https://", "https://", kBbs, false}));

TEST(CanonicalRepositoryUrlTest, KeyOfBitbucketServerHttpUrl) {
  auto key = canonical_repository_url("https://Scm.Example:8443/scm/NWA/Flight-Planner.git/",
                                      "bitbucket_server");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->host, "scm.example");
  EXPECT_EQ(key->segments, (std::vector<std::string>{"nwa", "flight-planner"}));
  EXPECT_EQ(key->to_string(), "scm.example/nwa/flight-planner");
}

TEST(CanonicalRepositoryUrlTest, PercentEncodingIsDecoded) {
  auto key = canonical_repository_url("https://scm.example/scm/%7Emarta/sand%62ox.git",
                                      "bitbucket_server");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->to_string(), "scm.example/~marta/sandbox");
}

TEST(CanonicalRepositoryUrlTest, UnknownProviderKeepsCaseOfPath) {
  auto key = canonical_repository_url("git@Git.Example:Team/Repo.git", "");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->to_string(), "git.example/Team/Repo");
}

TEST(CanonicalRepositoryUrlTest, RejectsRelativePathsAndEmptyPaths) {
  EXPECT_FALSE(canonical_repository_url("../flight-planner.git", "").has_value());
  EXPECT_FALSE(canonical_repository_url("https://scm.example/", "bitbucket_server").has_value());
  EXPECT_FALSE(canonical_repository_url("git@scm.example:", "bitbucket_server").has_value());
}

}  // namespace
}  // namespace cb
