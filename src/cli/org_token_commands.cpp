// org, token, audit, admin-token and keys subcommands. They work on the store directly, so
// they also work when no server runs; every change is written to the audit log as
// "cli:<login name>".

#include <boost/json.hpp>
#include <iomanip>
#include <iostream>

#include "admin/admin_service.hpp"
#include "admin/json_views.hpp"
#include "app/key_rotation.hpp"
#include "cli/context.hpp"

namespace cb::cli {
namespace {

namespace json = boost::json;

/// Options shared by the commands below; CLI11 keeps references, so they live for the process.
struct Options {
  std::string org, name, token, type = "webhook", description, cursor, expires_at;
  std::optional<int> expires_days;
  std::size_t limit = 50;
  std::int64_t grace_seconds = 0;
  bool as_json = false;
};

Options& opts() {
  static Options o;
  return o;
}

admin::Actor actor() { return admin::Actor{cli_actor_name(), ""}; }

/// Runs `body` with an AdminService on the configured data directory.
int with_admin(const CommonOptions& common,
               const std::function<int(admin::AdminService&, app::Application&)>& body,
               bool create = false) {
  auto a = open_application(common, create);
  if (!a) return 1;
  SystemClock clock;
  admin::AdminService admin(a->store(), a->secret_box(), clock);
  return body(admin, *a);
}

void print_json(const json::value& v) { std::cout << json::serialize(v) << "\n"; }

Result<std::optional<UnixMillis>> expiry(const SystemClock& clock) {
  auto& o = opts();
  if (o.expires_days && !o.expires_at.empty()) {
    return fail(ErrorCode::invalid_argument, "give --expires-in-days or --expires-at, not both");
  }
  if (o.expires_days) {
    return std::optional<UnixMillis>{clock.now_ms() + std::int64_t{*o.expires_days} * 86'400'000};
  }
  if (!o.expires_at.empty()) {
    auto t = admin::parse_utc_time(o.expires_at);
    if (!t) return std::unexpected(t.error());
    return std::optional<UnixMillis>{*t};
  }
  return std::optional<UnixMillis>{};
}

void print_token_table(const std::vector<store::TokenRecord>& tokens, UnixMillis now) {
  std::cout << std::left << std::setw(24) << "NAME" << std::setw(9) << "TYPE" << std::setw(18)
            << "PUBLIC ID" << std::setw(26) << "CREATED" << std::setw(26) << "LAST USED"
            << "STATE\n";
  for (const auto& t : tokens) {
    std::cout << std::setw(24) << t.name << std::setw(9) << t.type << std::setw(18) << t.public_id
              << std::setw(26) << format_utc(t.created_at_ms) << std::setw(26)
              << time_or_dash(t.last_used_at_ms) << admin::token_state(t, now) << "\n";
  }
}

void add_page_options(CLI::App& cmd) {
  cmd.add_option("--limit", opts().limit, "page size, 1 to 200")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  cmd.add_option("--cursor", opts().cursor, "next_cursor of the previous page");
}

void add_json_flag(CLI::App& cmd) { cmd.add_flag("--json", opts().as_json, "print JSON"); }

void say_next_page(const std::string& next) {
  if (!next.empty()) std::cerr << "more: --cursor " << next << "\n";
}

}  // namespace

void add_org_token_commands(CLI::App& root, CommonOptions& common, std::function<int()>& action) {
  auto& o = opts();

  // org
  auto* org = root.add_subcommand("org", "manage orgs");
  org->require_subcommand(1);
  {
    auto* create = org->add_subcommand("create", "create an org");
    add_common_options(*create, common);
    create->add_option("NAME", o.name, "org name (letters, digits, '-', '_', '.')")->required();
    add_json_flag(*create);
    create->callback([&] {
      action = [&] {
        return with_admin(
            common,
            [](admin::AdminService& admin, app::Application&) {
              auto org = admin.create_org(opts().name, actor());
              if (!org) return report(org.error());
              if (opts().as_json) {
                print_json(admin::org_json(*org));
              } else {
                std::cout << "created org " << org->name << "\n"
                          << "next: commitbridge token create --org " << org->name
                          << " --name bitbucket --type webhook\n";
              }
              return 0;
            },
            /*create=*/true);
      };
    });

    auto* list = org->add_subcommand("list", "list orgs, oldest first");
    add_common_options(*list, common);
    add_page_options(*list);
    add_json_flag(*list);
    list->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          auto page = admin.list_orgs(admin::PageRequest{opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            print_json(
                admin::page_json(*page, [&](const auto& org) { return admin::org_json(org); }));
            return 0;
          }
          for (const auto& org : page->items) std::cout << org.name << "\n";
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });

    auto* get = org->add_subcommand("get", "show an org");
    add_common_options(*get, common);
    get->add_option("NAME", o.name, "org name")->required();
    add_json_flag(*get);
    get->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          auto org = admin.get_org(opts().name);
          if (!org) return report(org.error());
          if (opts().as_json) {
            print_json(admin::org_json(*org));
          } else {
            std::cout << org->name << " (created " << format_utc(org->created_at_ms) << ")\n";
          }
          return 0;
        });
      };
    });

    auto* del = org->add_subcommand(
        "delete", "delete an org: revokes all its tokens at once; its history stays");
    add_common_options(*del, common);
    del->add_option("NAME", o.name, "org name")->required();
    del->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          if (auto r = admin.delete_org(opts().name, actor()); !r) return report(r.error());
          std::cout << "deleted org " << opts().name << " and revoked its tokens\n";
          return 0;
        });
      };
    });
  }

  // token
  auto* token = root.add_subcommand("token", "manage webhook and api tokens");
  token->require_subcommand(1);
  {
    auto* create = token->add_subcommand("create", "create a token; prints it once");
    add_common_options(*create, common);
    create->add_option("--org", o.org, "org name")->required();
    create->add_option("--name", o.name, "token name, unique in the org (1-100 characters)")
        ->required();
    create->add_option("--type", o.type, "webhook (SCM webhooks) or api (admin API)")
        ->check(CLI::IsMember({"webhook", "api"}))
        ->capture_default_str();
    create->add_option("--description", o.description, "optional, up to 1000 characters");
    create->add_option("--expires-in-days", o.expires_days, "expire after this many days")
        ->check(CLI::Range(1, 3650));
    create->add_option("--expires-at", o.expires_at,
                       "expire at this UTC time, e.g. 2027-01-31T00:00:00Z");
    add_json_flag(*create);
    create->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application& a) {
          SystemClock clock;
          auto& o = opts();
          auto type = auth::parse_token_type(o.type);
          if (!type) return report(type.error());
          auto expires = expiry(clock);
          if (!expires) return report(expires.error());
          auto created = admin.create_token(o.org, o.name, *type, o.description, *expires, actor());
          if (!created) return report(created.error());
          if (o.as_json) {
            auto out = admin::token_json(created->record, clock.now_ms());
            out["token"] = created->token;
            print_json(out);
            return 0;
          }
          std::cout << created->token << "\n";
          std::cerr << "Token '" << o.name << "' (" << o.type << ", public id "
                    << created->record.public_id << ") created for org " << o.org << ".\n"
                    << "This is the only time it is shown. ";
          if (*type == auth::TokenType::webhook) {
            std::cerr << "In Bitbucket, paste it as the webhook's Secret (or as the password of "
                         "basic authentication) with the URLs:\n  "
                      << webhook_url(a.config(), o.org, "trigger-scm-push-request") << "\n  "
                      << webhook_url(a.config(), o.org, "sync-alm-commits") << "\n";
          } else {
            std::cerr << "Send it as 'Authorization: Bearer <token>' to the admin API "
                         "(/api/v2).\n";
          }
          return 0;
        });
      };
    });

    auto* list = token->add_subcommand("list", "list an org's tokens (never their secrets)");
    add_common_options(*list, common);
    list->add_option("--org", o.org, "org name")->required();
    add_page_options(*list);
    add_json_flag(*list);
    list->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          SystemClock clock;
          auto page =
              admin.list_tokens_page(opts().org, admin::PageRequest{opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            print_json(admin::page_json(
                *page, [&](const auto& t) { return admin::token_json(t, clock.now_ms()); }));
            return 0;
          }
          print_token_table(page->items, clock.now_ms());
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });

    auto* get = token->add_subcommand("get", "show one token (never its secret)");
    add_common_options(*get, common);
    get->add_option("--org", o.org, "org name")->required();
    get->add_option("--token", o.token, "public id or name of the token")->required();
    add_json_flag(*get);
    get->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          SystemClock clock;
          auto t = admin.get_token(opts().org, opts().token);
          if (!t) return report(t.error());
          if (opts().as_json) {
            print_json(admin::token_json(*t, clock.now_ms()));
          } else {
            print_token_table({*t}, clock.now_ms());
          }
          return 0;
        });
      };
    });

    auto* revoke = token->add_subcommand("revoke", "revoke a token at once");
    add_common_options(*revoke, common);
    revoke->add_option("--org", o.org, "org name")->required();
    auto* by_token = revoke->add_option("--token", o.token, "public id or name of the token");
    auto* by_name = revoke->add_option("--name", o.name, "name of the token");
    by_token->excludes(by_name);
    add_json_flag(*revoke);
    revoke->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          SystemClock clock;
          const std::string which = opts().token.empty() ? opts().name : opts().token;
          if (which.empty()) {
            std::cerr << "error: give --token ID or --name NAME\n";
            return 2;
          }
          auto t = admin.revoke_token(opts().org, which, actor());
          if (!t) return report(t.error());
          if (opts().as_json) {
            print_json(admin::token_json(*t, clock.now_ms()));
          } else {
            std::cout << "revoked token " << t->name << " (" << t->public_id << ")\n";
          }
          return 0;
        });
      };
    });

    auto* rotate =
        token->add_subcommand("rotate", "give a token a new secret (same id); prints it once");
    add_common_options(*rotate, common);
    rotate->add_option("--org", o.org, "org name")->required();
    rotate->add_option("--token", o.token, "public id or name of the token")->required();
    rotate
        ->add_option("--grace-period", o.grace_seconds,
                     "seconds the old secret stays valid (0 to 2592000)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{2'592'000}))
        ->capture_default_str();
    add_json_flag(*rotate);
    rotate->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          SystemClock clock;
          auto r = admin.rotate_token(opts().org, opts().token, opts().grace_seconds, actor());
          if (!r) return report(r.error());
          if (opts().as_json) {
            auto out = admin::token_json(r->record, clock.now_ms());
            out["token"] = r->token;
            print_json(out);
            return 0;
          }
          std::cout << r->token << "\n";
          std::cerr << "New secret for token '" << r->record.name << "' (public id "
                    << r->record.public_id << "), shown once. The old one stays valid for "
                    << opts().grace_seconds << " s.\n";
          return 0;
        });
      };
    });
  }

  // audit
  auto* audit = root.add_subcommand("audit", "the audit log of org and token changes");
  audit->require_subcommand(1);
  {
    auto* list = audit->add_subcommand("list", "an org's audit log, newest first");
    add_common_options(*list, common);
    list->add_option("--org", o.org, "org name")->required();
    add_page_options(*list);
    add_json_flag(*list);
    list->callback([&] {
      action = [&] {
        return with_admin(common, [](admin::AdminService& admin, app::Application&) {
          auto page = admin.audit(opts().org, admin::PageRequest{opts().limit, opts().cursor});
          if (!page) return report(page.error());
          if (opts().as_json) {
            print_json(
                admin::page_json(*page, [&](const auto& e) { return admin::audit_json(e); }));
            return 0;
          }
          for (const auto& e : page->items) {
            std::cout << format_utc(e.created_at_ms) << "  " << std::left << std::setw(20)
                      << e.action << std::setw(20) << e.target << e.actor
                      << (e.remote_address.empty() ? "" : " from " + e.remote_address) << "\n";
          }
          say_next_page(page->next_cursor);
          return 0;
        });
      };
    });
  }

  // admin-token
  auto* admin_token = root.add_subcommand(
      "admin-token", "server admin tokens for the admin API (manage every org)");
  admin_token->require_subcommand(1);
  {
    auto* create =
        admin_token->add_subcommand("create", "create a server admin token; prints it once");
    add_common_options(*create, common);
    create->add_option("--name", o.name, "token name")->required();
    create->add_option("--expires-in-days", o.expires_days, "expire after this many days")
        ->check(CLI::Range(1, 3650));
    add_json_flag(*create);
    create->callback([&] {
      action = [&] {
        return with_admin(
            common,
            [](admin::AdminService& admin, app::Application&) {
              SystemClock clock;
              auto expires = expiry(clock);
              if (!expires) return report(expires.error());
              auto created = admin.create_admin_token(opts().name, *expires, actor());
              if (!created) return report(created.error());
              if (opts().as_json) {
                print_json(json::object{{"name", created->record.name},
                                        {"id", created->record.public_id},
                                        {"created_at", format_utc(created->record.created_at_ms)},
                                        {"token", created->token}});
                return 0;
              }
              std::cout << created->token << "\n";
              std::cerr << "Server admin token '" << opts().name << "' (public id "
                        << created->record.public_id
                        << ") created; shown once. Send it as 'Authorization: Bearer <token>'.\n";
              return 0;
            },
            /*create=*/true);
      };
    });
  }

  // keys
  auto* keys = root.add_subcommand("keys", "the key that seals webhook secrets");
  keys->require_subcommand(1);
  {
    auto* rotate = keys->add_subcommand(
        "rotate", "re-seal every webhook secret under a new key (stop the server first)");
    add_common_options(*rotate, common);
    rotate->callback([&] {
      action = [&] {
        auto a = open_application(common);
        if (!a) return 1;
        auto rotated = app::rotate_key(*a);
        if (!rotated) return report(rotated.error());
        std::cout << "re-sealed " << rotated->resealed << " secrets under key "
                  << rotated->fingerprint << "\n";
        if (!rotated->new_key_hex.empty()) {
          std::cout << "The key comes from " << rotated->key_source << ": set it to\n"
                    << rotated->new_key_hex << "\nbefore the next start.\n";
        }
        return 0;
      };
    });
  }
}

}  // namespace cb::cli
