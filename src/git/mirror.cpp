#include "git/mirror.hpp"

#include <git2.h>

#include <fstream>
#include <system_error>
#include <utility>
#include <vector>

#include "core/event.hpp"
#include "git/libgit2_runtime.hpp"

namespace cb::git {
namespace {

constexpr const char* kUrlKey = "remote.origin.url";
constexpr const char* kFetchKey = "remote.origin.fetch";
constexpr const char* kHeadsRefspec = "+refs/heads/*:refs/heads/*";
constexpr const char* kTagsRefspec = "+refs/tags/*:refs/tags/*";
constexpr std::string_view kHeadsPrefix = "refs/heads/";
constexpr std::size_t kMinHashPrefix = 4;

/// unique_ptr deleter calling a libgit2 free function.
template <auto FreeFn>
struct Free {
  template <class T>
  void operator()(T* p) const noexcept {
    FreeFn(p);
  }
};

using RemotePtr = std::unique_ptr<git_remote, Free<git_remote_free>>;
using ObjectPtr = std::unique_ptr<git_object, Free<git_object_free>>;
using CommitPtr = std::unique_ptr<git_commit, Free<git_commit_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, Free<git_revwalk_free>>;
using RefIterPtr = std::unique_ptr<git_reference_iterator, Free<git_reference_iterator_free>>;
using ConfigPtr = std::unique_ptr<git_config, Free<git_config_free>>;

std::string oid_to_string(const git_oid* oid) {
  char buf[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(buf, sizeof buf, oid);
  return std::string(buf);
}

std::string full_ref_name(std::string_view ref_name) {
  if (ref_name.starts_with("refs/")) return std::string(ref_name);
  return std::string(kHeadsPrefix) + std::string(ref_name);
}

/// For messages: a caller-supplied string cut to a sane length.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 64;
  if (s.size() <= kMax) return std::string(s);
  return std::string(s.substr(0, kMax)) + "...";
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

/// Resolves a (possibly abbreviated) hash to a commit id, peeling annotated tags. nullopt when
/// the object is missing or does not peel to a commit.
Result<std::optional<git_oid>> resolve_commit(git_repository* repo, std::string_view hash) {
  if (hash.size() < kMinHashPrefix || hash.size() > GIT_OID_HEXSZ || !is_hex(hash)) {
    return fail(ErrorCode::invalid_argument,
                "'" + shown(hash) + "' is not a commit hash (4 to 40 hex digits)");
  }
  git_oid oid{};
  if (git_oid_fromstrn(&oid, hash.data(), hash.size()) < 0) {
    return fail(ErrorCode::invalid_argument, "'" + shown(hash) + "' is not a commit hash");
  }
  git_object* raw = nullptr;
  const int rc = hash.size() == GIT_OID_HEXSZ
                     ? git_object_lookup(&raw, repo, &oid, GIT_OBJECT_ANY)
                     : git_object_lookup_prefix(&raw, repo, &oid, hash.size(), GIT_OBJECT_ANY);
  ObjectPtr object(raw);
  if (rc == GIT_ENOTFOUND) return std::optional<git_oid>{};
  if (rc == GIT_EAMBIGUOUS) {
    return fail(ErrorCode::invalid_argument,
                "hash prefix '" + std::string(hash) + "' is ambiguous in the mirror");
  }
  if (rc < 0) {
    return fail(ErrorCode::internal, "cannot read object " + std::string(hash) + " from the mirror",
                last_libgit2_error_message(rc));
  }
  git_object* peeled_raw = nullptr;
  const int peel_rc = git_object_peel(&peeled_raw, object.get(), GIT_OBJECT_COMMIT);
  ObjectPtr peeled(peeled_raw);
  if (peel_rc < 0) return std::optional<git_oid>{};  // a tree or blob: not a commit
  return std::optional<git_oid>{*git_object_id(peeled.get())};
}

CommitInfo to_commit_info(const git_commit* commit) {
  CommitInfo info;
  info.hash = oid_to_string(git_commit_id(commit));
  if (const char* message = git_commit_message(commit); message != nullptr) info.message = message;
  if (const git_signature* author = git_commit_author(commit); author != nullptr) {
    if (author->name != nullptr) info.author_name = author->name;
    if (author->email != nullptr) info.author_email = author->email;
    info.author_time_ms = static_cast<UnixMillis>(author->when.time) * 1000;
  }
  if (const git_signature* committer = git_commit_committer(commit); committer != nullptr) {
    if (committer->name != nullptr) info.committer_name = committer->name;
    if (committer->email != nullptr) info.committer_email = committer->email;
  }
  info.commit_time_ms = static_cast<UnixMillis>(git_commit_time(commit)) * 1000;
  const unsigned int parent_count = git_commit_parentcount(commit);
  info.parents.reserve(parent_count);
  for (unsigned int i = 0; i < parent_count; ++i) {
    info.parents.push_back(oid_to_string(git_commit_parent_id(commit, i)));
  }
  return info;
}

Result<CommitInfo> load_commit(git_repository* repo, const git_oid& oid) {
  git_commit* raw = nullptr;
  const int rc = git_commit_lookup(&raw, repo, &oid);
  CommitPtr commit(raw);
  if (rc < 0) {
    return fail(ErrorCode::internal,
                "cannot read commit " + oid_to_string(&oid) + " from the mirror",
                last_libgit2_error_message(rc));
  }
  return to_commit_info(commit.get());
}

/// Replaces every occurrence of `secret` in `text` by "***".
std::string redact_secret(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (std::size_t pos = text.find(secret); pos != std::string::npos;
       pos = text.find(secret, pos + 3)) {
    text.replace(pos, secret.size(), "***");
  }
  return text;
}

/// True when `url` names a local path rather than a URL ("/srv/git/x.git", "./x", "../x").
bool is_local_path(std::string_view url) {
  return url.find("://") == std::string_view::npos &&
         (url.starts_with('/') || url.starts_with("./") || url.starts_with("../"));
}

/// State of the credential callback of one fetch.
struct CredentialState {
  const FetchCredentials* creds = nullptr;
  int offers = 0;
};

int acquire_credentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                        unsigned int allowed_types, void* payload) {
  auto* state = static_cast<CredentialState*>(payload);
  if (state == nullptr) return GIT_PASSTHROUGH;
  const CredentialChoice choice =
      select_credential(state->creds, allowed_types, username_from_url, state->offers);
  switch (choice.action) {
    case CredentialAction::passthrough:
      return GIT_PASSTHROUGH;  // libgit2 then fails with its own "authentication required" error
    case CredentialAction::reject:
      git_error_set_str(GIT_ERROR_NET, "the remote rejected the configured credentials");
      return GIT_EAUTH;
    case CredentialAction::username:
      return git_credential_username_new(out, choice.username.c_str());
    case CredentialAction::userpass:
      ++state->offers;
      return git_credential_userpass_plaintext_new(out, choice.username.c_str(),
                                                   state->creds->password.c_str());
    case CredentialAction::ssh_key: {
      ++state->offers;
      const auto& c = *state->creds;
      return git_credential_ssh_key_new(
          out, choice.username.c_str(),
          c.ssh_public_key_path.empty() ? nullptr : c.ssh_public_key_path.c_str(),
          c.ssh_private_key_path.c_str(), c.password.empty() ? nullptr : c.password.c_str());
    }
  }
  return GIT_PASSTHROUGH;
}

}  // namespace

std::string redact_url_credentials(std::string_view url) {
  std::string out;
  out.reserve(url.size());
  std::size_t pos = 0;
  while (pos < url.size()) {
    const std::size_t scheme_end = url.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    const std::size_t authority = scheme_end + 3;
    out.append(url.substr(pos, authority - pos));
    std::size_t end = authority;
    while (end < url.size()) {
      const char c = url[end];
      if (c == '/' || c == '?' || c == '#' || c == ' ' || c == '\'' || c == '"' || c == '\n' ||
          c == '\t') {
        break;
      }
      ++end;
    }
    const std::string_view host_part = url.substr(authority, end - authority);
    const std::size_t at = host_part.rfind('@');
    if (at == std::string_view::npos) {
      out.append(host_part);
    } else {
      out.append("***@");
      out.append(host_part.substr(at + 1));
    }
    pos = end;
  }
  out.append(url.substr(pos));
  return out;
}

void Mirror::RepoDeleter::operator()(git_repository* repo) const noexcept {
  git_repository_free(repo);
}

Mirror::Mirror(RepoPtr repo, std::filesystem::path dir, std::string clone_url)
    : repo_(std::move(repo)), dir_(std::move(dir)), clone_url_(std::move(clone_url)) {}

Mirror::Mirror(Mirror&&) noexcept = default;
Mirror& Mirror::operator=(Mirror&&) noexcept = default;
Mirror::~Mirror() = default;

std::string Mirror::redacted_clone_url() const { return redact_url_credentials(clone_url_); }

Result<Mirror> Mirror::open_or_create(const std::filesystem::path& dir,
                                      const std::string& clone_url) {
  if (auto init = ensure_libgit2_initialized(); !init) return std::unexpected(init.error());
  if (clone_url.empty()) return fail(ErrorCode::invalid_argument, "the clone URL is empty");
  if (clone_url.find('\n') != std::string::npos || clone_url.find('\0') != std::string::npos) {
    return fail(ErrorCode::invalid_argument, "the clone URL contains a line break or NUL");
  }

  std::error_code ec;
  const bool exists = std::filesystem::exists(dir, ec);
  const bool empty = !exists || std::filesystem::is_empty(dir, ec);
  git_repository* raw = nullptr;
  if (empty) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return fail(ErrorCode::internal, "cannot create the mirror directory " + dir.string(),
                  ec.message());
    }
    const int rc = git_repository_init(&raw, dir.c_str(), /*is_bare=*/1);
    RepoPtr guard(raw);
    if (rc < 0) {
      return fail(ErrorCode::internal, "cannot create a git repository in " + dir.string(),
                  last_libgit2_error_message(rc));
    }
    raw = guard.release();
  } else {
    const int rc = git_repository_open_bare(&raw, dir.c_str());
    RepoPtr guard(raw);
    if (rc < 0) {
      return fail(ErrorCode::invalid_argument,
                  dir.string() + " exists and is not a bare git repository",
                  last_libgit2_error_message(rc));
    }
    raw = guard.release();
  }
  RepoPtr repo(raw);

  // The remote is kept in the repository's config (so the mirror is an ordinary repository a
  // human can inspect or fetch by hand), but written without git_remote_*: libgit2 1.5 leaks
  // PCRE2 match data (~20 KiB) whenever a config regex does not match (fixed upstream in
  // libgit2#6382), and git_remote_lookup/create and multivar appends run such regexes.
  git_config* cfg_raw = nullptr;
  int rc = git_repository_config(&cfg_raw, repo.get());
  ConfigPtr cfg(cfg_raw);
  if (rc < 0) {
    return fail(ErrorCode::internal, "cannot open the config of the mirror in " + dir.string(),
                last_libgit2_error_message(rc));
  }

  git_buf current_url = GIT_BUF_INIT;
  rc = git_config_get_string_buf(&current_url, cfg.get(), kUrlKey);
  const bool url_ok = rc == 0 && clone_url == std::string_view(current_url.ptr, current_url.size);
  git_buf_dispose(&current_url);
  if (!url_ok) {
    rc = git_config_set_string(cfg.get(), kUrlKey, clone_url.c_str());
    if (rc < 0) {
      return fail(ErrorCode::internal, "cannot set the mirror's remote URL",
                  redact_url_credentials(last_libgit2_error_message(rc)));
    }
  }

  std::vector<std::string> specs;
  rc = git_config_get_multivar_foreach(
      cfg.get(), kFetchKey, /*regexp=*/nullptr,
      [](const git_config_entry* entry, void* payload) {
        static_cast<std::vector<std::string>*>(payload)->emplace_back(entry->value);
        return 0;
      },
      &specs);
  if (rc < 0 && rc != GIT_ENOTFOUND) {
    return fail(ErrorCode::internal, "cannot read the mirror's fetch refspecs",
                last_libgit2_error_message(rc));
  }
  if (specs != std::vector<std::string>{kHeadsRefspec, kTagsRefspec}) {
    // Remove every value (".*" matches all of them), then append both refspecs as plain lines:
    // adding a second value through git_config_set_multivar would need a non-matching regex,
    // which is exactly what leaks. A repeated [remote "origin"] header is valid git config.
    if (!specs.empty()) {
      rc = git_config_delete_multivar(cfg.get(), kFetchKey, ".*");
      if (rc < 0) {
        return fail(ErrorCode::internal, "cannot configure the mirror's fetch refspecs",
                    last_libgit2_error_message(rc));
      }
    }
    cfg.reset();
    const std::filesystem::path config_file =
        std::filesystem::path(git_repository_path(repo.get())) / "config";
    std::ofstream out(config_file, std::ios::app | std::ios::binary);
    out << "[remote \"origin\"]\n\tfetch = " << kHeadsRefspec << "\n\tfetch = " << kTagsRefspec
        << "\n";
    out.close();
    if (!out) {
      return fail(ErrorCode::internal, "cannot configure the mirror's fetch refspecs",
                  "cannot append to " + config_file.string());
    }
  }
  return Mirror(std::move(repo), dir, clone_url);
}

Result<void> Mirror::fetch(const std::optional<FetchCredentials>& creds) {
  if (auto init = ensure_libgit2_initialized(); !init) return std::unexpected(init.error());
  const std::string shown_url = redacted_clone_url();
  const std::string_view password = creds ? std::string_view(creds->password) : std::string_view();

  if (std::error_code ec; is_local_path(clone_url_) && !std::filesystem::exists(clone_url_, ec)) {
    // libgit2 would only say "unsupported URL protocol".
    return fail(ErrorCode::peer_unavailable,
                "fetch of " + shown_url + " failed: no repository at that path");
  }

  // An in-memory remote for clone_url_ (the URL open_or_create wrote to the config) with explicit
  // refspecs: no config lookup, no url.*.insteadOf rewriting (see open_or_create on the leak).
  git_remote_create_options create_options = GIT_REMOTE_CREATE_OPTIONS_INIT;
  create_options.repository = repo_.get();
  create_options.fetchspec = kHeadsRefspec;
  create_options.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
  git_remote* remote_raw = nullptr;
  int rc = git_remote_create_with_opts(&remote_raw, clone_url_.c_str(), &create_options);
  RemotePtr remote(remote_raw);
  if (rc < 0) {
    const std::string reason = redact_url_credentials(last_libgit2_error_message(rc));
    return fail(ErrorCode::internal, "cannot fetch " + shown_url + ": " + reason, reason);
  }

  CredentialState state;
  if (creds) state.creds = &*creds;
  git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
  options.prune = GIT_FETCH_PRUNE;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // tags come from the explicit refspec
  options.callbacks.credentials = &acquire_credentials;
  options.callbacks.payload = &state;

  char heads[] = "+refs/heads/*:refs/heads/*";
  char tags[] = "+refs/tags/*:refs/tags/*";
  char* refspec_strings[] = {heads, tags};
  const git_strarray refspecs{refspec_strings, 2};

  rc = git_remote_fetch(remote.get(), &refspecs, &options, "commitbridge: fetch");
  if (rc < 0) {
    const std::string reason =
        redact_secret(redact_url_credentials(last_libgit2_error_message(rc)), password);
    if (rc == GIT_ELOCKED) {
      return fail(ErrorCode::internal,
                  "the mirror in " + dir_.string() + " is locked by another fetch: " + reason,
                  reason);
    }
    return fail(ErrorCode::peer_unavailable, "fetch of " + shown_url + " failed: " + reason,
                reason);
  }
  return {};
}

Result<std::vector<CommitInfo>> Mirror::commits_for_ref_change(std::string_view ref_name,
                                                               std::string_view from_hash,
                                                               std::string_view to_hash,
                                                               std::size_t max_commits) const {
  std::vector<CommitInfo> commits;
  if (is_zero_hash(to_hash) || max_commits == 0) return commits;

  auto to = resolve_commit(repo_.get(), to_hash);
  if (!to) return std::unexpected(to.error());
  if (!*to) {
    return fail(ErrorCode::not_found, "commit " + std::string(to_hash) +
                                          " is not in the mirror of " + redacted_clone_url());
  }

  git_revwalk* walk_raw = nullptr;
  int rc = git_revwalk_new(&walk_raw, repo_.get());
  RevwalkPtr walk(walk_raw);
  if (rc < 0) {
    return fail(ErrorCode::internal, "cannot walk the mirror's history",
                last_libgit2_error_message(rc));
  }
  rc = git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  if (rc >= 0) rc = git_revwalk_push(walk.get(), &**to);
  if (rc < 0) {
    return fail(ErrorCode::internal, "cannot walk the mirror's history",
                last_libgit2_error_message(rc));
  }

  if (!is_zero_hash(from_hash)) {
    // Updated ref: hide what `from` already had. An unknown `from` (history replaced by a force
    // push that the mirror never saw) hides nothing; max_commits bounds the result.
    auto from = resolve_commit(repo_.get(), from_hash);
    if (!from) return std::unexpected(from.error());
    if (*from) {
      rc = git_revwalk_hide(walk.get(), &**from);
      if (rc < 0) {
        return fail(ErrorCode::internal, "cannot walk the mirror's history",
                    last_libgit2_error_message(rc));
      }
    }
  } else {
    // New ref: hide the tips of every other branch.
    const std::string own_ref = full_ref_name(ref_name);
    git_reference_iterator* iter_raw = nullptr;
    rc = git_reference_iterator_new(&iter_raw, repo_.get());
    RefIterPtr iter(iter_raw);
    if (rc < 0) {
      return fail(ErrorCode::internal, "cannot list the mirror's branches",
                  last_libgit2_error_message(rc));
    }
    const char* name = nullptr;
    while ((rc = git_reference_next_name(&name, iter.get())) == 0) {
      const std::string_view ref(name);
      if (!ref.starts_with(kHeadsPrefix) || ref == own_ref) continue;
      git_oid tip{};
      if (git_reference_name_to_id(&tip, repo_.get(), name) < 0) continue;  // dangling symref
      git_object* tip_raw = nullptr;
      if (git_object_lookup(&tip_raw, repo_.get(), &tip, GIT_OBJECT_ANY) < 0) continue;
      ObjectPtr tip_object(tip_raw);
      git_object* peeled_raw = nullptr;
      if (git_object_peel(&peeled_raw, tip_object.get(), GIT_OBJECT_COMMIT) < 0) continue;
      ObjectPtr peeled(peeled_raw);
      rc = git_revwalk_hide(walk.get(), git_object_id(peeled.get()));
      if (rc < 0) {
        return fail(ErrorCode::internal, "cannot walk the mirror's history",
                    last_libgit2_error_message(rc));
      }
    }
    if (rc != GIT_ITEROVER) {
      return fail(ErrorCode::internal, "cannot list the mirror's branches",
                  last_libgit2_error_message(rc));
    }
  }

  git_oid oid{};
  while (commits.size() < max_commits && (rc = git_revwalk_next(&oid, walk.get())) == 0) {
    auto info = load_commit(repo_.get(), oid);
    if (!info) return std::unexpected(info.error());
    commits.push_back(std::move(*info));
  }
  if (commits.size() < max_commits && rc != GIT_ITEROVER) {
    return fail(ErrorCode::internal, "cannot walk the mirror's history",
                last_libgit2_error_message(rc));
  }
  return commits;
}

Result<std::vector<std::string>> Mirror::commits_removed_by_ref_change(
    std::string_view from_hash, std::string_view to_hash, std::size_t max_commits) const {
  std::vector<std::string> removed;
  if (is_zero_hash(from_hash) || is_zero_hash(to_hash) || max_commits == 0) return removed;
  auto to = resolve_commit(repo_.get(), to_hash);
  if (!to) return std::unexpected(to.error());
  if (!*to) {
    return fail(ErrorCode::not_found, "commit " + std::string(to_hash) +
                                          " is not in the mirror of " + redacted_clone_url());
  }
  auto from = resolve_commit(repo_.get(), from_hash);
  if (!from) return std::unexpected(from.error());
  if (!*from || git_oid_equal(&**from, &**to)) return removed;

  git_revwalk* walk_raw = nullptr;
  int rc = git_revwalk_new(&walk_raw, repo_.get());
  RevwalkPtr walk(walk_raw);
  if (rc >= 0) rc = git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  if (rc >= 0) rc = git_revwalk_push(walk.get(), &**from);
  if (rc >= 0) rc = git_revwalk_hide(walk.get(), &**to);
  if (rc < 0) {
    return fail(ErrorCode::internal, "cannot walk the mirror's history",
                last_libgit2_error_message(rc));
  }
  git_oid oid{};
  while (removed.size() < max_commits && (rc = git_revwalk_next(&oid, walk.get())) == 0) {
    removed.push_back(oid_to_string(&oid));
  }
  if (removed.size() < max_commits && rc != GIT_ITEROVER) {
    return fail(ErrorCode::internal, "cannot walk the mirror's history",
                last_libgit2_error_message(rc));
  }
  return removed;
}

Result<std::optional<CommitInfo>> Mirror::find_commit(std::string_view hash) const {
  auto oid = resolve_commit(repo_.get(), hash);
  if (!oid) return std::unexpected(oid.error());
  if (!*oid) return std::optional<CommitInfo>{};
  auto info = load_commit(repo_.get(), **oid);
  if (!info) return std::unexpected(info.error());
  return std::optional<CommitInfo>{std::move(*info)};
}

Result<std::optional<std::string>> Mirror::resolve_ref(std::string_view ref_name) const {
  const std::string full = full_ref_name(ref_name);
  git_oid oid{};
  const int rc = git_reference_name_to_id(&oid, repo_.get(), full.c_str());
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) return std::optional<std::string>{};
  if (rc < 0) {
    return fail(ErrorCode::internal, "cannot read ref " + full + " of the mirror",
                last_libgit2_error_message(rc));
  }
  auto commit = resolve_commit(repo_.get(), oid_to_string(&oid));
  if (!commit) return std::unexpected(commit.error());
  if (!*commit) return std::optional<std::string>{};
  return std::optional<std::string>{oid_to_string(&**commit)};
}

}  // namespace cb::git
