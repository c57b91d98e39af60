// The provider registry: lookup by id, detection from headers, enumeration.

#include <algorithm>

#include <gtest/gtest.h>

#include "fixture_util.hpp"
#include "providers/provider.hpp"

namespace cb::providers {
namespace {

TEST(ProviderRegistry, FindsBitbucketServerById) {
  const Provider* p = find_provider("bitbucket_server");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->id(), "bitbucket_server");
  EXPECT_EQ(find_provider("bitbucket_server"), p);  // one static instance
}

TEST(ProviderRegistry, UnknownIdsAreNull) {
  EXPECT_EQ(find_provider(""), nullptr);
  EXPECT_EQ(find_provider("github"), nullptr);            // not registered yet
  EXPECT_EQ(find_provider("Bitbucket_Server"), nullptr);  // ids are exact
}

TEST(ProviderRegistry, AllProvidersListsEachOnceWithDistinctIds) {
  const auto all = all_providers();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], find_provider("bitbucket_server"));
  for (const Provider* p : all) {
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(find_provider(p->id()), p);
  }
}

TEST(ProviderRegistry, DetectsBitbucketServerFromHeaders) {
  const RawDelivery d = testing::load_delivery("bitbucket_server", "branch_update");
  EXPECT_EQ(detect_provider(d), find_provider("bitbucket_server"));
}

TEST(ProviderRegistry, DetectsNothingForUnknownHeaders) {
  RawDelivery github;
  github.headers = {{"X-GitHub-Event", "push"},
                    {"X-GitHub-Delivery", "5e0c1f9a-8b7d-11f0-9a3c-2d4e6f8a0b1c"}};
  github.body = "{}";
  EXPECT_EQ(detect_provider(github), nullptr);
  EXPECT_EQ(detect_provider(RawDelivery{}), nullptr);
}

}  // namespace
}  // namespace cb::providers
