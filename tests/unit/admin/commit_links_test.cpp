// commit_web_url: one row per provider and URL form.

#include "admin/commit_links.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cb::admin {
namespace {

constexpr std::string_view kHash = "3f1c2a9be0d47c6a8f15d2e0b9c4a7e6d5f3b2a1";

struct Row {
  std::string provider;
  std::string project_key;
  std::string slug;
  std::string clone_url;
  std::string browse_url;
  std::string expected;  ///< with "{h}" for kHash; "" when no link can be derived
};

std::string with_hash(std::string s) {
  if (const auto at = s.find("{h}"); at != std::string::npos) s.replace(at, 3, kHash);
  return s;
}

TEST(CommitWebUrl, Table) {
  const std::vector<Row> rows = {
      // Bitbucket Data Center / Server.
      {"bitbucket_server", "NWA", "flight-planner",
       "https://bitbucket.example.com/scm/nwa/flight-planner.git", "",
       "https://bitbucket.example.com/projects/NWA/repos/flight-planner/commits/{h}"},
      {"bitbucket_server", "NWA", "flight-planner",
       "https://jdoe@bitbucket.example.com:8443/bitbucket/scm/nwa/flight-planner.git", "",
       "https://bitbucket.example.com:8443/bitbucket/projects/NWA/repos/flight-planner/commits/"
       "{h}"},
      {"bitbucket_server", "~JDOE", "sandbox",
       "https://bitbucket.example.com/scm/~jdoe/sandbox.git", "",
       "https://bitbucket.example.com/users/jdoe/repos/sandbox/commits/{h}"},
      {"bitbucket_server", "NWA", "flight-planner",
       "ssh://git@bitbucket.example.com:7999/nwa/flight-planner.git",
       "https://code.example.com/projects/NWA/repos/flight-planner/browse",
       "https://code.example.com/projects/NWA/repos/flight-planner/commits/{h}"},
      {"bitbucket_server", "NWA", "flight-planner",
       "ssh://git@bitbucket.example.com:7999/nwa/flight-planner.git", "https://code.example.com/",
       "https://code.example.com/projects/NWA/repos/flight-planner/commits/{h}"},
      {"bitbucket_server", "NWA", "flight-planner",
       "ssh://git@bitbucket.example.com:7999/nwa/flight-planner.git", "", ""},
      {"bitbucket_server", "NWA", "flight-planner", "/srv/git/flight-planner.git", "", ""},
      {"bitbucket_server", "NWA", "flight-planner", "https://git.example.com/nwa/fp.git", "", ""},
      // GitHub and GitHub Enterprise Server.
      {"github", "", "", "https://github.com/orbital/flight-planner.git", "",
       "https://github.com/orbital/flight-planner/commit/{h}"},
      {"github", "", "", "git@github.com:orbital/flight-planner.git", "",
       "https://github.com/orbital/flight-planner/commit/{h}"},
      {"github", "", "", "ssh://git@ghe.example.com:2222/orbital/flight-planner.git", "",
       "https://ghe.example.com/orbital/flight-planner/commit/{h}"},
      {"github", "", "", "https://x-access-token:s3cret@github.com/orbital/fp.git", "",
       "https://github.com/orbital/fp/commit/{h}"},
      {"github", "", "", "git@github.com:orbital/fp.git", "https://github.com/orbital/fp/",
       "https://github.com/orbital/fp/commit/{h}"},
      // GitLab (subgroups).
      {"gitlab", "", "", "https://gitlab.example.com/space/ground/station.git", "",
       "https://gitlab.example.com/space/ground/station/-/commit/{h}"},
      {"gitlab", "", "", "git@gitlab.com:space/station.git", "",
       "https://gitlab.com/space/station/-/commit/{h}"},
      // Gitea.
      {"gitea", "", "", "https://gitea.example.com/orbital/fp.git", "",
       "https://gitea.example.com/orbital/fp/commit/{h}"},
      // Bitbucket Cloud.
      {"bitbucket_cloud", "", "", "https://jdoe@bitbucket.org/orbital/fp.git", "",
       "https://bitbucket.org/orbital/fp/commits/{h}"},
      {"bitbucket_cloud", "", "", "git@bitbucket.org:orbital/fp.git", "",
       "https://bitbucket.org/orbital/fp/commits/{h}"},
      // Azure DevOps.
      {"azure_devops", "", "", "https://orbital@dev.azure.com/orbital/Flight/_git/planner", "",
       "https://dev.azure.com/orbital/Flight/_git/planner/commit/{h}"},
      {"azure_devops", "", "", "git@ssh.dev.azure.com:v3/orbital/Flight/planner", "",
       "https://dev.azure.com/orbital/Flight/_git/planner/commit/{h}"},
      {"azure_devops", "", "", "orbital@vs-ssh.visualstudio.com:v3/orbital/Flight/planner", "",
       "https://orbital.visualstudio.com/Flight/_git/planner/commit/{h}"},
      {"azure_devops", "", "", "https://orbital.visualstudio.com/Flight/_git/planner", "",
       "https://orbital.visualstudio.com/Flight/_git/planner/commit/{h}"},
      {"azure_devops", "", "", "https://dev.azure.com/orbital/Flight/planner.git", "", ""},
      // Nothing to derive.
      {"github", "", "", "file:///srv/git/fp.git", "", ""},
      {"github", "", "", "/srv/git/fp.git", "", ""},
      {"github", "", "", "", "", ""},
      {"perforce", "", "", "https://example.com/fp.git", "", ""},
  };
  for (const auto& r : rows) {
    const RepositoryWebInfo repo{r.provider, r.project_key, r.slug, r.clone_url, r.browse_url};
    EXPECT_EQ(commit_web_url(repo, kHash), with_hash(r.expected))
        << r.provider << " " << r.clone_url << " browse=" << r.browse_url;
  }
}

TEST(CommitWebUrl, RefusesAHashThatIsNotHex) {
  const RepositoryWebInfo repo{"github", "", "", "https://github.com/orbital/fp.git", ""};
  EXPECT_EQ(commit_web_url(repo, "../../settings"), "");
  EXPECT_EQ(commit_web_url(repo, ""), "");
}

}  // namespace
}  // namespace cb::admin
