// The repository registry against the real binary: the admin REST routes (CRUD, validation,
// scope of org tokens, webhook URLs), CLI parity, payloads matched by clone URL forms, mirror
// fetches with the repository's credentials (also after `keys rotate`), and where credential
// secrets must never appear.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace cbtest {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr const char* kTrigger = "trigger-scm-push-request";
constexpr const char* kSync = "sync-alm-commits";
constexpr const char* kHttpPassword = "tok-8f3a-do-not-leak";
constexpr const char* kPassphrase = "ssh-passphrase-41c2";

json::value parse(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value() : v;
}

/// An HTTP server on 127.0.0.1 that answers every request with 401 and a Basic challenge and
/// records each request's Authorization header: a git remote that wants credentials.
class CredentialRecorder {
 public:
  CredentialRecorder() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(fd_, 8) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot start the stub git server";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  CredentialRecorder(const CredentialRecorder&) = delete;
  CredentialRecorder& operator=(const CredentialRecorder&) = delete;
  ~CredentialRecorder() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::vector<std::string> authorizations() const {
    std::lock_guard lock(mutex_);
    return authorizations_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string request;
      char buf[2048];
      while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd c{client, POLLIN, 0};
        if (poll(&c, 1, 2000) <= 0) break;
        const ssize_t n = recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      constexpr std::string_view kHeader = "\r\nAuthorization: ";
      if (const auto at = request.find(kHeader); at != std::string::npos) {
        const auto start = at + kHeader.size();
        std::lock_guard lock(mutex_);
        authorizations_.push_back(request.substr(start, request.find("\r\n", start) - start));
      }
      constexpr std::string_view kResponse =
          "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"stub\"\r\n"
          "Content-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!send(client, kResponse.data(), kResponse.size(), MSG_NOSIGNAL);
      close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> authorizations_;
  std::thread thread_;
};

class RepositoryRegistryTest : public IntegrationTest {
 protected:
  void SetUp() override {
    const auto created = parse(cli_ok({"admin-token", "create", "--name", "ops", "--json"}));
    admin_token_ = str(created, "token");
    ASSERT_FALSE(admin_token_.empty());
  }

  HttpResponse api(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& token = "") {
    Headers h{{"Authorization", "Bearer " + (token.empty() ? admin_token_ : token)}};
    if (!body.empty()) h.emplace_back("Content-Type", "application/json");
    auto r = http_request(method, server_->base_url() + path, h, body);
    answers_ += r.body;
    return r;
  }

  /// POST a repository of Acme, expecting 201; returns the answer's JSON.
  json::value create_repository(const json::object& body) {
    const auto r = api("POST", "/api/v2/orgs/Acme/repositories", json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.describe();
    return r.json();
  }

  /// Runs the CLI with extra environment variables (for --password-env).
  CommandResult cli_env(std::vector<std::string> args, const Env& env) {
    args.push_back("--data-dir");
    args.push_back(data_dir_.string());
    return run_cli(args, env);
  }

  /// Runs the CLI with `input` on its standard input (through /bin/sh).
  CommandResult cli_stdin(const std::vector<std::string>& args, const std::string& input) {
    std::string command = "printf '%s' \"$CB_INPUT\" | \"$CB_BIN\"";
    for (const auto& a : args) command += " '" + a + "'";
    command += " --data-dir '" + data_dir_.string() + "'";
    return run_process({"/bin/sh", "-c", command}, {{"CB_INPUT", input}, {"CB_BIN", CB_BINARY}});
  }

  void expect_no_secret(const std::string& text, const std::string& where) {
    for (const char* s : {kHttpPassword, kPassphrase}) {
      EXPECT_TRUE(LacksSecret(text, s)) << where;
    }
  }

  std::string admin_token_;
  std::string answers_;
};

TEST_F(RepositoryRegistryTest, ApiCreatesListsGetsUpdatesAndDeletesWithWebhookUrls) {
  create_org("Acme");
  ASSERT_TRUE(start_server({{"COMMITBRIDGE_LOG_LEVEL", "trace"}}));
  const auto created = create_repository(
      {{"provider", "bitbucket_server"},
       {"project_key", "NWA"},
       {"slug", "flight-planner"},
       {"name", "Flight planner"},
       {"http_clone_url", "https://scm.northwind.example/scm/nwa/flight-planner.git"},
       {"ssh_clone_url", "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git"},
       {"default_branch", "main"},
       {"auto_update_alm", true},
       {"credentials",
        {{"type", "http"}, {"username", "build-bot"}, {"password", kHttpPassword}}}});
  const std::string id = std::to_string(created.at("id").as_int64());
  EXPECT_EQ(str(created, "name"), "Flight planner");
  EXPECT_EQ(str(created, "trigger_url"), server_->webhook_url("Acme", kTrigger));
  EXPECT_EQ(str(created, "sync_url"), server_->webhook_url("Acme", kSync));
  EXPECT_EQ(json::serialize(created.at("credentials")),
            R"({"type":"http","username":"build-bot","secret_set":true})");
  EXPECT_TRUE(created.at("browse_url").is_null());

  // A GitHub repository gets the generic webhook URLs.
  const auto gh = create_repository({{"provider", "github"},
                                     {"project_key", "northwind"},
                                     {"slug", "autopilot"},
                                     {"ssh_clone_url", "git@github.com:northwind/autopilot.git"},
                                     {"credentials",
                                      {{"type", "ssh"},
                                       {"key_path", "/etc/commitbridge/id_ed25519"},
                                       {"passphrase", kPassphrase}}}});
  EXPECT_EQ(
      json::serialize(gh.at("credentials")),
      R"({"type":"ssh","username":"git","key_path":"/etc/commitbridge/id_ed25519","secret_set":true})");
  EXPECT_EQ(str(gh, "trigger_url"),
            server_->base_url() + "/api/webhook/v2/Acme/trigger-scm-push-request");
  EXPECT_FALSE(gh.as_object().contains("sync_url"));

  const auto page = api("GET", "/api/v2/orgs/Acme/repositories?limit=1");
  ASSERT_EQ(page.status, 200) << page.describe();
  ASSERT_EQ(page.json().at("items").as_array().size(), 1u);
  const std::string cursor = str(page.json(), "next_cursor");
  ASSERT_FALSE(cursor.empty());
  const auto rest = api("GET", "/api/v2/orgs/Acme/repositories?limit=1&cursor=" + cursor);
  ASSERT_EQ(rest.status, 200);
  EXPECT_EQ(str(rest.json().at("items").as_array().at(0), "slug"), "autopilot");
  EXPECT_TRUE(rest.json().at("next_cursor").is_null());

  const auto patched = api(
      "PATCH", "/api/v2/orgs/Acme/repositories/" + id,
      R"({"auto_update_alm": false, "browse_url": "https://scm.northwind.example/projects/NWA/repos/flight-planner/browse", "credentials": {"type": "http", "username": "build-bot-2"}})");
  ASSERT_EQ(patched.status, 200) << patched.describe();
  EXPECT_FALSE(patched.json().as_object().contains("sync_url"));
  EXPECT_EQ(json::serialize(patched.json().at("credentials")),
            R"({"type":"http","username":"build-bot-2","secret_set":true})");
  const auto got = api("GET", "/api/v2/orgs/acme/repositories/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(str(got.json(), "browse_url"),
            "https://scm.northwind.example/projects/NWA/repos/flight-planner/browse");
  EXPECT_EQ(got.json().at("auto_update_alm"), json::value(false));

  EXPECT_EQ(api("DELETE", "/api/v2/orgs/Acme/repositories/" + id).status, 204);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme/repositories/" + id).status, 404);
  EXPECT_EQ(api("DELETE", "/api/v2/orgs/Acme/repositories/" + id).status, 404);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme/repositories/abc").status, 404);

  const json::value audit = api("GET", "/api/v2/orgs/Acme/audit").json();
  std::vector<std::string> actions;
  for (const auto& e : audit.at("items").as_array()) actions.push_back(str(e, "action"));
  EXPECT_EQ(actions,
            (std::vector<std::string>{"repository.delete", "repository.update", "repository.create",
                                      "repository.create", "org.create"}));
  expect_no_secret(answers_, "API answers");
  const fs::path db = data_dir_ / "commitbridge.db";
  expect_no_secret(read_file(db) + read_file(fs::path(db.string() + "-wal")), "database");
  EXPECT_EQ(server_->stop(), 0);
  const std::string log = server_->all_stderr_text();
  EXPECT_TRUE(Contains(log, "/api/v2/orgs/Acme/repositories"));  // requests are logged
  expect_no_secret(log, "server log");
}

TEST_F(RepositoryRegistryTest, InvalidInputIs400NamingTheFieldAndDuplicatesAre409) {
  create_org("Acme");
  ASSERT_TRUE(start_server());
  const std::string base =
      R"("provider":"bitbucket_server","project_key":"NWA","slug":"planner","http_clone_url":"https://scm.example/scm/nwa/planner.git")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"provider":"svn","project_key":"NWA","slug":"x","http_clone_url":"https://scm.example/x.git"})",
       "provider:"},
      {R"({"project_key":"NWA","slug":"x","http_clone_url":"https://scm.example/x.git"})",
       "provider: is required"},
      {R"({"provider":"github","project_key":"NWA","slug":"x"})",
       "http_clone_url: give a clone URL"},
      {R"({"provider":"github","project_key":"NWA","slug":"x","http_clone_url":"not a url"})",
       "http_clone_url:"},
      {R"({"provider":"github","project_key":"NWA","slug":"x","ssh_clone_url":"https://h/x"})",
       "ssh_clone_url:"},
      {"{" + base + R"(,"browse_url":"ftp://scm.example/x"})", "browse_url:"},
      {"{" + base + R"(,"auto_update_alm":"yes"})", "auto_update_alm: must be true or false"},
      {"{" + base + R"(,"slug":7})", "slug: must be a string"},
      {"{" + base + R"(,"colour":"blue"})", "colour: unknown field"},
      {"{" + base + R"(,"credentials":{"type":"http","username":"x"}})",
       "credentials.password: required"},
      {"{" + base + R"(,"credentials":{"type":"ftp"}})", "credentials.type:"},
      {"{" + base + R"(,"credentials":{"type":"http","username":"x","password":"p","pin":1}})",
       "credentials.pin: unknown field"},
      {"[1]", "the body must be a JSON object"},
  };
  for (const auto& [body, message] : cases) {
    const auto r = api("POST", "/api/v2/orgs/Acme/repositories", body);
    EXPECT_EQ(r.status, 400) << body << "\n" << r.describe();
    EXPECT_EQ(r.error_code(), "invalid_argument") << body;
    EXPECT_TRUE(StartsWith(r.error_message(), message)) << body << "\n" << r.describe();
  }
  ASSERT_EQ(api("POST", "/api/v2/orgs/Acme/repositories", "{" + base + "}").status, 201);
  const auto dup = api(
      "POST", "/api/v2/orgs/Acme/repositories",
      R"({"provider":"bitbucket_server","project_key":"nwa","slug":"PLANNER","ssh_clone_url":"git@scm.example:nwa/planner.git"})");
  EXPECT_EQ(dup.status, 409) << dup.describe();
  EXPECT_EQ(dup.error_code(), "conflict");
  const auto unknown_org = api("GET", "/api/v2/orgs/Nowhere/repositories");
  EXPECT_EQ(unknown_org.status, 404);
}

TEST_F(RepositoryRegistryTest, OrgApiTokensActOnTheirOwnOrgsRepositoriesOnly) {
  create_org("Acme");
  create_org("Globex");
  const std::string acme = create_token("Acme", "automation", "api");
  const std::string hook = create_token("Acme", "bitbucket", "webhook");
  ASSERT_TRUE(start_server());
  const std::string body =
      R"({"provider":"gitea","project_key":"acme","slug":"tools","http_clone_url":"https://gitea.example/acme/tools.git"})";
  const auto own = api("POST", "/api/v2/orgs/Acme/repositories", body, acme);
  EXPECT_EQ(own.status, 201) << own.describe();
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme/repositories", "", acme).status, 200);
  EXPECT_EQ(api("POST", "/api/v2/orgs/Globex/repositories", body, acme).status, 403);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Globex/repositories", "", acme).status, 403);
  EXPECT_EQ(api("GET", "/api/v2/orgs/Acme/repositories", "", hook).status, 403);
  const auto none =
      http_request("GET", server_->base_url() + "/api/v2/orgs/Acme/repositories", {}, "");
  EXPECT_EQ(none.status, 401);
  const auto audit = api("GET", "/api/v2/orgs/Acme/audit?limit=1");
  EXPECT_EQ(str(audit.json().at("items").as_array().at(0), "action"), "repository.create");
  EXPECT_TRUE(StartsWith(str(audit.json().at("items").as_array().at(0), "actor"), "token:"));
}

TEST_F(RepositoryRegistryTest, PublicBaseUrlSettingBuildsTheWebhookUrls) {
  create_org("Acme");
  ASSERT_TRUE(
      start_server({{"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", "https://hooks.example.com/"}}));
  const auto created = create_repository({{"provider", "bitbucket_server"},
                                          {"project_key", "NWA"},
                                          {"slug", "x"},
                                          {"http_clone_url", "https://scm.example/scm/nwa/x.git"},
                                          {"auto_update_alm", true}});
  EXPECT_EQ(str(created, "trigger_url"),
            "https://hooks.example.com/api/webhook/v2/Acme/enterprise/trigger-scm-push-request");
  EXPECT_EQ(str(created, "sync_url"),
            "https://hooks.example.com/api/webhook/v2/Acme/enterprise/sync-alm-commits");
  const auto cli =
      parse(run_cli({"repo", "get", "--org", "Acme", "--repo", "NWA/x", "--json", "--data-dir",
                     data_dir_.string()},
                    {{"COMMITBRIDGE_SERVER_PUBLIC_BASE_URL", "https://hooks.example.com"}})
                .out);
  EXPECT_EQ(str(cli, "trigger_url"), str(created, "trigger_url"));
}

TEST_F(RepositoryRegistryTest, CliHasParityAndTakesSecretsFromEnvStdinOrFileOnly) {
  create_org("Acme");
  // The historical flags keep working.
  const std::string added = cli_ok(
      {"repo", "add", "--org", "Acme", "--project", "NWA", "--slug", "flight-planner",
       "--clone-url", "https://scm.example/scm/nwa/flight-planner.git", "--auto-update-alm"});
  EXPECT_TRUE(Contains(added, "registered bitbucket_server repository NWA/flight-planner"));
  EXPECT_TRUE(Contains(added, "/api/webhook/v2/Acme/enterprise/sync-alm-commits"));

  const auto with_env =
      cli_env({"repo", "update", "--org", "Acme", "--repo", "nwa/flight-planner", "--username",
               "build-bot", "--password-env", "CB_REPO_TOKEN", "--json"},
              {{"CB_REPO_TOKEN", kHttpPassword}});
  ASSERT_EQ(with_env.exit_code, 0) << with_env.describe();
  EXPECT_EQ(json::serialize(parse(with_env.out).at("credentials")),
            R"({"type":"http","username":"build-bot","secret_set":true})");

  const auto from_stdin =
      cli_stdin({"repo", "add", "--org", "Acme", "--project", "NWA", "--slug", "autopilot",
                 "--clone-url", "ssh://git@scm.example:7999/nwa/autopilot.git", "--ssh-key",
                 "/etc/commitbridge/id_ed25519", "--password-stdin", "--json"},
                std::string(kPassphrase) + "\n");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.describe();
  const auto ssh = parse(from_stdin.out);
  EXPECT_EQ(str(ssh, "ssh_clone_url"), "ssh://git@scm.example:7999/nwa/autopilot.git");
  EXPECT_EQ(
      json::serialize(ssh.at("credentials")),
      R"({"type":"ssh","username":"git","key_path":"/etc/commitbridge/id_ed25519","secret_set":true})");

  write_file(tmp_.path() / "password.txt", std::string(kHttpPassword) + "\n");
  const auto from_file =
      cli_env({"repo", "add", "--org", "Acme", "--provider", "github", "--project", "northwind",
               "--slug", "nav", "--http-clone-url", "https://github.com/northwind/nav.git",
               "--username", "x", "--password-file", (tmp_.path() / "password.txt").string()},
              {});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.describe();

  // There is no option that takes the secret itself.
  const auto plain =
      cli({"repo", "add", "--org", "Acme", "--project", "NWA", "--slug", "p", "--clone-url",
           "https://scm.example/scm/nwa/p.git", "--password", kHttpPassword});
  EXPECT_EQ(plain.exit_code, 2) << plain.describe();  // (CLI11 echoes the unexpected words)
  const auto unset = cli({"repo", "update", "--org", "Acme", "--repo", "NWA/autopilot",
                          "--password-env", "CB_NOT_SET_ANYWHERE"});
  EXPECT_EQ(unset.exit_code, 1);
  EXPECT_TRUE(Contains(unset.err, "CB_NOT_SET_ANYWHERE is not set"));
  const auto invalid = cli({"repo", "add", "--org", "Acme", "--project", "NWA", "--slug", "q",
                            "--clone-url", "ftp://scm.example/q.git"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_TRUE(StartsWith(invalid.err, "error: http_clone_url:")) << invalid.describe();

  const auto list = parse(cli_ok({"repo", "list", "--org", "Acme", "--json"}));
  ASSERT_EQ(list.at("items").as_array().size(), 3u);
  const std::string table = cli_ok({"repo", "list", "--org", "Acme"});
  EXPECT_TRUE(Contains(table, "NWA/autopilot"));
  const std::string shown =
      cli_ok({"repo", "get", "--org", "Acme", "--repo", "NWA/flight-planner"});
  EXPECT_TRUE(Contains(shown, "credentials:     http (user build-bot, secret set)"));

  const auto off = parse(cli_ok({"repo", "update", "--org", "Acme", "--repo", "NWA/flight-planner",
                                 "--no-auto-update-alm", "--default-branch", "main", "--json"}));
  EXPECT_EQ(off.at("auto_update_alm"), json::value(false));
  EXPECT_FALSE(off.as_object().contains("sync_url"));
  EXPECT_EQ(str(off, "default_branch"), "main");

  EXPECT_TRUE(Contains(cli_ok({"repo", "remove", "--org", "Acme", "--repo", "NWA/autopilot"}),
                       "removed repository NWA/autopilot"));
  const auto gone = cli({"repo", "get", "--org", "Acme", "--repo", "NWA/autopilot"});
  EXPECT_EQ(gone.exit_code, 1);

  std::string out = added + with_env.out + with_env.err + from_stdin.out + from_stdin.err +
                    from_file.out + from_file.err + table + shown;
  out += cli_ok({"repo", "list", "--org", "Acme", "--json"});
  out += cli_ok({"repo", "get", "--org", "Acme", "--repo", "NWA/flight-planner", "--json"});
  out += cli_ok({"audit", "list", "--org", "Acme", "--json"});
  expect_no_secret(out, "CLI output");
  // The database holds the secrets sealed only.
  const fs::path db = data_dir_ / "commitbridge.db";
  expect_no_secret(read_file(db) + read_file(fs::path(db.string() + "-wal")), "database");
}

TEST_F(RepositoryRegistryTest, PayloadsMatchByCloneUrlFormsWhenNamesDiffer) {
  create_org("Acme");
  const std::string token = create_token("Acme", "bitbucket");
  // Registered under other names, with the SSH form of its URL only.
  cli_ok({"repo", "add", "--org", "Acme", "--project", "LEGACY", "--slug", "planner",
          "--ssh-clone-url", "ssh://git@scm.northwind.example:7999/nwa/flight-planner.git"});
  cli_ok({"job", "add", "--org", "Acme", "--repo", "LEGACY/planner", "--name", "build",
          "--branches", "main", "--", "/bin/sh", "-c", "echo built"});
  ASSERT_TRUE(start_server());

  auto with_links = [](const std::string& project, const std::string& slug,
                       const std::string& http_href) {
    auto body = parse(bitbucket_push_body(
        project, slug, {branch_change("main", "UPDATE", fake_hash("a1"), fake_hash("b1"))}));
    auto& repo = body.as_object()["repository"].as_object();
    repo["links"] =
        json::object{{"clone", json::array{json::object{{"href", http_href}, {"name", "http"}}}}};
    return json::serialize(body);
  };
  const auto matched =
      send_push("Acme", token,
                with_links("NWA", "flight-planner",
                           "https://marta@scm.northwind.example/scm/NWA/flight-planner.git"));
  ASSERT_EQ(matched.status, 202) << matched.describe();
  const auto done = wait_processed(str(matched.json(), "delivery_id"));
  EXPECT_EQ(str(done, "status"), "done") << json::serialize(done);
  EXPECT_TRUE(Contains(str(done, "reason"), "1 job run queued: build@main"));
  const auto runs = wait_runs_settled(str(matched.json(), "delivery_id"));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(str(runs[0], "status"), "succeeded") << json::serialize(runs);

  const auto other =
      send_push("Acme", token,
                with_links("NWA", "flight-planner-2",
                           "https://scm.northwind.example/scm/nwa/flight-planner-2.git"));
  ASSERT_EQ(other.status, 202);
  const auto ignored = wait_processed(str(other.json(), "delivery_id"));
  EXPECT_EQ(str(ignored, "status"), "ignored");
  EXPECT_TRUE(Contains(str(ignored, "reason"), "is not registered in org Acme"));
}

class RepositoryCredentialsTest : public RepositoryRegistryTest {
 protected:
  RepositoryCredentialsTest() = default;
};

TEST_F(RepositoryCredentialsTest, MirrorFetchesWithTheCredentialsAlsoAfterKeysRotate) {
  create_org("Acme");
  const std::string token = create_token("Acme", "bitbucket");
  CredentialRecorder remote;
  const std::string url =
      "http://127.0.0.1:" + std::to_string(remote.port()) + "/scm/nwa/flight-planner.git";
  const auto added = cli_env({"repo", "add", "--org", "Acme", "--project", "NWA", "--slug",
                              "flight-planner", "--clone-url", url, "--auto-update-alm",
                              "--username", "build-bot", "--password-env", "CB_REPO_TOKEN"},
                             {{"CB_REPO_TOKEN", kHttpPassword}});
  ASSERT_EQ(added.exit_code, 0) << added.describe();
  // One webhook secret and one repository credential are re-sealed.
  const auto rotated = cli({"keys", "rotate"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.describe();
  EXPECT_TRUE(Contains(rotated.out, "re-sealed 2 secrets")) << rotated.describe();

  ASSERT_TRUE(start_server({{"COMMITBRIDGE_LOG_LEVEL", "trace"}}));
  const std::string body = bitbucket_push_body(
      "NWA", "flight-planner", {branch_change("main", "UPDATE", fake_hash("c1"), fake_hash("d1"))});
  const auto r = send_push("Acme", token, body, new_request_id(), kSync);
  ASSERT_EQ(r.status, 202) << r.describe();
  // "Basic " + base64("build-bot:tok-8f3a-do-not-leak"), opened with the rotated key.
  const std::string expected = basic_auth("build-bot", kHttpPassword);
  EXPECT_TRUE(wait_until([&] { return !remote.authorizations().empty(); }, 15s));
  ASSERT_FALSE(remote.authorizations().empty());
  EXPECT_EQ(remote.authorizations().front(), expected);
  const auto delivery_id = str(r.json(), "delivery_id");
  EXPECT_TRUE(
      wait_until([&] { return Contains(str(delivery(delivery_id), "reason"), "rejected"); }, 15s))
      << json::serialize(delivery(delivery_id));
  const std::string reason = str(delivery(delivery_id), "reason");
  EXPECT_TRUE(Contains(reason, "127.0.0.1:" + std::to_string(remote.port())));
  EXPECT_EQ(server_->stop(), 0);
  expect_no_secret(reason + server_->all_stderr_text() +
                       cli_ok({"deliveries", "list", "--org", "Acme", "--json"}),
                   "delivery reason, server log");
}

}  // namespace
}  // namespace cbtest
