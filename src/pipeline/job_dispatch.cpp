#include "pipeline/job_dispatch.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <system_error>

#include "git/mirror.hpp"
#include "pipeline/job_matcher.hpp"

namespace cb::pipeline {
namespace {

/// Writes the payload once per delivery so that job commands can read it.
void write_payload_file(const std::filesystem::path& dir, const std::string& delivery_id,
                        const std::string& payload_json) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto path = dir / (delivery_id + ".json");
  if (std::filesystem::exists(path, ec)) return;
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(payload_json.data(), static_cast<std::streamsize>(payload_json.size()));
  }
  std::filesystem::rename(tmp, path, ec);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string repo_name(const store::RepositoryRecord& repo) {
  return repo.project_key + "/" + repo.slug;
}

}  // namespace

std::optional<std::string> JobDispatch::mirror_message(const store::DeliveryRecord& delivery,
                                                       const store::RepositoryRecord& repo,
                                                       const std::string& hash) {
  if (repo.clone_url.empty()) return std::nullopt;
  auto mirror = git::Mirror::open_or_create(paths_.mirrors / (std::to_string(repo.id) + ".git"),
                                            repo.clone_url);
  if (!mirror) return std::nullopt;
  if (auto found = mirror->find_commit(hash); found && *found) return (*found)->message;
  const UnixMillis now = clock_.now_ms();
  auto& last = last_skip_fetch_ms_[repo.id];
  if (last != 0 && now - last < kSkipFetchInterval.count()) return std::nullopt;
  last = now;
  if (auto fetched = mirror->fetch(); !fetched) {
    spdlog::warn("delivery_id={} no skip-marker check: fetch of {} failed: {}",
                 delivery.delivery_id, repo_name(repo), fetched.error().message);
    return std::nullopt;
  }
  if (auto found = mirror->find_commit(hash); found && *found) return (*found)->message;
  return std::nullopt;
}

ProcessOutcome JobDispatch::dispatch(const store::DeliveryRecord& delivery,
                                     const store::RepositoryRecord& repo, const PushEvent& push,
                                     const std::string& payload_json) {
  if (push.changes.empty()) {
    if (delivery.event_key == "mirror:repo_synchronized") {
      return ProcessOutcome{"ignored",
                            "the mirror synchronization changed more refs than Bitbucket lists "
                            "(refLimitExceeded): no ref changes, nothing triggered"};
    }
    return ProcessOutcome{"ignored", "the push lists no ref changes"};
  }
  auto jobs = store_.list_jobs(repo.id);
  if (!jobs) return ProcessOutcome{"failed", jobs.error().message, true};
  CommitMessageLookup message_of = [&](const std::string& hash) -> std::optional<std::string> {
    if (push.to_commit && push.to_commit->hash == hash) return push.to_commit->message;
    for (const auto& c : push.commits) {
      if (c.hash == hash) return c.message;
    }
    return mirror_message(delivery, repo, hash);
  };
  auto match =
      match_push(*jobs, repo_name(repo), push, delivery.delivery_id, clock_.now_ms(), message_of);
  return queue(delivery, std::move(match.runs), std::move(match.not_run), payload_json);
}

ProcessOutcome JobDispatch::dispatch_pull_request(const store::DeliveryRecord& delivery,
                                                  const store::RepositoryRecord& repo,
                                                  const PullRequestEvent& pr,
                                                  const std::string& payload_json) {
  auto jobs = store_.list_jobs(repo.id);
  if (!jobs) return ProcessOutcome{"failed", jobs.error().message, true};
  CommitMessageLookup message_of = [&](const std::string& hash) {
    return mirror_message(delivery, repo, hash);
  };
  auto match = match_pull_request(*jobs, repo_name(repo), pr, delivery.delivery_id, clock_.now_ms(),
                                  message_of);
  return queue(delivery, std::move(match.runs), std::move(match.not_run), payload_json);
}

ProcessOutcome JobDispatch::queue(const store::DeliveryRecord& delivery,
                                  std::vector<store::JobRunRecord> runs,
                                  std::vector<std::string> not_run,
                                  const std::string& payload_json) {
  if (runs.empty()) return ProcessOutcome{"ignored", join(not_run, "; ")};
  // The payload file exists before any run can start.
  write_payload_file(paths_.payloads, delivery.delivery_id, payload_json);
  auto created = store_.create_job_runs(runs, clock_.now_ms());
  if (!created) return ProcessOutcome{"failed", created.error().message, true};
  std::vector<std::string> listed;
  bool any_new = false;
  for (std::size_t i = 0; i < created->size(); ++i) {
    const auto& c = (*created)[i];
    std::string item = runs[i].job_name + "@" + c.run.branch + " (run " + std::to_string(c.run.id);
    if (!c.created) {
      item += ", created by an earlier attempt, " + c.run.status;
    } else {
      any_new = true;
    }
    if (!c.superseded.empty()) {
      std::vector<std::string> ids;
      for (const auto id : c.superseded) ids.push_back(std::to_string(id));
      item += ", supersedes run " + join(ids, ", ");
    }
    item += ")";
    listed.push_back(std::move(item));
    spdlog::info("delivery_id={} run {} of job {} for {} {}", delivery.delivery_id, c.run.id,
                 runs[i].job_name, c.run.repository, c.run.branch);
  }
  if (any_new && on_runs_queued_) on_runs_queued_();
  const std::size_t n = created->size();
  std::string reason = std::to_string(n) + (n == 1 ? " job run queued: " : " job runs queued: ") +
                       join(listed, ", ");
  if (!not_run.empty()) reason += "; " + join(not_run, "; ");
  return ProcessOutcome{"done", reason};
}

}  // namespace cb::pipeline
