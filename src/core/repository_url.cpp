#include "core/repository_url.hpp"

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace cb {
namespace {

constexpr std::array<std::string_view, 6> kKnownProviders = {
    "bitbucket_server", "github", "gitlab", "bitbucket_cloud", "azure_devops", "gitea"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

/// Splits a path on '/', dropping empty segments.
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// The parts of an address before provider-specific rules: scheme ("" for scp-like and local
/// paths), host and segments.
struct Parsed {
  std::string scheme;
  std::string host;
  std::vector<std::string> segments;
};

std::optional<Parsed> parse_address(std::string_view url) {
  Parsed p;
  if (url.find("://") != std::string_view::npos) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return std::nullopt;
    const boost::urls::url_view& u = *parsed;
    p.scheme = lower(u.scheme());
    if (p.scheme != "file") {
      p.host = lower(u.host_address());
      if (p.host.empty()) return std::nullopt;
    } else if (u.host_address() != "localhost") {
      p.host = lower(u.host_address());
    }
    for (auto segment : u.segments()) {
      if (!segment.empty()) p.segments.push_back(std::move(segment));
    }
    return p;
  }
  if (url.starts_with('/')) {
    p.segments = split_path(url);
    return p;
  }
  // git's scp-like syntax: [user@]host:path, recognized by a ':' before any '/'.
  const std::size_t colon = url.find(':');
  const std::size_t slash = url.find('/');
  if (colon == std::string_view::npos || colon == 0 ||
      (slash != std::string_view::npos && slash < colon)) {
    return std::nullopt;
  }
  std::string_view host = url.substr(0, colon);
  if (const std::size_t at = host.rfind('@'); at != std::string_view::npos) {
    host = host.substr(at + 1);
  }
  if (host.empty()) return std::nullopt;
  p.host = lower(host);
  p.segments = split_path(url.substr(colon + 1));
  return p;
}

bool uses_bitbucket_server_rules(std::string_view provider) {
  return provider.empty() || provider == "bitbucket_server" ||
         std::find(kKnownProviders.begin(), kKnownProviders.end(), provider) ==
             kKnownProviders.end();
}

/// Bitbucket Data Center / Server forms of an http(s) URL: "/scm/PROJ/repo" clone URLs and
/// "/projects/PROJ/repos/repo/..." or "/users/USER/repos/repo/..." browse URLs, under any context
/// path.
void apply_bitbucket_server_rules(std::vector<std::string>& segments) {
  const std::size_t n = segments.size();
  if (n >= 3 && segments[n - 3] == "scm") {
    segments.erase(segments.begin(), segments.end() - 2);
    return;
  }
  for (std::size_t i = 2; i + 1 < n; ++i) {
    if (segments[i] != "repos") continue;
    const std::string& kind = segments[i - 2];
    if (kind != "projects" && kind != "users") continue;
    std::string project = (kind == "users" ? "~" : "") + segments[i - 1];
    std::string repo = segments[i + 1];
    segments = {std::move(project), std::move(repo)};
    return;
  }
}

/// Azure DevOps: "dev.azure.com/org/project/_git/repo" and "ssh.dev.azure.com:v3/org/project/repo".
void apply_azure_devops_rules(Parsed& p) {
  if (p.host == "ssh.dev.azure.com") {
    p.host = "dev.azure.com";
    if (!p.segments.empty() && p.segments.front() == "v3") p.segments.erase(p.segments.begin());
    return;
  }
  if (p.host == "dev.azure.com") {
    std::erase(p.segments, std::string("_git"));
  }
}

}  // namespace

std::string RepositoryUrlKey::to_string() const {
  std::string out = host;
  for (const auto& s : segments) out += "/" + s;
  return out;
}

std::optional<RepositoryUrlKey> canonical_repository_url(std::string_view url,
                                                         std::string_view provider) {
  url = trim(url);
  if (url.empty()) return std::nullopt;
  auto parsed = parse_address(url);
  if (!parsed) return std::nullopt;
  Parsed& p = *parsed;
  if ((p.scheme == "http" || p.scheme == "https") && uses_bitbucket_server_rules(provider)) {
    apply_bitbucket_server_rules(p.segments);
  }
  apply_azure_devops_rules(p);
  if (p.segments.empty()) return std::nullopt;
  std::string& last = p.segments.back();
  if (last.size() > 4 && lower(std::string_view(last).substr(last.size() - 4)) == ".git") {
    last.resize(last.size() - 4);
  }
  const bool case_insensitive =
      std::find(kKnownProviders.begin(), kKnownProviders.end(), provider) != kKnownProviders.end();
  if (case_insensitive) {
    for (auto& s : p.segments) s = lower(s);
  }
  return RepositoryUrlKey{std::move(p.host), std::move(p.segments)};
}

bool same_repository_url(std::string_view a, std::string_view b, std::string_view provider) {
  auto ka = canonical_repository_url(a, provider);
  if (!ka) return false;
  auto kb = canonical_repository_url(b, provider);
  return kb && *ka == *kb;
}

}  // namespace cb
