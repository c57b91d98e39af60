#include "app/config.hpp"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <cstdlib>

namespace cb::app {
namespace {

Result<std::int64_t> parse_int(std::string_view text, std::string_view what) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size()) {
    return fail(ErrorCode::invalid_argument,
                std::string(what) + ": '" + std::string(text) + "' is not a whole number");
  }
  return v;
}

Result<bool> parse_bool(std::string_view text, std::string_view what) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return fail(ErrorCode::invalid_argument,
              std::string(what) + ": '" + std::string(text) + "' is not true or false");
}

/// One setting: its section and key, and how to assign it from text or TOML.
struct Setting {
  std::string_view section;
  std::string_view key;
  enum class Kind { text, integer, boolean, path, listen } kind;
  std::function<Result<void>(Config&, const std::string&)> assign;
};

template <class T>
Result<void> assign_int(T& field, const std::string& text, std::string_view what, std::int64_t lo,
                        std::int64_t hi) {
  auto v = parse_int(text, what);
  if (!v) return std::unexpected(v.error());
  if (*v < lo || *v > hi) {
    return fail(ErrorCode::invalid_argument, std::string(what) + ": " + text +
                                                 " is out of range [" + std::to_string(lo) + ", " +
                                                 std::to_string(hi) + "]");
  }
  field = static_cast<T>(*v);
  return {};
}

/// How a URL value appears in an error: quoted, unless it may hold a password (any '@').
std::string shown_url(const std::string& v) {
  return v.find('@') == std::string::npos ? "'" + v + "'" : "the value";
}

/// server.public_base_url (or its older name `what`): empty (unset), or an absolute http or https
/// URL with a host and without user info, query or fragment. A trailing '/' is allowed:
/// Config::effective_public_url() removes it.
Result<void> assign_public_url(Config& c, const std::string& v, std::string_view what) {
  if (!v.empty()) {
    const std::string field(what);
    auto u = boost::urls::parse_uri(v);  // absolute; parse_absolute_uri refuses a fragment
    if (!u) {
      return fail(ErrorCode::invalid_argument,
                  field + ": " + shown_url(v) + " is not an absolute URL");
    }
    if (u->scheme_id() != boost::urls::scheme::http &&
        u->scheme_id() != boost::urls::scheme::https) {
      return fail(ErrorCode::invalid_argument,
                  field + ": " + shown_url(v) + " must be an http:// or https:// URL");
    }
    if (!u->has_authority() || u->encoded_host().empty()) {
      return fail(ErrorCode::invalid_argument, field + ": " + shown_url(v) + " has no host");
    }
    if (u->has_userinfo()) {
      return fail(ErrorCode::invalid_argument,
                  field + ": must not contain user info (user:password@)");
    }
    if (u->has_query()) {
      return fail(ErrorCode::invalid_argument,
                  field + ": " + shown_url(v) + " must not have a query ('?')");
    }
    if (u->has_fragment()) {
      return fail(ErrorCode::invalid_argument,
                  field + ": " + shown_url(v) + " must not have a fragment ('#')");
    }
  }
  c.public_url = v;
  return {};
}

std::vector<Setting> settings() {
  using K = Setting::Kind;
  constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;
  return {
      {"server", "listen", K::listen,
       [](Config& c, const std::string& v) -> Result<void> {
         auto hp = parse_listen(v);
         if (!hp) return std::unexpected(hp.error());
         c.listen_host = hp->first;
         c.listen_port = hp->second;
         return {};
       }},
      // The older name of server.public_base_url; setting both in one place is refused.
      {"server", "public_url", K::text,
       [](Config& c, const std::string& v) {
         return assign_public_url(c, v, "server.public_url");
       }},
      {"server", "public_base_url", K::text,
       [](Config& c, const std::string& v) {
         return assign_public_url(c, v, "server.public_base_url");
       }},
      {"server", "threads", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.threads, v, "server.threads", 1, 64);
       }},
      {"server", "max_body_bytes", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.max_body_bytes, v, "server.max_body_bytes", 1024, 1LL << 30);
       }},
      {"server", "max_header_bytes", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.max_header_bytes, v, "server.max_header_bytes", 1024, 1 << 20);
       }},
      {"server", "max_header_count", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.max_header_count, v, "server.max_header_count", 8, 10'000);
       }},
      {"server", "max_connections", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.max_connections, v, "server.max_connections", 1, 1'000'000);
       }},
      {"server", "header_timeout_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.header_timeout_ms, v, "server.header_timeout_ms", 100, kMaxMs);
       }},
      {"server", "body_timeout_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.body_timeout_ms, v, "server.body_timeout_ms", 100, kMaxMs);
       }},
      {"server", "idle_timeout_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.idle_timeout_ms, v, "server.idle_timeout_ms", 100, kMaxMs);
       }},
      {"storage", "data_dir", K::path,
       [](Config& c, const std::string& v) -> Result<void> {
         if (v.empty()) return fail(ErrorCode::invalid_argument, "storage.data_dir is empty");
         c.data_dir = v;
         return {};
       }},
      {"storage", "write_queue_max", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.write_queue_max, v, "storage.write_queue_max", 1, 10'000'000);
       }},
      {"limits", "org_requests_per_second", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.org_requests_per_second, v, "limits.org_requests_per_second", 0,
                           1'000'000);
       }},
      {"limits", "org_burst", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.org_burst, v, "limits.org_burst", 1, 10'000'000);
       }},
      {"security", "key_file", K::path,
       [](Config& c, const std::string& v) -> Result<void> {
         c.key_file = v;
         return {};
       }},
      {"security", "key", K::text,
       [](Config& c, const std::string& v) -> Result<void> {
         c.key = v;
         return {};
       }},
      {"worker", "max_attempts", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.max_attempts, v, "worker.max_attempts", 1, 100);
       }},
      {"worker", "retry_backoff_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.retry_backoff_ms, v, "worker.retry_backoff_ms", 1, kMaxMs);
       }},
      {"worker", "job_timeout_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.job_timeout_ms, v, "worker.job_timeout_ms", 100, 7 * kMaxMs);
       }},
      {"alm", "max_attempts", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.alm_max_attempts, v, "alm.max_attempts", 1, 100);
       }},
      {"alm", "retry_backoff_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.alm_retry_backoff_ms, v, "alm.retry_backoff_ms", 1, kMaxMs);
       }},
      {"alm", "max_retry_backoff_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.alm_max_retry_backoff_ms, v, "alm.max_retry_backoff_ms", 1, kMaxMs);
       }},
      {"alm", "request_timeout_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.alm_request_timeout_ms, v, "alm.request_timeout_ms", 100, 600'000);
       }},
      {"alm", "project_keys_refresh_ms", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.alm_project_keys_refresh_ms, v, "alm.project_keys_refresh_ms", 1000,
                           7 * kMaxMs);
       }},
      {"jobs", "runner_threads", K::integer,
       [](Config& c, const std::string& v) {
         return assign_int(c.runner_threads, v, "jobs.runner_threads", 1, 64);
       }},
      {"log", "level", K::text,
       [](Config& c, const std::string& v) -> Result<void> {
         static constexpr std::string_view kLevels[] = {"trace", "debug", "info",
                                                        "warn",  "error", "off"};
         for (auto l : kLevels) {
           if (v == l) {
             c.log_level = v;
             return {};
           }
         }
         return fail(ErrorCode::invalid_argument,
                     "log.level: '" + v + "' is not one of trace, debug, info, warn, error, off");
       }},
      {"log", "json", K::boolean,
       [](Config& c, const std::string& v) -> Result<void> {
         auto b = parse_bool(v, "log.json");
         if (!b) return std::unexpected(b.error());
         c.log_json = *b;
         return {};
       }},
  };
}

/// `text` in upper case (ASCII).
std::string upper(std::string_view text) {
  std::string out;
  for (char c : text) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

/// The environment variable of a setting: COMMITBRIDGE_<SECTION>_<KEY>.
std::string env_name(std::string_view section, std::string_view key) {
  return "COMMITBRIDGE_" + upper(section) + "_" + upper(key);
}

/// Edits (insert, delete, replace, swap of neighbours) that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

/// Refuses an environment variable COMMITBRIDGE_<SECTION>_<KEY> whose SECTION is a known section
/// (compared ignoring case) but which is not the exact name of a setting. Only the whole first
/// word after COMMITBRIDGE_ counts as the section, so COMMITBRIDGE_JOB (job commands) is not of
/// [jobs] and COMMITBRIDGE_LOGS_DIR is not of [log].
Result<void> check_env_name(const std::string& name, const std::vector<Setting>& all) {
  constexpr std::string_view kPrefix = "COMMITBRIDGE_";
  if (!name.starts_with(kPrefix)) return {};
  const std::string rest = upper(std::string_view(name).substr(kPrefix.size()));
  const auto underscore = rest.find('_');
  if (underscore == std::string::npos) return {};
  const std::string section = rest.substr(0, underscore);
  const auto in_section = [&](const Setting& s) { return upper(s.section) == section; };
  if (std::none_of(all.begin(), all.end(), in_section)) return {};
  const auto known = [](const Setting& s) { return env_name(s.section, s.key); };
  if (std::any_of(all.begin(), all.end(), [&](const Setting& s) { return known(s) == name; })) {
    return {};
  }
  const std::string wanted = upper(name);
  const Setting* closest = nullptr;
  std::size_t best = 3;  // suggest only a name at most two edits away
  for (const auto& s : all) {
    const std::size_t d = edit_distance(wanted, known(s));
    if (d < best) {
      best = d;
      closest = &s;
    }
  }
  std::string message = "environment variable " + name + " is not a known setting of [" +
                        std::string(std::find_if(all.begin(), all.end(), in_section)->section) +
                        "]";
  if (closest != nullptr) {
    message += "; did you mean " + known(*closest) + "?";
  }
  return fail(ErrorCode::invalid_argument, message);
}

/// Refuses both names of the public base URL set (not empty) in one place.
Result<void> check_public_url_names(bool old_set, bool new_set, const std::string& old_name,
                                    const std::string& new_name) {
  if (old_set && new_set) {
    return fail(ErrorCode::invalid_argument,
                old_name + " and " + new_name + " are both set; they are the same setting (" +
                    old_name + " is its older name): set only " + new_name);
  }
  return {};
}

std::optional<std::string> toml_text(const toml::node& node, Setting::Kind kind) {
  if (kind == Setting::Kind::integer) {
    if (auto v = node.value<std::int64_t>()) return std::to_string(*v);
    return std::nullopt;
  }
  if (kind == Setting::Kind::boolean) {
    if (auto v = node.value<bool>()) return *v ? "true" : "false";
    return std::nullopt;
  }
  if (auto v = node.value<std::string>()) return *v;
  return std::nullopt;
}

Result<void> apply_file(Config& config, const std::filesystem::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& err) {
    return fail(ErrorCode::invalid_argument, file.string() + ":" +
                                                 std::to_string(err.source().begin.line) + ": " +
                                                 std::string(err.description()));
  }
  const auto all = settings();
  bool old_url_set = false;
  bool new_url_set = false;
  for (const auto& [section_name, section_node] : root) {
    const auto* section = section_node.as_table();
    if (section == nullptr) {
      return fail(
          ErrorCode::invalid_argument,
          file.string() + ": '" + std::string(section_name.str()) + "' must be a [section]");
    }
    for (const auto& [key, value] : *section) {
      const Setting* found = nullptr;
      for (const auto& s : all) {
        if (s.section == section_name.str() && s.key == key.str()) found = &s;
      }
      const std::string where =
          file.string() + ": " + std::string(section_name.str()) + "." + std::string(key.str());
      if (found == nullptr)
        return fail(ErrorCode::invalid_argument, where + " is not a known setting");
      auto text = toml_text(value, found->kind);
      if (!text) return fail(ErrorCode::invalid_argument, where + " has the wrong type");
      if (auto r = found->assign(config, *text); !r) {
        return fail(ErrorCode::invalid_argument, file.string() + ": " + r.error().message);
      }
      if (found->section == "server" && found->key == "public_url") old_url_set = !text->empty();
      if (found->section == "server" && found->key == "public_base_url") {
        new_url_set = !text->empty();
      }
      if (found->section == "security" && found->key == "key") {
        config.key_source = file.string() + ": security.key";
      }
    }
  }
  if (auto r = check_public_url_names(old_url_set, new_url_set, "server.public_url",
                                      "server.public_base_url");
      !r) {
    return fail(ErrorCode::invalid_argument, file.string() + ": " + r.error().message);
  }
  return {};
}

}  // namespace

Environment process_env() {
  Environment env;
  env.lookup = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  env.names = [] {
    std::vector<std::string> out;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string_view entry(*e);
      out.emplace_back(entry.substr(0, entry.find('=')));
    }
    return out;
  };
  return env;
}

Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail(ErrorCode::invalid_argument,
                  "listen address '" + std::string(text) + "' is not [HOST]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    if (host.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "listen address '" + std::string(text) + "' has an empty [HOST]");
    }
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return fail(ErrorCode::invalid_argument,
                  "listen address '" + std::string(text) + "' is not HOST:PORT");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail(ErrorCode::invalid_argument, "listen address '" + std::string(text) +
                                                   "': write an IPv6 address in brackets, e.g. "
                                                   "[::1]:8080");
    }
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  auto p = parse_int(port, "listen port");
  if (!p || *p < 0 || *p > 65535) {
    return fail(ErrorCode::invalid_argument,
                "listen port '" + std::string(port) + "' is not a number from 0 to 65535");
  }
  return std::pair<std::string, std::uint16_t>{std::string(host), static_cast<std::uint16_t>(*p)};
}

std::string Config::effective_public_url() const {
  std::string url = public_url;
  if (url.empty()) {
    const bool v6 = listen_host.find(':') != std::string::npos;
    std::string host = listen_host;
    if (host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    url = "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(listen_port);
  }
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

Result<Config> load_config(const ConfigOverrides& overrides, const Environment& env) {
  Config config;
  std::optional<std::filesystem::path> file = overrides.config_file;
  if (!file) {
    if (auto f = env.lookup("COMMITBRIDGE_CONFIG")) file = *f;
  }
  if (file) {
    std::error_code ec;
    if (!std::filesystem::exists(*file, ec)) {
      return fail(ErrorCode::invalid_argument, "config file " + file->string() + " does not exist");
    }
    if (auto r = apply_file(config, *file); !r) return std::unexpected(r.error());
  }
  const auto all = settings();
  std::vector<std::string> names = env.names();
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (auto r = check_env_name(name, all); !r) return std::unexpected(r.error());
  }
  const auto set_in_env = [&](std::string_view key) {
    const auto v = env.lookup(env_name("server", key));
    return v && !v->empty();
  };
  if (auto r = check_public_url_names(set_in_env("public_url"), set_in_env("public_base_url"),
                                      env_name("server", "public_url"),
                                      env_name("server", "public_base_url"));
      !r) {
    return std::unexpected(r.error());
  }
  for (const auto& s : all) {
    const std::string name = env_name(s.section, s.key);
    if (auto v = env.lookup(name)) {
      if (auto r = s.assign(config, *v); !r) {
        return fail(ErrorCode::invalid_argument, name + ": " + r.error().message);
      }
      if (s.section == "security" && s.key == "key") config.key_source = name;
    }
  }
  if (overrides.data_dir) config.data_dir = *overrides.data_dir;
  if (overrides.listen) {
    auto hp = parse_listen(*overrides.listen);
    if (!hp) return std::unexpected(hp.error());
    config.listen_host = hp->first;
    config.listen_port = hp->second;
  }
  return config;
}

}  // namespace cb::app
