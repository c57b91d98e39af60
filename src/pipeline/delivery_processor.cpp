#include "pipeline/delivery_processor.hpp"

#include "pipeline/endpoint.hpp"
#include "pipeline/payload_body.hpp"
#include "pipeline/repository_match.hpp"
#include "providers/provider.hpp"

namespace cb::pipeline {

ProcessOutcome DeliveryProcessor::process(const store::DeliveryRecord& delivery) {
  const providers::Provider* provider = providers::find_provider(delivery.provider);
  if (provider == nullptr) {
    return ProcessOutcome{"ignored", "provider '" + delivery.provider + "' is not supported yet"};
  }
  RawDelivery raw;
  raw.org = delivery.org_name;
  raw.headers = delivery.headers;
  raw.received_at_ms = delivery.received_at_ms;
  // The provider's parser checks the JSON: one parse per delivery.
  std::string decoded;
  auto json = json_text(raw.header("Content-Type"), delivery.body, decoded);
  if (!json) return ProcessOutcome{"failed", json.error().message};
  raw.body = decoded.empty() ? std::string(*json) : std::move(decoded);

  auto event = provider->parse(raw);
  if (!event) return ProcessOutcome{"failed", event.error().message};

  if (std::holds_alternative<PingEvent>(*event)) {
    return ProcessOutcome{"ignored", "connection test"};
  }
  if (const auto* u = std::get_if<UnsupportedEvent>(&*event)) {
    return ProcessOutcome{"ignored", "event '" + u->event_key + "' is not handled"};
  }
  const RepositoryRef& named = std::holds_alternative<PushEvent>(*event)
                                   ? std::get<PushEvent>(*event).repository
                                   : std::get<PullRequestEvent>(*event).repository;
  RepositoryRef ref = named;
  ref.provider = delivery.provider;
  auto repo = match_repository(store_, delivery.org_id, ref);
  if (!repo) return ProcessOutcome{"failed", repo.error().message, true};
  if (!*repo) {
    return ProcessOutcome{"ignored", "repository " + named.project_key + "/" + named.slug + " (" +
                                         delivery.provider + ") is not registered in org " +
                                         delivery.org_name};
  }
  if (const auto* pr = std::get_if<PullRequestEvent>(&*event)) {
    if (delivery.endpoint == to_string(Endpoint::sync_alm_commits)) {
      return ProcessOutcome{"ignored",
                            "pull-request event '" + delivery.event_key +
                                "' has no commits to sync (pushes do: use repo:refs_changed)"};
    }
    return jobs_.dispatch_pull_request(delivery, **repo, *pr, raw.body);
  }
  const auto& push = std::get<PushEvent>(*event);
  if (delivery.endpoint == to_string(Endpoint::sync_alm_commits)) {
    return sync_.sync(delivery, **repo, push);
  }
  return jobs_.dispatch(delivery, **repo, push, raw.body);
}

}  // namespace cb::pipeline
