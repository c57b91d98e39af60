#include "admin/story_service.hpp"

#include "admin/page_cursor.hpp"

#include <cctype>
#include <charconv>

namespace cb::admin {
namespace {

constexpr std::size_t kMaxStoryKey = 255;

Error bad_cursor() {
  return make_error(ErrorCode::invalid_argument, "cursor: not a cursor returned by this API");
}

Result<void> check_story_key(const std::string& key) {
  if (key.empty() || key.size() > kMaxStoryKey) {
    return fail(ErrorCode::invalid_argument, "story key: must be 1 to 255 characters");
  }
  for (char c : key) {
    if (std::iscntrl(static_cast<unsigned char>(c)) != 0) {
      return fail(ErrorCode::invalid_argument, "story key: must not contain control characters");
    }
  }
  return {};
}

constexpr std::string_view kHexDigits = "0123456789abcdef";

/// A story key as a cursor: its bytes in hex (safe in a query string whatever the key holds).
std::string key_cursor(std::string_view key) {
  std::string out;
  out.reserve(key.size() * 2);
  for (unsigned char c : key) {
    out += kHexDigits[c >> 4];
    out += kHexDigits[c & 0xF];
  }
  return out;
}

Result<std::string> key_from_cursor(std::string_view cursor) {
  if (cursor.size() % 2 != 0 || cursor.size() > kMaxStoryKey * 2) {
    return std::unexpected(bad_cursor());
  }
  std::string key;
  for (std::size_t i = 0; i < cursor.size(); i += 2) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(cursor.data() + i, cursor.data() + i + 2, value, 16);
    if (ec != std::errc{} || ptr != cursor.data() + i + 2) return std::unexpected(bad_cursor());
    key += static_cast<char>(value);
  }
  return key;
}

/// "<authored_at_ms>.<link id>" of the last link of a page.
std::string link_cursor(const store::StoryLinkRecord& link) {
  return std::to_string(link.commit.authored_at_ms) + "." + std::to_string(link.id);
}

Result<std::pair<UnixMillis, std::int64_t>> link_from_cursor(std::string_view cursor) {
  const auto dot = cursor.find('.');
  if (dot == std::string_view::npos) return std::unexpected(bad_cursor());
  std::int64_t time = 0;
  std::int64_t id = 0;
  auto [p1, e1] = std::from_chars(cursor.data(), cursor.data() + dot, time);
  auto [p2, e2] = std::from_chars(cursor.data() + dot + 1, cursor.data() + cursor.size(), id);
  if (e1 != std::errc{} || p1 != cursor.data() + dot || e2 != std::errc{} ||
      p2 != cursor.data() + cursor.size() || id <= 0) {
    return std::unexpected(bad_cursor());
  }
  return std::pair<UnixMillis, std::int64_t>{time, id};
}

/// Cuts the limit + 1 rows read to one page; the cursor names the last row kept.
template <class T, class Cursor>
Page<T> to_page(std::vector<T> rows, std::size_t limit, Cursor&& cursor_of) {
  Page<T> page;
  if (rows.size() > limit) {
    rows.resize(limit);
    page.next_cursor = cursor_of(rows.back());
  }
  page.items = std::move(rows);
  return page;
}

}  // namespace

Result<Page<store::StoryLinkRecord>> StoryService::story_commits(std::optional<std::int64_t> org_id,
                                                                 const std::string& story_key,
                                                                 const PageRequest& page) {
  if (auto k = check_story_key(story_key); !k) return std::unexpected(k.error());
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  store::StoryLinkQuery q;
  q.org_id = org_id;
  q.story_key = story_key;
  q.limit = *limit + 1;
  if (!page.cursor.empty()) {
    auto after = link_from_cursor(page.cursor);
    if (!after) return std::unexpected(after.error());
    q.before_authored_at_ms = after->first;
    q.before_id = after->second;
  }
  auto rows = store_.story_links_page(q);
  if (!rows) return std::unexpected(rows.error());
  return to_page(std::move(*rows), *limit, link_cursor);
}

Result<std::string> StoryService::resolve_commit(std::int64_t org_id, const std::string& hash) {
  if (hash.size() < kMinCommitPrefix || hash.size() > 40) {
    return fail(ErrorCode::invalid_argument,
                "hash: must be a full commit hash (40 hex digits) or a prefix of at least 7");
  }
  std::string prefix;
  for (char c : hash) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) {
      return fail(ErrorCode::invalid_argument, "hash: must be hexadecimal digits");
    }
    prefix += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto found = store_.find_linked_commits(org_id, prefix, 11);
  if (!found) return std::unexpected(found.error());
  if (found->empty()) {
    return fail(ErrorCode::not_found, "no commit linked to a story matches " + prefix);
  }
  if (found->size() > 1) {
    const std::string count = found->size() > 10 ? "more than 10" : std::to_string(found->size());
    return fail(ErrorCode::invalid_argument, "hash: the prefix " + prefix + " is ambiguous (" +
                                                 count + " linked commits); give more digits");
  }
  return found->front();
}

Result<Page<store::StoryLinkRecord>> StoryService::commit_stories(std::int64_t org_id,
                                                                  const std::string& hash,
                                                                  const PageRequest& page) {
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  std::string after;
  if (!page.cursor.empty()) {
    auto key = key_from_cursor(page.cursor);
    if (!key) return std::unexpected(key.error());
    after = std::move(*key);
  }
  auto full = resolve_commit(org_id, hash);
  if (!full) return std::unexpected(full.error());
  auto rows = store_.commit_story_links(org_id, *full, after, *limit + 1);
  if (!rows) return std::unexpected(rows.error());
  return to_page(std::move(*rows), *limit,
                 [](const store::StoryLinkRecord& l) { return key_cursor(l.commit.story_key); });
}

Result<Page<store::StorySummary>> StoryService::list_stories(std::int64_t org_id,
                                                             const PageRequest& page) {
  auto limit = check_limit(page.limit);
  if (!limit) return std::unexpected(limit.error());
  std::string after;
  if (!page.cursor.empty()) {
    auto key = key_from_cursor(page.cursor);
    if (!key) return std::unexpected(key.error());
    after = std::move(*key);
  }
  auto rows = store_.list_stories(org_id, after, *limit + 1);
  if (!rows) return std::unexpected(rows.error());
  return to_page(std::move(*rows), *limit,
                 [](const store::StorySummary& s) { return key_cursor(s.story_key); });
}

}  // namespace cb::admin
