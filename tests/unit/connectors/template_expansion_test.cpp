#include "connectors/template_expansion.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cb::connectors {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const TemplateValues kValues = {{"branch", "feature/a b"},
                                {"to_hash", "0a1b2c3d"},
                                {"pull_request.id", "42"},
                                {"message", "say \"hi\"\\\n\tüñ\x01"},
                                {"empty", ""}};

TEST(TemplateExpansionTest, ReplacesPlaceholdersWithoutEscaping) {
  auto r = expand_template("ref={{branch}} sha={{to_hash}} pr={{pull_request.id}}{{empty}}!",
                           kValues, TemplateEscape::none);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "ref=feature/a b sha=0a1b2c3d pr=42!");
}

TEST(TemplateExpansionTest, SpacesInsideBracesAreAllowed) {
  auto r = expand_template("{{ branch }}|{{  to_hash}}|{{pull_request.id   }}", kValues,
                           TemplateEscape::none);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, "feature/a b|0a1b2c3d|42");
}

TEST(TemplateExpansionTest, UrlEscapingPercentEncodesValuesOnly) {
  auto r = expand_template("https://ci.example.com/job/{{branch}}/build?sha={{to_hash}}&x=a/b",
                           kValues, TemplateEscape::url);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "https://ci.example.com/job/feature%2Fa%20b/build?sha=0a1b2c3d&x=a/b");
  EXPECT_EQ(percent_encode("a-._~Z9 /?&=#%+\xC3\xBC"), "a-._~Z9%20%2F%3F%26%3D%23%25%2B%C3%BC");
}

TEST(TemplateExpansionTest, JsonEscapingEscapesQuotesBackslashesAndControls) {
  auto r = expand_template(R"({"msg": "{{message}}", "pr": {{pull_request.id}}})", kValues,
                           TemplateEscape::json);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "{\"msg\": \"say \\\"hi\\\"\\\\\\n\\t\xC3\xBC\xC3\xB1\\u0001\", \"pr\": 42}");
}

TEST(TemplateExpansionTest, UnknownPlaceholderIsAnErrorNamingIt) {
  auto r = expand_template("x {{ brnch }} y", kValues, TemplateEscape::none);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_THAT(r.error().message, HasSubstr("unknown placeholder {{brnch}}"));
}

TEST(TemplateExpansionTest, MalformedTemplatesAreErrors) {
  for (std::string_view bad : {"a {{branch", "a {{}} b", "{{   }}", "{{bra nch}}", "{{a}b}}"}) {
    auto r = expand_template(bad, kValues, TemplateEscape::none);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << bad;
    EXPECT_THAT(r.error().message, HasSubstr("offset")) << bad;
    EXPECT_FALSE(template_placeholders(bad).has_value()) << bad;
  }
  auto unclosed = expand_template("abc {{branch", kValues, TemplateEscape::none);
  EXPECT_THAT(unclosed.error().message, HasSubstr("unclosed \"{{\" at offset 4"));
}

TEST(TemplateExpansionTest, TextWithoutPlaceholdersIsUnchanged) {
  EXPECT_EQ(expand_template("", kValues, TemplateEscape::url).value(), "");
  EXPECT_EQ(expand_template("{ } }} {x}", kValues, TemplateEscape::json).value(), "{ } }} {x}");
}

TEST(TemplateExpansionTest, PlaceholdersAreListedOnceInOrder) {
  auto names = template_placeholders("{{to_hash}}/{{ branch }}/{{to_hash}}/{{unknown.name}}");
  ASSERT_TRUE(names.has_value());
  EXPECT_THAT(*names, ElementsAre("to_hash", "branch", "unknown.name"));
  EXPECT_THAT(template_placeholders("none").value(), ElementsAre());
}

}  // namespace
}  // namespace cb::connectors
