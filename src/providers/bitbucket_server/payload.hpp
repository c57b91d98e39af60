#pragma once
// Bitbucket Server / Data Center wire payload mapping: JSON values of the webhook body →
// the normalized building blocks of core/event.hpp (RepositoryRef, Person, RefChange,
// CommitPreview) and dates → UnixMillis.
//
// Source of the format: Atlassian "Event payload" (Bitbucket Server/DC 8.9 and the current DC
// page), the DC 10.3 change of pull-request dates to ISO-8601 strings, and real DC 10.3
// `repo:refs_changed` deliveries; see /work/shared/reference/protocols.md §1 and README.md in
// this folder. Every function is pure, never throws, and reports a value it cannot read as
// ErrorCode::malformed_payload with a message naming the payload and the JSON path (`at`, a
// cb::providers::JsonPath whose subject is e.g. "Bitbucket repo:refs_changed payload").

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/event.hpp"
#include "providers/json_fields.hpp"

namespace cb::providers::bitbucket_server {

/// Provider id of Bitbucket Server / Data Center, the same word in folder, config, database and
/// API.
inline constexpr std::string_view kProviderId = "bitbucket_server";

/// Parses an ISO-8601 date-time as Bitbucket DC sends it into milliseconds since the Unix epoch
/// (UTC): `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HHMM|±HH:MM|±HH)`. Bitbucket writes offsets without
/// a colon (`2026-03-01T11:02:41+0200`, body `date` and DC 10.3+ pull-request dates) and commit
/// timestamps of DC 10.x as `2026-05-24T14:11:04.000Z`. Fractions beyond milliseconds are
/// truncated. A date without an offset is rejected (its instant is ambiguous).
/// Errors: ErrorCode::malformed_payload, message `"<text>" is not an ISO-8601 date-time with
/// offset` (text quoted by quote_for_message); never throws.
[[nodiscard]] Result<UnixMillis> parse_iso8601(std::string_view text);

/// Reads a Bitbucket date field: an integer of epoch milliseconds (all versions up to DC 10.2,
/// and commit `authorTimestamp` before DC 10), a string of decimal digits (epoch milliseconds),
/// or an ISO-8601 string (see parse_iso8601; pull-request `createdDate`/`updatedDate` from DC
/// 10.3). Returns milliseconds since the Unix epoch, UTC.
/// Errors: malformed_payload naming `at` when the value is of another type or does not parse.
[[nodiscard]] Result<UnixMillis> parse_date(const boost::json::value& value, const JsonPath& at);

/// Maps a Bitbucket user object (`actor`, `pullRequest.author.user`; fields `name` = login,
/// `displayName`, `emailAddress`, `slug`) to a Person: name = displayName (falling back to
/// name), email = emailAddress, username = name (falling back to slug).
/// Errors: malformed_payload when `value` is not an object or a field has the wrong type.
[[nodiscard]] Result<Person> parse_user(const boost::json::value& value, const JsonPath& at);

/// Maps a commit `author`/`committer` object to a Person. Bitbucket sends either the git
/// identity `{name, emailAddress}` (name = the display name) or, when the identity is linked to
/// a Bitbucket account (DC 10.x), a full user object with `displayName` (then as parse_user).
/// Errors: malformed_payload when `value` is not an object or a field has the wrong type.
[[nodiscard]] Result<Person> parse_commit_author(const boost::json::value& value,
                                                 const JsonPath& at);

/// Maps a `repository` object (`repo:refs_changed`, `mirror:repo_synchronized`,
/// `pullRequest.toRef.repository`) to a RepositoryRef with provider "bitbucket_server":
/// project_key = `project.key` (e.g. "NWA", or "~USER" for a personal repository), slug =
/// `slug`, name = `name`, http_clone_url = first `links.clone[]` named "http" or "https",
/// ssh_clone_url = first named "ssh", browse_url = `links.self[0].href`. `links` is optional
/// (absent from many payloads); the URLs are then empty.
/// Errors: malformed_payload when `value` is not an object, `project.key` or `slug` is missing
/// or empty, or a field has the wrong type.
[[nodiscard]] Result<RepositoryRef> parse_repository(const boost::json::value& value,
                                                     const JsonPath& at);

/// Maps one element of `changes[]` (`repo:refs_changed`, `mirror:repo_synchronized`) to a
/// RefChange: ref_id = `ref.id` (falling back to `refId`); display_id = `ref.displayId`, else
/// ref_id with only a leading "refs/heads/" or "refs/tags/" stripped; ref_type from `ref.type`
/// BRANCH/TAG (else inferred from the ref prefix, else other); type from `type`
/// ADD/UPDATE/DELETE → add/update/remove; from_hash/to_hash from `fromHash`/`toHash` (a missing
/// fromHash of an ADD or toHash of a DELETE is taken as kZeroHash).
/// Errors: malformed_payload when the ref id is missing, `type` is missing or unknown, or a hash
/// is missing or is not 40 or 64 hex digits.
[[nodiscard]] Result<RefChange> parse_ref_change(const boost::json::value& value,
                                                 const JsonPath& at);

/// Maps every element of a `changes[]` array, in order (see parse_ref_change).
/// Errors: malformed_payload when `value` is not an array or an element is malformed.
[[nodiscard]] Result<std::vector<RefChange>> parse_ref_changes(const boost::json::value& value,
                                                               const JsonPath& at);

/// Maps a commit object (elements of `commits[]` and `toCommit` of `repo:refs_changed` on newer
/// DC) to a CommitPreview: hash = `id`, message = `message`, author = `author` (see
/// parse_commit_author), author_time_ms = `authorTimestamp` (epoch ms or ISO-8601, see
/// parse_date; 0 when absent), parents = `parents[].id` (parents may be `{id, displayId}` or
/// full commit objects).
/// Errors: malformed_payload when `id` is missing or not a hex hash, or a field has the wrong
/// type.
[[nodiscard]] Result<CommitPreview> parse_commit(const boost::json::value& value,
                                                 const JsonPath& at);

/// Maps every element of a `commits[]` array, in payload order (Bitbucket lists the newest
/// first), see parse_commit.
/// Errors: malformed_payload when `value` is not an array or an element is malformed.
[[nodiscard]] Result<std::vector<CommitPreview>> parse_commits(const boost::json::value& value,
                                                               const JsonPath& at);

/// The short name of a ref: `ref_id` without a leading "refs/heads/" or "refs/tags/" (only the
/// leading one: "refs/heads/user/refs/heads/x" → "user/refs/heads/x"); other refs unchanged.
[[nodiscard]] std::string_view short_ref_name(std::string_view ref_id) noexcept;

/// True when `hash` is 40 or 64 hexadecimal digits (a SHA-1 or SHA-256 git object id).
[[nodiscard]] bool is_hex_hash(std::string_view hash) noexcept;

}  // namespace cb::providers::bitbucket_server
