#include "pipeline/job_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <ctime>
#include <fstream>

#include "connectors/http_action.hpp"
#include "core/branch_rules.hpp"
#include "pipeline/job_matcher.hpp"
#include "pipeline/job_placeholders.hpp"

namespace cb::pipeline {
namespace {

namespace json = boost::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<void> check_text(std::string_view field, const std::string& value, std::size_t max_bytes,
                        bool allow_empty = false) {
  if (value.empty() && !allow_empty) {
    return fail(ErrorCode::invalid_argument, std::string(field) + ": is empty");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return fail(ErrorCode::invalid_argument,
                  std::string(field) + ": contains a control character");
    }
  }
  if (value.size() > max_bytes) {
    return fail(ErrorCode::invalid_argument,
                std::string(field) + ": longer than " + std::to_string(max_bytes) + " bytes");
  }
  return {};
}

Result<void> check_rules(std::string_view field, const std::string& spec, bool allow_empty) {
  if (spec.empty() && allow_empty) return {};
  if (spec.find("refs/") != std::string::npos) {
    return fail(
        ErrorCode::invalid_argument,
        std::string(field) + ": rules match short names: write 'main', not 'refs/heads/main'");
  }
  auto rules = BranchRules::parse(spec);
  if (!rules) {
    return fail(ErrorCode::invalid_argument, std::string(field) + ": " + rules.error().message);
  }
  return {};
}

template <class T>
Result<void> check_range(std::string_view field, T value, T lo, T hi) {
  if (value < lo || value > hi) {
    return fail(ErrorCode::invalid_argument, std::string(field) + ": must be from " +
                                                 std::to_string(lo) + " to " + std::to_string(hi));
  }
  return {};
}

Result<std::int64_t> parse_id(std::string_view field, const std::string& text) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || v < 0) {
    return fail(ErrorCode::invalid_argument,
                std::string(field) + ": '" + text + "' is not a cursor returned by this API");
  }
  return v;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool header_name_ok(const std::string& name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

constexpr std::size_t kMaxLimit = 200;

Result<std::size_t> check_limit(std::size_t limit) {
  if (limit < 1 || limit > kMaxLimit) {
    return fail(ErrorCode::invalid_argument, "limit: must be a whole number from 1 to 200");
  }
  return limit;
}

/// The id a page request continues after (or before): 0 for the first page, else the cursor's.
Result<std::int64_t> parse_cursor(const std::string& cursor) {
  if (cursor.empty()) return 0;
  return parse_id("cursor", cursor);
}

/// The page of `rows` (read with `limit` + 1 to learn whether more follow): at most `limit`
/// items, and the cursor of the next page, `key` of the last item, when more follow.
template <class T, class Key>
JobPage<T> make_page(std::vector<T> rows, std::size_t limit, Key key) {
  JobPage<T> out;
  out.items = std::move(rows);
  if (out.items.size() > limit) {
    out.items.resize(limit);
    out.next_cursor = std::to_string(key(out.items.back()));
  }
  return out;
}

}  // namespace

Result<UnixMillis> parse_time_filter(std::string_view field, std::string_view text) {
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc{} && ptr == text.data() + text.size()) return v;
  }
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, consumed = 0;
  const std::string t(text.substr(0, 40));
  bool ok = std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                        &consumed) == 6;
  std::string_view rest = ok ? std::string_view(t).substr(static_cast<std::size_t>(consumed)) : "";
  int ms = 0;
  if (ok && !rest.empty() && rest.front() == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    const std::string frac = (std::string(rest.substr(1, digits - 1)) + "000").substr(0, 3);
    ms = std::atoi(frac.c_str());
    rest = rest.substr(digits);
  }
  ok = ok && rest == "Z" && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 &&
       sec <= 59 && y >= 1970;
  if (!ok) {
    return fail(ErrorCode::invalid_argument,
                std::string(field) + ": '" + t +
                    "' is neither UTC ISO-8601 (2027-01-31T23:59:00Z) nor epoch milliseconds");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<UnixMillis>(timegm(&tm)) * 1000 + ms;
}

Result<store::OrgRecord> JobService::org_named(const std::string& name) {
  auto org = store_.find_org(name);
  if (!org) return std::unexpected(org.error());
  if (!*org) return fail(ErrorCode::not_found, "no org named '" + name + "'");
  return **org;
}

void JobService::audit(std::int64_t org_id, const JobActor& actor, std::string action,
                       std::string target) {
  store::AuditEvent e;
  e.org_id = org_id;
  e.actor = actor.name.empty() ? "unknown" : actor.name;
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = "{}";
  e.remote_address = actor.remote_address;
  e.created_at_ms = clock_.now_ms();
  if (auto r = store_.append_audit(e); !r) {
    spdlog::error("audit event {} {} not written: {}", e.action, e.target, r.error().detail);
  }
}

Result<void> JobService::apply(const store::OrgRecord& org, const JobInput& in,
                               store::JobRecord& job, bool creating) {
  if (creating || in.name) {
    if (!in.name) return fail(ErrorCode::invalid_argument, "name: is required");
    if (auto r = check_text("name", *in.name, 100); !r) return r;
    if (all_digits(*in.name)) {
      return fail(ErrorCode::invalid_argument, "name: must not be only digits (ids are)");
    }
    job.name = *in.name;
  }
  if (creating || in.repository) {
    if (!in.repository || in.repository->empty()) {
      return fail(ErrorCode::invalid_argument, "repository: is required (id or PROJECT/slug)");
    }
    auto repos = store_.list_repositories(org.id);
    if (!repos) return std::unexpected(repos.error());
    const std::string& want = *in.repository;
    const store::RepositoryRecord* found = nullptr;
    int matches = 0;
    for (const auto& r : *repos) {
      const bool hit = all_digits(want) ? std::to_string(r.id) == want
                                        : lower(r.project_key + "/" + r.slug) == lower(want);
      if (hit) {
        found = &r;
        ++matches;
      }
    }
    if (found == nullptr) {
      return fail(ErrorCode::not_found, "repository " + want + " is not registered in org " +
                                            org.name + " (add it with `commitbridge repo add`)");
    }
    if (matches > 1) {
      return fail(ErrorCode::invalid_argument,
                  "repository: " + want + " names several repositories; give its id");
    }
    if (!creating && found->id != job.repository_id) {
      return fail(ErrorCode::invalid_argument, "repository: a job cannot move to another one");
    }
    job.repository_id = found->id;
    job.repository = found->project_key + "/" + found->slug;
  }
  if (creating || in.branches) {
    if (!in.branches) return fail(ErrorCode::invalid_argument, "branches: is required");
    if (auto r = check_rules("branches", *in.branches, false); !r) return r;
    job.branches = *in.branches;
  }
  if (in.events) {
    std::vector<std::string> events;
    for (const auto& e : *in.events) {
      if (!is_job_event(e)) {
        return fail(ErrorCode::invalid_argument,
                    "events: unknown event '" + e +
                        "' (known: push, tag, pr:opened, pr:source_updated, pr:target_changed, "
                        "pr:merged, pr:declined, pr:deleted)");
      }
      if (std::find(events.begin(), events.end(), e) == events.end()) events.push_back(e);
    }
    if (events.empty()) return fail(ErrorCode::invalid_argument, "events: is empty");
    job.events = std::move(events);
  }
  for (auto [field, value, target] :
       {std::tuple{"tags", &in.tags, &job.tags},
        std::tuple{"target_branches", &in.target_branches, &job.target_branches},
        std::tuple{"source_branches", &in.source_branches, &job.source_branches}}) {
    if (!*value) continue;
    if (auto r = check_rules(field, **value, true); !r) return r;
    *target = **value;
  }
  if (in.skip_marker) job.skip_marker = *in.skip_marker;
  if (in.supersede) job.supersede = *in.supersede;
  if (in.requeue_interrupted) job.requeue_interrupted = *in.requeue_interrupted;
  if (in.enabled) job.enabled = *in.enabled;
  if (in.max_concurrent) {
    if (auto r = check_range("max_concurrent", *in.max_concurrent, 1, 100); !r) return r;
    job.max_concurrent = *in.max_concurrent;
  }
  if (in.timeout_ms && in.clear_timeout_ms) {
    return fail(ErrorCode::invalid_argument, "timeout_ms: give a value or clear it, not both");
  }
  if (in.clear_timeout_ms) job.timeout_ms.reset();
  if (in.timeout_ms) {
    if (auto r = check_range<std::int64_t>("timeout_ms", *in.timeout_ms, 100, 7LL * 86'400'000);
        !r) {
      return r;
    }
    job.timeout_ms = *in.timeout_ms;
  }
  if (in.argv && in.http) {
    return fail(ErrorCode::invalid_argument, "give either a command (argv) or an http action");
  }
  if (creating && !in.argv && !in.http) {
    return fail(ErrorCode::invalid_argument,
                "the job has no action: give a command (argv, after -- on the command line) or "
                "an http action");
  }
  if (in.argv) {
    if (in.argv->empty() || in.argv->front().empty()) {
      return fail(ErrorCode::invalid_argument, "argv: the command is empty");
    }
    for (const auto& a : *in.argv) {
      if (a.find('\0') != std::string::npos) {
        return fail(ErrorCode::invalid_argument, "argv: contains a NUL byte");
      }
    }
    job.action = store::JobActionType::command;
    job.argv = *in.argv;
    job.http.reset();
  }
  if (in.http) {
    const auto& given = *in.http;
    // The fields given change the stored action; the others keep their value. A job without
    // an HTTP action (a new job, or a command job becoming an HTTP job) starts from the
    // defaults and needs the url.
    const bool has_http = job.action == store::JobActionType::http && job.http.has_value();
    if (!has_http && !given.url_template) {
      return fail(ErrorCode::invalid_argument,
                  creating ? std::string("http.url: is required")
                           : "http.url: is required: job '" + job.name +
                                 "' has no HTTP action (it runs a command); give the url to "
                                 "make it an HTTP job");
    }
    store::JobHttpAction h = has_http ? *job.http : store::JobHttpAction{};
    if (given.method) h.method = *given.method;
    if (given.url_template) h.url_template = *given.url_template;
    if (given.body_template) h.body_template = *given.body_template;
    if (given.timeout_ms) h.timeout_ms = *given.timeout_ms;
    if (given.max_attempts) h.max_attempts = *given.max_attempts;
    if (given.base_backoff_ms) h.base_backoff_ms = *given.base_backoff_ms;
    if (given.max_backoff_ms) h.max_backoff_ms = *given.max_backoff_ms;
    static constexpr std::string_view kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    if (std::find(std::begin(kMethods), std::end(kMethods), h.method) == std::end(kMethods)) {
      return fail(ErrorCode::invalid_argument,
                  "http.method: must be GET, POST, PUT, PATCH or DELETE");
    }
    if (auto r = check_text("http.url", h.url_template, 4096); !r) return r;
    if (!h.url_template.starts_with("http://") && !h.url_template.starts_with("https://")) {
      return fail(ErrorCode::invalid_argument, "http.url: must start with http:// or https://");
    }
    if (auto r = check_template("http.url", h.url_template); !r) return r;
    if (h.body_template.size() > 1024 * 1024) {
      return fail(ErrorCode::invalid_argument, "http.body: longer than 1 MiB");
    }
    if (auto r = check_template("http.body", h.body_template); !r) return r;
    if (auto r = check_range<std::int64_t>("http.timeout_ms", h.timeout_ms, 100, 600'000); !r) {
      return r;
    }
    if (auto r = check_range("http.max_attempts", h.max_attempts, 1, 20); !r) return r;
    if (auto r = check_range<std::int64_t>("http.base_backoff_ms", h.base_backoff_ms, 1, 3'600'000);
        !r) {
      return r;
    }
    if (auto r = check_range<std::int64_t>("http.max_backoff_ms", h.max_backoff_ms,
                                           h.base_backoff_ms, 86'400'000);
        !r) {
      return r;
    }
    {
      // The connector's own check (RFC 9110 tokens, URL scheme, template syntax, limits).
      connectors::HttpActionSpec spec;
      spec.method = h.method;
      spec.url_template = h.url_template;
      if (given.headers) spec.headers = *given.headers;
      spec.body_template = h.body_template;
      spec.timeout = std::chrono::milliseconds(h.timeout_ms);
      spec.max_attempts = h.max_attempts;
      spec.base_backoff = std::chrono::milliseconds(h.base_backoff_ms);
      spec.max_backoff = std::chrono::milliseconds(h.max_backoff_ms);
      std::vector<std::string> known;
      for (const auto n : job_placeholder_names()) known.emplace_back(n);
      if (auto r = connectors::validate_http_action(spec, known); !r) {
        return fail(ErrorCode::invalid_argument, "http: " + r.error().message);
      }
    }
    if (given.headers) {
      // Headers given replace the stored ones (none given: the sealed values stay as they are).
      h.headers.clear();
      for (const auto& [name, value] : *given.headers) {
        if (!header_name_ok(name)) {
          return fail(ErrorCode::invalid_argument,
                      "http.headers: '" + name + "' is not a valid header name");
        }
        if (value.find_first_of("\r\n") != std::string::npos ||
            value.find('\0') != std::string::npos) {
          return fail(ErrorCode::invalid_argument,
                      "http.headers: the value of " + name + " contains a line break");
        }
        if (auto r = check_template("http.headers." + name, value); !r) return r;
        h.headers.push_back(
            store::JobHttpHeader{name, box_.seal(value, store::job_header_aad(name))});
      }
    }
    job.action = store::JobActionType::http;
    job.http = std::move(h);
    job.argv.clear();
  }
  return {};
}

Result<store::JobRecord> JobService::create_job(const std::string& org_name, const JobInput& in,
                                                const JobActor& actor) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  store::JobRecord job;
  job.org_id = org->id;
  if (auto r = apply(*org, in, job, true); !r) return std::unexpected(r.error());
  job.created_at_ms = job.updated_at_ms = clock_.now_ms();
  auto created = store_.create_job(job);
  if (!created) return std::unexpected(created.error());
  audit(org->id, actor, "job.create", std::to_string(created->id) + " " + created->name);
  return created;
}

Result<store::JobRecord> JobService::get_job(const std::string& org_name, const std::string& ref) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  if (all_digits(ref)) {
    auto id = parse_id("job", ref);
    if (!id) return std::unexpected(id.error());
    auto job = store_.get_job(*id);
    if (!job) return std::unexpected(job.error());
    if (!*job || (*job)->org_id != org->id) {
      return fail(ErrorCode::not_found, "no job " + ref + " in org " + org->name);
    }
    return **job;
  }
  std::vector<store::JobRecord> named;
  std::int64_t after = 0;
  while (true) {
    auto page = store_.list_org_jobs(org->id, store::PageQuery{after, 500});
    if (!page) return std::unexpected(page.error());
    for (auto& j : *page) {
      if (j.name == ref) named.push_back(j);
    }
    if (page->size() < 500) break;
    after = page->back().id;
  }
  if (named.empty())
    return fail(ErrorCode::not_found, "no job named '" + ref + "' in org " + org->name);
  if (named.size() > 1) {
    return fail(ErrorCode::invalid_argument,
                "job: several repositories have a job named '" + ref + "'; give its id");
  }
  return named.front();
}

Result<store::JobRecord> JobService::update_job(const std::string& org_name, const std::string& ref,
                                                const JobInput& in, const JobActor& actor) {
  auto job = get_job(org_name, ref);
  if (!job) return std::unexpected(job.error());
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  if (auto r = apply(*org, in, *job, false); !r) return std::unexpected(r.error());
  job->updated_at_ms = clock_.now_ms();
  auto updated = store_.update_job(*job);
  if (!updated) return std::unexpected(updated.error());
  audit(org->id, actor, "job.update", std::to_string(job->id) + " " + job->name);
  auto stored = store_.get_job(job->id);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) return fail(ErrorCode::not_found, "the job was deleted");
  return **stored;
}

Result<void> JobService::delete_job(const std::string& org_name, const std::string& ref,
                                    const JobActor& actor) {
  auto job = get_job(org_name, ref);
  if (!job) return std::unexpected(job.error());
  if (auto r = store_.delete_job(job->id); !r) {
    if (r.error().code != ErrorCode::conflict) return r;
    store::RunQuery q;
    q.job_id = job->id;
    q.status = std::string(store::kRunRunning);
    q.limit = 20;
    std::string ids;
    if (auto running = store_.list_runs(q)) {
      for (auto it = running->rbegin(); it != running->rend(); ++it) {
        ids += (ids.empty() ? "" : ", ") + std::to_string(it->id);
      }
    }
    return fail(ErrorCode::conflict,
                "job '" + job->name + "' has runs in progress" +
                    (ids.empty() ? std::string() : " (" + ids + ")") +
                    ": cancel them (commitbridge runs cancel ID, or POST /api/v2/orgs/" + org_name +
                    "/runs/ID/cancel) or wait for them to end, then remove the job");
  }
  audit(job->org_id, actor, "job.delete", std::to_string(job->id) + " " + job->name);
  return {};
}

Result<JobPage<store::JobRecord>> JobService::list_jobs(const std::string& org_name,
                                                        std::size_t limit,
                                                        const std::string& cursor) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto l = check_limit(limit);
  if (!l) return std::unexpected(l.error());
  auto after = parse_cursor(cursor);
  if (!after) return std::unexpected(after.error());
  auto rows = store_.list_org_jobs(org->id, store::PageQuery{*after, limit + 1});
  if (!rows) return std::unexpected(rows.error());
  return make_page(std::move(*rows), limit, [](const store::JobRecord& j) { return j.id; });
}

Result<JobPage<store::JobRunRecord>> JobService::list_runs(const std::string& org_name,
                                                           const RunFilter& filter,
                                                           std::size_t limit,
                                                           const std::string& cursor) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto l = check_limit(limit);
  if (!l) return std::unexpected(l.error());
  store::RunQuery q;
  q.org_id = org->id;
  q.limit = limit + 1;
  if (!cursor.empty()) {
    auto before = parse_cursor(cursor);
    if (!before) return std::unexpected(before.error());
    q.before_id = *before;
  }
  if (filter.job) {
    // Resolved like get_job: an unknown job is not_found, an ambiguous name invalid_argument.
    auto job = get_job(org_name, *filter.job);
    if (!job) return std::unexpected(job.error());
    q.job_id = job->id;
  }
  if (filter.status) {
    static constexpr std::string_view kStatuses[] = {
        store::kRunQueued,      store::kRunRunning,   store::kRunSucceeded, store::kRunFailed,
        store::kRunInterrupted, store::kRunCancelled, store::kRunSuperseded};
    if (std::find(std::begin(kStatuses), std::end(kStatuses), *filter.status) ==
        std::end(kStatuses)) {
      return fail(ErrorCode::invalid_argument,
                  "status: must be queued, running, succeeded, failed, interrupted, cancelled or "
                  "superseded");
    }
  }
  q.status = filter.status;
  q.branch = filter.branch;
  q.delivery_id = filter.delivery_id;
  q.since = filter.since;
  q.until = filter.until;
  auto rows = store_.list_runs(q);
  if (!rows) return std::unexpected(rows.error());
  return make_page(std::move(*rows), limit, [](const store::JobRunRecord& r) { return r.id; });
}

Result<store::JobRunRecord> JobService::get_run(const std::string& org_name, std::int64_t run_id) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto run = store_.get_run(run_id);
  if (!run) return std::unexpected(run.error());
  if (!*run || lower((*run)->org_name) != lower(org->name)) {
    return fail(ErrorCode::not_found, "no run " + std::to_string(run_id) + " in org " + org->name);
  }
  return **run;
}

Result<std::string> JobService::run_log(const store::JobRunRecord& run,
                                        std::optional<std::size_t> max_bytes) {
  if (run.log_path.empty()) return std::string();
  std::ifstream in(run.log_path, std::ios::binary);
  if (!in) return run.output_tail;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
  std::size_t start = 0;
  if (max_bytes && size > *max_bytes) start = size - *max_bytes;
  in.seekg(static_cast<std::streamoff>(start));
  std::string out(size - start, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
  return out;
}

Result<store::JobRunRecord> JobService::cancel_run(const std::string& org_name, std::int64_t run_id,
                                                   const JobActor& actor) {
  auto run = get_run(org_name, run_id);
  if (!run) return std::unexpected(run.error());
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto cancelled = store_.cancel_run(
      run_id, clock_.now_ms(), "cancelled by " + (actor.name.empty() ? "unknown" : actor.name));
  if (!cancelled) return std::unexpected(cancelled.error());
  audit(org->id, actor, "run.cancel", std::to_string(run_id));
  return cancelled;
}

Result<store::JobRunRecord> JobService::rerun(const std::string& org_name, std::int64_t run_id,
                                              const JobActor& actor) {
  auto run = get_run(org_name, run_id);
  if (!run) return std::unexpected(run.error());
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto again = store_.rerun(run_id, clock_.now_ms());
  if (!again) return std::unexpected(again.error());
  audit(org->id, actor, "run.rerun", std::to_string(run_id) + " -> " + std::to_string(again->id));
  return again;
}

Result<JobPage<store::DeliveryRecord>> JobService::list_deliveries(const std::string& org_name,
                                                                   std::size_t limit,
                                                                   const std::string& cursor) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto l = check_limit(limit);
  if (!l) return std::unexpected(l.error());
  store::DeliveryQuery q;
  q.org_id = org->id;
  q.limit = limit + 1;
  if (!cursor.empty()) {
    auto before = parse_cursor(cursor);
    if (!before) return std::unexpected(before.error());
    q.before_seq = *before;
  }
  auto rows = store_.list_deliveries(q);
  if (!rows) return std::unexpected(rows.error());
  return make_page(std::move(*rows), limit, [](const store::DeliveryRecord& d) { return d.seq; });
}

Result<DeliveryWithRuns> JobService::get_delivery(const std::string& org_name,
                                                  const std::string& delivery_id) {
  auto org = org_named(org_name);
  if (!org) return std::unexpected(org.error());
  auto d = store_.get_delivery(delivery_id);
  if (!d) return std::unexpected(d.error());
  if (!*d || (*d)->org_id != org->id) {
    return fail(ErrorCode::not_found, "no delivery " + delivery_id + " in org " + org->name);
  }
  DeliveryWithRuns out;
  out.delivery = std::move(**d);
  out.delivery.headers.clear();
  out.delivery.body.clear();
  store::RunQuery q;
  q.delivery_id = delivery_id;
  q.limit = 1000;
  auto runs = store_.list_runs(q);
  if (!runs) return std::unexpected(runs.error());
  out.runs = std::move(*runs);
  std::reverse(out.runs.begin(), out.runs.end());  // in creation order
  return out;
}

}  // namespace cb::pipeline
