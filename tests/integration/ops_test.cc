// The binary as an operator meets it: config errors, version, backup and
// restore, TLS, CORS.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/roster-ops-XXXXXX";
  return ::mkdtemp(tmpl);
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
  std::filesystem::remove_all(dir);
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
    EXPECT_NE(out.find("stop it first"), std::string::npos) << out;
    std::filesystem::remove_all(backup);
  }
  auto [code, out] = run_roster("backup --data-dir " + dir + " --to " + backup);
  ASSERT_EQ(code, 0) << out;
  std::filesystem::remove_all(dir);
  roster_server restored({}, backup);
  EXPECT_EQ(restored.admin("GET", "/v1/admin/users/" + id).status, 200);
  EXPECT_EQ(restored.login("backed_up").status, 201);
  restored.stop();
  std::filesystem::remove_all(backup);
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
