#include "smartcommit/pattern_set.hpp"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace cb::smartcommit {
namespace {

/// Distinct keys up to which duplicates are found by linear search; a hash map beyond.
constexpr std::size_t kLinearDedupMax = 16;
/// Submatches kept on the stack; patterns whose groups have higher indexes use the heap.
constexpr std::size_t kInlineSubmatches = 8;

// The built-in patterns. Jira: protocols.md 7.1 ("a practical regex"). Azure Boards, GitHub,
// Rally, VersionOne: protocols.md 7.2. The closing keywords are GitHub's (close, fix, resolve
// with their -s/-d forms, case-insensitive, optional colon) and Azure Boards' (fix, close forms).
constexpr std::string_view kJiraRegex = R"(\b(?P<key>[A-Z][A-Z0-9_]+-[1-9][0-9]*)\b)";
constexpr std::string_view kAzureBoardsRegex =
    R"((?i:\b(?P<closing>fix(?:e[sd])?|close[sd]?):?[ \t]+)?\b(?P<key>AB#[1-9][0-9]*)\b)";
constexpr std::string_view kGithubIssueRegex =
    R"((?i:\b(?P<closing>close[sd]?|fix(?:e[sd])?|resolve[sd]?):?[ \t]+)?\B(?P<key>#[1-9][0-9]*)\b)";
constexpr std::string_view kRallyRegex = R"(\b(?P<key>(?:US|DE|TA|TC|F)[1-9][0-9]*)\b)";
constexpr std::string_view kVersionOneRegex = R"(\b(?P<key>(?:S|D|TK)-[0-9]{5,})\b)";

/// A key as found, before deduplication: a view into the message.
struct RawMatch {
  std::string_view key;
  std::size_t offset;
  std::size_t pattern;
  bool closing;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// ASCII letters, digits and '_': what RE2's \b counts as word characters.
bool is_ascii_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

/// True when one of the 8 bytes at `p` is an ASCII digit 1-9. "Determine if a word has a byte
/// between m and n" (Sean Eron Anderson, Bit Twiddling Hacks) with m = '0', n = ':'; bytes of
/// 0x80 and above never count.
bool has_digit_1_to_9(const char* p) {
  std::uint64_t x = 0;
  std::memcpy(&x, p, sizeof x);
  constexpr std::uint64_t kOnes = ~std::uint64_t{0} / 255;
  constexpr std::uint64_t kLow7 = kOnes * 127;
  const std::uint64_t low = x & kLow7;
  return ((kOnes * (127 + ':') - low) & ~x & (low + kOnes * (127 - '0')) & (kOnes * 128)) != 0;
}

/// The characters a hyphen-number key may have before its hyphen: [A-Z0-9_].
bool is_key_run_char(char c) { return (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_'; }

bool printable_project(std::string_view p) {
  if (p.empty() || p.size() > 100) return false;
  return std::all_of(p.begin(), p.end(), [](unsigned char c) { return c > 0x20 && c != 0x7f; });
}

/// Byte ranges [begin, end) of the URLs in `text`: a scheme (letter, then letters, digits, `+`,
/// `-`, `.`), `://`, then everything up to the next whitespace or `<>"` character, without
/// trailing punctuation (`.,;:!?)]}'`), as a reader would delimit a URL in prose.
std::vector<std::pair<std::size_t, std::size_t>> url_spans(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::size_t from = 0;
  while (true) {
    const std::size_t sep = text.find("://", from);
    if (sep == std::string_view::npos) break;
    auto scheme_char = [](unsigned char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '+' || c == '-' || c == '.';
    };
    std::size_t begin = sep;
    while (begin > 0 && scheme_char(static_cast<unsigned char>(text[begin - 1]))) --begin;
    while (begin < sep && !((text[begin] >= 'a' && text[begin] <= 'z') ||
                            (text[begin] >= 'A' && text[begin] <= 'Z'))) {
      ++begin;  // a scheme starts with a letter
    }
    std::size_t end = sep + 3;
    while (end < text.size()) {
      const unsigned char c = static_cast<unsigned char>(text[end]);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '<' ||
          c == '>' || c == '"')
        break;
      ++end;
    }
    from = end;
    if (begin == sep) continue;  // no scheme: not a URL
    while (end > sep + 3 &&
           std::string_view(".,;:!?)]}'").find(text[end - 1]) != std::string_view::npos) {
      --end;
    }
    spans.emplace_back(begin, end);
  }
  return spans;
}

}  // namespace

/// What every key of a built-in kind contains, so that RE2 is given only the parts of a message
/// where a key can be.
enum class Prefilter {
  /// jira, versionone: a key is a whole run [A-Z0-9_]+ '-' [0-9]+ (the pattern is \b...\b and
  /// a run has no word boundary inside): RE2 matches each such run anchored at both ends.
  hyphen_number,
  /// rally: a key is a whole run of ASCII word characters with a capital letter followed by
  /// [1-9]: RE2 matches each such run anchored at both ends.
  word_run,
  /// azure_boards, github_issue: a key ends with '#' [1-9][0-9]* (`AB#` for Azure Boards),
  /// preceded by an optional closing keyword: RE2 searches from the end of the previous
  /// candidate to the end of this one, so every byte is searched at most once.
  hash_number,
  /// custom: RE2 (with the other custom patterns, an RE2::Set) searches the whole message.
  none,
};

/// One compiled pattern.
struct CompiledPattern {
  PatternSpec spec;
  std::unique_ptr<re2::RE2> re;
  int key_group = 0;
  int project_group = -1;     ///< custom patterns with a `project` group
  int closing_group = -1;     ///< azure_boards, github_issue
  bool key_is_match = false;  ///< the key always spans the whole match: one submatch suffices
  /// How the message is narrowed before RE2 looks (see collect_raw). Built-in kinds only:
  /// each prefilter relies on the exact shape of its built-in pattern.
  Prefilter prefilter = Prefilter::none;
  std::vector<std::string> allowed;  ///< sorted allow-list

  /// The project of a key found by this pattern (see PatternSpec::allowed_projects).
  [[nodiscard]] std::string_view project_of(std::string_view key, std::string_view project) const {
    switch (spec.kind) {
      case PatternKind::azure_boards:
        return "AB";
      case PatternKind::rally: {
        std::size_t n = 0;
        while (n < key.size() && key[n] >= 'A' && key[n] <= 'Z') ++n;
        return key.substr(0, n);
      }
      case PatternKind::custom:
        if (project_group >= 0) return project;
        [[fallthrough]];
      default:
        return key.substr(0, key.find('-'));
    }
  }

  [[nodiscard]] bool allows(std::string_view key, std::string_view project) const {
    if (allowed.empty()) return true;
    return std::binary_search(allowed.begin(), allowed.end(), project_of(key, project));
  }
};

struct PatternSet::Compiled {
  std::vector<PatternSpec> specs;
  std::vector<CompiledPattern> patterns;
  std::vector<std::size_t> hyphen_patterns;  ///< indexes of Prefilter::hyphen_number patterns
  std::vector<std::size_t> word_patterns;    ///< indexes of Prefilter::word_run patterns
  std::vector<std::size_t> hash_patterns;    ///< indexes of Prefilter::hash_number patterns
  std::vector<std::size_t> scan_patterns;    ///< indexes of custom patterns: RE2 scans all
  /// The scan patterns in one RE2::Set (set index i = scan_patterns[i]); null for fewer than two.
  std::unique_ptr<re2::RE2::Set> set;
  bool takes_commands = false;
};

std::string_view pattern_kind_name(PatternKind kind) {
  switch (kind) {
    case PatternKind::jira:
      return "jira";
    case PatternKind::azure_boards:
      return "azure_boards";
    case PatternKind::github_issue:
      return "github_issue";
    case PatternKind::rally:
      return "rally";
    case PatternKind::versionone:
      return "versionone";
    case PatternKind::custom:
      return "custom";
  }
  return "custom";
}

std::optional<PatternKind> parse_pattern_kind(std::string_view name) {
  for (auto k : {PatternKind::jira, PatternKind::azure_boards, PatternKind::github_issue,
                 PatternKind::rally, PatternKind::versionone, PatternKind::custom}) {
    if (pattern_kind_name(k) == name) return k;
  }
  return std::nullopt;
}

std::string_view PatternSet::builtin_regex(PatternKind kind) {
  switch (kind) {
    case PatternKind::jira:
      return kJiraRegex;
    case PatternKind::azure_boards:
      return kAzureBoardsRegex;
    case PatternKind::github_issue:
      return kGithubIssueRegex;
    case PatternKind::rally:
      return kRallyRegex;
    case PatternKind::versionone:
      return kVersionOneRegex;
    case PatternKind::custom:
      return {};
  }
  return {};
}

Result<PatternSet> PatternSet::compile(const std::vector<PatternSpec>& specs) {
  if (specs.empty()) return fail(ErrorCode::invalid_argument, "a pattern set needs a pattern");
  auto compiled = std::make_shared<Compiled>();
  compiled->specs = specs;
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(re2::RE2::Options::EncodingUTF8);
  std::size_t scanned = 0;
  for (const auto& spec : specs) {
    if (spec.kind == PatternKind::custom) ++scanned;
  }
  if (scanned > 1) compiled->set = std::make_unique<re2::RE2::Set>(options, re2::RE2::UNANCHORED);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const PatternSpec& spec = specs[i];
    const std::string where =
        "pattern " + std::to_string(i) + " (" + std::string(pattern_kind_name(spec.kind)) + ")";
    std::string source;
    if (spec.kind == PatternKind::custom) {
      if (spec.regex.empty()) {
        return fail(ErrorCode::invalid_argument,
                    where + ": a custom pattern needs a regex with a named group (?P<key>...)");
      }
      source = spec.regex;
    } else {
      if (!spec.regex.empty()) {
        return fail(ErrorCode::invalid_argument,
                    where + ": a built-in kind takes no regex; use kind custom for your own");
      }
      source = std::string(builtin_regex(spec.kind));
    }
    if (spec.kind == PatternKind::github_issue && !spec.allowed_projects.empty()) {
      return fail(ErrorCode::invalid_argument,
                  where + ": github_issue keys (#123) have no project key to allow");
    }
    CompiledPattern p;
    p.spec = spec;
    for (const auto& project : spec.allowed_projects) {
      if (!printable_project(project)) {
        return fail(ErrorCode::invalid_argument,
                    where +
                        ": an allowed project key must be 1 to 100 printable characters "
                        "without spaces");
      }
    }
    p.allowed = spec.allowed_projects;
    std::sort(p.allowed.begin(), p.allowed.end());
    p.allowed.erase(std::unique(p.allowed.begin(), p.allowed.end()), p.allowed.end());
    p.re = std::make_unique<re2::RE2>(re2::StringPiece(source.data(), source.size()), options);
    if (!p.re->ok()) {
      return fail(ErrorCode::invalid_argument,
                  where + ": invalid RE2 pattern '" + source + "': " + p.re->error());
    }
    const auto& groups = p.re->NamedCapturingGroups();
    const auto key = groups.find("key");
    if (key == groups.end()) {
      return fail(ErrorCode::invalid_argument,
                  where + ": the pattern '" + source +
                      "' has no named group 'key'; write the key part as (?P<key>...)");
    }
    p.key_group = key->second;
    if (const auto g = groups.find("closing");
        g != groups.end() && spec.kind != PatternKind::custom) {
      p.closing_group = g->second;
    }
    if (const auto g = groups.find("project");
        g != groups.end() && spec.kind == PatternKind::custom) {
      p.project_group = g->second;
    }
    // \b(?P<key>...)\b: word boundaries are zero-width, so the key is the whole match.
    p.key_is_match = spec.kind == PatternKind::jira || spec.kind == PatternKind::rally ||
                     spec.kind == PatternKind::versionone;
    if (spec.kind == PatternKind::jira || spec.kind == PatternKind::custom) {
      compiled->takes_commands = true;
    }
    switch (spec.kind) {
      case PatternKind::jira:
      case PatternKind::versionone:
        p.prefilter = Prefilter::hyphen_number;
        compiled->hyphen_patterns.push_back(i);
        break;
      case PatternKind::rally:
        p.prefilter = Prefilter::word_run;
        compiled->word_patterns.push_back(i);
        break;
      case PatternKind::azure_boards:
      case PatternKind::github_issue:
        p.prefilter = Prefilter::hash_number;
        compiled->hash_patterns.push_back(i);
        break;
      case PatternKind::custom:
        break;
    }
    if (p.prefilter == Prefilter::none) {
      if (compiled->set) {
        std::string error;
        if (compiled->set->Add(re2::StringPiece(source.data(), source.size()), &error) !=
            static_cast<int>(compiled->scan_patterns.size())) {
          return fail(ErrorCode::invalid_argument,
                      where + ": invalid RE2 pattern '" + source + "': " + error);
        }
      }
      compiled->scan_patterns.push_back(i);
    }
    compiled->patterns.push_back(std::move(p));
  }
  if (compiled->set && !compiled->set->Compile()) {
    return fail(ErrorCode::invalid_argument,
                "the patterns together exceed RE2's memory budget; use fewer or simpler patterns");
  }
  return PatternSet(std::move(compiled));
}

const PatternSet& PatternSet::jira_default() {
  static const PatternSet set = [] {
    auto s = compile({PatternSpec{PatternKind::jira, {}, {}}});
    return std::move(*s);  // the built-in pattern compiles (tested)
  }();
  return set;
}

const PatternSet& PatternSet::all_builtins() {
  static const PatternSet set = [] {
    auto s = compile(
        {PatternSpec{PatternKind::jira, {}, {}}, PatternSpec{PatternKind::azure_boards, {}, {}},
         PatternSpec{PatternKind::github_issue, {}, {}}, PatternSpec{PatternKind::rally, {}, {}},
         PatternSpec{PatternKind::versionone, {}, {}}});
    return std::move(*s);
  }();
  return set;
}

const std::vector<PatternSpec>& PatternSet::specs() const noexcept { return compiled_->specs; }

bool PatternSet::takes_commands() const noexcept { return compiled_->takes_commands; }

namespace {

/// Every key occurrence in `message`, ordered by offset (then by pattern index), into `raw`.
void collect_raw(const PatternSet::Compiled& c, std::string_view message,
                 std::vector<RawMatch>& raw) {
  raw.clear();
  if (message.empty()) return;
  const re2::StringPiece text(message.data(), message.size());

  std::vector<std::pair<std::size_t, std::size_t>> urls;
  const bool has_urls = message.find("://") != std::string_view::npos;
  if (has_urls) urls = url_spans(message);
  auto ignored_in_url = [&](const CompiledPattern& p, std::size_t at, std::size_t len) {
    if (!has_urls) return false;
    for (const auto& [b, e] : urls) {
      if (at < b || at >= e) continue;
      if (p.spec.kind != PatternKind::jira) return true;
      // https://jira.example/browse/ABC-12: the key is the path segment after /browse/.
      constexpr std::string_view kBrowse = "/browse/";
      const bool after_browse = at >= b + kBrowse.size() &&
                                message.substr(at - kBrowse.size(), kBrowse.size()) == kBrowse;
      const std::size_t next = at + len;
      const bool segment_ends =
          next >= e || message[next] == '?' || message[next] == '#' || message[next] == '/';
      return !(after_browse && segment_ends);
    }
    return false;
  };
  const char* data = message.data();
  const std::size_t n = message.size();
  std::array<re2::StringPiece, kInlineSubmatches> inline_submatch;
  std::vector<re2::StringPiece> heap_submatch;
  auto submatches_for = [&](const CompiledPattern& p) {
    const int highest = std::max({p.key_group, p.project_group, p.closing_group});
    const std::size_t nsubmatch = p.key_is_match ? 1 : static_cast<std::size_t>(highest) + 1;
    re2::StringPiece* submatch = inline_submatch.data();
    if (nsubmatch > inline_submatch.size()) {
      heap_submatch.assign(nsubmatch, re2::StringPiece());
      submatch = heap_submatch.data();
    }
    return std::pair{submatch, nsubmatch};
  };
  /// Records the key of a match (submatch as filled by RE2) after the URL and allow-list rules.
  auto record = [&](const CompiledPattern& p, std::size_t index, const re2::StringPiece* submatch) {
    const re2::StringPiece key = submatch[p.key_is_match ? 0 : p.key_group];
    if (key.empty() || key.data() == nullptr) return;
    const auto at = static_cast<std::size_t>(key.data() - text.data());
    const std::string_view key_view(key.data(), key.size());
    if (ignored_in_url(p, at, key.size())) return;
    std::string_view project;
    if (p.project_group >= 0 && submatch[p.project_group].data() != nullptr) {
      project =
          std::string_view(submatch[p.project_group].data(), submatch[p.project_group].size());
    }
    if (!p.allows(key_view, project)) return;
    const bool closing = p.closing_group >= 0 && !submatch[p.closing_group].empty();
    raw.push_back(RawMatch{key_view, at, index, closing});
  };
  /// Matches the run [begin, end) as a whole with each of `patterns` (the text around it is
  /// RE2's context for \b).
  auto match_run = [&](const std::vector<std::size_t>& patterns, std::size_t begin,
                       std::size_t end) {
    for (const std::size_t index : patterns) {
      const CompiledPattern& p = c.patterns[index];
      if (!p.re->Match(text, begin, end, re2::RE2::ANCHOR_BOTH, nullptr, 0)) continue;
      const std::string_view key = message.substr(begin, end - begin);
      if (ignored_in_url(p, begin, key.size()) || !p.allows(key, {})) continue;
      raw.push_back(RawMatch{key, begin, index, false});
    }
  };

  // jira, versionone: memchr finds the hyphens; a digit must follow and [A-Z0-9_] precede.
  if (!c.hyphen_patterns.empty()) {
    std::size_t i = 0;
    while (i < n) {
      const void* hit = std::memchr(data + i, '-', n - i);
      if (hit == nullptr) break;
      const auto dash = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
      i = dash + 1;
      if (i >= n || !is_digit(data[i])) continue;
      std::size_t begin = dash;
      while (begin > 0 && is_key_run_char(data[begin - 1])) --begin;
      if (begin == dash) continue;
      std::size_t end = i;
      while (end < n && is_digit(data[end])) ++end;
      i = end;
      match_run(c.hyphen_patterns, begin, end);
    }
  }

  // rally: a capital letter followed by [1-9], inside a run of ASCII word characters. Blocks
  // of 8 bytes without a digit 1-9 are skipped at once.
  if (!c.word_patterns.empty()) {
    std::size_t i = 1;
    while (i < n) {
      if (i + 8 <= n && !has_digit_1_to_9(data + i)) {
        i += 8;
        continue;
      }
      const std::size_t stop = std::min(n, i + 8);
      std::size_t next = stop;
      for (std::size_t j = i; j < stop; ++j) {
        if (data[j] < '1' || data[j] > '9' || data[j - 1] < 'A' || data[j - 1] > 'Z') continue;
        std::size_t begin = j - 1;
        while (begin > 0 && is_ascii_word_char(data[begin - 1])) --begin;
        std::size_t end = j + 1;
        while (end < n && is_ascii_word_char(data[end])) ++end;
        match_run(c.word_patterns, begin, end);
        next = end;
        break;
      }
      i = next;
    }
  }

  // azure_boards, github_issue: '#' [1-9] found by memchr; RE2 searches from the end of the
  // previous candidate, which takes in a closing keyword before the key.
  for (const std::size_t index : c.hash_patterns) {
    const CompiledPattern& p = c.patterns[index];
    const bool azure = p.spec.kind == PatternKind::azure_boards;
    const auto [submatch, nsubmatch] = submatches_for(p);
    std::size_t from = 0;
    std::size_t i = 0;
    while (i < n) {
      const void* hit = std::memchr(data + i, '#', n - i);
      if (hit == nullptr) break;
      const auto hash = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
      i = hash + 1;
      if (i >= n || data[i] < '1' || data[i] > '9') continue;
      if (azure && (hash < 2 || data[hash - 2] != 'A' || data[hash - 1] != 'B')) continue;
      std::size_t end = i;
      while (end < n && is_digit(data[end])) ++end;
      if (p.re->Match(text, from, end, re2::RE2::UNANCHORED, submatch,
                      static_cast<int>(nsubmatch))) {
        record(p, index, submatch);
      }
      from = end;
      i = end;
    }
  }

  // custom patterns: RE2 searches the whole message; with several, one pass of their RE2::Set
  // tells which occur at all.
  std::vector<std::size_t> run;
  if (c.set) {
    std::vector<int> hits;
    re2::RE2::Set::ErrorInfo info{};
    if (c.set->Match(text, &hits, &info)) {
      std::sort(hits.begin(), hits.end());
      for (const int h : hits) run.push_back(c.scan_patterns[static_cast<std::size_t>(h)]);
    } else if (info.kind != re2::RE2::Set::kNoError) {
      run = c.scan_patterns;  // RE2 ran out of DFA memory (a huge message): run every pattern
    }
  } else {
    run = c.scan_patterns;
  }

  for (const std::size_t index : run) {
    const CompiledPattern& p = c.patterns[index];
    const auto [submatch, nsubmatch] = submatches_for(p);
    std::size_t pos = 0;
    // Match() sees the text before `pos` as context, so \b and ^ keep their meaning across
    // matches; an empty match moves one byte on so that the scan always advances.
    while (pos <= text.size() && p.re->Match(text, pos, text.size(), re2::RE2::UNANCHORED, submatch,
                                             static_cast<int>(nsubmatch))) {
      const re2::StringPiece whole = submatch[0];
      const auto match_end = static_cast<std::size_t>(whole.data() - text.data()) + whole.size();
      pos = whole.empty() ? match_end + 1 : match_end;
      record(p, index, submatch);
    }
  }
  const auto by_offset = [](const RawMatch& a, const RawMatch& b) {
    return a.offset != b.offset ? a.offset < b.offset : a.pattern < b.pattern;
  };
  if (!std::is_sorted(raw.begin(), raw.end(), by_offset)) {
    std::stable_sort(raw.begin(), raw.end(), by_offset);
  }
}

/// The scratch vector of collect_raw for this thread: extract() runs for every commit message,
/// and reusing its capacity saves an allocation per message.
std::vector<RawMatch>& scratch() {
  thread_local std::vector<RawMatch> raw;
  return raw;
}

}  // namespace

std::vector<StoryKeyMatch> PatternSet::extract(std::string_view message) const {
  std::vector<StoryKeyMatch> out;
  std::vector<RawMatch>& raw = scratch();
  collect_raw(*compiled_, message, raw);
  if (raw.empty()) return out;
  const Compiled& c = *compiled_;
  out.reserve(raw.size());

  // Deduplicate by key text, first appearance wins; a key is closing if any mention is.
  std::unordered_map<std::string_view, std::size_t> seen;  // views into the message, once many
  for (const RawMatch& m : raw) {
    std::size_t found = out.size();
    if (seen.empty()) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i].key == m.key) {
          found = i;
          break;
        }
      }
    } else if (auto it = seen.find(m.key); it != seen.end()) {
      found = it->second;
    }
    if (found < out.size()) {
      out[found].closing = out[found].closing || m.closing;
      continue;
    }
    out.push_back(StoryKeyMatch{std::string(m.key), c.patterns[m.pattern].spec.kind, m.pattern,
                                m.closing, m.offset});
    if (!seen.empty()) {
      seen.emplace(m.key, out.size() - 1);
    } else if (out.size() == kLinearDedupMax) {
      for (std::size_t i = 0; i < out.size(); ++i) {
        seen.emplace(message.substr(out[i].offset, out[i].key.size()), i);
      }
    }
  }
  if (raw.capacity() > 4096) std::vector<RawMatch>().swap(raw);  // a huge message: give it back
  return out;
}

std::vector<StoryKeyMatch> PatternSet::occurrences(std::string_view message) const {
  std::vector<StoryKeyMatch> out;
  std::vector<RawMatch> raw;
  collect_raw(*compiled_, message, raw);
  for (const RawMatch& m : raw) {
    out.push_back(StoryKeyMatch{std::string(m.key), compiled_->patterns[m.pattern].spec.kind,
                                m.pattern, m.closing, m.offset});
  }
  return out;
}

}  // namespace cb::smartcommit
