// Microbenchmarks of the ingest hot path and of story-key extraction (Google Benchmark).
//
//   build/release/bench/bench_micro                       # everything
//   build/release/bench/bench_micro --benchmark_filter=Store
//
// Results and how to read them: bench/README.md.

#include <benchmark/benchmark.h>

#include <unistd.h>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth/digest.hpp"
#include "auth/token_format.hpp"
#include "auth/webhook_auth.hpp"
#include "core/raw_delivery.hpp"
#include "pipeline/payload_body.hpp"
#include "providers/provider.hpp"
#include "smartcommit/pattern_set.hpp"
#include "smartcommit/smart_commit.hpp"
#include "smartcommit/story_key_pattern.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

constexpr cb::UnixMillis kNow = 1'772'358'900'000;

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The ~4 KB Bitbucket DC repo:refs_changed body that scripts/bench sends too.
const std::string& payload_4k() {
  static const std::string body = read_file(CB_BENCH_PAYLOAD);
  return body;
}

/// The headers Bitbucket DC sends with a push (signature added by the caller).
std::vector<cb::Header> bitbucket_headers(std::string request_id) {
  return {{"Host", "127.0.0.1:8080"},
          {"User-Agent", "Atlassian HttpClient 4.2.0 / Bitbucket-8.19.1 (8019001) / Default"},
          {"Content-Type", "application/json; charset=utf-8"},
          {"X-Event-Key", "repo:refs_changed"},
          {"X-Request-Id", std::move(request_id)},
          {"Accept-Encoding", "gzip,deflate"}};
}

/// Deterministic pseudo-random numbers (raw mt19937_64 output is specified by the standard, the
/// distributions are not: keep the generated data identical across standard libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(g_() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <class T, std::size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }

 private:
  std::mt19937_64 g_;
};

std::string hex_hash(Rng& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string h(40, '0');
  for (auto& c : h) c = kHex[rng.below(16)];
  return h;
}

// ---- HMAC verification ------------------------------------------------------------------------

/// authenticate_webhook over the 4 KB body with `range(0)` active webhook tokens in the org; the
/// signing token is the last one, so every token's HMAC is computed (the worst case).
void BM_AuthenticateHmacSha256_4K(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<cb::auth::WebhookCredential> tokens;
  for (std::size_t i = 0; i < n; ++i) {
    const auto parts = cb::auth::generate_token(cb::auth::TokenType::webhook);
    cb::auth::WebhookCredential c;
    c.token_id = static_cast<std::int64_t>(i + 1);
    c.public_id = parts.public_id;
    c.secret = parts.secret;
    tokens.push_back(std::move(c));
  }
  const auto& signer = tokens.back();
  const std::string key = cb::auth::format_token(
      cb::auth::TokenParts{cb::auth::TokenType::webhook, signer.public_id, signer.secret});
  cb::RawDelivery d;
  d.org = "acme";
  d.body = payload_4k();
  d.headers = bitbucket_headers("2b7f6c0e-4d1a-4f0b-9a55-6f3e1c2d9b10");
  d.headers.push_back(
      {"X-Hub-Signature", "sha256=" + cb::auth::to_hex(cb::auth::hmac_sha256(key, d.body))});
  d.received_at_ms = kNow;
  for (auto _ : state) {
    auto r = cb::auth::authenticate_webhook(d, tokens, kNow);
    if (!r) state.SkipWithError(r.error().message.c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(d.body.size()));
  state.counters["tokens"] = static_cast<double>(n);
}
BENCHMARK(BM_AuthenticateHmacSha256_4K)->Arg(1)->Arg(3)->Arg(10);

/// A bare HMAC-SHA256 of the 4 KB body, the floor under the authentication above.
void BM_HmacSha256Raw_4K(benchmark::State& state) {
  const std::string key =
      cb::auth::format_token(cb::auth::generate_token(cb::auth::TokenType::webhook));
  const std::string& body = payload_4k();
  for (auto _ : state) benchmark::DoNotOptimize(cb::auth::hmac_sha256(key, body));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_HmacSha256Raw_4K);

// ---- Bitbucket DC parse -----------------------------------------------------------------------

/// A ~1 MiB repo:refs_changed: a push of thousands of refs (a mirror push or a tag import) plus
/// the five commit previews DC sends at most, with long messages.
std::string payload_1m() {
  Rng rng(1);
  std::ostringstream o;
  o << R"({"eventKey":"repo:refs_changed","date":"2026-03-01T10:15:00+0100",)"
    << R"("actor":{"name":"mkowalski","emailAddress":"m.kowalski@northwind.example","id":4211,)"
    << R"("displayName":"Marta Kowalski","active":true,"slug":"mkowalski","type":"NORMAL"},)"
    << R"("repository":{"slug":"flight-planner","id":912,"name":"flight-planner",)"
    << R"("scmId":"git","state":"AVAILABLE","statusMessage":"Available","forkable":true,)"
    << R"("project":{"key":"NWA","id":37,"name":"Northwind Avionics","public":false,)"
    << R"("type":"NORMAL"},"public":false,"links":{"clone":[{"href":)"
    << R"("https://scm.northwind.example/scm/nwa/flight-planner.git","name":"http"}]}},)"
    << R"("changes":[)";
  std::size_t i = 0;
  const auto size = [&o] { return static_cast<std::size_t>(o.tellp()); };
  while (size() < 1024 * 1024 - 8 * 1024) {
    if (i > 0) o << ',';
    const bool tag = i % 3 == 0;
    const std::string name = (tag ? "release/2." : "feature/NWA-") + std::to_string(1000 + i);
    const std::string ref = std::string(tag ? "refs/tags/" : "refs/heads/") + name;
    o << R"({"ref":{"id":")" << ref << R"(","displayId":")" << name << R"(","type":")"
      << (tag ? "TAG" : "BRANCH") << R"("},"refId":")" << ref << R"(","fromHash":")"
      << hex_hash(rng) << R"(","toHash":")" << hex_hash(rng) << R"(","type":"UPDATE"})";
    ++i;
  }
  o << R"(],"commits":[)";
  for (int c = 0; c < 5; ++c) {
    if (c > 0) o << ',';
    const std::string id = hex_hash(rng);
    o << R"({"id":")" << id << R"(","displayId":")" << id.substr(0, 11)
      << R"(","author":{"name":"Marta)"
      << R"( Kowalski","emailAddress":"m.kowalski@northwind.example"},)"
      << R"("authorTimestamp":1772358900000,"message":"NWA-)" << 400 + c << ' '
      << std::string(900, 'x') << R"(","parents":[]})";
  }
  o << "]}";
  return o.str();
}

void run_parse(benchmark::State& state, const std::string& body) {
  const cb::providers::Provider* provider = cb::providers::find_provider("bitbucket_server");
  if (provider == nullptr) {
    state.SkipWithError("provider bitbucket_server is not registered");
    return;
  }
  cb::RawDelivery d;
  d.org = "acme";
  d.headers = bitbucket_headers("2b7f6c0e-4d1a-4f0b-9a55-6f3e1c2d9b10");
  d.body = body;
  d.received_at_ms = kNow;
  {
    auto check = provider->parse(d);
    if (!check) {
      state.SkipWithError(check.error().message.c_str());
      return;
    }
  }
  for (auto _ : state) {
    auto event = provider->parse(d);
    benchmark::DoNotOptimize(event);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(d.body.size()));
  state.counters["body_bytes"] = static_cast<double>(d.body.size());
}

void BM_ParseBitbucketDc_4K(benchmark::State& state) { run_parse(state, payload_4k()); }
BENCHMARK(BM_ParseBitbucketDc_4K);

void BM_ParseBitbucketDc_1M(benchmark::State& state) {
  static const std::string body = payload_1m();
  run_parse(state, body);
}
BENCHMARK(BM_ParseBitbucketDc_1M)->Unit(benchmark::kMillisecond);

/// What ingest checks of the body before answering: one JSON object, syntax only (the full
/// parse above runs once, in the worker).
void BM_IngestJsonSyntaxCheck_4K(benchmark::State& state) {
  const std::string& body = payload_4k();
  for (auto _ : state) {
    auto checked = cb::pipeline::check_json_object(body);
    if (!checked) state.SkipWithError("the 4 KB payload did not pass the check");
    benchmark::DoNotOptimize(checked);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_IngestJsonSyntaxCheck_4K);

// ---- smart-commit key extraction --------------------------------------------------------------

/// `n` commit messages as teams write them: a subject (with 0-3 keys in the usual places:
/// prefix, brackets, branch names of merges, trailing "(ABC-12)"), often a wrapped body, smart
/// commands, Jira URLs, look-alikes (UTF-8, SHA-256), trailers, some non-ASCII text.
std::vector<std::string> commit_messages(std::size_t n) {
  static constexpr const char* kProjects[] = {"NWA",   "ABC",    "PLAT", "OPS",
                                              "CORE2", "WEB_UI", "DATA", "SEC"};
  static constexpr const char* kVerbs[] = {"fix",    "add",      "remove", "refactor", "update",
                                           "handle", "document", "test",   "rename",   "speed up"};
  static constexpr const char* kThings[] = {
      "waypoint parser",        "route solver for polar segments", "login redirect loop",
      "null check in exporter", "retry backoff of the uploader",   "flaky integration test",
      "dependency versions",    "timezone handling in reports",    "cache invalidation",
      "README typos",           "CSV import of large files",       "memory leak in session pool"};
  static constexpr const char* kBody[] = {
      "The previous implementation assumed the list was sorted, which is not true for",
      "imported data. This keeps the order stable and adds a regression test.",
      "Measured on the staging data set: 35% less time, no change in output.",
      "See https://jira.northwind.example/browse/NWA-77 for the discussion.",
      "Strings are now decoded as UTF-8 and hashed with SHA-256 before comparison.",
      "Also bumps the minimum supported version; release notes updated.",
      "Reviewed-by: Jonas Lindqvist <j.lindqvist@northwind.example>",
      "Co-authored-by: Zoë Ørsted <zoe.orsted@northwind.example>",
      "No functional change intended.",
      "Prüfung der Eingabe ergänzt, Fehlermeldung übersetzt."};
  Rng rng(42);
  const auto key = [&] {
    return std::string(rng.pick(kProjects)) + "-" + std::to_string(1 + rng.below(4000));
  };
  std::vector<std::string> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string m;
    const std::size_t shape = rng.below(10);
    if (shape == 0) {
      m = "Merge branch 'feature/" + key() + "-" + rng.pick(kVerbs) + "' into develop";
    } else if (shape == 1) {
      m = "[" + key() + "] " + rng.pick(kVerbs) + " " + rng.pick(kThings);
    } else if (shape == 2) {
      m = std::string(rng.pick(kVerbs)) + " " + rng.pick(kThings) + " (" + key() + ")";
    } else if (shape == 3) {
      m = std::string(rng.pick(kVerbs)) + " " + rng.pick(kThings);  // no key at all
    } else if (shape == 4) {
      m = key() + " " + key() + " " + rng.pick(kVerbs) + " " + rng.pick(kThings);
    } else {
      m = key() + " " + rng.pick(kVerbs) + " " + rng.pick(kThings);
    }
    if (rng.chance(30)) m += " #comment " + std::string(rng.pick(kThings));
    if (rng.chance(15)) m += " #time " + std::to_string(1 + rng.below(8)) + "h";
    if (rng.chance(10)) m += " #resolve";
    if (rng.chance(60)) {
      m += "\n";
      const std::size_t lines = 1 + rng.below(5);
      for (std::size_t l = 0; l < lines; ++l) m += std::string("\n") + rng.pick(kBody);
    }
    out.push_back(std::move(m));
  }
  return out;
}

void BM_ExtractStoryKeysJira(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  static const std::vector<std::string> all = commit_messages(200'000);
  const std::vector<std::string> messages(all.begin(), all.begin() + static_cast<long>(n));
  std::int64_t bytes = 0;
  for (const auto& m : messages) bytes += static_cast<std::int64_t>(m.size());
  auto pattern = cb::smartcommit::StoryKeyPattern::jira_default();
  if (!pattern) {
    state.SkipWithError(pattern.error().message.c_str());
    return;
  }
  std::size_t keys = 0;
  for (auto _ : state) {
    keys = 0;
    for (const auto& m : messages) keys += pattern->extract_keys(m).size();
    benchmark::DoNotOptimize(keys);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.counters["messages"] = static_cast<double>(n);
  state.counters["avg_msg_bytes"] = static_cast<double>(bytes) / static_cast<double>(n);
  state.counters["keys_found"] = static_cast<double>(keys);
}
BENCHMARK(BM_ExtractStoryKeysJira)->Arg(100'000)->Arg(200'000)->Unit(benchmark::kMillisecond);

/// The same messages through a PatternSet (RE2::Set + per-pattern RE2, URL and allow-list rules):
/// `set` is the default (the jira built-in alone) or every built-in kind; `analyze` adds the
/// smart-commit command parsing of analyze().
void run_pattern_set(benchmark::State& state, const cb::smartcommit::PatternSet& set,
                     bool analyze) {
  const auto n = static_cast<std::size_t>(state.range(0));
  static const std::vector<std::string> all = commit_messages(200'000);
  const std::vector<std::string> messages(all.begin(), all.begin() + static_cast<long>(n));
  std::int64_t bytes = 0;
  for (const auto& m : messages) bytes += static_cast<std::int64_t>(m.size());
  std::size_t keys = 0;
  std::size_t commands = 0;
  for (auto _ : state) {
    keys = 0;
    commands = 0;
    for (const auto& m : messages) {
      if (analyze) {
        const auto a = cb::smartcommit::analyze(m, set);
        keys += a.keys.size();
        commands += a.commands.size();
      } else {
        keys += set.extract(m).size();
      }
    }
    benchmark::DoNotOptimize(keys);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
  state.counters["messages"] = static_cast<double>(n);
  state.counters["keys_found"] = static_cast<double>(keys);
  if (analyze) state.counters["commands_found"] = static_cast<double>(commands);
}

void BM_ExtractPatternSetDefault(benchmark::State& state) {
  run_pattern_set(state, cb::smartcommit::PatternSet::jira_default(), false);
}
BENCHMARK(BM_ExtractPatternSetDefault)->Arg(100'000)->Arg(200'000)->Unit(benchmark::kMillisecond);

void BM_ExtractPatternSetAllBuiltins(benchmark::State& state) {
  run_pattern_set(state, cb::smartcommit::PatternSet::all_builtins(), false);
}
BENCHMARK(BM_ExtractPatternSetAllBuiltins)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_AnalyzeDefault(benchmark::State& state) {
  run_pattern_set(state, cb::smartcommit::PatternSet::jira_default(), true);
}
BENCHMARK(BM_AnalyzeDefault)->Arg(100'000)->Unit(benchmark::kMillisecond);

// ---- store insert: group commit vs one transaction per delivery -------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cb-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Submits `range(0)` deliveries (4 KB body, own X-Request-Id) at once, as concurrent requests
/// do, and waits for every callback: the time a burst of requests waits for durability.
/// `max_batch` 256 is the server's default (group commit); 1 commits each delivery alone.
void run_store_insert(benchmark::State& state, std::size_t max_batch) {
  const auto burst = static_cast<std::size_t>(state.range(0));
  TempDir dir;
  cb::store::sqlite::WriterOptions options;
  options.max_batch = max_batch;
  auto store = cb::store::sqlite::SqliteStore::open(dir.path() / "commitbridge.db", options);
  if (!store) {
    state.SkipWithError(store.error().detail.c_str());
    return;
  }
  auto org = (*store)->create_org("acme", kNow);
  if (!org) {
    state.SkipWithError(org.error().detail.c_str());
    return;
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t pending = 0;
  std::atomic<std::int64_t> failed{0};
  std::int64_t seq = 0;
  for (auto _ : state) {
    {
      std::lock_guard lock(mutex);
      pending = burst;
    }
    for (std::size_t i = 0; i < burst; ++i) {
      const std::string id = "bench-" + std::to_string(++seq);
      cb::store::NewDelivery d;
      d.delivery_id = id;
      d.org_id = org->id;
      d.endpoint = "trigger-scm-push-request";
      d.provider = "bitbucket_server";
      d.event_key = "repo:refs_changed";
      d.external_id = id;
      d.headers = {{"Content-Type", "application/json; charset=utf-8"},
                   {"X-Event-Key", "repo:refs_changed"},
                   {"X-Request-Id", id}};
      d.body = payload_4k();
      d.received_at_ms = kNow;
      (*store)->persist_delivery(std::move(d), [&](cb::Result<cb::store::PersistOutcome> r) {
        if (!r || r->duplicate) failed.fetch_add(1);
        std::lock_guard lock(mutex);
        if (--pending == 0) cv.notify_one();
      });
    }
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return pending == 0; });
  }
  if (failed.load() != 0) state.SkipWithError("some deliveries were not stored");
  (*store)->close();
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(burst));
  state.counters["burst"] = static_cast<double>(burst);
  state.counters["max_batch"] = static_cast<double>(max_batch);
}

void BM_StoreInsert_GroupCommit(benchmark::State& state) { run_store_insert(state, 256); }
BENCHMARK(BM_StoreInsert_GroupCommit)
    ->Arg(1)
    ->Arg(64)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_StoreInsert_NoGroupCommit(benchmark::State& state) { run_store_insert(state, 1); }
BENCHMARK(BM_StoreInsert_NoGroupCommit)->Arg(64)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
