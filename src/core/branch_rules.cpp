#include "core/branch_rules.hpp"

#include <algorithm>
#include <utility>

namespace cb {

namespace {

constexpr std::string_view kWhitespace = " \t\r\n\v\f";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(kWhitespace);
  return s.substr(first, last - first + 1);
}

/// Length in bytes of the UTF-8 sequence starting at s[i]; 1 for a stray or truncated byte.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  std::size_t len = 1;
  if (lead >= 0xF0 && lead <= 0xF7) {
    len = 4;
  } else if (lead >= 0xE0) {
    len = lead <= 0xEF ? 3 : 1;
  } else if (lead >= 0xC0) {
    len = 2;
  }
  if (i + len > s.size()) {
    return 1;
  }
  for (std::size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
      return 1;
    }
  }
  return len;
}

}  // namespace

BranchRules::BranchRules(std::vector<Rule> rules) : rules_(std::move(rules)) {
  has_inclusion_ =
      std::any_of(rules_.begin(), rules_.end(), [](const Rule& r) { return !r.exclude; });
}

Result<BranchRules> BranchRules::parse(std::string_view spec) {
  if (trim(spec).empty()) {
    return fail(ErrorCode::invalid_argument,
                "branch rules are empty (use \"**\" to match every branch)");
  }
  std::vector<Rule> rules;
  std::size_t start = 0;
  std::size_t position = 1;
  while (true) {
    const auto comma = spec.find(',', start);
    const auto end = comma == std::string_view::npos ? spec.size() : comma;
    std::string_view item = trim(spec.substr(start, end - start));
    if (item.empty()) {
      return fail(ErrorCode::invalid_argument, "branch rule " + std::to_string(position) +
                                                   " (at byte offset " + std::to_string(start) +
                                                   ") is empty");
    }
    Rule rule;
    if (item.front() == '!') {
      rule.exclude = true;
      item = trim(item.substr(1));
      if (item.empty()) {
        return fail(ErrorCode::invalid_argument, "branch rule " + std::to_string(position) +
                                                     " (at byte offset " + std::to_string(start) +
                                                     ") has no glob after '!'");
      }
    }
    rule.glob = std::string(item);
    rule.tokens = compile(item);
    rules.push_back(std::move(rule));
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
    ++position;
  }
  return BranchRules(std::move(rules));
}

std::vector<BranchRules::Token> BranchRules::compile(std::string_view glob) {
  std::vector<Token> tokens;
  auto push = [&tokens](Token::Kind kind) { tokens.push_back(Token{kind, {}}); };
  std::size_t i = 0;
  while (i < glob.size()) {
    const char c = glob[i];
    if (c == '*') {
      std::size_t run = 1;
      while (i + run < glob.size() && glob[i + run] == '*') {
        ++run;
      }
      const bool segment_start = i == 0 || glob[i - 1] == '/';
      if (run == 1) {
        push(Token::Kind::star);
      } else if (segment_start && i + run < glob.size() && glob[i + run] == '/') {
        push(Token::Kind::segments);
        ++run;  // the '/' belongs to the token
      } else {
        push(Token::Kind::any);
      }
      i += run;
    } else if (c == '?') {
      push(Token::Kind::one);
      ++i;
    } else {
      if (tokens.empty() || tokens.back().kind != Token::Kind::literal) {
        push(Token::Kind::literal);
      }
      tokens.back().text.push_back(c);
      ++i;
    }
  }
  return tokens;
}

// Set-of-positions simulation: `cur[k]` says the tokens processed so far can match name[0, k).
// Each token maps that set to the next in O(n) (literals O(n × length)), so a match costs
// O(glob length × name length) and never recurses or backtracks exponentially.
bool BranchRules::glob_matches(const std::vector<Token>& tokens, std::string_view name) {
  const std::size_t n = name.size();
  // Positions that start a character (UTF-8 code point); wildcards only stop there.
  std::vector<char> boundary(n + 1, 0);
  for (std::size_t k = 0; k < n; k += utf8_length(name, k)) {
    boundary[k] = 1;
  }
  boundary[n] = 1;

  std::vector<char> cur(n + 1, 0);
  std::vector<char> next(n + 1, 0);
  cur[0] = 1;
  for (const Token& token : tokens) {
    std::fill(next.begin(), next.end(), 0);
    bool any_reached = false;
    switch (token.kind) {
      case Token::Kind::literal: {
        const std::size_t len = token.text.size();
        for (std::size_t k = 0; k + len <= n; ++k) {
          if (cur[k] && name.compare(k, len, token.text) == 0) {
            next[k + len] = 1;
            any_reached = true;
          }
        }
        break;
      }
      case Token::Kind::one:
        for (std::size_t k = 0; k < n; ++k) {
          if (cur[k] && name[k] != '/') {
            next[k + utf8_length(name, k)] = 1;
            any_reached = true;
          }
        }
        break;
      case Token::Kind::star: {
        bool active = false;
        for (std::size_t k = 0; k <= n; ++k) {
          if (k > 0 && name[k - 1] == '/') {
            active = false;
          }
          if (cur[k]) {
            active = true;
          }
          if (active && boundary[k]) {
            next[k] = 1;
            any_reached = true;
          }
        }
        break;
      }
      case Token::Kind::any: {
        bool active = false;
        for (std::size_t k = 0; k <= n; ++k) {
          active = active || cur[k];
          if (active && boundary[k]) {
            next[k] = 1;
            any_reached = true;
          }
        }
        break;
      }
      case Token::Kind::segments: {
        // Zero segments (stay at k), or any run ending in '/' that starts at a reached position.
        bool active = false;
        for (std::size_t k = 0; k <= n; ++k) {
          if (cur[k] || (active && name[k - 1] == '/')) {
            next[k] = 1;
            any_reached = true;
          }
          active = active || cur[k];
        }
        break;
      }
    }
    if (!any_reached) {
      return false;
    }
    std::swap(cur, next);
  }
  return cur[n] != 0;
}

bool BranchRules::matches(std::string_view branch) const {
  if (branch.empty()) {
    return false;
  }
  bool included = !has_inclusion_;
  for (const Rule& rule : rules_) {
    if (rule.exclude) {
      if (glob_matches(rule.tokens, branch)) {
        return false;
      }
    } else if (!included && glob_matches(rule.tokens, branch)) {
      included = true;
    }
  }
  return included;
}

std::string BranchRules::spec() const {
  std::string out;
  for (const Rule& rule : rules_) {
    if (!out.empty()) {
      out += ',';
    }
    if (rule.exclude) {
      out += '!';
    }
    out += rule.glob;
  }
  return out;
}

std::optional<std::string> BranchRules::excluding_rule(std::string_view branch) const {
  if (branch.empty()) {
    return std::nullopt;
  }
  for (const Rule& rule : rules_) {
    if (rule.exclude && glob_matches(rule.tokens, branch)) {
      return "!" + rule.glob;
    }
  }
  return std::nullopt;
}

}  // namespace cb
