#include "pipeline/job_dispatch.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <set>
#include <system_error>

#include "connectors/command_runner.hpp"
#include "core/branch_rules.hpp"

namespace cb::pipeline {
namespace {

/// Writes the payload once per delivery so that job commands can read it.
std::filesystem::path write_payload_file(const std::filesystem::path& dir,
                                         const std::string& delivery_id,
                                         const std::string& payload_json) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto path = dir / (delivery_id + ".json");
  if (!std::filesystem::exists(path, ec)) {
    auto tmp = path;
    tmp += ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(payload_json.data(), static_cast<std::streamsize>(payload_json.size()));
    }
    std::filesystem::rename(tmp, path, ec);
  }
  return path;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

ProcessOutcome JobDispatch::dispatch(const store::DeliveryRecord& delivery,
                                     const store::RepositoryRecord& repo, const PushEvent& push,
                                     const std::string& payload_json) {
  const std::string repo_name = repo.project_key + "/" + repo.slug;
  auto jobs = store_.list_jobs(repo.id);
  if (!jobs) return ProcessOutcome{"failed", jobs.error().message, true};
  if (push.changes.empty()) {
    return ProcessOutcome{"ignored", "the push lists no ref changes"};
  }

  std::vector<std::string> why_not;
  std::vector<store::JobRunRecord> to_run;
  std::size_t matched = 0;
  std::set<std::string> seen_refs;   // a ref listed twice in one push is one ref change
  std::vector<std::string> earlier;  // runs an earlier attempt already started
  for (const auto& change : push.changes) {
    if (!seen_refs.insert(change.ref_id).second) continue;
    if (change.type == RefChangeType::remove) {
      why_not.push_back(std::string(change.ref_type == RefType::tag ? "tag " : "branch ") +
                        change.display_id + " was deleted");
      continue;
    }
    if (change.ref_type != RefType::branch) {
      why_not.push_back("tag " + change.display_id + ": jobs run on branches only");
      continue;
    }
    bool any = false;
    for (const auto& job : *jobs) {
      if (!job.enabled) continue;
      auto rules = BranchRules::parse(job.branches);
      if (!rules) {
        why_not.push_back("job " + job.name +
                          " has invalid branch rules: " + rules.error().message);
        continue;
      }
      if (!rules->matches(change.display_id)) continue;
      any = true;
      ++matched;
      store::JobRunRecord run;
      run.job_id = job.id;
      run.delivery_id = delivery.delivery_id;
      run.ref_id = change.ref_id;
      run.branch = change.display_id;
      run.from_hash = change.from_hash;
      run.to_hash = change.to_hash;
      run.status = std::string(store::kRunQueued);
      run.created_at_ms = clock_.now_ms();
      auto created = store_.create_job_run(run);
      if (!created) return ProcessOutcome{"failed", created.error().message, true};
      // A run that exists already was started by an earlier attempt: never start it twice.
      if (created->first.status == store::kRunQueued) {
        to_run.push_back(created->first);
      } else {
        earlier.push_back(job.name + "@" + change.display_id + " " + created->first.status +
                          " (not started again)");
      }
    }
    if (!any) {
      if (jobs->empty()) {
        why_not.push_back("repository " + repo_name + " has no jobs");
      } else {
        why_not.push_back("no job matches branch " + change.display_id);
      }
    }
  }

  if (matched == 0) return ProcessOutcome{"ignored", join(why_not, "; ")};

  std::filesystem::path payload_file;
  if (!to_run.empty()) {
    payload_file = write_payload_file(paths_.payloads, delivery.delivery_id, payload_json);
  }
  std::vector<std::string> summary;
  for (const auto& run : to_run) {
    if (stop_ != nullptr && stop_->load()) {
      return ProcessOutcome{"queued",
                            "the server stopped before every job run started; the rest "
                            "start after a restart"};
    }
    const store::JobRecord* job = nullptr;
    for (const auto& j : *jobs) {
      if (j.id == run.job_id) job = &j;
    }
    if (job == nullptr) continue;
    const auto log_path = paths_.job_logs / (std::to_string(run.id) + ".log");
    const auto workdir = paths_.workspaces / std::to_string(run.id);
    std::error_code ec;
    std::filesystem::create_directories(workdir, ec);
    if (auto r = store_.mark_run_started(run.id, clock_.now_ms(), log_path.string()); !r) {
      return ProcessOutcome{"failed", r.error().message, true};
    }
    connectors::CommandSpec spec;
    spec.argv = job->argv;
    spec.working_dir = workdir;
    spec.log_file = log_path;
    spec.timeout = job_timeout_;
    spec.cancel = stop_;
    spec.env = {
        {"COMMITBRIDGE_ORG", delivery.org_name},
        {"COMMITBRIDGE_REPOSITORY", repo_name},
        {"COMMITBRIDGE_PROJECT_KEY", repo.project_key},
        {"COMMITBRIDGE_REPOSITORY_SLUG", repo.slug},
        {"COMMITBRIDGE_EVENT_KEY", delivery.event_key},
        {"COMMITBRIDGE_REF", run.ref_id},
        {"COMMITBRIDGE_BRANCH", run.branch},
        {"COMMITBRIDGE_FROM_HASH", run.from_hash},
        {"COMMITBRIDGE_TO_HASH", run.to_hash},
        {"COMMITBRIDGE_DELIVERY_ID", delivery.delivery_id},
        {"COMMITBRIDGE_PAYLOAD_FILE", payload_file.string()},
        {"COMMITBRIDGE_JOB", job->name},
        {"COMMITBRIDGE_RUN_ID", std::to_string(run.id)},
    };
    spdlog::info("delivery_id={} starting run {} of job {} for {} {}", delivery.delivery_id, run.id,
                 job->name, repo_name, run.branch);
    auto result = connectors::run_command(spec, clock_);
    std::string status;
    std::optional<int> exit_code;
    std::string tail;
    if (!result) {
      status = std::string(store::kRunFailed);
      tail = result.error().message;
    } else {
      exit_code = result->exit_code;
      status = std::string(result->exit_code == 0 ? store::kRunSucceeded : store::kRunFailed);
      tail = result->output_tail;
      if (result->timed_out) tail += "\n[commitbridge: the command timed out and was killed]";
    }
    if (result && result->cancelled) {
      status = std::string(store::kRunInterrupted);
      tail += "\n[commitbridge: the server stopped while the command ran]";
    }
    if (auto r = store_.finish_run(run.id, status, exit_code, clock_.now_ms(), tail); !r) {
      return ProcessOutcome{"failed", r.error().message, true};
    }
    if (on_run_finished_) on_run_finished_(status);
    spdlog::info("delivery_id={} run {} of job {} {} (exit {})", delivery.delivery_id, run.id,
                 job->name, status, exit_code ? std::to_string(*exit_code) : "none");
    summary.push_back(job->name + "@" + run.branch + " " + status);
    if (stop_ != nullptr && stop_->load()) {
      return ProcessOutcome{"queued",
                            "the server stopped during processing; runs not started yet start "
                            "after a restart (" +
                                join(summary, ", ") + ")"};
    }
  }
  std::string reason = std::to_string(matched) + (matched == 1 ? " job run" : " job runs");
  summary.insert(summary.end(), earlier.begin(), earlier.end());
  if (!summary.empty()) reason += ": " + join(summary, ", ");
  if (!why_not.empty()) reason += "; " + join(why_not, "; ");
  return ProcessOutcome{"done", reason};
}

}  // namespace cb::pipeline
