#include "connectors/template_expansion.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <optional>

namespace cb::connectors {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

/// One piece of a template: literal text, or a placeholder name.
struct Piece {
  std::string_view text;
  bool placeholder = false;
};

/// Splits `tmpl` into pieces; a syntax error names the offset of the offending "{{".
Result<std::vector<Piece>> parse(std::string_view tmpl) {
  std::vector<Piece> pieces;
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    const auto open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) {
      pieces.push_back({tmpl.substr(pos), false});
      break;
    }
    if (open > pos) {
      pieces.push_back({tmpl.substr(pos, open - pos), false});
    }
    const auto close = tmpl.find("}}", open + 2);
    const std::string where = " at offset " + std::to_string(open);
    if (close == std::string_view::npos) {
      return fail(ErrorCode::invalid_argument, "unclosed \"{{\"" + where + " in template");
    }
    std::string_view name = tmpl.substr(open + 2, close - open - 2);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "empty placeholder \"{{}}\"" + where + " in template");
    }
    if (!std::all_of(name.begin(), name.end(), is_name_char)) {
      return fail(ErrorCode::invalid_argument,
                  "invalid placeholder name \"" + std::string(name) + "\"" + where +
                      " in template (allowed: letters, digits, _ . -)");
    }
    pieces.push_back({name, true});
    pos = close + 2;
  }
  return pieces;
}

}  // namespace

std::string percent_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string json_escape(std::string_view value) {
  std::string quoted = boost::json::serialize(boost::json::string(value));
  return quoted.substr(1, quoted.size() - 2);
}

Result<std::string> expand_template(std::string_view tmpl, const TemplateValues& values,
                                    TemplateEscape escape) {
  auto pieces = parse(tmpl);
  if (!pieces) {
    return std::unexpected(std::move(pieces.error()));
  }
  std::string out;
  out.reserve(tmpl.size());
  for (const Piece& piece : *pieces) {
    if (!piece.placeholder) {
      out.append(piece.text);
      continue;
    }
    const auto it = values.find(piece.text);
    if (it == values.end()) {
      return fail(ErrorCode::invalid_argument,
                  "unknown placeholder {{" + std::string(piece.text) + "}} in template");
    }
    switch (escape) {
      case TemplateEscape::none:
        out.append(it->second);
        break;
      case TemplateEscape::url:
        out.append(percent_encode(it->second));
        break;
      case TemplateEscape::json:
        out.append(json_escape(it->second));
        break;
    }
  }
  return out;
}

Result<std::vector<std::string>> template_placeholders(std::string_view tmpl) {
  auto pieces = parse(tmpl);
  if (!pieces) {
    return std::unexpected(std::move(pieces.error()));
  }
  std::vector<std::string> names;
  for (const Piece& piece : *pieces) {
    if (piece.placeholder && std::find(names.begin(), names.end(), piece.text) == names.end()) {
      names.emplace_back(piece.text);
    }
  }
  return names;
}

}  // namespace cb::connectors
