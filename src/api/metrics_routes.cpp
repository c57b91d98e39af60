#include "api/metrics_routes.hpp"

#include <boost/json.hpp>

#include "api/error_mapping.hpp"

namespace cb::api {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

void add_metrics_route(http::Router& router, const metrics::Registry& registry) {
  router.add(
      bhttp::verb::get, "/metrics",
      [&registry](http::Request& req, http::RequestContext&) -> asio::awaitable<http::Response> {
        http::Response res{bhttp::status::ok, req.version()};
        res.set(bhttp::field::content_type, metrics::Registry::kContentType);
        res.set(bhttp::field::cache_control, "no-store");
        res.keep_alive(req.keep_alive());
        res.body() = registry.render();
        res.prepare_payload();
        co_return res;
      });
}

void add_readiness_route(http::Router& router, const pipeline::StoreProbe& probe,
                         const Clock& clock, std::chrono::milliseconds max_age) {
  router.add(bhttp::verb::get, "/readyz",
             [&probe, &clock, max_age](http::Request& req,
                                       http::RequestContext&) -> asio::awaitable<http::Response> {
               auto ready = probe.ready(clock.now_ms(), max_age);
               if (!ready) co_return error_response(ready.error(), req.version(), req.keep_alive());
               boost::json::object body;
               body["status"] = "ready";
               body["pending_deliveries"] = ready->pending;
               body["checked_at"] = format_utc(ready->checked_at_ms);
               co_return json_response(bhttp::status::ok, boost::json::serialize(body),
                                       req.version(), req.keep_alive());
             });
}

}  // namespace cb::api
