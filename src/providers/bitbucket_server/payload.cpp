#include "providers/bitbucket_server/payload.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

namespace cb::providers::bitbucket_server {

namespace json = boost::json;

namespace {

constexpr std::string_view kHeadsPrefix = "refs/heads/";
constexpr std::string_view kTagsPrefix = "refs/tags/";

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

/// Reads exactly `n` decimal digits at `pos`, advancing it; nullopt when fewer are there.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t n) noexcept {
  if (pos > text.size() || text.size() - pos < n) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += n;
  return value;
}

bool consume(std::string_view text, std::size_t& pos, char expected) noexcept {
  if (pos < text.size() && text[pos] == expected) {
    ++pos;
    return true;
  }
  return false;
}

/// Milliseconds since the epoch of a UTC civil date-time, or nullopt for an impossible date.
std::optional<std::int64_t> civil_to_ms(int year, int month, int day, int hour, int minute,
                                        int second, int millis) noexcept {
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
  return secs * 1000 + millis;
}

/// Hash field `key` of a change: required, 40/64 hex digits; `zero_when_absent` allows a missing
/// hash (an ADD's fromHash, a DELETE's toHash) and yields kZeroHash.
Result<std::string> change_hash(const json::object& change, std::string_view key,
                                const JsonPath& at, bool zero_when_absent) {
  CB_PROVIDERS_TRY(std::string hash, optional_string(change, key, at));
  if (hash.empty()) {
    if (zero_when_absent) return std::string(kZeroHash);
    return std::unexpected((at / key).missing());
  }
  if (!is_hex_hash(hash)) {
    return std::unexpected(
        (at / key).invalid("is " + quote_for_message(hash) + ", not a 40- or 64-digit hex hash"));
  }
  return hash;
}

}  // namespace

Result<UnixMillis> parse_iso8601(std::string_view text) {
  const auto bad = [&] {
    return fail(ErrorCode::malformed_payload,
                quote_for_message(text) + " is not an ISO-8601 date-time with offset");
  };
  std::size_t pos = 0;
  const auto year = read_digits(text, pos, 4);
  if (!year || !consume(text, pos, '-')) return bad();
  const auto month = read_digits(text, pos, 2);
  if (!month || !consume(text, pos, '-')) return bad();
  const auto day = read_digits(text, pos, 2);
  if (!day) return bad();
  if (!(consume(text, pos, 'T') || consume(text, pos, 't') || consume(text, pos, ' '))) {
    return bad();
  }
  const auto hour = read_digits(text, pos, 2);
  if (!hour || !consume(text, pos, ':')) return bad();
  const auto minute = read_digits(text, pos, 2);
  if (!minute || !consume(text, pos, ':')) return bad();
  const auto second = read_digits(text, pos, 2);
  if (!second) return bad();

  int millis = 0;
  if (consume(text, pos, '.') || consume(text, pos, ',')) {
    std::size_t digits = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;
  }

  int offset_minutes = 0;
  if (consume(text, pos, 'Z') || consume(text, pos, 'z')) {
    // UTC
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    const auto off_hours = read_digits(text, pos, 2);
    if (!off_hours || *off_hours > 23) return bad();
    int off_minutes = 0;
    if (pos < text.size()) {  // "+02" alone, else "+0200" or "+02:00"
      consume(text, pos, ':');
      const auto mm = read_digits(text, pos, 2);
      if (!mm || *mm > 59) return bad();
      off_minutes = *mm;
    }
    offset_minutes = sign * (*off_hours * 60 + off_minutes);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();

  const auto local_ms = civil_to_ms(*year, *month, *day, *hour, *minute, *second, millis);
  if (!local_ms) return bad();
  return *local_ms - static_cast<std::int64_t>(offset_minutes) * 60 * 1000;
}

Result<UnixMillis> parse_date(const json::value& value, const JsonPath& at) {
  std::int64_t ms = 0;
  if (to_int64(value, ms)) return ms;
  const json::string* s = value.if_string();
  if (s == nullptr) {
    return std::unexpected(at.wrong_type("epoch milliseconds or an ISO-8601 date-time"));
  }
  const std::string_view text(s->data(), s->size());
  bool all_digits = !text.empty();
  for (char c : text) all_digits = all_digits && is_digit(c);
  if (all_digits) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec == std::errc{} && end == text.data() + text.size()) return ms;
  } else if (auto parsed = parse_iso8601(text)) {
    return *parsed;
  }
  return std::unexpected(at.invalid("is " + quote_for_message(text) +
                                    ", not epoch milliseconds or an ISO-8601 date-time with "
                                    "offset"));
}

Result<Person> parse_user(const json::value& value, const JsonPath& at) {
  CB_PROVIDERS_TRY(const json::object* o, as_object(value, at));
  CB_PROVIDERS_TRY(std::string login, optional_string(*o, "name", at));
  CB_PROVIDERS_TRY(std::string display, optional_string(*o, "displayName", at));
  CB_PROVIDERS_TRY(std::string email, optional_string(*o, "emailAddress", at));
  CB_PROVIDERS_TRY(std::string slug, optional_string(*o, "slug", at));
  Person p;
  p.name = display.empty() ? login : std::move(display);
  p.email = std::move(email);
  p.username = login.empty() ? std::move(slug) : std::move(login);
  return p;
}

Result<Person> parse_commit_author(const json::value& value, const JsonPath& at) {
  CB_PROVIDERS_TRY(const json::object* o, as_object(value, at));
  if (find_member(*o, "displayName") != nullptr) return parse_user(value, at);
  CB_PROVIDERS_TRY(std::string name, optional_string(*o, "name", at));
  CB_PROVIDERS_TRY(std::string email, optional_string(*o, "emailAddress", at));
  Person p;
  p.name = std::move(name);
  p.email = std::move(email);
  return p;
}

Result<RepositoryRef> parse_repository(const json::value& value, const JsonPath& at) {
  CB_PROVIDERS_TRY(const json::object* repo, as_object(value, at));
  RepositoryRef ref;
  ref.provider = std::string(kProviderId);
  const JsonPath project_at = at / "project";
  CB_PROVIDERS_TRY(const json::object* project, optional_object(*repo, "project", at));
  if (project == nullptr) return std::unexpected((project_at / "key").missing());
  CB_PROVIDERS_TRY(ref.project_key, required_string(*project, "key", project_at));
  CB_PROVIDERS_TRY(ref.slug, required_string(*repo, "slug", at));
  CB_PROVIDERS_TRY(ref.name, optional_string(*repo, "name", at));

  const JsonPath links_at = at / "links";
  CB_PROVIDERS_TRY(const json::object* links, optional_object(*repo, "links", at));
  if (links == nullptr) return ref;

  CB_PROVIDERS_TRY(const json::array* clone, optional_array(*links, "clone", links_at));
  if (clone != nullptr) {
    for (std::size_t i = 0; i < clone->size(); ++i) {
      const JsonPath link_at = (links_at / "clone")[i];
      CB_PROVIDERS_TRY(const json::object* link, as_object((*clone)[i], link_at));
      CB_PROVIDERS_TRY(std::string name, optional_string(*link, "name", link_at));
      CB_PROVIDERS_TRY(std::string href, optional_string(*link, "href", link_at));
      if (href.empty()) continue;
      if ((name == "http" || name == "https") && ref.http_clone_url.empty()) {
        ref.http_clone_url = std::move(href);
      } else if (name == "ssh" && ref.ssh_clone_url.empty()) {
        ref.ssh_clone_url = std::move(href);
      }
    }
  }

  CB_PROVIDERS_TRY(const json::array* self, optional_array(*links, "self", links_at));
  if (self != nullptr && !self->empty()) {
    const JsonPath self_at = (links_at / "self")[0];
    CB_PROVIDERS_TRY(const json::object* link, as_object(self->front(), self_at));
    CB_PROVIDERS_TRY(ref.browse_url, optional_string(*link, "href", self_at));
  }
  return ref;
}

Result<RefChange> parse_ref_change(const json::value& value, const JsonPath& at) {
  CB_PROVIDERS_TRY(const json::object* change, as_object(value, at));
  RefChange rc;

  const JsonPath ref_at = at / "ref";
  CB_PROVIDERS_TRY(const json::object* ref, optional_object(*change, "ref", at));
  std::string display_id;
  std::string ref_type;
  if (ref != nullptr) {
    CB_PROVIDERS_TRY(rc.ref_id, optional_string(*ref, "id", ref_at));
    CB_PROVIDERS_TRY(display_id, optional_string(*ref, "displayId", ref_at));
    CB_PROVIDERS_TRY(ref_type, optional_string(*ref, "type", ref_at));
  }
  if (rc.ref_id.empty()) {
    CB_PROVIDERS_TRY(rc.ref_id, optional_string(*change, "refId", at));
  }
  if (rc.ref_id.empty()) return std::unexpected((ref_at / "id").missing());
  rc.display_id = display_id.empty() ? std::string(short_ref_name(rc.ref_id)) : display_id;
  // git forbids control characters in ref names (git-check-ref-format); refusing them keeps
  // them out of logs, tables and job environments.
  for (const std::string* name : {&rc.ref_id, &rc.display_id}) {
    for (unsigned char c : *name) {
      if (c < 0x20 || c == 0x7f) {
        return std::unexpected((ref_at / "id").invalid("contains a control character"));
      }
    }
  }

  if (ref_type == "BRANCH") {
    rc.ref_type = RefType::branch;
  } else if (ref_type == "TAG") {
    rc.ref_type = RefType::tag;
  } else if (!ref_type.empty()) {
    rc.ref_type = RefType::other;
  } else if (rc.ref_id.starts_with(kHeadsPrefix)) {
    rc.ref_type = RefType::branch;
  } else if (rc.ref_id.starts_with(kTagsPrefix)) {
    rc.ref_type = RefType::tag;
  } else {
    rc.ref_type = RefType::other;
  }

  CB_PROVIDERS_TRY(std::string type, required_string(*change, "type", at));
  if (type == "ADD") {
    rc.type = RefChangeType::add;
  } else if (type == "UPDATE") {
    rc.type = RefChangeType::update;
  } else if (type == "DELETE") {
    rc.type = RefChangeType::remove;
  } else {
    return std::unexpected(
        (at / "type")
            .invalid("is " + quote_for_message(type) + ", expected ADD, UPDATE or DELETE"));
  }

  CB_PROVIDERS_TRY(rc.from_hash,
                   change_hash(*change, "fromHash", at, rc.type == RefChangeType::add));
  CB_PROVIDERS_TRY(rc.to_hash,
                   change_hash(*change, "toHash", at, rc.type == RefChangeType::remove));
  return rc;
}

Result<std::vector<RefChange>> parse_ref_changes(const json::value& value, const JsonPath& at) {
  const json::array* changes = value.if_array();
  if (changes == nullptr) return std::unexpected(at.wrong_type("an array"));
  std::vector<RefChange> out;
  out.reserve(changes->size());
  for (std::size_t i = 0; i < changes->size(); ++i) {
    CB_PROVIDERS_TRY(RefChange rc, parse_ref_change((*changes)[i], at[i]));
    out.push_back(std::move(rc));
  }
  return out;
}

Result<CommitPreview> parse_commit(const json::value& value, const JsonPath& at) {
  CB_PROVIDERS_TRY(const json::object* commit, as_object(value, at));
  CommitPreview c;
  CB_PROVIDERS_TRY(c.hash, required_string(*commit, "id", at));
  if (!is_hex_hash(c.hash)) {
    return std::unexpected((at / "id").invalid("is " + quote_for_message(c.hash) +
                                               ", not a 40- or 64-digit hex hash"));
  }
  CB_PROVIDERS_TRY(c.message, optional_string(*commit, "message", at));
  if (const json::value* author = find_member(*commit, "author")) {
    CB_PROVIDERS_TRY(c.author, parse_commit_author(*author, at / "author"));
  }
  if (const json::value* ts = find_member(*commit, "authorTimestamp")) {
    CB_PROVIDERS_TRY(c.author_time_ms, parse_date(*ts, at / "authorTimestamp"));
  }
  CB_PROVIDERS_TRY(const json::array* parents, optional_array(*commit, "parents", at));
  if (parents != nullptr) {
    c.parents.reserve(parents->size());
    for (std::size_t i = 0; i < parents->size(); ++i) {
      const JsonPath parent_at = (at / "parents")[i];
      CB_PROVIDERS_TRY(const json::object* parent, as_object((*parents)[i], parent_at));
      CB_PROVIDERS_TRY(std::string id, required_string(*parent, "id", parent_at));
      c.parents.push_back(std::move(id));
    }
  }
  return c;
}

Result<std::vector<CommitPreview>> parse_commits(const json::value& value, const JsonPath& at) {
  const json::array* commits = value.if_array();
  if (commits == nullptr) return std::unexpected(at.wrong_type("an array"));
  std::vector<CommitPreview> out;
  out.reserve(commits->size());
  for (std::size_t i = 0; i < commits->size(); ++i) {
    CB_PROVIDERS_TRY(CommitPreview c, parse_commit((*commits)[i], at[i]));
    out.push_back(std::move(c));
  }
  return out;
}

std::string_view short_ref_name(std::string_view ref_id) noexcept {
  if (ref_id.starts_with(kHeadsPrefix)) return ref_id.substr(kHeadsPrefix.size());
  if (ref_id.starts_with(kTagsPrefix)) return ref_id.substr(kTagsPrefix.size());
  return ref_id;
}

bool is_hex_hash(std::string_view hash) noexcept {
  if (hash.size() != 40 && hash.size() != 64) return false;
  for (char c : hash) {
    const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

}  // namespace cb::providers::bitbucket_server
