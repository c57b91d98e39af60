#include "pipeline/job_views.hpp"

#include <boost/json.hpp>

namespace cb::pipeline {
namespace {

namespace json = boost::json;

json::value opt_time(std::optional<UnixMillis> t) {
  return t ? json::value(format_utc(*t)) : json::value();
}

json::value opt_int(std::optional<std::int64_t> v) { return v ? json::value(*v) : json::value(); }

}  // namespace

json::object job_json(const store::JobRecord& job) {
  json::array events;
  for (const auto& e : job.events) events.push_back(json::string(e));
  json::object action;
  if (job.action == store::JobActionType::http && job.http) {
    json::array headers;
    for (const auto& h : job.http->headers) {
      headers.push_back(json::object{{"name", h.name}, {"value", "(sealed)"}});
    }
    action = json::object{{"type", "http"},
                          {"method", job.http->method},
                          {"url", job.http->url_template},
                          {"headers", std::move(headers)},
                          {"body", job.http->body_template},
                          {"timeout_ms", job.http->timeout_ms},
                          {"max_attempts", job.http->max_attempts},
                          {"base_backoff_ms", job.http->base_backoff_ms},
                          {"max_backoff_ms", job.http->max_backoff_ms}};
  } else {
    json::array argv;
    for (const auto& a : job.argv) argv.push_back(json::string(a));
    action = json::object{{"type", "command"}, {"argv", std::move(argv)}};
  }
  return json::object{{"id", job.id},
                      {"name", job.name},
                      {"repository", job.repository},
                      {"repository_id", job.repository_id},
                      {"enabled", job.enabled},
                      {"events", std::move(events)},
                      {"branches", job.branches},
                      {"tags", job.tags},
                      {"target_branches", job.target_branches},
                      {"source_branches", job.source_branches},
                      {"skip_marker", job.skip_marker},
                      {"max_concurrent", job.max_concurrent},
                      {"supersede", job.supersede},
                      {"requeue_interrupted", job.requeue_interrupted},
                      {"timeout_ms", opt_int(job.timeout_ms)},
                      {"action", std::move(action)},
                      {"created_at", format_utc(job.created_at_ms)},
                      {"updated_at", format_utc(job.updated_at_ms)}};
}

json::object run_json(const store::JobRunRecord& r) {
  json::value pr;
  if (r.pull_request_id) {
    pr = json::object{{"id", *r.pull_request_id},
                      {"title", r.pull_request_title},
                      {"source_branch", r.source_branch},
                      {"target_branch", r.target_branch}};
  }
  return json::object{
      {"id", r.id},
      {"org", r.org_name},
      {"job", r.job_name},
      {"job_id", r.job_id},
      {"repository", r.repository},
      {"delivery_id", r.delivery_id},
      {"event", r.event},
      {"event_key", r.event_key},
      {"ref", r.ref_id},
      {"branch", r.branch},
      {"from_hash", r.from_hash},
      {"to_hash", r.to_hash},
      {"pull_request", std::move(pr)},
      {"status", r.status},
      {"status_reason", r.status_reason},
      {"exit_code", r.exit_code ? json::value(*r.exit_code) : json::value()},
      {"attempt", r.attempt},
      {"rerun_of", opt_int(r.rerun_of)},
      {"superseded_by", opt_int(r.superseded_by)},
      {"cancel_requested", r.cancel_requested},
      {"created_at", format_utc(r.created_at_ms)},
      {"started_at", opt_time(r.started_at_ms)},
      {"finished_at", opt_time(r.finished_at_ms)},
      {"output_tail", r.output_tail},
      {"log_path", r.log_path},
  };
}

json::object delivery_json(const store::DeliveryRecord& d) {
  return json::object{
      {"seq", d.seq},
      {"delivery_id", d.delivery_id},
      {"org", d.org_name},
      {"endpoint", d.endpoint},
      {"provider", d.provider},
      {"event_key", d.event_key},
      {"external_id", d.external_id},
      {"status", d.status},
      {"reason", d.reason},
      {"attempts", d.attempts},
      {"received_at", format_utc(d.received_at_ms)},
      {"updated_at", format_utc(d.updated_at_ms)},
  };
}

}  // namespace cb::pipeline
