#include "pipeline/pipeline_metrics.hpp"

namespace cb::pipeline {

PipelineMetrics PipelineMetrics::register_in(metrics::Registry& registry) {
  PipelineMetrics m;
  m.deliveries = &registry.counter(
      "commitbridge_deliveries_total",
      "Webhook deliveries by org, provider and status: queued, duplicate, ignored at ingest; "
      "done, ignored, failed, retrying after processing.",
      {"org", "provider", "status"});
  m.auth_failures = &registry.counter(
      "commitbridge_webhook_auth_failures_total",
      "Webhook requests refused for a wrong org or wrong or missing credentials, by error code.",
      {"reason"});
  m.refused = &registry.counter("commitbridge_webhook_refused_total",
                                "Webhook requests refused, by error code.", {"code"});
  m.job_runs = &registry.counter("commitbridge_job_runs_total",
                                 "Job runs finished by this process, by status.", {"status"});
  m.queue_depth = &registry
                       .gauge("commitbridge_queue_depth",
                              "Deliveries queued or processing in the store (sampled about once "
                              "a second).")
                       .with({});
  m.outbox_backlog = &registry
                          .gauge("commitbridge_outbox_backlog",
                                 "ALM write-back entries pending or sending in the outbox.")
                          .with({});
  m.store_up =
      &registry.gauge("commitbridge_store_up", "1 when the last store probe succeeded, else 0.")
           .with({});
  return m;
}

std::string org_label(std::string_view org) {
  std::string out(org);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void PipelineMetrics::count_delivery(std::string_view org, std::string_view provider,
                                     std::string_view status) const {
  if (deliveries == nullptr) return;
  deliveries->with({org_label(org), provider, status}).inc();
}

void PipelineMetrics::count_refusal(std::string_view code) const {
  if (refused != nullptr) refused->with({code}).inc();
  if (auth_failures == nullptr) return;
  static constexpr std::string_view kAuth[] = {"unknown_org", "missing_credentials",
                                               "malformed_credentials", "invalid_signature",
                                               "invalid_token"};
  for (auto a : kAuth) {
    if (a == code) {
      auth_failures->with({code}).inc();
      return;
    }
  }
}

void PipelineMetrics::count_run(std::string_view status) const {
  if (job_runs != nullptr) job_runs->with({status}).inc();
}

}  // namespace cb::pipeline
