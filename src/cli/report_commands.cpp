// runs and deliveries subcommands: read-only views of the store.

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>

#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

json::value opt_time(std::optional<UnixMillis> t) {
  return t ? json::value(format_utc(*t)) : json::value();
}

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
  // runs
  auto* runs = root.add_subcommand("runs", "job runs");
  runs->require_subcommand(1);
  {
    auto* list = runs->add_subcommand("list", "list job runs, newest first");
    add_common_options(*list, common);
    static std::optional<std::string> org, delivery;
    static std::size_t limit = 50;
    static std::optional<std::int64_t> before;
    static bool as_json = false;
    list->add_option("--org", org, "only this org");
    list->add_option("--delivery", delivery, "only runs of this delivery id");
    list->add_option("--limit", limit, "at most this many")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    list->add_option("--before", before, "page: only runs with id below this");
    list->add_flag("--json", as_json, "print JSON");
    list->callback([&] {
      action = [&]() -> int {
        auto a = open_application(common);
        if (!a) return 1;
        auto org_id = org_filter(a->store(), org);
        if (!org_id) return report(org_id.error());
        store::RunQuery q;
        q.org_id = *org_id;
        q.delivery_id = delivery;
        q.limit = limit;
        q.before_id = before;
        auto rows = a->store().list_runs(q);
        if (!rows) return report(rows.error());
        if (as_json) {
          json::array arr;
          for (const auto& r : *rows) {
            arr.push_back(json::object{
                {"id", r.id},
                {"org", r.org_name},
                {"job", r.job_name},
                {"repository", r.repository},
                {"delivery_id", r.delivery_id},
                {"ref", r.ref_id},
                {"branch", r.branch},
                {"from_hash", r.from_hash},
                {"to_hash", r.to_hash},
                {"status", r.status},
                {"exit_code", r.exit_code ? json::value(*r.exit_code) : json::value()},
                {"created_at", format_utc(r.created_at_ms)},
                {"started_at", opt_time(r.started_at_ms)},
                {"finished_at", opt_time(r.finished_at_ms)},
                {"output_tail", r.output_tail},
                {"log_path", r.log_path},
            });
          }
          std::cout << json::serialize(arr) << "\n";
          return 0;
        }
        std::cout << std::left << std::setw(6) << "ID" << std::setw(16) << "JOB" << std::setw(26)
                  << "REPOSITORY" << std::setw(24) << "BRANCH" << std::setw(12) << "STATUS"
                  << std::setw(6) << "EXIT"
                  << "STARTED\n";
        for (const auto& r : *rows) {
          std::cout << std::setw(6) << r.id << std::setw(16) << r.job_name << std::setw(26)
                    << r.repository << std::setw(24) << r.branch << std::setw(12) << r.status
                    << std::setw(6) << (r.exit_code ? std::to_string(*r.exit_code) : "-")
                    << time_or_dash(r.started_at_ms) << "\n";
        }
        return 0;
      };
    });
  }

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
    list->add_option("--before", before, "page: only deliveries with seq below this");
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
