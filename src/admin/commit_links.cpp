#include "admin/commit_links.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <optional>

namespace cb::admin {
namespace {

bool is_hex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void strip_suffix(std::string& s, std::string_view suffix) {
  if (s.ends_with(suffix)) s.resize(s.size() - suffix.size());
}

void strip_trailing_slashes(std::string& s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
}

/// A parsed web or clone URL: https/http origin ("https://host[:port]") and encoded path.
struct WebUrl {
  std::string origin;
  std::string path;  ///< starts with '/' or is empty
};

/// Parses an http(s) URL (user info, query and fragment dropped); nullopt otherwise.
std::optional<WebUrl> parse_http(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return std::nullopt;
  const std::string scheme = lower(parsed->scheme());
  if ((scheme != "https" && scheme != "http") || !parsed->has_authority()) return std::nullopt;
  if (parsed->encoded_host().empty()) return std::nullopt;
  WebUrl out;
  out.origin = scheme + "://" + std::string(parsed->encoded_host_and_port());
  out.path = std::string(parsed->encoded_path());
  return out;
}

/// The repository page for a clone URL: http(s) as is, ssh:// and scp-like (user@host:path) as
/// https on the same host without port; user info, ".git" and trailing slashes removed.
std::optional<WebUrl> web_form_of_clone_url(std::string_view clone_url) {
  std::optional<WebUrl> out;
  if (clone_url.find("://") != std::string_view::npos) {
    auto parsed = boost::urls::parse_uri(clone_url);
    if (!parsed) return std::nullopt;
    const std::string scheme = lower(parsed->scheme());
    if (scheme == "https" || scheme == "http") {
      out = parse_http(clone_url);
    } else if ((scheme == "ssh" || scheme == "git+ssh") && !parsed->encoded_host().empty()) {
      out = WebUrl{"https://" + std::string(parsed->encoded_host()),
                   std::string(parsed->encoded_path())};
    }
  } else {
    // scp-like syntax: [user@]host:path (a local path has no ':' before its first '/').
    const auto colon = clone_url.find(':');
    const auto slash = clone_url.find('/');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon)) {
      return std::nullopt;
    }
    std::string_view host = clone_url.substr(0, colon);
    if (const auto at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
    std::string path(clone_url.substr(colon + 1));
    if (host.empty() || path.empty()) return std::nullopt;
    if (!path.starts_with('/')) path.insert(0, "/");
    out = WebUrl{"https://" + std::string(host), path};
  }
  if (!out) return std::nullopt;
  strip_trailing_slashes(out->path);
  strip_suffix(out->path, ".git");
  strip_trailing_slashes(out->path);
  if (out->path.empty()) return std::nullopt;
  return out;
}

/// The repository page of a web URL (the browse URL), trailing slashes removed.
std::optional<std::string> page_of_browse_url(std::string_view browse_url) {
  auto web = parse_http(browse_url);
  if (!web) return std::nullopt;
  strip_trailing_slashes(web->path);
  return web->origin + web->path;
}

std::string bitbucket_server_url(const RepositoryWebInfo& repo, std::string_view hash) {
  if (repo.project_key.empty() || repo.slug.empty()) return "";
  std::string base;
  if (!repo.browse_url.empty()) {
    auto web = parse_http(repo.browse_url);
    if (!web) return "";
    std::string path = web->path;
    for (std::string_view marker : {"/projects/", "/users/"}) {
      if (const auto at = path.find(marker); at != std::string::npos) {
        path.resize(at);
        break;
      }
    }
    strip_trailing_slashes(path);
    base = web->origin + path;
  } else {
    auto web = parse_http(repo.clone_url);
    if (!web) return "";  // an SSH clone URL says nothing about the web server's address
    const auto at = web->path.find("/scm/");
    if (at == std::string::npos) return "";
    base = web->origin + web->path.substr(0, at);
  }
  std::string owner;
  if (repo.project_key.starts_with('~')) {
    owner = "/users/" + lower(repo.project_key.substr(1));
  } else {
    owner = "/projects/" + std::string(repo.project_key);
  }
  return base + owner + "/repos/" + std::string(repo.slug) + "/commits/" + std::string(hash);
}

/// Azure DevOps SSH clone URLs → their web form; nullopt for other URLs.
std::optional<std::string> azure_ssh_page(std::string_view clone_url) {
  for (std::string_view host : {"ssh.dev.azure.com:v3/", "vs-ssh.visualstudio.com:v3/"}) {
    const auto at = clone_url.find(host);
    if (at == std::string_view::npos) continue;
    std::string_view rest = clone_url.substr(at + host.size());  // org/project/repo
    const auto first = rest.find('/');
    const auto second = first == std::string_view::npos ? first : rest.find('/', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    const std::string_view org = rest.substr(0, first);
    const std::string_view project = rest.substr(first + 1, second - first - 1);
    std::string repo_name(rest.substr(second + 1));
    strip_suffix(repo_name, ".git");
    if (org.empty() || project.empty() || repo_name.empty() ||
        repo_name.find('/') != std::string::npos) {
      return std::nullopt;
    }
    const std::string web_host = host.starts_with("ssh.dev.azure.com")
                                     ? "https://dev.azure.com/" + std::string(org)
                                     : "https://" + std::string(org) + ".visualstudio.com";
    return web_host + "/" + std::string(project) + "/_git/" + repo_name;
  }
  return std::nullopt;
}

}  // namespace

std::string commit_web_url(const RepositoryWebInfo& repo, std::string_view hash) {
  if (!is_hex(hash)) return "";
  const std::string provider(repo.provider);
  if (provider == "bitbucket_server") return bitbucket_server_url(repo, hash);

  std::string suffix;
  if (provider == "github" || provider == "gitea" || provider == "azure_devops") {
    suffix = "/commit/";
  } else if (provider == "gitlab") {
    suffix = "/-/commit/";
  } else if (provider == "bitbucket_cloud") {
    suffix = "/commits/";
  } else {
    return "";
  }

  std::string page;
  if (!repo.browse_url.empty()) {
    auto p = page_of_browse_url(repo.browse_url);
    if (!p) return "";
    page = std::move(*p);
  } else if (provider == "azure_devops" && azure_ssh_page(repo.clone_url)) {
    page = *azure_ssh_page(repo.clone_url);
  } else {
    auto web = web_form_of_clone_url(repo.clone_url);
    if (!web) return "";
    page = web->origin + web->path;
  }
  if (provider == "azure_devops" && page.find("/_git/") == std::string::npos) return "";
  return page + suffix + std::string(hash);
}

}  // namespace cb::admin
