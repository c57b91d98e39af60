#include "smartcommit/story_key_pattern.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <unordered_set>
#include <utility>

namespace cb::smartcommit {
namespace {

/// Distinct keys up to which duplicates are found by linear search.
constexpr std::size_t kLinearDedupMax = 16;
/// Submatches kept on the stack; patterns whose `key` group has a higher index use the heap.
constexpr std::size_t kInlineSubmatches = 8;

}  // namespace

StoryKeyPattern::StoryKeyPattern(std::shared_ptr<const re2::RE2> re, int key_group,
                                 std::string pattern)
    : re_(std::move(re)), key_group_(key_group), pattern_(std::move(pattern)) {}

Result<StoryKeyPattern> StoryKeyPattern::jira_default() {
  auto compiled = compile(kJiraDefaultPattern);
  if (!compiled) {
    return fail(ErrorCode::internal, "the built-in Jira key pattern does not compile",
                compiled.error().message);
  }
  compiled->key_is_match_ = true;  // \b on both sides is zero-width: the key is the whole match
  return compiled;
}

Result<StoryKeyPattern> StoryKeyPattern::compile(std::string_view re2_pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(re2::RE2::Options::EncodingUTF8);
  auto re = std::make_shared<const re2::RE2>(
      re2::StringPiece(re2_pattern.data(), re2_pattern.size()), options);
  if (!re->ok()) {
    return fail(ErrorCode::invalid_argument,
                "invalid story-key pattern '" + std::string(re2_pattern) + "': " + re->error());
  }
  const auto& groups = re->NamedCapturingGroups();
  const auto key = groups.find("key");
  if (key == groups.end()) {
    return fail(ErrorCode::invalid_argument,
                "story-key pattern '" + std::string(re2_pattern) +
                    "' has no named group 'key'; write it as (?P<key>...)");
  }
  return StoryKeyPattern(std::move(re), key->second, std::string(re2_pattern));
}

std::vector<std::string> StoryKeyPattern::extract_keys(std::string_view message) const {
  std::vector<std::string> keys;
  // Messages name few keys: linear search until kLinearDedupMax keys, then a hash set.
  std::unordered_set<std::string_view> seen;  // views into `message`, once keys are many

  const re2::StringPiece text(message.data(), message.size());
  // submatch[0] is the whole match, submatch[key_group_] the key. When the key is the whole match
  // one submatch suffices, which lets RE2 skip its capture engine.
  const std::size_t nsubmatch = key_is_match_ ? 1 : static_cast<std::size_t>(key_group_) + 1;
  const std::size_t key_index = key_is_match_ ? 0 : static_cast<std::size_t>(key_group_);
  std::array<re2::StringPiece, kInlineSubmatches> inline_submatch;
  std::vector<re2::StringPiece> heap_submatch;
  re2::StringPiece* submatch = inline_submatch.data();
  if (nsubmatch > inline_submatch.size()) {
    heap_submatch.resize(nsubmatch);
    submatch = heap_submatch.data();
  }

  std::size_t pos = 0;
  while (pos <= text.size() && re_->Match(text, pos, text.size(), re2::RE2::UNANCHORED, submatch,
                                          static_cast<int>(nsubmatch))) {
    const re2::StringPiece whole = submatch[0];
    const re2::StringPiece key = submatch[key_index];
    // Continue after the match; an empty match moves one byte on so the scan always advances.
    // Match() sees the text before `pos` as context, so \b and ^ keep their meaning across
    // matches (FindAndConsume would restart each search as if at the start of the text).
    const auto match_end = static_cast<std::size_t>(whole.data() - text.data()) + whole.size();
    pos = whole.empty() ? match_end + 1 : match_end;

    if (key.empty()) continue;
    const std::string_view key_view(key.data(), key.size());
    if (seen.empty()) {
      if (std::find(keys.begin(), keys.end(), key_view) != keys.end()) continue;
      keys.emplace_back(key_view);
      if (keys.size() == kLinearDedupMax) seen.insert(keys.begin(), keys.end());
    } else if (seen.insert(key_view).second) {
      keys.emplace_back(key_view);
    }
  }
  return keys;
}

}  // namespace cb::smartcommit
