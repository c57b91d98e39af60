// job, runs and `deliveries get` subcommands: build-on-commit jobs, their runs, and what a
// delivery triggered. They work on the store directly; a server running on the same data
// directory picks up new, cancelled and re-run runs within a second.

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>

#include "cli/context.hpp"
#include "pipeline/job_service.hpp"
#include "pipeline/job_views.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

/// Options shared by `job add` and `job update` (unset = not given).
struct JobOptions {
  std::optional<std::string> repository, branches, events, tags, target_branches, source_branches;
  std::optional<int> max_concurrent;
  std::optional<std::int64_t> timeout_ms;
  std::optional<bool> skip_marker, supersede, requeue_interrupted, enabled;
  std::optional<std::string> http_url, http_method, http_body;
  std::vector<std::string> http_headers;
  std::optional<std::int64_t> http_timeout_ms;
  std::optional<int> http_max_attempts;
  std::vector<std::string> argv;
};

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void add_job_options(CLI::App& cmd, JobOptions& o, bool adding) {
  auto* branches =
      cmd.add_option("--branches", o.branches,
                     "comma-separated branch globs (* within a segment, ** across, !exclude)");
  if (adding) branches->required();
  cmd.add_option("--events", o.events,
                 "comma-separated events: push, tag, pr:opened, pr:source_updated, "
                 "pr:target_changed, pr:merged, pr:declined, pr:deleted (default push)");
  cmd.add_option("--tags", o.tags, "tag globs for the tag event (default: every tag)");
  cmd.add_option("--target-branches", o.target_branches,
                 "pull requests: globs over the target branch (default: --branches)");
  cmd.add_option("--source-branches", o.source_branches,
                 "pull requests: globs over the source branch (default: any)");
  cmd.add_option("--skip-marker", o.skip_marker,
                 "honour [skip ci] / [ci skip] in the head commit (true/false, default true)");
  cmd.add_option("--max-concurrent", o.max_concurrent,
                 "runs of this job at once; more wait (default 1)")
      ->check(CLI::Range(1, 100));
  cmd.add_option("--supersede", o.supersede,
                 "a newer run of a branch supersedes its waiting older runs (true/false)");
  cmd.add_option("--requeue-interrupted", o.requeue_interrupted,
                 "queue a new run for a run interrupted by a crash or stop (true/false)");
  cmd.add_option("--enabled", o.enabled, "enabled (true/false)");
  cmd.add_option("--timeout-ms", o.timeout_ms,
                 "command time limit (default worker.job_timeout_ms)");
  cmd.add_option("--http-url", o.http_url,
                 "HTTP action: URL template, e.g. https://ci/job/x/buildWithParameters?BRANCH="
                 "{{branch}} (instead of a command); on update, the --http-* options given "
                 "change only those fields of the HTTP action");
  cmd.add_option("--http-method", o.http_method, "HTTP action: method (default POST)");
  cmd.add_option("--http-header", o.http_headers,
                 "HTTP action: 'Name: value' header (repeatable); values are stored encrypted; "
                 "on update the headers given replace the stored ones");
  cmd.add_option("--http-body", o.http_body, "HTTP action: body template");
  cmd.add_option("--http-timeout-ms", o.http_timeout_ms, "HTTP action: timeout per attempt");
  cmd.add_option("--http-max-attempts", o.http_max_attempts,
                 "HTTP action: attempts on 5xx, 429 and timeouts (default 5)");
  cmd.add_option("command", o.argv, "the command and its arguments, after --");
}

Result<pipeline::JobInput> job_input(const JobOptions& o) {
  pipeline::JobInput in;
  in.repository = o.repository;
  in.branches = o.branches;
  if (o.events) in.events = split_commas(*o.events);
  in.tags = o.tags;
  in.target_branches = o.target_branches;
  in.source_branches = o.source_branches;
  in.skip_marker = o.skip_marker;
  in.max_concurrent = o.max_concurrent;
  in.supersede = o.supersede;
  in.requeue_interrupted = o.requeue_interrupted;
  in.enabled = o.enabled;
  in.timeout_ms = o.timeout_ms;
  if (!o.argv.empty()) in.argv = o.argv;
  // Any --http-* option sets or changes the HTTP action: only the fields given change.
  if (o.http_url || o.http_method || o.http_body || !o.http_headers.empty() || o.http_timeout_ms ||
      o.http_max_attempts) {
    pipeline::HttpActionInput h;
    h.url_template = o.http_url;
    h.method = o.http_method;
    h.body_template = o.http_body;
    h.timeout_ms = o.http_timeout_ms;
    h.max_attempts = o.http_max_attempts;
    if (!o.http_headers.empty()) {
      std::vector<std::pair<std::string, std::string>> headers;
      for (const auto& line : o.http_headers) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
          return fail(ErrorCode::invalid_argument,
                      "--http-header: write 'Name: value' (the value is not shown)");
        }
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        headers.emplace_back(line.substr(0, colon), value);
      }
      h.headers = std::move(headers);
    }
    in.http = std::move(h);
  }
  return in;
}

std::string action_text(const store::JobRecord& j) {
  if (j.action == store::JobActionType::http && j.http) {
    return j.http->method + " " + j.http->url_template;
  }
  std::string out;
  for (const auto& a : j.argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

void print_job(const store::JobRecord& j) {
  std::string events;
  for (const auto& e : j.events) events += (events.empty() ? "" : ",") + e;
  std::cout << "job " << j.id << " " << j.name << " on " << j.repository
            << (j.enabled ? "" : " (disabled)") << "\n"
            << "  events:   " << events << "\n"
            << "  branches: " << j.branches << "\n";
  if (!j.tags.empty()) std::cout << "  tags:     " << j.tags << "\n";
  if (!j.target_branches.empty()) std::cout << "  target:   " << j.target_branches << "\n";
  if (!j.source_branches.empty()) std::cout << "  source:   " << j.source_branches << "\n";
  std::cout << "  action:   " << action_text(j) << "\n"
            << "  max concurrent " << j.max_concurrent << ", skip marker "
            << (j.skip_marker ? "on" : "off") << ", supersede " << (j.supersede ? "on" : "off")
            << ", re-queue interrupted " << (j.requeue_interrupted ? "on" : "off") << "\n";
}

void print_run(const store::JobRunRecord& r) {
  std::cout << "run " << r.id << " of job " << r.job_name << " (" << r.repository << ")\n"
            << "  status:    " << r.status
            << (r.status_reason.empty() ? "" : " — " + r.status_reason) << "\n"
            << "  event:     " << r.event << " " << r.branch << " " << r.from_hash.substr(0, 12)
            << ".." << r.to_hash.substr(0, 12) << "\n";
  if (r.pull_request_id) {
    std::cout << "  pull request #" << *r.pull_request_id << " " << r.pull_request_title << " ("
              << r.source_branch << " -> " << r.target_branch << ")\n";
  }
  std::cout << "  delivery:  " << r.delivery_id << "\n"
            << "  attempt:   " << r.attempt
            << (r.rerun_of ? " (re-run of " + std::to_string(*r.rerun_of) + ")" : "") << "\n"
            << "  exit:      " << (r.exit_code ? std::to_string(*r.exit_code) : "-") << "\n"
            << "  created:   " << format_utc(r.created_at_ms) << "\n"
            << "  started:   " << time_or_dash(r.started_at_ms) << "\n"
            << "  finished:  " << time_or_dash(r.finished_at_ms) << "\n";
}

/// The org given, or the run's own org (the CLI is the host's administrator).
Result<std::string> org_of_run(store::Store& store, const std::optional<std::string>& org,
                               std::int64_t run_id) {
  if (org) return *org;
  auto run = store.get_run(run_id);
  if (!run) return std::unexpected(run.error());
  if (!*run) return fail(ErrorCode::not_found, "no run " + std::to_string(run_id));
  return (*run)->org_name;
}

/// The job a `runs list --job` filter names: by id or name in `org` when given, else in any org.
/// Errors: not_found when there is none, invalid_argument when the name is ambiguous.
Result<store::JobRecord> job_of_filter(store::Store& store, pipeline::JobService& service,
                                       const std::optional<std::string>& org,
                                       const std::string& ref) {
  if (org) return service.get_job(*org, ref);
  auto orgs = store.list_orgs();
  if (!orgs) return std::unexpected(orgs.error());
  std::vector<store::JobRecord> found;
  std::string where;
  for (const auto& o : *orgs) {
    auto job = service.get_job(o.name, ref);
    if (!job) {
      if (job.error().code == ErrorCode::not_found) continue;
      return std::unexpected(job.error());
    }
    found.push_back(*job);
    where += (where.empty() ? "" : ", ") + o.name;
  }
  const bool by_id = ref.find_first_not_of("0123456789") == std::string::npos;
  if (found.empty()) {
    return fail(ErrorCode::not_found, by_id ? "no job " + ref : "no job named '" + ref + "'");
  }
  if (found.size() > 1) {
    return fail(ErrorCode::invalid_argument, "job: several orgs have a job named '" + ref + "' (" +
                                                 where + "); give --org or its id");
  }
  return found.front();
}

void say_next_page(const std::string& next) {
  if (!next.empty()) std::cerr << "more: --cursor " << next << "\n";
}

}  // namespace

void add_job_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  auto* job = root.add_subcommand("job", "manage build-on-commit jobs");
  job->require_subcommand(1);

  auto with_service =
      [&common](const std::function<int(app::Application&, pipeline::JobService&)>& f) -> int {
    auto a = open_application(common);
    if (!a) return 1;
    SystemClock clock;
    pipeline::JobService service(a->store(), a->secret_box(), clock);
    return f(*a, service);
  };

  {
    auto* add = job->add_subcommand(
        "add",
        "add a job: `job add --org O --repo KEY/SLUG --name N --branches 'main' -- ARGV...` or "
        "with --http-url instead of a command");
    add_common_options(*add, common);
    static std::string org, name;
    static JobOptions o;
    static bool as_json = false;
    add->add_option("--org", org, "org name")->required();
    add->add_option("--repo", o.repository, "repository as PROJECT/slug or its id")->required();
    add->add_option("--name", name, "job name")->required();
    add_job_options(*add, o, true);
    add->add_flag("--json", as_json, "print JSON");
    add->callback([&action, with_service] {
      action = [with_service]() -> int {
        return with_service([](app::Application&, pipeline::JobService& s) -> int {
          auto in = job_input(o);
          if (!in) return report(in.error());
          if (in->http && !in->http->url_template) {
            return report(
                make_error(ErrorCode::invalid_argument, "--http-* options need --http-url"));
          }
          in->name = name;
          auto j = s.create_job(org, *in, pipeline::JobActor{cli_actor_name(), ""});
          if (!j) return report(j.error());
          if (as_json) {
            std::cout << json::serialize(pipeline::job_json(*j)) << "\n";
          } else {
            std::cout << "added job " << j->name << " on " << j->repository << " for branches "
                      << j->branches << " (id " << j->id << ")\n";
          }
          return 0;
        });
      };
    });
  }
  {
    auto* list = job->add_subcommand("list", "list an org's jobs by id");
    add_common_options(*list, common);
    static std::string org, cursor;
    static std::size_t limit = 50;
    static bool as_json = false;
    list->add_option("--org", org, "org name")->required();
    list->add_option("--limit", limit, "page size, 1 to 200")
        ->check(CLI::Range(1, 200))
        ->capture_default_str();
    list->add_option("--cursor", cursor, "next_cursor of the previous page");
    list->add_flag("--json", as_json, "print JSON: {\"items\": [...], \"next_cursor\"}");
    list->callback([&action, with_service] {
      action = [with_service]() -> int {
        return with_service([](app::Application&, pipeline::JobService& s) -> int {
          auto page = s.list_jobs(org, limit, cursor);
          if (!page) return report(page.error());
          if (as_json) {
            std::cout << json::serialize(pipeline::page_json(*page, pipeline::job_json)) << "\n";
            return 0;
          }
          std::cout << std::left << std::setw(6) << "ID" << std::setw(20) << "NAME" << std::setw(26)
                    << "REPOSITORY" << std::setw(9) << "ENABLED" << std::setw(24) << "EVENTS"
                    << "BRANCHES\n";
          for (const auto& j : page->items) {
            std::string events;
            for (const auto& e : j.events) events += (events.empty() ? "" : ",") + e;
            std::cout << std::setw(6) << j.id << std::setw(20) << j.name << std::setw(26)
                      << j.repository << std::setw(9) << (j.enabled ? "yes" : "no") << std::setw(24)
                      << events << j.branches << "\n";
          }
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });
  }
  {
    auto* get = job->add_subcommand("get", "show a job");
    add_common_options(*get, common);
    static std::string org, ref;
    static bool as_json = false;
    get->add_option("--org", org, "org name")->required();
    get->add_option("JOB", ref, "job id or name")->required();
    get->add_flag("--json", as_json, "print JSON");
    get->callback([&action, with_service] {
      action = [with_service]() -> int {
        return with_service([](app::Application&, pipeline::JobService& s) -> int {
          auto j = s.get_job(org, ref);
          if (!j) return report(j.error());
          if (as_json) {
            std::cout << json::serialize(pipeline::job_json(*j)) << "\n";
          } else {
            print_job(*j);
          }
          return 0;
        });
      };
    });
  }
  {
    auto* update = job->add_subcommand("update", "change a job (only the options given)");
    add_common_options(*update, common);
    static std::string org, ref;
    static std::optional<std::string> name;
    static JobOptions o;
    update->add_option("--org", org, "org name")->required();
    update->add_option("JOB", ref, "job id or name")->required();
    update->add_option("--name", name, "new name");
    add_job_options(*update, o, false);
    update->callback([&action, with_service] {
      action = [with_service]() -> int {
        return with_service([](app::Application&, pipeline::JobService& s) -> int {
          auto in = job_input(o);
          if (!in) return report(in.error());
          if (in->http && !in->http->url_template && o.argv.empty()) {
            // Only a job that has an HTTP action can change some of its fields.
            auto current = s.get_job(org, ref);
            if (!current) return report(current.error());
            if (current->action != store::JobActionType::http) {
              return report(make_error(ErrorCode::invalid_argument,
                                       "--http-url is required: job '" + current->name +
                                           "' has no HTTP action (it runs a command); give "
                                           "--http-url to make it an HTTP job"));
            }
          }
          in->name = name;
          auto j = s.update_job(org, ref, *in, pipeline::JobActor{cli_actor_name(), ""});
          if (!j) return report(j.error());
          std::cout << "updated job " << j->name << " (id " << j->id << ")\n";
          return 0;
        });
      };
    });
  }
  for (const auto& [verb, enable] : {std::pair{"enable", true}, std::pair{"disable", false}}) {
    auto* cmd = job->add_subcommand(verb, enable ? "enable a job"
                                                 : "disable a job: pushes queue no new runs; runs "
                                                   "already queued or running still run");
    add_common_options(*cmd, common);
    auto org = std::make_shared<std::string>();
    auto ref = std::make_shared<std::string>();
    cmd->add_option("--org", *org, "org name")->required();
    cmd->add_option("JOB", *ref, "job id or name")->required();
    const bool on = enable;
    cmd->callback([&action, with_service, org, ref, on] {
      action = [with_service, org, ref, on]() -> int {
        return with_service([&](app::Application&, pipeline::JobService& s) -> int {
          pipeline::JobInput in;
          in.enabled = on;
          auto j = s.update_job(*org, *ref, in, pipeline::JobActor{cli_actor_name(), ""});
          if (!j) return report(j.error());
          std::cout << (on ? "enabled" : "disabled") << " job " << j->name << "\n";
          return 0;
        });
      };
    });
  }
  {
    auto* remove = job->add_subcommand(
        "remove", "delete a job and its queued and finished runs (refused while one is running)");
    add_common_options(*remove, common);
    static std::string org, ref;
    remove->add_option("--org", org, "org name")->required();
    remove->add_option("JOB", ref, "job id or name")->required();
    remove->callback([&action, with_service] {
      action = [with_service]() -> int {
        return with_service([](app::Application&, pipeline::JobService& s) -> int {
          if (auto r = s.delete_job(org, ref, pipeline::JobActor{cli_actor_name(), ""}); !r) {
            return report(r.error());
          }
          std::cout << "removed job " << ref << "\n";
          return 0;
        });
      };
    });
  }

  // runs
  auto* runs = root.add_subcommand("runs", "job runs");
  runs->require_subcommand(1);
  {
    auto* list = runs->add_subcommand("list", "list job runs, newest first");
    add_common_options(*list, common);
    static std::optional<std::string> org, delivery, job_ref, status, branch, since, until;
    static std::size_t limit = 50;
    static std::optional<std::int64_t> before;
    static bool as_json = false;
    list->add_option("--org", org, "only this org");
    list->add_option("--delivery", delivery, "only runs of this delivery id");
    list->add_option("--job", job_ref, "only runs of this job (id or name)");
    list->add_option("--status", status,
                     "only this status (queued, running, succeeded, failed, interrupted, "
                     "cancelled, superseded)")
        ->check(
            CLI::IsMember({std::string(store::kRunQueued), std::string(store::kRunRunning),
                           std::string(store::kRunSucceeded), std::string(store::kRunFailed),
                           std::string(store::kRunInterrupted), std::string(store::kRunCancelled),
                           std::string(store::kRunSuperseded)}));
    list->add_option("--branch", branch, "only this branch (or tag, or pull-request source)");
    list->add_option("--since", since, "created at or after (ISO-8601 UTC or epoch ms)");
    list->add_option("--until", until, "created before (ISO-8601 UTC or epoch ms)");
    list->add_option("--limit", limit, "at most this many")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    list->add_option("--before", before, "page: only runs with id below this")
        ->check(positive_id("run id"));
    list->add_flag("--json", as_json, "print JSON");
    list->callback([&action, with_service] {
      action = [with_service]() -> int {
        return with_service([](app::Application& a, pipeline::JobService& service) -> int {
          store::RunQuery q;
          if (org) {
            auto found = a.store().find_org(*org);
            if (!found) return report(found.error());
            if (!*found)
              return report(make_error(ErrorCode::not_found, "no org named '" + *org + "'"));
            q.org_id = (*found)->id;
          }
          q.delivery_id = delivery;
          if (job_ref) {
            auto job = job_of_filter(a.store(), service, org, *job_ref);
            if (!job) return report(job.error());
            q.job_id = job->id;
          }
          q.status = status;
          q.branch = branch;
          for (auto [text, target, field] :
               {std::tuple{&since, &q.since, "--since"}, std::tuple{&until, &q.until, "--until"}}) {
            if (!*text) continue;
            auto t = pipeline::parse_time_filter(field, **text);
            if (!t) return report(t.error());
            *target = *t;
          }
          q.limit = limit;
          q.before_id = before;
          auto rows = a.store().list_runs(q);
          if (!rows) return report(rows.error());
          if (as_json) {
            json::array arr;
            for (const auto& r : *rows) arr.push_back(pipeline::run_json(r));
            std::cout << json::serialize(arr) << "\n";
            return 0;
          }
          std::cout << std::left << std::setw(6) << "ID" << std::setw(16) << "JOB" << std::setw(26)
                    << "REPOSITORY" << std::setw(18) << "EVENT" << std::setw(24) << "BRANCH"
                    << std::setw(12) << "STATUS" << std::setw(6) << "EXIT"
                    << "STARTED\n";
          for (const auto& r : *rows) {
            std::cout << std::setw(6) << r.id << std::setw(16) << r.job_name << std::setw(26)
                      << r.repository << std::setw(18) << r.event << std::setw(24) << r.branch
                      << std::setw(12) << r.status << std::setw(6)
                      << (r.exit_code ? std::to_string(*r.exit_code) : "-")
                      << time_or_dash(r.started_at_ms) << "\n";
          }
          return 0;
        });
      };
    });
  }
  {
    auto* get = runs->add_subcommand("get", "show a run (and its log with --log)");
    add_common_options(*get, common);
    static std::int64_t id = 0;
    static std::optional<std::string> org;
    static bool with_log = false, as_json = false;
    get->add_option("ID", id, "run id")->required();
    get->add_option("--org", org, "org name (default: the run's)");
    get->add_flag("--log", with_log, "print the whole log");
    get->add_flag("--json", as_json, "print JSON");
    get->callback([&action, with_service] {
      action = [with_service]() -> int {
        return with_service([](app::Application& a, pipeline::JobService& s) -> int {
          auto o = org_of_run(a.store(), org, id);
          if (!o) return report(o.error());
          auto r = s.get_run(*o, id);
          if (!r) return report(r.error());
          auto log =
              s.run_log(*r, with_log ? std::nullopt : std::optional(pipeline::kRunLogExcerptBytes));
          if (!log) return report(log.error());
          if (as_json) {
            auto out = pipeline::run_json(*r);
            out[with_log ? "log" : "log_excerpt"] = *log;
            std::cout << json::serialize(out) << "\n";
            return 0;
          }
          print_run(*r);
          std::cout << (with_log ? "  log:\n" : "  log (end):\n") << *log;
          if (!log->empty() && log->back() != '\n') std::cout << "\n";
          return 0;
        });
      };
    });
  }
  for (const auto& verb : {"cancel", "rerun"}) {
    const bool cancel = std::string_view(verb) == "cancel";
    auto* cmd = runs->add_subcommand(
        verb, cancel ? "cancel a queued or running run" : "queue a new attempt of a run");
    add_common_options(*cmd, common);
    auto id = std::make_shared<std::int64_t>(0);
    auto org = std::make_shared<std::optional<std::string>>();
    cmd->add_option("ID", *id, "run id")->required();
    cmd->add_option("--org", *org, "org name (default: the run's)");
    cmd->callback([&action, with_service, id, org, cancel] {
      action = [with_service, id, org, cancel]() -> int {
        return with_service([&](app::Application& a, pipeline::JobService& s) -> int {
          auto o = org_of_run(a.store(), *org, *id);
          if (!o) return report(o.error());
          const pipeline::JobActor actor{cli_actor_name(), ""};
          auto r = cancel ? s.cancel_run(*o, *id, actor) : s.rerun(*o, *id, actor);
          if (!r) return report(r.error());
          if (cancel) {
            std::cout << "run " << r->id
                      << (r->status == store::kRunCancelled
                              ? " cancelled"
                              : " is being cancelled (the server stops its action)")
                      << "\n";
          } else {
            std::cout << "queued run " << r->id << " (attempt " << r->attempt << " of run " << *id
                      << ")\n";
          }
          return 0;
        });
      };
    });
  }

  // deliveries get (the deliveries command itself is registered with the reports)
  if (auto* deliveries = root.get_subcommand("deliveries")) {
    auto* get = deliveries->add_subcommand("get", "show a delivery and the runs it created");
    add_common_options(*get, common);
    static std::string id;
    static bool as_json = false;
    get->add_option("ID", id, "delivery id")->required();
    get->add_flag("--json", as_json, "print JSON");
    get->callback([&action, &common] {
      action = [&common]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        auto d = a->store().get_delivery(id);
        if (!d) return report(d.error());
        if (!*d) return report(make_error(ErrorCode::not_found, "no delivery " + id));
        store::RunQuery q;
        q.delivery_id = id;
        q.limit = 1000;
        auto rows = a->store().list_runs(q);
        if (!rows) return report(rows.error());
        std::reverse(rows->begin(), rows->end());
        if (as_json) {
          auto out = pipeline::delivery_json(**d);
          json::array arr;
          for (const auto& r : *rows) arr.push_back(pipeline::run_json(r));
          out["runs"] = std::move(arr);
          std::cout << json::serialize(out) << "\n";
          return 0;
        }
        const auto& dd = **d;
        std::cout << "delivery " << dd.delivery_id << " (" << dd.org_name << ", " << dd.event_key
                  << " on " << dd.endpoint << ")\n"
                  << "  received: " << format_utc(dd.received_at_ms) << "\n"
                  << "  status:   " << dd.status << "\n"
                  << "  reason:   " << dd.reason << "\n";
        if (rows->empty()) {
          std::cout << "  no runs\n";
        }
        for (const auto& r : *rows) {
          std::cout << "  run " << r.id << " " << r.job_name << "@" << r.branch << " " << r.status
                    << "\n";
        }
        return 0;
      };
    });
  }
}

}  // namespace cb::cli
