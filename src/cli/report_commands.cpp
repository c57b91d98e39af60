// deliveries subcommands: read-only views of the store (runs: job_commands.cpp; stories:
// story_commands.cpp).

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>

#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

std::string first_line(const std::string& s, std::size_t max) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.size() > max) line = line.substr(0, max - 3) + "...";
  return line;
}

/// Resolves --org to an id; nullopt org name means all orgs.
Result<std::optional<std::int64_t>> org_filter(store::Store& store,
                                               const std::optional<std::string>& org) {
  if (!org) return std::optional<std::int64_t>{};
  auto found = store.find_org(*org);
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail(ErrorCode::not_found, "no org named '" + *org + "'");
  return std::optional<std::int64_t>{(*found)->id};
}

}  // namespace

void add_report_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  // deliveries
  auto* deliveries = root.add_subcommand("deliveries", "received webhook deliveries");
  deliveries->require_subcommand(1);
  {
    auto* list = deliveries->add_subcommand("list", "list deliveries, newest first");
    add_common_options(*list, common);
    static std::optional<std::string> org;
    static std::size_t limit = 50;
    static std::optional<std::int64_t> before;
    static bool as_json = false;
    list->add_option("--org", org, "only this org");
    list->add_option("--limit", limit, "at most this many")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    list->add_option("--before", before, "page: only deliveries with seq below this")
        ->check(positive_id("delivery seq"));
    list->add_flag("--json", as_json, "print JSON");
    list->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        auto org_id = org_filter(a->store(), org);
        if (!org_id) return report(org_id.error());
        store::DeliveryQuery q;
        q.org_id = *org_id;
        q.limit = limit;
        q.before_seq = before;
        auto rows = a->store().list_deliveries(q);
        if (!rows) return report(rows.error());
        if (as_json) {
          json::array arr;
          for (const auto& d : *rows) {
            arr.push_back(json::object{
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
            });
          }
          std::cout << json::serialize(arr) << "\n";
          return 0;
        }
        std::cout << std::left << std::setw(26) << "RECEIVED" << std::setw(38) << "DELIVERY ID"
                  << std::setw(26) << "ENDPOINT" << std::setw(20) << "EVENT" << std::setw(11)
                  << "STATUS"
                  << "REASON\n";
        for (const auto& d : *rows) {
          std::cout << std::setw(26) << format_utc(d.received_at_ms) << std::setw(38)
                    << d.delivery_id << std::setw(26) << d.endpoint << std::setw(20) << d.event_key
                    << std::setw(11) << d.status << first_line(d.reason, 120) << "\n";
          if (!d.external_id.empty()) {
            std::cout << std::setw(26) << ""
                      << "sender id " << d.external_id << "\n";
          }
        }
        return 0;
      };
    });
  }
}

}  // namespace cb::cli
