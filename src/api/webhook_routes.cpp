#include "api/webhook_routes.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <memory>

#include "api/error_mapping.hpp"

namespace cb::api {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

/// Awaitable wrapper over Store::persist_delivery: resumes on the caller's executor after the
/// group commit.
template <class CompletionToken>
auto async_persist(store::Store& store, store::NewDelivery delivery, CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(Result<store::PersistOutcome>)>(
      [&store](auto handler, store::NewDelivery d) {
        auto executor = asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        store.persist_delivery(std::move(d), [shared,
                                              executor](Result<store::PersistOutcome> r) mutable {
          asio::post(executor, [shared, r = std::move(r)]() mutable { (*shared)(std::move(r)); });
        });
      },
      token, std::move(delivery));
}

std::vector<Header> copy_headers(const http::Request& req) {
  std::vector<Header> out;
  for (const auto& f : req) {
    out.push_back(Header{std::string(f.name_string()), std::string(f.value())});
  }
  return out;
}

}  // namespace

void add_webhook_routes(http::Router& router, const pipeline::Ingest& ingest, store::Store& store,
                        std::function<void()> on_persisted,
                        const pipeline::PipelineMetrics* metrics) {
  auto handler = [&ingest, &store, on_persisted, metrics](bool enterprise) -> http::Handler {
    return [&ingest, &store, on_persisted, metrics, enterprise](
               http::Request& req, http::RequestContext& ctx) -> asio::awaitable<http::Response> {
      const unsigned version = req.version();
      const bool keep_alive = req.keep_alive();
      auto endpoint = pipeline::parse_endpoint(ctx.param("endpoint"));
      if (!endpoint) {
        co_return error_response(
            make_error(ErrorCode::not_found,
                       "unknown webhook endpoint; use trigger-scm-push-request or "
                       "sync-alm-commits"),
            version, keep_alive);
      }
      pipeline::IngestRequest in;
      in.org = std::string(ctx.param("org"));
      in.endpoint = *endpoint;
      in.enterprise = enterprise;
      in.headers = copy_headers(req);
      const std::size_t body_bytes = req.body().size();
      in.body = std::move(req.body());
      auto plan = ingest.prepare(std::move(in));
      if (!plan) {
        spdlog::warn("request_id={} org={} endpoint={} refused: {} ({} body bytes) {}",
                     ctx.request_id, ctx.param("org"), ctx.param("endpoint"),
                     to_string(plan.error().code), body_bytes, plan.error().message);
        if (metrics != nullptr) metrics->count_refusal(to_string(plan.error().code));
        co_return error_response(plan.error(), version, keep_alive);
      }
      if (const auto* ping = std::get_if<pipeline::PingAnswer>(&*plan)) {
        boost::json::object body;
        body["status"] = "ok";
        body["authenticated"] = ping->authenticated;
        co_return json_response(bhttp::status::ok, boost::json::serialize(body), version,
                                keep_alive);
      }
      auto& delivery = std::get<store::NewDelivery>(*plan);
      const std::string org_name = std::string(ctx.param("org"));
      const std::string event_key = delivery.event_key;
      const std::string external_id = delivery.external_id;
      const std::string provider = delivery.provider;
      auto outcome = co_await async_persist(store, std::move(delivery), asio::use_awaitable);
      if (!outcome) {
        spdlog::error(
            "request_id={} org={} not persisted: {}", ctx.request_id, org_name,
            outcome.error().detail.empty() ? outcome.error().message : outcome.error().detail);
        if (metrics != nullptr) metrics->count_refusal(to_string(outcome.error().code));
        co_return error_response(outcome.error(), version, keep_alive);
      }
      boost::json::object body;
      body["delivery_id"] = outcome->delivery_id;
      if (outcome->duplicate) {
        body["status"] = "duplicate";
        spdlog::info("request_id={} delivery_id={} org={} duplicate of external id {}",
                     ctx.request_id, outcome->delivery_id, org_name, external_id);
        if (metrics != nullptr) metrics->count_delivery(org_name, provider, "duplicate");
        co_return json_response(bhttp::status::ok, boost::json::serialize(body), version,
                                keep_alive);
      }
      body["status"] = outcome->status;
      spdlog::info("request_id={} delivery_id={} org={} event={} stored ({})", ctx.request_id,
                   outcome->delivery_id, org_name, event_key, outcome->status);
      if (metrics != nullptr) metrics->count_delivery(org_name, provider, outcome->status);
      if (on_persisted) on_persisted();
      co_return json_response(bhttp::status::accepted, boost::json::serialize(body), version,
                              keep_alive);
    };
  };
  // Unknown orgs and requests without any credential are refused before their body is read.
  auto check = [&ingest, metrics](bool enterprise) -> http::HeaderCheck {
    return [&ingest, metrics, enterprise](const http::Request& req,
                                          const http::RequestContext& ctx) -> std::optional<Error> {
      std::vector<Header> headers;
      for (const auto& f : req) {
        headers.push_back(Header{std::string(f.name_string()), std::string(f.value())});
      }
      auto refused = ingest.precheck(std::string(ctx.param("org")), enterprise, headers);
      if (refused) {
        if (metrics != nullptr) metrics->count_refusal(to_string(refused->code));
        spdlog::warn("request_id={} org={} endpoint={} refused before reading the body: {} {}",
                     ctx.request_id, ctx.param("org"), ctx.param("endpoint"),
                     to_string(refused->code), refused->message);
      }
      return refused;
    };
  };
  router.add(bhttp::verb::post, "/api/webhook/v2/{org}/enterprise/{endpoint}", handler(true),
             check(true));
  router.add(bhttp::verb::post, "/api/webhook/v2/{org}/{endpoint}", handler(false), check(false));
}

void add_health_routes(http::Router& router) {
  router.add(bhttp::verb::get, "/healthz",
             [](http::Request& req, http::RequestContext&) -> asio::awaitable<http::Response> {
               co_return json_response(bhttp::status::ok, R"({"status":"ok"})", req.version(),
                                       req.keep_alive());
             });
}

}  // namespace cb::api
