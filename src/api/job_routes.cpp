#include "api/job_routes.hpp"

#include "api/admin_handler.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <set>

#include "api/error_mapping.hpp"
#include "pipeline/job_views.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;

/// What a handler sees: the request, its context and the authenticated principal.
struct Call {
  http::Request& req;
  http::RequestContext& ctx;
  admin::Principal principal;
  std::string org;  ///< the org of the path, authorized
  [[nodiscard]] pipeline::JobActor actor() const {
    return pipeline::JobActor{principal.actor_name(), ctx.remote_address};
  }
};

/// A handler's answer: JSON (status, body), or plain text when `text` is set.
struct Answer {
  bhttp::status status = bhttp::status::ok;
  json::value body;
  std::optional<std::string> text;
};
using Outcome = Result<Answer>;
using Work = std::function<Outcome(Call&)>;

Outcome ok(json::value body, bhttp::status status = bhttp::status::ok) {
  return Answer{status, std::move(body), std::nullopt};
}

std::optional<std::string> query_param(const http::Request& req, std::string_view name) {
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return std::nullopt;
  auto it = url->params().find(name);
  if (it == url->params().end()) return std::nullopt;
  return std::string((*it).value);
}

Result<std::size_t> limit_param(const http::Request& req) {
  auto limit = query_param(req, "limit");
  if (!limit) return std::size_t{50};
  std::size_t v = 0;
  auto [ptr, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), v);
  if (ec != std::errc{} || ptr != limit->data() + limit->size()) {
    return fail(ErrorCode::invalid_argument, "limit: must be a whole number from 1 to 200");
  }
  return v;
}

Result<std::int64_t> run_id_param(const Call& c) {
  const std::string text(c.ctx.param("run"));
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || v <= 0) {
    return fail(ErrorCode::not_found, "no run '" + text + "'");
  }
  return v;
}

// ---- job input from JSON -------------------------------------------------------------------

using admin_handler::optional_bool;
using admin_handler::optional_int;
using admin_handler::optional_string;

Result<std::optional<std::vector<std::string>>> opt_strings(const json::object& o,
                                                            std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::vector<std::string>>{};
  if (!v->is_array()) {
    return fail(ErrorCode::invalid_argument, std::string(key) + ": must be an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& item : v->as_array()) {
    if (!item.is_string()) {
      return fail(ErrorCode::invalid_argument, std::string(key) + ": must be an array of strings");
    }
    out.emplace_back(item.as_string());
  }
  return std::optional<std::vector<std::string>>{std::move(out)};
}

Result<void> no_unknown_fields(const json::object& o, std::string_view where,
                               std::initializer_list<std::string_view> known) {
  for (const auto& kv : o) {
    if (std::find(known.begin(), known.end(), kv.key()) == known.end()) {
      return fail(ErrorCode::invalid_argument,
                  std::string(where) + std::string(kv.key()) + ": unknown field");
    }
  }
  return {};
}

#define CB_ROUTE_TRY(var, expr)                                    \
  auto var##_result = (expr);                                      \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)

/// invalid_argument naming the first of `keys` that `o` has with a null value: these fields
/// have no null meaning, and a null must not be taken for "unchanged".
Result<void> no_nulls(const json::object& o, std::string_view where,
                      std::initializer_list<std::string_view> keys) {
  for (const auto key : keys) {
    if (const auto* v = o.if_contains(key); v != nullptr && v->is_null()) {
      return fail(ErrorCode::invalid_argument,
                  std::string(where) + std::string(key) +
                      ": must not be null (leave the field out to keep its value)");
    }
  }
  return {};
}

/// The HTTP action fields given; those left out keep their stored value (see JobInput).
Result<pipeline::HttpActionInput> http_input(const json::value& v) {
  if (!v.is_object()) return fail(ErrorCode::invalid_argument, "http: must be an object");
  const auto& o = v.as_object();
  if (auto r = no_unknown_fields(o, "http.",
                                 {"method", "url", "headers", "body", "timeout_ms", "max_attempts",
                                  "base_backoff_ms", "max_backoff_ms"});
      !r) {
    return std::unexpected(r.error());
  }
  // `headers` null is taken as absent: the sealed values stay.
  if (auto r = no_nulls(o, "http.",
                        {"method", "url", "body", "timeout_ms", "max_attempts", "base_backoff_ms",
                         "max_backoff_ms"});
      !r) {
    return std::unexpected(r.error());
  }
  pipeline::HttpActionInput in;
  CB_ROUTE_TRY(method, optional_string(o, "method"));
  in.method = method;
  CB_ROUTE_TRY(url, optional_string(o, "url"));
  in.url_template = url;
  CB_ROUTE_TRY(body, optional_string(o, "body"));
  in.body_template = body;
  CB_ROUTE_TRY(timeout, optional_int(o, "timeout_ms"));
  in.timeout_ms = timeout;
  CB_ROUTE_TRY(attempts, optional_int(o, "max_attempts"));
  if (attempts) {
    if (*attempts < 1 || *attempts > 20) {
      return fail(ErrorCode::invalid_argument, "http.max_attempts: must be from 1 to 20");
    }
    in.max_attempts = static_cast<int>(*attempts);
  }
  CB_ROUTE_TRY(base, optional_int(o, "base_backoff_ms"));
  in.base_backoff_ms = base;
  CB_ROUTE_TRY(max, optional_int(o, "max_backoff_ms"));
  in.max_backoff_ms = max;
  if (const auto* h = o.if_contains("headers"); h != nullptr && !h->is_null()) {
    if (!h->is_object()) {
      return fail(ErrorCode::invalid_argument,
                  "http.headers: must be an object of header names to values");
    }
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& kv : h->as_object()) {
      if (!kv.value().is_string()) {
        return fail(ErrorCode::invalid_argument,
                    "http.headers." + std::string(kv.key()) + ": must be a string");
      }
      headers.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
    }
    in.headers = std::move(headers);
  }
  return in;
}

Result<pipeline::JobInput> job_input(const http::Request& req) {
  boost::system::error_code ec;
  auto v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) {
    return fail(ErrorCode::invalid_argument, "the body must be a JSON object");
  }
  const auto& o = v.as_object();
  if (auto r =
          no_unknown_fields(o, "",
                            {"name", "repository", "branches", "events", "tags", "target_branches",
                             "source_branches", "skip_marker", "max_concurrent", "supersede",
                             "requeue_interrupted", "enabled", "timeout_ms", "argv", "http"});
      !r) {
    return std::unexpected(r.error());
  }
  // Every field but timeout_ms (null: worker.job_timeout_ms applies) has a value.
  if (auto r = no_nulls(o, "",
                        {"name", "repository", "branches", "events", "tags", "target_branches",
                         "source_branches", "skip_marker", "max_concurrent", "supersede",
                         "requeue_interrupted", "enabled", "argv", "http"});
      !r) {
    return std::unexpected(r.error());
  }
  pipeline::JobInput in;
  CB_ROUTE_TRY(name, optional_string(o, "name"));
  in.name = name;
  // The repository may be given as its id (a number) or as "PROJECT/slug".
  if (const auto* r = o.if_contains("repository"); r != nullptr && r->is_int64()) {
    in.repository = std::to_string(r->as_int64());
  } else {
    CB_ROUTE_TRY(repository, optional_string(o, "repository"));
    in.repository = repository;
  }
  CB_ROUTE_TRY(branches, optional_string(o, "branches"));
  in.branches = branches;
  CB_ROUTE_TRY(events, opt_strings(o, "events"));
  in.events = events;
  CB_ROUTE_TRY(tags, optional_string(o, "tags"));
  in.tags = tags;
  CB_ROUTE_TRY(target, optional_string(o, "target_branches"));
  in.target_branches = target;
  CB_ROUTE_TRY(source, optional_string(o, "source_branches"));
  in.source_branches = source;
  CB_ROUTE_TRY(skip, optional_bool(o, "skip_marker"));
  in.skip_marker = skip;
  CB_ROUTE_TRY(max_concurrent, optional_int(o, "max_concurrent"));
  if (max_concurrent) {
    if (*max_concurrent < 1 || *max_concurrent > 100) {
      return fail(ErrorCode::invalid_argument, "max_concurrent: must be from 1 to 100");
    }
    in.max_concurrent = static_cast<int>(*max_concurrent);
  }
  CB_ROUTE_TRY(supersede, optional_bool(o, "supersede"));
  in.supersede = supersede;
  CB_ROUTE_TRY(requeue, optional_bool(o, "requeue_interrupted"));
  in.requeue_interrupted = requeue;
  CB_ROUTE_TRY(enabled, optional_bool(o, "enabled"));
  in.enabled = enabled;
  CB_ROUTE_TRY(timeout, optional_int(o, "timeout_ms"));
  in.timeout_ms = timeout;
  if (const auto* t = o.if_contains("timeout_ms"); t != nullptr && t->is_null()) {
    in.clear_timeout_ms = true;
  }
  CB_ROUTE_TRY(argv, opt_strings(o, "argv"));
  in.argv = argv;
  if (const auto* h = o.if_contains("http"); h != nullptr) {
    CB_ROUTE_TRY(http, http_input(*h));
    in.http = std::move(http);
  }
  return in;
}

// ---- authentication ------------------------------------------------------------------------

http::Response admin_error(const Error& error, const http::Request& req) {
  auto res = error_response(error, req.version(), req.keep_alive());
  if (res.result() == bhttp::status::unauthorized) {
    res.set(bhttp::field::www_authenticate, "Bearer realm=\"commitbridge admin API\"");
  }
  return res;
}

/// Authenticates the bearer token, checks the org of the path against it (403 for another
/// org's token), runs `work` on the pool.
http::Handler authenticated(admin::AdminService& admin, asio::thread_pool& pool, Work work) {
  return [&admin, &pool, work = std::move(work)](
             http::Request& req, http::RequestContext& ctx) -> asio::awaitable<http::Response> {
    auto run = [&admin, &req, &ctx, &work]() -> http::Response {
      const std::string_view header = req[bhttp::field::authorization];
      std::string_view token;
      if (header.size() > 7 && iequals(header.substr(0, 7), "Bearer ")) token = header.substr(7);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      if (token.empty()) {
        return admin_error(make_error(ErrorCode::missing_credentials,
                                      "send an api token as 'Authorization: Bearer <token>'"),
                           req);
      }
      auto principal = admin.authenticate_api(token);
      if (!principal) return admin_error(principal.error(), req);
      auto org = admin.get_org(std::string(ctx.param("org")));
      if (!org) {
        if (org.error().code == ErrorCode::not_found && !principal->server_admin) {
          return admin_error(
              make_error(ErrorCode::forbidden, "this token may act on its own org only"), req);
        }
        return admin_error(org.error(), req);
      }
      if (!principal->server_admin && principal->org_id != org->id) {
        return admin_error(
            make_error(ErrorCode::forbidden, "this token may act on its own org only"), req);
      }
      Call call{req, ctx, std::move(*principal), org->name};
      Outcome out = [&]() -> Outcome {
        try {
          return work(call);
        } catch (const std::exception& e) {
          return fail(ErrorCode::internal, "internal error", e.what());
        }
      }();
      if (!out) return admin_error(out.error(), req);
      if (out->status == bhttp::status::no_content) {
        http::Response res{bhttp::status::no_content, req.version()};
        res.keep_alive(req.keep_alive());
        return res;
      }
      if (out->text) {
        http::Response res{out->status, req.version()};
        res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
        res.body() = std::move(*out->text);
        res.prepare_payload();
        res.keep_alive(req.keep_alive());
        return res;
      }
      return json_response(out->status, json::serialize(out->body), req.version(),
                           req.keep_alive());
    };
    co_return co_await asio::co_spawn(
        pool, [run]() -> asio::awaitable<http::Response> { co_return run(); }, asio::use_awaitable);
  };
}

/// A command action runs a program on the server as the service user: only the server admin
/// token may set one; an org api token may create jobs with an HTTP action.
constexpr std::string_view kCommandNeedsServerAdmin =
    "argv: a command action runs on the server and needs the server admin token; an org api "
    "token may create jobs with an http action";

}  // namespace

void add_job_routes(http::Router& router, admin::AdminService& admin, pipeline::JobService& jobs,
                    pipeline::JobRunner* runner, asio::thread_pool& pool) {
  const std::string base = "/api/v2/orgs/{org}";

  router.add(bhttp::verb::post, base + "/jobs",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               CB_ROUTE_TRY(in, job_input(c.req));
               if (!c.principal.server_admin && (in.argv || !in.http)) {
                 return fail(ErrorCode::forbidden, std::string(kCommandNeedsServerAdmin));
               }
               CB_ROUTE_TRY(job, jobs.create_job(c.org, in, c.actor()));
               return ok(pipeline::job_json(job), bhttp::status::created);
             }));

  router.add(
      bhttp::verb::get, base + "/jobs", authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
        CB_ROUTE_TRY(limit, limit_param(c.req));
        CB_ROUTE_TRY(p, jobs.list_jobs(c.org, limit, query_param(c.req, "cursor").value_or("")));
        return ok(pipeline::page_json(p, pipeline::job_json));
      }));

  router.add(bhttp::verb::get, base + "/jobs/{job}",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               CB_ROUTE_TRY(job, jobs.get_job(c.org, std::string(c.ctx.param("job"))));
               return ok(pipeline::job_json(job));
             }));

  router.add(bhttp::verb::patch, base + "/jobs/{job}",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               CB_ROUTE_TRY(in, job_input(c.req));
               if (!c.principal.server_admin && in.argv) {
                 return fail(ErrorCode::forbidden, std::string(kCommandNeedsServerAdmin));
               }
               CB_ROUTE_TRY(job,
                            jobs.update_job(c.org, std::string(c.ctx.param("job")), in, c.actor()));
               return ok(pipeline::job_json(job));
             }));

  router.add(bhttp::verb::delete_, base + "/jobs/{job}",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               if (auto r = jobs.delete_job(c.org, std::string(c.ctx.param("job")), c.actor());
                   !r) {
                 return std::unexpected(r.error());
               }
               return ok(json::value(), bhttp::status::no_content);
             }));

  router.add(
      bhttp::verb::get, base + "/runs", authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
        CB_ROUTE_TRY(limit, limit_param(c.req));
        pipeline::RunFilter f;
        f.job = query_param(c.req, "job");
        f.status = query_param(c.req, "status");
        f.branch = query_param(c.req, "branch");
        f.delivery_id = query_param(c.req, "delivery");
        if (auto since = query_param(c.req, "since")) {
          CB_ROUTE_TRY(t, pipeline::parse_time_filter("since", *since));
          f.since = t;
        }
        if (auto until = query_param(c.req, "until")) {
          CB_ROUTE_TRY(t, pipeline::parse_time_filter("until", *until));
          f.until = t;
        }
        CB_ROUTE_TRY(p, jobs.list_runs(c.org, f, limit, query_param(c.req, "cursor").value_or("")));
        return ok(pipeline::page_json(p, pipeline::run_json));
      }));

  router.add(bhttp::verb::get, base + "/runs/{run}",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               CB_ROUTE_TRY(id, run_id_param(c));
               CB_ROUTE_TRY(run, jobs.get_run(c.org, id));
               const bool full = query_param(c.req, "log").value_or("") == "full";
               CB_ROUTE_TRY(log,
                            jobs.run_log(run, full ? std::nullopt
                                                   : std::optional(pipeline::kRunLogExcerptBytes)));
               auto out = pipeline::run_json(run);
               out[full ? "log" : "log_excerpt"] = log;
               return ok(std::move(out));
             }));

  router.add(bhttp::verb::get, base + "/runs/{run}/log",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               CB_ROUTE_TRY(id, run_id_param(c));
               CB_ROUTE_TRY(run, jobs.get_run(c.org, id));
               CB_ROUTE_TRY(log, jobs.run_log(run, std::nullopt));
               return Answer{bhttp::status::ok, json::value(), std::move(log)};
             }));

  router.add(bhttp::verb::post, base + "/runs/{run}/cancel",
             authenticated(admin, pool, [&jobs, runner](Call& c) -> Outcome {
               CB_ROUTE_TRY(id, run_id_param(c));
               CB_ROUTE_TRY(run, jobs.cancel_run(c.org, id, c.actor()));
               if (runner != nullptr) runner->cancel(id);
               return ok(pipeline::run_json(run));
             }));

  router.add(bhttp::verb::post, base + "/runs/{run}/rerun",
             authenticated(admin, pool, [&jobs, runner](Call& c) -> Outcome {
               CB_ROUTE_TRY(id, run_id_param(c));
               CB_ROUTE_TRY(run, jobs.rerun(c.org, id, c.actor()));
               if (runner != nullptr) runner->notify();
               return ok(pipeline::run_json(run), bhttp::status::created);
             }));

  router.add(bhttp::verb::get, base + "/deliveries",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               CB_ROUTE_TRY(limit, limit_param(c.req));
               CB_ROUTE_TRY(p, jobs.list_deliveries(c.org, limit,
                                                    query_param(c.req, "cursor").value_or("")));
               return ok(pipeline::page_json(p, pipeline::delivery_json));
             }));

  router.add(bhttp::verb::get, base + "/deliveries/{delivery}",
             authenticated(admin, pool, [&jobs](Call& c) -> Outcome {
               CB_ROUTE_TRY(d, jobs.get_delivery(c.org, std::string(c.ctx.param("delivery"))));
               auto out = pipeline::delivery_json(d.delivery);
               json::array runs;
               for (const auto& r : d.runs) runs.push_back(pipeline::run_json(r));
               out["runs"] = std::move(runs);
               return ok(std::move(out));
             }));
}

}  // namespace cb::api
