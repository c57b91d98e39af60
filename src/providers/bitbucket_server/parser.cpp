#include "providers/bitbucket_server/parser.hpp"

#include <optional>
#include <utility>

#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "providers/bitbucket_server/payload.hpp"
#include "providers/json_fields.hpp"

namespace cb::providers::bitbucket_server {

namespace json = boost::json;

namespace {

constexpr std::string_view kRefsChanged = "repo:refs_changed";
constexpr std::string_view kMirrorSynchronized = "mirror:repo_synchronized";

/// `s` without leading and trailing spaces and tabs (HTTP optional whitespace).
std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// "Bitbucket <key> payload", or "Bitbucket payload" while the key is unknown.
std::string subject_for(std::string_view key) {
  if (key.empty()) return "Bitbucket payload";
  return "Bitbucket " + std::string(key) + " payload";
}

/// The body parsed as JSON, its memory from `storage`; malformed_payload when it is not JSON or
/// not an object.
Result<json::value> parse_body(std::string_view body, std::string_view key,
                               json::storage_ptr storage) {
  json::error_code ec;
  json::value root = json::parse(body, ec, std::move(storage));
  if (ec) {
    return fail(ErrorCode::malformed_payload,
                subject_for(key) + " is not valid JSON (" + ec.message() + ")",
                "Boost.JSON error after reading " + std::to_string(body.size()) + " bytes");
  }
  if (!root.is_object()) {
    return fail(ErrorCode::malformed_payload, subject_for(key) + " is not a JSON object");
  }
  return root;
}

/// The body's top-level `eventKey`, trimmed; empty when absent or not a string.
std::string body_event_key(const json::object& root) {
  const json::value* v = find_member(root, "eventKey");
  if (v == nullptr || !v->is_string()) return {};
  const json::string& s = v->get_string();
  return std::string(trim(std::string_view(s.data(), s.size())));
}

/// Optional hash member `key`: "" when absent, else 40/64 hex digits.
Result<std::string> optional_hash(const json::object& object, std::string_view key,
                                  const JsonPath& at) {
  CB_PROVIDERS_TRY(std::string hash, optional_string(object, key, at));
  if (!hash.empty() && !is_hex_hash(hash)) {
    return std::unexpected(
        (at / key).invalid("is " + quote_for_message(hash) + ", not a 40- or 64-digit hex hash"));
  }
  return hash;
}

/// A pull request's `fromRef`/`toRef`: full ref id, branch name, tip hash.
struct PrRef {
  std::string ref_id;
  std::string branch;
  std::string hash;
};

Result<PrRef> parse_pr_ref(const json::object& ref, const JsonPath& at) {
  PrRef out;
  CB_PROVIDERS_TRY(out.ref_id, required_string(ref, "id", at));
  CB_PROVIDERS_TRY(std::string display, optional_string(ref, "displayId", at));
  out.branch = display.empty() ? std::string(short_ref_name(out.ref_id)) : std::move(display);
  CB_PROVIDERS_TRY(out.hash, optional_hash(ref, "latestCommit", at));
  if (out.hash.empty()) {  // Bitbucket Server before 5.0 named it latestChangeset.
    CB_PROVIDERS_TRY(out.hash, optional_hash(ref, "latestChangeset", at));
  }
  return out;
}

/// `repo:refs_changed` and `mirror:repo_synchronized` → PushEvent.
Result<NormalizedEvent> parse_push(const json::object& root, const JsonPath& at, bool mirror) {
  PushEvent push;
  const json::value* repository = find_member(root, "repository");
  if (repository == nullptr) return std::unexpected((at / "repository").missing());
  CB_PROVIDERS_TRY(push.repository, parse_repository(*repository, at / "repository"));

  if (const json::value* actor = find_member(root, "actor")) {
    CB_PROVIDERS_TRY(push.actor, parse_user(*actor, at / "actor"));
  }

  // A mirror whose sync touched more refs than it may list sends refLimitExceeded = true and an
  // empty (or absent) changes[]: the result is a push without changes.
  bool ref_limit_exceeded = false;
  if (mirror) {
    CB_PROVIDERS_TRY(ref_limit_exceeded, optional_bool(root, "refLimitExceeded", at, false));
  }
  const json::value* changes = find_member(root, "changes");
  if (changes == nullptr && !ref_limit_exceeded) {
    return std::unexpected((at / "changes").missing());
  }
  if (changes != nullptr) {
    CB_PROVIDERS_TRY(push.changes, parse_ref_changes(*changes, at / "changes"));
  }

  if (const json::value* commits = find_member(root, "commits")) {
    CB_PROVIDERS_TRY(push.commits, parse_commits(*commits, at / "commits"));
  }
  if (const json::value* to_commit = find_member(root, "toCommit")) {
    CB_PROVIDERS_TRY(CommitPreview tip, parse_commit(*to_commit, at / "toCommit"));
    push.to_commit = std::move(tip);
  }
  return NormalizedEvent{std::move(push)};
}

/// The PullRequestAction of a supported `pr:*` key (pr:modified is refined later), or nullopt.
std::optional<PullRequestAction> pull_request_action(std::string_view key) noexcept {
  if (key == "pr:opened") return PullRequestAction::opened;
  if (key == "pr:from_ref_updated") return PullRequestAction::source_updated;
  if (key == "pr:modified") return PullRequestAction::modified;
  if (key == "pr:merged") return PullRequestAction::merged;
  if (key == "pr:declined") return PullRequestAction::declined;
  if (key == "pr:deleted") return PullRequestAction::deleted;
  return std::nullopt;
}

/// `pr:opened|from_ref_updated|modified|merged|declined|deleted` → PullRequestEvent.
Result<NormalizedEvent> parse_pull_request(const json::object& root, const JsonPath& at,
                                           PullRequestAction action) {
  PullRequestEvent pr;
  pr.action = action;
  const JsonPath pr_at = at / "pullRequest";
  CB_PROVIDERS_TRY(const json::object* p, required_object(root, "pullRequest", at));
  CB_PROVIDERS_TRY(pr.id, required_int64(*p, "id", pr_at));
  CB_PROVIDERS_TRY(pr.title, optional_string(*p, "title", pr_at));
  CB_PROVIDERS_TRY(pr.state, optional_string(*p, "state", pr_at));

  CB_PROVIDERS_TRY(const json::object* from, required_object(*p, "fromRef", pr_at));
  CB_PROVIDERS_TRY(PrRef source, parse_pr_ref(*from, pr_at / "fromRef"));
  pr.source_ref_id = std::move(source.ref_id);
  pr.source_branch = std::move(source.branch);
  pr.source_hash = std::move(source.hash);

  const JsonPath to_at = pr_at / "toRef";
  CB_PROVIDERS_TRY(const json::object* to, required_object(*p, "toRef", pr_at));
  CB_PROVIDERS_TRY(PrRef target, parse_pr_ref(*to, to_at));
  pr.target_ref_id = std::move(target.ref_id);
  pr.target_branch = std::move(target.branch);
  pr.target_hash = std::move(target.hash);

  const json::value* repository = find_member(*to, "repository");
  if (repository == nullptr) return std::unexpected((to_at / "repository").missing());
  CB_PROVIDERS_TRY(pr.repository, parse_repository(*repository, to_at / "repository"));

  if (const json::value* actor = find_member(root, "actor")) {
    CB_PROVIDERS_TRY(pr.actor, parse_user(*actor, at / "actor"));
  } else {
    CB_PROVIDERS_TRY(const json::object* author, optional_object(*p, "author", pr_at));
    if (author != nullptr) {
      if (const json::value* user = find_member(*author, "user")) {
        CB_PROVIDERS_TRY(pr.actor, parse_user(*user, pr_at / "author" / "user"));
      }
    }
  }

  if (const json::value* created = find_member(*p, "createdDate")) {
    CB_PROVIDERS_TRY(pr.created_at_ms, parse_date(*created, pr_at / "createdDate"));
  }
  if (const json::value* updated = find_member(*p, "updatedDate")) {
    CB_PROVIDERS_TRY(pr.updated_at_ms, parse_date(*updated, pr_at / "updatedDate"));
  }

  switch (action) {
    case PullRequestAction::source_updated: {
      CB_PROVIDERS_TRY(pr.previous_source_hash, optional_hash(root, "previousFromHash", at));
      break;
    }
    case PullRequestAction::modified: {
      // previousTarget is sent on every pr:modified; the target changed only when it differs.
      const JsonPath prev_at = at / "previousTarget";
      CB_PROVIDERS_TRY(const json::object* previous, optional_object(root, "previousTarget", at));
      if (previous != nullptr) {
        CB_PROVIDERS_TRY(std::string prev_id, optional_string(*previous, "id", prev_at));
        CB_PROVIDERS_TRY(std::string prev_display,
                         optional_string(*previous, "displayId", prev_at));
        if (!prev_id.empty() && prev_id != pr.target_ref_id) {
          pr.action = PullRequestAction::target_changed;
          pr.previous_target_branch =
              prev_display.empty() ? std::string(short_ref_name(prev_id)) : prev_display;
        }
      }
      break;
    }
    case PullRequestAction::merged: {
      const JsonPath props_at = pr_at / "properties";
      CB_PROVIDERS_TRY(const json::object* props, optional_object(*p, "properties", pr_at));
      if (props != nullptr) {
        CB_PROVIDERS_TRY(const json::object* merge,
                         optional_object(*props, "mergeCommit", props_at));
        if (merge != nullptr) {
          CB_PROVIDERS_TRY(pr.merge_commit_hash,
                           optional_hash(*merge, "id", props_at / "mergeCommit"));
        }
      }
      break;
    }
    default:
      break;
  }
  return NormalizedEvent{std::move(pr)};
}

}  // namespace

std::string_view BitbucketServerProvider::id() const noexcept { return kProviderId; }

bool BitbucketServerProvider::detect(const RawDelivery& delivery) const {
  return delivery.has_header(kEventKeyHeader) && delivery.has_header(kRequestIdHeader) &&
         !delivery.has_header("X-GitHub-Event") && !delivery.has_header("X-Gitlab-Event") &&
         !delivery.has_header("X-Gitea-Event") && !delivery.has_header("X-Request-UUID");
}

std::string BitbucketServerProvider::event_key(const RawDelivery& delivery) const {
  const std::string_view header = trim(delivery.header(kEventKeyHeader));
  if (!header.empty()) return std::string(header);
  json::error_code ec;
  const json::value root = json::parse(delivery.body, ec);
  if (ec || !root.is_object()) return {};
  return body_event_key(root.get_object());
}

std::string BitbucketServerProvider::external_id(const RawDelivery& delivery) const {
  return std::string(trim(delivery.header(kRequestIdHeader)));
}

bool BitbucketServerProvider::is_ping(const RawDelivery& delivery) const {
  return event_key(delivery) == kPingEventKey;
}

Result<NormalizedEvent> BitbucketServerProvider::parse(const RawDelivery& delivery) const {
  std::string key(trim(delivery.header(kEventKeyHeader)));
  if (key == kPingEventKey) return NormalizedEvent{PingEvent{}};

  // The document lives only during this call (the event copies what it keeps): its nodes come
  // from one arena, a 16 KiB buffer on the stack first, instead of one allocation each.
  std::array<unsigned char, 16384> arena;
  json::monotonic_resource resource(arena.data(), arena.size());
  CB_PROVIDERS_TRY(const json::value body, parse_body(delivery.body, key, &resource));
  const json::object& root = body.get_object();
  if (key.empty()) key = body_event_key(root);
  if (key.empty()) {
    return fail(ErrorCode::malformed_payload,
                "Bitbucket delivery has no X-Event-Key header and no eventKey in its body");
  }
  if (key == kPingEventKey) return NormalizedEvent{PingEvent{}};

  const JsonPath at{subject_for(key), ""};
  if (key == kRefsChanged) return parse_push(root, at, false);
  if (key == kMirrorSynchronized) return parse_push(root, at, true);
  if (const auto action = pull_request_action(key)) return parse_pull_request(root, at, *action);
  return NormalizedEvent{UnsupportedEvent{std::move(key)}};
}

}  // namespace cb::providers::bitbucket_server
