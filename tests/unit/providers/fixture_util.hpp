#pragma once
// Loading provider fixtures: tests/fixtures/providers/<id>/<case>.json (body), <case>.headers
// (one `Name: value` per line) and <case>.golden.json (pretty-printed normalized event).

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/raw_delivery.hpp"

namespace cb::providers::testing {

/// tests/fixtures/providers (absolute; CB_FIXTURES_DIR is set by tests/CMakeLists.txt).
inline std::filesystem::path providers_fixtures_dir() {
  return std::filesystem::path(CB_FIXTURES_DIR) / "providers";
}

/// The whole file as bytes; empty when it cannot be read.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Writes `text` to `path`, replacing it; false on failure.
inline bool write_file(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  return static_cast<bool>(out);
}

/// Parses a .headers file: one `Name: value` per line; blank lines and lines starting with '#'
/// are skipped; blanks around name and value are trimmed; CR before LF is ignored.
inline std::vector<Header> parse_headers(std::string_view text) {
  const auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
      s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
      s.remove_suffix(1);
    }
    return s;
  };
  std::vector<Header> headers;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    headers.push_back(Header{std::string(trim(line.substr(0, colon))),
                             std::string(trim(line.substr(colon + 1)))});
  }
  return headers;
}

/// The delivery of fixture case `name` of provider `provider_id` (org "northwind").
inline RawDelivery load_delivery(std::string_view provider_id, std::string_view name) {
  const auto dir = providers_fixtures_dir() / std::string(provider_id);
  RawDelivery d;
  d.org = "northwind";
  d.headers = parse_headers(read_file(dir / (std::string(name) + ".headers")));
  d.body = read_file(dir / (std::string(name) + ".json"));
  d.received_at_ms = 1772960000000;
  return d;
}

/// Names of the cases of `provider_id`: every <case>.json that is not a .golden.json, sorted.
/// With `with_golden_only`, only those that have a <case>.golden.json.
inline std::vector<std::string> list_cases(std::string_view provider_id, bool with_golden_only) {
  std::vector<std::string> names;
  const auto dir = providers_fixtures_dir() / std::string(provider_id);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string file = entry.path().filename().string();
    constexpr std::string_view kJson = ".json";
    constexpr std::string_view kGolden = ".golden.json";
    if (!file.ends_with(kJson) || file.ends_with(kGolden)) continue;
    std::string name = file.substr(0, file.size() - kJson.size());
    if (with_golden_only && !std::filesystem::exists(dir / (name + std::string(kGolden)))) {
      continue;
    }
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// True when the environment asks to rewrite golden files (CB_UPDATE_GOLDENS=1).
inline bool update_goldens_requested() {
  const char* v = std::getenv("CB_UPDATE_GOLDENS");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace cb::providers::testing
