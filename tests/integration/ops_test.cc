// The binary as an operator meets it: config errors, version, backup and
// restore, TLS, CORS.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/roster-ops-XXXXXX";
  return ::mkdtemp(tmpl);
}

/// The permission bits of `path` (not following a final symlink).
unsigned mode_of(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0xffff;
  return st.st_mode & 07777;
}

/// Every directory under `root` (and root) is 0700 and every file 0600;
/// returns the paths that are not, with their modes. `skip`: names left out.
std::string not_owner_only(const std::string& root, const std::set<std::string>& skip = {}) {
  std::string out;
  auto check = [&](const std::filesystem::path& p, bool dir) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%o", mode_of(p));
    if (mode_of(p) != (dir ? 0700u : 0600u)) out += p.string() + " " + buf + "\n";
  };
  check(root, true);
  for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (skip.count(e.path().filename().string())) continue;
    if (e.is_symlink()) continue;
    check(e.path(), e.is_directory());
  }
  return out;
}

TEST(Ops, VersionPrintsTheLibraries) {
  auto [code, out] = run_roster("version");
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("roster 0.1.0"), std::string::npos) << out;
  EXPECT_NE(out.find("RocksDB"), std::string::npos);
}

TEST(Ops, BadConfigStopsTheStartNamingTheKey) {
  auto dir = temp_dir();
  std::ofstream(dir + "/bad.toml") << "[auth]\nsesion_ttl = \"1d\"\n";
  auto [code, out] = run_roster("serve --config " + dir + "/bad.toml --admin-key k-0123456789abcdef --data-dir " + dir);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("auth.sesion_ttl"), std::string::npos) << out;
  std::ofstream(dir + "/bad2.toml") << "[http]\nthreads = -3\n";
  auto [code2, out2] = run_roster("serve --config " + dir + "/bad2.toml --admin-key k-0123456789abcdef --data-dir " + dir);
  EXPECT_EQ(code2, 2);
  EXPECT_NE(out2.find("http.threads"), std::string::npos) << out2;
  auto [code3, out3] = run_roster("serve --data-dir " + dir);
  EXPECT_EQ(code3, 2);
  EXPECT_NE(out3.find("admin.keys"), std::string::npos) << out3;
  // An unknown ROSTER_* variable stops the start as an unknown file key does.
  // (timeout: a node that accepted it would serve until stopped.)
  auto [code4, out4] = run_command("timeout 20 env ROSTER_AUTH_SESION_TTL=1d " + std::string(ROSTER_BINARY) +
                                   " serve --admin-key k-0123456789abcdef --http-listen 127.0.0.1:" +
                                   std::to_string(free_port()) + " --data-dir " + dir + " 2>&1");
  EXPECT_EQ(code4, 2);
  EXPECT_NE(out4.find("ROSTER_AUTH_SESION_TTL"), std::string::npos) << out4;
  std::filesystem::remove_all(dir);
}

TEST(Ops, TestHarnessVariablesDoNotStopTheStart) {
  // ROSTER_TEST_* belong to the test harness (ROSTER_TEST_EXCHANGES, ...): a
  // node that inherits them starts.
  roster_server s(env{{"ROSTER_TEST_HARNESS_ONLY", "1"}});
  EXPECT_EQ(s.call("GET", "/readyz").status, 200);
  EXPECT_EQ(s.call("GET", "/readyz").body["partitions_owned"], 64);
}

TEST(Ops, DataDirRefusesAnotherPartitionCount) {
  auto dir = temp_dir();
  { roster_server s({}, dir); }  // created with 64 partitions
  auto [code, out] = run_roster("serve --admin-key k-0123456789abcdef --partitions 128 --data-dir " + dir);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("64 partitions"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(Ops, BackupOfAStoppedNodeRestores) {
  auto dir = temp_dir();
  auto backup = dir + "-backup";
  std::string id;
  {
    roster_server s({}, dir);
    auto r = s.register_user("backup@example.com", "backed_up");
    ASSERT_EQ(r.status, 201);
    id = r.body["user"]["id"];
    // A running node holds the store: the backup refuses and says why.
    auto [code, out] = run_roster("backup --data-dir " + dir + " --to " + backup);
    EXPECT_NE(code, 0);
    EXPECT_NE(out.find("roster backup --http"), std::string::npos) << out;
    std::filesystem::remove_all(backup);
  }
  auto [code, out] = run_roster("backup --data-dir " + dir + " --to " + backup);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(not_owner_only(backup), "");  // the CLI writes where told, owner-only
  std::filesystem::remove_all(dir);
  roster_server restored({}, backup);
  EXPECT_EQ(restored.admin("GET", "/v1/admin/users/" + id).status, 200);
  EXPECT_EQ(restored.login("backed_up").status, 201);
  restored.stop();
  std::filesystem::remove_all(backup);
}

TEST(Ops, OnlineBackupUnderWritesHoldsEveryWriteAcknowledgedBeforeIt) {
  auto dir = temp_dir();
  auto root = temp_dir();  // admin.backup_root
  auto backup = root + "/online";
  auto by_cli = root + "/online-cli";
  struct acked {
    std::string token;
    int level = 0;
  };
  std::vector<acked> before;  // writes acknowledged before the backup was asked for
  {
    roster_server s({{"ROSTER_ADMIN_BACKUP_ROOT", root}}, dir);
    std::mutex mutex;
    std::vector<acked> users;
    for (int i = 0; i < 8; ++i) {
      auto r = s.call("POST", "/v1/sessions/device", {{"device_id", "backup-device-" + std::to_string(i)}});
      ASSERT_EQ(r.status, 201);
      users.push_back({r.body["session"]["token"], 0});
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w)
      writers.emplace_back([&, w] {
        for (int level = 1; !stop && level < 100'000; ++level)
          for (int u = w; u < 8; u += 4) {
            std::string token;
            {
              std::lock_guard lock(mutex);
              token = users[u].token;
            }
            if (s.as(token, "PATCH", "/v1/account", {{"metadata", {{"level", level}}}}).status != 200) continue;
            std::lock_guard lock(mutex);
            users[u].level = level;
          }
      });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    {
      std::lock_guard lock(mutex);
      before = users;
    }
    auto r = s.admin("POST", "/v1/admin/backup", {{"to", backup}});
    ASSERT_EQ(r.status, 201) << r.raw;
    EXPECT_EQ(r.body["path"], backup);
    EXPECT_GT(r.body["files"].get<int>(), 1);
    EXPECT_GT(r.body["bytes"].get<int64_t>(), 0);
    EXPECT_EQ(r.body["partitions_owned"], 64);
    EXPECT_TRUE(std::filesystem::exists(backup + "/roster.json"));
    EXPECT_EQ(not_owner_only(backup), "");

    // The CLI asks the running node; the node keeps serving writes throughout.
    auto [code, out] = run_roster("backup --http 127.0.0.1:" + std::to_string(s.port()) + " --admin-key " +
                                  s.admin_key() + " --to " + by_cli);
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("written to " + by_cli), std::string::npos) << out;
    stop = true;
    for (auto& t : writers) t.join();
    for (auto& u : users) EXPECT_GT(u.level, before[&u - users.data()].level) << "writes went on during the backup";

    // Bad targets get the documented errors and write nothing.
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", backup}}).status, 409);
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", "relative/dir"}}).body["error"]["fields"]["to"],
              "must be an absolute path on the node");
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", root + "/no-such-parent/x"}}).status, 400);
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", 7}}).status, 400);
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", backup + "-x"}, {"also", 1}}).status, 400);
    EXPECT_EQ(s.call("POST", "/v1/admin/backup", {{"to", backup + "-y"}}).status, 401);
    EXPECT_FALSE(std::filesystem::exists(backup + "-x"));
    EXPECT_FALSE(std::filesystem::exists(backup + "-y"));
  }
  std::filesystem::remove_all(dir);
  for (auto& copy : {backup, by_cli}) {
    roster_server restored({}, copy);
    for (auto& u : before) {
      auto me = restored.as(u.token, "GET", "/v1/account");
      ASSERT_EQ(me.status, 200) << me.raw;
      EXPECT_GE(me.body["metadata"].value("level", 0), u.level);
    }
    restored.stop();
    std::filesystem::remove_all(copy);
  }
  std::filesystem::remove_all(root);
}

TEST(Ops, OnlineBackupIsRefusedWithoutABackupRoot) {
  auto dir = temp_dir();
  auto target = dir + "-unrooted";
  roster_server s;
  auto r = s.admin("POST", "/v1/admin/backup", {{"to", target}});
  EXPECT_EQ(r.status, 403) << r.raw;
  EXPECT_EQ(r.body["error"]["code"], "forbidden");
  EXPECT_NE(r.body["error"]["message"].get<std::string>().find("admin.backup_root"), std::string::npos) << r.raw;
  EXPECT_FALSE(std::filesystem::exists(target));
  std::filesystem::remove_all(dir);
}

TEST(Ops, OnlineBackupStaysInsideTheBackupRoot) {
  auto parent = temp_dir();
  auto root = parent + "/backups";  // does not exist yet: the node creates it, 0700
  auto outside = parent + "/outside";
  std::filesystem::create_directory(outside);
  roster_server s({{"ROSTER_ADMIN_BACKUP_ROOT", root}});
  ASSERT_EQ(s.register_user("rooted@example.com", "rooted").status, 201);
  EXPECT_EQ(mode_of(root), 0700u);
  std::filesystem::create_symlink(outside, root + "/link");            // a way out, if followed
  std::filesystem::create_symlink(outside + "/dangling", root + "/dangle");
  std::filesystem::create_directory(root + "/sub");

  auto refused = [&](const std::string& to, int status = 400) {
    auto r = s.admin("POST", "/v1/admin/backup", {{"to", to}});
    EXPECT_EQ(r.status, status) << to << " " << r.raw;
    if (status == 400) EXPECT_TRUE(r.body["error"]["fields"].contains("to")) << to << " " << r.raw;
  };
  refused(root + "/../outside/escaped");       // '..'
  refused(root + "/sub/../inside");            // any '..' is refused, even one that stays inside
  refused(outside + "/elsewhere");             // not under the root at all
  refused("/tmp/roster-anywhere-at-all");
  refused(root + "/link/through-symlink");     // the parent resolves outside the root
  refused(root);                                // the root itself
  refused(root + "/no-such-dir/x");
  refused(root + "/dangle", 409);              // a dangling symlink is not written through
  refused(root + "/line\nbreak");              // control characters
  refused(root + "/nel\xC2\x85" "x");
  EXPECT_TRUE(std::filesystem::is_empty(outside)) << "something was written outside the root";
  EXPECT_FALSE(std::filesystem::exists(root + "/line\nbreak"));

  // Inside the root, directly or in a subdirectory (also through a trailing
  // slash): written, owner-only.
  for (auto to : {root + "/first", root + "/sub/second/"}) {
    auto r = s.admin("POST", "/v1/admin/backup", {{"to", to}});
    ASSERT_EQ(r.status, 201) << to << " " << r.raw;
    auto written = r.body["path"].get<std::string>();
    EXPECT_EQ(written.rfind(std::filesystem::canonical(root).string() + "/", 0), 0u) << written;
    EXPECT_EQ(not_owner_only(written), "");
  }

  // A refused target with a format character in it is logged escaped: the
  // log line cannot be reordered or hidden by a U+202E in a request.
  auto rlo = root + "/../\xE2\x80\xAE" "gpj.exe";
  refused(rlo);
  auto log = s.log();
  EXPECT_NE(log.find("\\u{202e}gpj.exe"), std::string::npos) << log;
  EXPECT_EQ(log.find("\xE2\x80\xAE"), std::string::npos) << "raw U+202E reached the log";
  s.stop();
  std::filesystem::remove_all(parent);
}

TEST(Ops, DataDirAndItsFilesAreOwnerOnly) {
  auto parent = temp_dir();
  // A fresh data dir, created by the node.
  {
    auto fresh = parent + "/fresh/data";
    roster_server s({}, fresh);
    ASSERT_EQ(s.register_user("fresh@example.com", "fresh").status, 201);
    s.stop();  // flushes: the store's files are all there
    EXPECT_EQ(mode_of(fresh), 0700u);
    EXPECT_EQ(mode_of(fresh + "/roster.json"), 0600u);
    EXPECT_EQ(mode_of(fresh + "/db"), 0700u);
    EXPECT_EQ(not_owner_only(fresh), "");
  }
  // One an older node left 0755: tightened at start; new files are 0600.
  {
    auto old = parent + "/old";
    std::filesystem::create_directory(old);
    std::filesystem::permissions(old, std::filesystem::perms(0755));
    roster_server s({}, old);
    ASSERT_EQ(s.register_user("old@example.com", "old_one").status, 201);
    EXPECT_EQ(mode_of(old), 0700u);
    s.stop();
    EXPECT_EQ(not_owner_only(old, {"server.log"}), "");  // server.log is the test fixture's
  }
  std::filesystem::remove_all(parent);
}

TEST(Ops, ServesHttpsWhenConfigured) {
  auto dir = temp_dir();
  std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout " + key +
                    " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  roster_server s(env{{"ROSTER_HTTP_TLS_CERT", cert}, {"ROSTER_HTTP_TLS_KEY", key}});
  auto r = s.register_user("tls@example.com", "tls_user");
  EXPECT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(s.login("tls_user").status, 201);
  s.stop();
  std::filesystem::remove_all(dir);
}

TEST(Ops, CorsAllowsConfiguredOriginsOnly) {
  roster_server s(env{{"ROSTER_HTTP_CORS_ORIGINS", "https://game.example"}});
  auto ok = s.call("GET", "/healthz", nullptr, {{"Origin", "https://game.example"}});
  EXPECT_EQ(ok.header("Access-Control-Allow-Origin"), "https://game.example");
  auto other = s.call("GET", "/healthz", nullptr, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(other.header("Access-Control-Allow-Origin"), "");
  auto pre = s.raw("OPTIONS", "/v1/account", "", "", {{"Origin", "https://game.example"},
                                                       {"Access-Control-Request-Method", "PATCH"}});
  EXPECT_EQ(pre.status, 204);
  EXPECT_NE(pre.header("Access-Control-Allow-Methods").find("PATCH"), std::string::npos);
  EXPECT_NE(pre.header("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
}

} // namespace

namespace {

TEST(Ops, MoreKeepAliveConnectionsThanThreadsAreAllServed) {
  // 16 threads kept ready (the default); 48 clients each hold a keep-alive
  // connection open. A fixed pool would leave 32 of them waiting ~5 s for a
  // thread; the elastic pool serves them all at once.
  roster_server s(env{{"ROSTER_HTTP_THREADS", "16"}});
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int i = 0; i < 48; ++i) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", s.port());
    c->set_keep_alive(true);
    c->set_read_timeout(2, 0);
    c->set_connection_timeout(2, 0);
    auto r = c->Get("/healthz");
    ASSERT_TRUE(r) << "connection " << i << " was not served";
    EXPECT_EQ(r->status, 200);
    clients.push_back(std::move(c));
  }
  for (auto& c : clients) {
    auto r = c->Get("/healthz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

} // namespace
