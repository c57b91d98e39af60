// Matching a payload's repository to a registered one (provider + project key + slug, then clone
// URL forms), and planning the fetch of a repository's mirror with its credentials.

#include "pipeline/repository_match.hpp"

#include <gtest/gtest.h>

#include "pipeline/repository_fetch.hpp"
#include "pipeline_test_util.hpp"

namespace cb::pipeline {
namespace {

class RepositoryMatchTest : public testing::StoreFixture {
 protected:
  store::RepositoryRecord add(std::string provider, std::string project, std::string slug,
                              std::string http_url, std::string ssh_url = "") {
    store::RepositoryRecord r;
    r.org_id = org_.id;
    r.provider = std::move(provider);
    r.project_key = std::move(project);
    r.slug = std::move(slug);
    r.clone_url = std::move(http_url);
    r.ssh_clone_url = std::move(ssh_url);
    r.created_at_ms = kStart;
    auto created = store_->create_repository(r);
    EXPECT_TRUE(created.has_value());
    return created.value_or(store::RepositoryRecord{});
  }

  static RepositoryRef ref(std::string project, std::string slug, std::string http = "",
                           std::string ssh = "", std::string browse = "") {
    RepositoryRef r;
    r.provider = "bitbucket_server";
    r.project_key = std::move(project);
    r.slug = std::move(slug);
    r.http_clone_url = std::move(http);
    r.ssh_clone_url = std::move(ssh);
    r.browse_url = std::move(browse);
    return r;
  }

  std::optional<std::int64_t> matched(const RepositoryRef& r) {
    auto m = match_repository(*store_, org_.id, r);
    EXPECT_TRUE(m.has_value());
    if (!m || !*m) return std::nullopt;
    return (*m)->id;
  }
};

TEST_F(RepositoryMatchTest, ProjectKeyAndSlugMatchCaseInsensitively) {
  const auto repo = add("bitbucket_server", "NWA", "flight-planner",
                        "https://scm.northwind.example/scm/nwa/flight-planner.git");
  EXPECT_EQ(matched(ref("nwa", "FLIGHT-PLANNER")), repo.id);
}

TEST_F(RepositoryMatchTest, CloneUrlFormsMatchWhenTheNamesDoNot) {
  // Registered under other names (e.g. before a rename), with its HTTP URL only.
  const auto repo = add("bitbucket_server", "LEGACY", "planner",
                        "https://scm.northwind.example/scm/nwa/flight-planner.git");
  EXPECT_EQ(matched(ref("NWA", "flight-planner", "",
                        "ssh://git@scm.northwind.example:7999/NWA/flight-planner.git")),
            repo.id);
  EXPECT_EQ(matched(ref("NWA", "flight-planner", "", "",
                        "https://scm.northwind.example/projects/NWA/repos/flight-planner/browse")),
            repo.id);
  // A payload with clone URLs only.
  EXPECT_EQ(matched(ref("", "", "https://SCM.northwind.example:443/scm/NWA/flight-planner")),
            repo.id);
}

TEST_F(RepositoryMatchTest, PersonalRepositoriesMatchAcrossForms) {
  const auto repo = add("bitbucket_server", "~MARTA", "sandbox", "",
                        "ssh://git@scm.northwind.example:7999/~marta/sandbox.git");
  EXPECT_EQ(matched(ref("~other", "x", "https://scm.northwind.example/scm/~marta/sandbox.git")),
            repo.id);
}

TEST_F(RepositoryMatchTest, NonMatchingUrlsAndOtherProvidersAreNotMatched) {
  add("bitbucket_server", "LEGACY", "planner",
      "https://scm.northwind.example/scm/nwa/flight-planner.git");
  add("github", "northwind", "autopilot", "https://github.com/northwind/autopilot.git");
  EXPECT_FALSE(matched(
      ref("NWA", "flight-planner", "https://scm.southwind.example/scm/nwa/flight-planner.git")));
  EXPECT_FALSE(matched(ref("NWA", "flight-planner-2",
                           "https://scm.northwind.example/scm/nwa/flight-planner-2.git")));
  EXPECT_FALSE(matched(
      ref("OPS", "flight-planner", "https://scm.northwind.example/scm/ops/flight-planner.git")));
  // The GitHub repository's URL in a Bitbucket payload: providers differ.
  EXPECT_FALSE(
      matched(ref("northwind", "autopilot", "https://github.com/northwind/autopilot.git")));
  EXPECT_FALSE(matched(ref("NWA", "flight-planner")));  // no URLs, no names that match
}

TEST_F(RepositoryMatchTest, OfSeveralUrlMatchesTheOldestWins) {
  const auto first = add("bitbucket_server", "A", "one", "https://scm.example/scm/nwa/x.git");
  add("bitbucket_server", "B", "two", "", "git@scm.example:nwa/x.git");
  EXPECT_EQ(matched(ref("NWA", "x", "https://scm.example/scm/nwa/x.git")), first.id);
}

// ---- plan_repository_fetch ----------------------------------------------------------------------

store::RepositoryRecord with_urls() {
  store::RepositoryRecord r;
  r.project_key = "NWA";
  r.slug = "flight-planner";
  r.clone_url = "https://scm.example/scm/nwa/flight-planner.git";
  r.ssh_clone_url = "ssh://git@scm.example:7999/nwa/flight-planner.git";
  return r;
}

TEST(RepositoryFetchTest, AnonymousFetchUsesTheHttpUrlThenTheSshUrl) {
  auto plan = plan_repository_fetch(with_urls(), nullptr);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->url, "https://scm.example/scm/nwa/flight-planner.git");
  EXPECT_FALSE(plan->credentials.has_value());
  auto ssh_only = with_urls();
  ssh_only.clone_url.clear();
  EXPECT_EQ(plan_repository_fetch(ssh_only, nullptr)->url, ssh_only.ssh_clone_url);
  auto none = with_urls();
  none.clone_url.clear();
  none.ssh_clone_url.clear();
  EXPECT_EQ(plan_repository_fetch(none, nullptr).error().code, ErrorCode::invalid_argument);
}

TEST(RepositoryFetchTest, HttpCredentialsAreOpenedWithTheRowsAad) {
  const auto box = testing::test_box();
  auto r = with_urls();
  r.credential_type = "http";
  r.credential_username = "build-bot";
  r.credential_id = "a1b2";
  r.credential_secret_sealed = box.seal("tok-3c9d", store::repository_credential_aad("a1b2"));
  auto plan = plan_repository_fetch(r, &box);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_EQ(plan->url, r.clone_url);
  ASSERT_TRUE(plan->credentials.has_value());
  EXPECT_EQ(plan->credentials->username, "build-bot");
  EXPECT_EQ(plan->credentials->password, "tok-3c9d");
  EXPECT_TRUE(plan->credentials->ssh_private_key_path.empty());

  r.credential_id = "other";  // sealed for another row: refused, and the secret is not shown
  auto wrong = plan_repository_fetch(r, &box);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::internal);
  EXPECT_EQ(wrong.error().message.find("tok-3c9d"), std::string::npos);
  EXPECT_FALSE(plan_repository_fetch(r, nullptr).has_value());
}

TEST(RepositoryFetchTest, SshCredentialsUseTheSshUrlAndTheKeyFile) {
  const auto box = testing::test_box();
  auto r = with_urls();
  r.credential_type = "ssh";
  r.credential_username = "git";
  r.ssh_key_path = "/etc/commitbridge/id_ed25519";
  auto plan = plan_repository_fetch(r, &box);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->url, r.ssh_clone_url);
  ASSERT_TRUE(plan->credentials.has_value());
  EXPECT_EQ(plan->credentials->ssh_private_key_path, "/etc/commitbridge/id_ed25519");
  EXPECT_EQ(plan->credentials->password, "");
  r.credential_id = "k1";
  r.credential_secret_sealed = box.seal("pass-phrase", store::repository_credential_aad("k1"));
  EXPECT_EQ(plan_repository_fetch(r, &box)->credentials->password, "pass-phrase");
}

}  // namespace
}  // namespace cb::pipeline
