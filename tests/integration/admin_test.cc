// Admin and operator endpoints over HTTP.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

TEST(Admin, RequiresTheAdminKey) {
  roster_server s;
  EXPECT_EQ(s.call("GET", "/v1/admin/users").status, 401);
  EXPECT_EQ(s.call("GET", "/v1/admin/users", nullptr, {{"X-Admin-Key", "wrong-key-wrong-key"}}).status, 401);
  EXPECT_EQ(s.call("GET", "/debug/actors").status, 401);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users").status, 200);
}

TEST(Admin, SearchIsPartialCaseInsensitiveAndPaginated) {
  roster_server s;
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(s.register_user("player" + std::to_string(i) + "@Guild.example", "hero_" + std::to_string(i)).status, 201);
  ASSERT_EQ(s.register_user("other@else.example", "villain").status, 201);
  auto all = s.admin("GET", "/v1/admin/users?q=GUILD&page=1&page_size=2");
  ASSERT_EQ(all.status, 200) << all.raw;
  EXPECT_EQ(all.body["total"], 5);
  EXPECT_EQ(all.body["page"], 1);
  EXPECT_EQ(all.body["page_size"], 2);
  EXPECT_EQ(all.body["items"].size(), 2u);
  auto last = s.admin("GET", "/v1/admin/users?q=guild&page=3&page_size=2");
  EXPECT_EQ(last.body["items"].size(), 1u);
  auto by_name = s.admin("GET", "/v1/admin/users?q=VILL");
  ASSERT_EQ(by_name.body["total"], 1);
  EXPECT_EQ(by_name.body["items"][0]["email"], "other@else.example");
  EXPECT_EQ(s.admin("GET", "/v1/admin/users?page=0").status, 400);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users?page_size=500").status, 400);
}

/// The code in the newest email_code message the log sender wrote to `to`
/// (waits up to 5 s); "" if none.
std::string emailed_code(const roster_server& s, const std::string& to) {
  namespace fs = std::filesystem;
  for (int i = 0; i < 100; ++i) {
    std::string newest, text;
    if (fs::exists(fs::path(s.data_dir()) / "messages"))
      for (auto& f : fs::directory_iterator(fs::path(s.data_dir()) / "messages")) {
        std::ifstream in(f.path());
        std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (t.find("To: " + to + "\n") != std::string::npos && t.find("Purpose: email_code\n") != std::string::npos &&
            f.path().filename().string() > newest)
          newest = f.path().filename().string(), text = t;
      }
    std::smatch m;
    if (std::regex_search(text, m, std::regex("code is ([0-9]{6})"))) return m[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

TEST(Admin, StatsCountUsersByKind) {
  roster_server s;
  ASSERT_EQ(s.register_user("a1@example.com", "a1_user").status, 201);
  ASSERT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "device-stats-0001"}}).status, 201);
  ASSERT_EQ(s.call("POST", "/v1/sessions/anonymous").status, 201);
  // A login method with no field of its own on the record is counted too.
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "coded@example.com"}}).status, 202);
  auto code = emailed_code(s, "coded@example.com");
  ASSERT_EQ(code.size(), 6u);
  ASSERT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "coded@example.com"}, {"code", code}}).status, 201);
  auto st = s.admin("GET", "/v1/admin/stats");
  ASSERT_EQ(st.status, 200) << st.raw;
  // SPEC §4's keys, and `partial` (every cross-partition answer has it).
  std::set<std::string> keys;
  for (auto& [k, v] : st.body.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"users", "online", "registered_last_7d", "active_last_7d", "with_password",
                                         "unactivated", "by_provider", "partial"}))
      << st.raw;
  EXPECT_EQ(st.body["users"], 4);
  EXPECT_EQ(st.body["with_password"], 1);
  EXPECT_EQ(st.body["registered_last_7d"], 4);
  EXPECT_EQ(st.body["by_provider"], (json{{"password", 1}, {"device", 1}, {"anonymous", 1}, {"email_code", 1}}));
  // ?days= changes the window, not the names.
  auto month = s.admin("GET", "/v1/admin/stats?days=30");
  ASSERT_EQ(month.status, 200) << month.raw;
  EXPECT_EQ(month.body["registered_last_7d"], 4);
  EXPECT_EQ(month.body["active_last_7d"], 4);
  EXPECT_FALSE(month.body.contains("registered_last_30d")) << month.raw;
  EXPECT_EQ(s.admin("GET", "/v1/admin/stats?days=-1").status, 400);
}

TEST(Admin, ActivationAndBlockingAreSeparateStates) {
  roster_server s(env{{"ROSTER_AUTH_REQUIRE_ACTIVATION", "true"}});
  auto r = s.register_user("pia@example.com", "pia");
  ASSERT_EQ(r.status, 201) << r.raw;
  auto id = r.body["user"]["id"].get<std::string>();
  auto act = [&](const std::string& what) { return s.admin("POST", "/v1/admin/users/" + id + "/" + what); };
  auto shown = [&](const response& a) { return a.body.value("status", std::string("?")); };

  // Pending, then blocked: blocked is shown, and wins at login.
  auto blocked = act("block");
  ASSERT_EQ(blocked.status, 200) << blocked.raw;
  EXPECT_EQ(shown(blocked), "blocked");
  EXPECT_EQ(s.login("pia").body["error"]["code"], "account_blocked");
  // Unblocking does not activate: still pending.
  auto unblocked = act("unblock");
  ASSERT_EQ(unblocked.status, 200) << unblocked.raw;
  EXPECT_EQ(shown(unblocked), "pending_activation");
  EXPECT_EQ(s.login("pia").body["error"]["code"], "pending_activation");
  // Activating does not unblock: still blocked.
  ASSERT_EQ(act("block").status, 200);
  auto activated = act("activate");
  ASSERT_EQ(activated.status, 200) << activated.raw;
  EXPECT_EQ(shown(activated), "blocked");
  EXPECT_EQ(activated.body["activated"], true);
  EXPECT_EQ(activated.body["blocked"], true);
  EXPECT_EQ(s.login("pia").body["error"]["code"], "account_blocked");
  // Both lifted: active.
  auto active = act("unblock");
  EXPECT_EQ(shown(active), "active");
  EXPECT_EQ(active.body["activated"], true);
  EXPECT_EQ(active.body["blocked"], false);
  EXPECT_EQ(s.login("pia").status, 201);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + id).body["status"], "active");
  // Each change that changed something is in the security log.
  auto logs = s.as(token_of(s.login("pia")), "GET", "/v1/account/logs?limit=200");
  int changes = 0;
  for (auto& e : logs.body["items"]) changes += e["event"] == "status_changed";
  EXPECT_EQ(changes, 5) << logs.raw;
}

TEST(Admin, ViewEditDeleteAndMassLogout) {
  roster_server s;
  auto a = s.register_user("tom@example.com", "tom");
  auto id = a.body["user"]["id"].get<std::string>();
  auto token = token_of(a);
  auto view = s.admin("GET", "/v1/admin/users/" + id);
  ASSERT_EQ(view.status, 200) << view.raw;
  EXPECT_EQ(view.body["email"], "tom@example.com");
  EXPECT_EQ(view.body["sessions"], 1);
  EXPECT_FALSE(view.body.contains("password_hash"));
  auto edit = s.admin("PATCH", "/v1/admin/users/" + id, {{"email", "thomas@example.com"}, {"display_name", "Thomas"}});
  ASSERT_EQ(edit.status, 200) << edit.raw;
  EXPECT_EQ(edit.body["email"], "thomas@example.com");
  EXPECT_EQ(s.login("thomas@example.com").status, 201);
  EXPECT_EQ(s.login("tom@example.com").status, 401);
  EXPECT_EQ(s.register_user("tom@example.com", "tom2").status, 201);  // old email released
  auto logout = s.admin("DELETE", "/v1/admin/users/" + id + "/sessions");
  ASSERT_EQ(logout.status, 204) << logout.raw;
  EXPECT_EQ(logout.raw, "");
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + id).body["sessions"], 0);
  EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + id).status, 204);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + id).status, 404);
  EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + id).status, 404);
  EXPECT_EQ(s.register_user("thomas@example.com", "tom").status, 201);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/00000000-0000-4000-8000-000000000000").status, 404);
}

TEST(Debug, ActorsClusterAndUserViews) {
  roster_server s;
  auto a = s.register_user("uma@example.com", "uma");
  auto id = a.body["user"]["id"].get<std::string>();
  auto actors = s.admin("GET", "/debug/actors");
  ASSERT_EQ(actors.status, 200) << actors.raw;
  EXPECT_GE(actors.body["user_actors"].get<int>(), 1);
  EXPECT_EQ(actors.body["partition_hosts"], 64);
  auto cluster = s.admin("GET", "/debug/cluster");
  ASSERT_EQ(cluster.status, 200);
  EXPECT_EQ(cluster.body["partitions"], 64);
  EXPECT_EQ(cluster.body["members"].size(), 1u);
  EXPECT_EQ(cluster.body["partitions_served_here"], 64);
  EXPECT_EQ(cluster.body["epoch"], 1);
  // A single node has no cluster to leave; without the key, no leave at all.
  auto leave = s.admin("POST", "/v1/admin/cluster/leave");
  EXPECT_EQ(leave.status, 400) << leave.raw;
  EXPECT_EQ(leave.body["error"]["code"], "invalid_request");
  EXPECT_EQ(s.call("POST", "/v1/admin/cluster/leave").status, 401);
  EXPECT_EQ(s.call("GET", "/healthz").status, 200);
  auto user = s.admin("GET", "/debug/users/" + id);
  ASSERT_EQ(user.status, 200) << user.raw;
  EXPECT_EQ(user.body["live"], true);
  EXPECT_EQ(user.body["sessions"], 1);
  EXPECT_TRUE(user.body["partition"].is_number());
  EXPECT_EQ(user.body["owner"], "node-1");
}

TEST(Debug, IdleUserActorsArePassivatedAndComeBack) {
  roster_server s(env{{"ROSTER_ACTORS_IDLE_PASSIVATION", "300ms"}});
  auto a = s.register_user("vic@example.com", "vic");
  auto id = a.body["user"]["id"].get<std::string>();
  EXPECT_EQ(s.admin("GET", "/debug/users/" + id).body["live"], true);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(s.admin("GET", "/debug/users/" + id).body["live"], false);
  EXPECT_EQ(s.admin("GET", "/debug/actors").body["user_actors"], 0);
  // State comes back from the store on the next request.
  auto me = s.as(token_of(a), "GET", "/v1/account");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.body["email"], "vic@example.com");
}

TEST(Debug, UnknownUsersAreNotFoundPassivatedOnesExist) {
  roster_server s(env{{"ROSTER_ACTORS_IDLE_PASSIVATION", "300ms"}});
  auto a = s.register_user("una@example.com", "una");
  auto id = a.body["user"]["id"].get<std::string>();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto known = s.admin("GET", "/debug/users/" + id);
  ASSERT_EQ(known.status, 200) << known.raw;
  EXPECT_EQ(known.body["live"], false);
  EXPECT_EQ(known.body["exists"], true);
  EXPECT_EQ(s.admin("GET", "/debug/actors").body["user_actors"], 0) << "asking woke the actor";
  // A well-formed id nobody has: not the same answer as a passivated user.
  auto unknown = s.admin("GET", "/debug/users/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(unknown.status, 404) << unknown.raw;
  EXPECT_EQ(unknown.body["error"]["code"], "not_found");
  // Unknown also while an actor is live for that id (a profile read spawned it).
  EXPECT_EQ(s.call("GET", "/v1/users/00000000-0000-4000-8000-000000000001").status, 404);
  EXPECT_EQ(s.admin("GET", "/debug/users/00000000-0000-4000-8000-000000000001").status, 404);
  // A deleted user is gone from the debug view too.
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/users/" + id).status, 204);
  EXPECT_EQ(s.admin("GET", "/debug/users/" + id).status, 404);
  // Live and known: exists as well.
  auto b = s.register_user("ula@example.com", "ula");
  auto live = s.admin("GET", "/debug/users/" + b.body["user"]["id"].get<std::string>());
  EXPECT_EQ(live.body["live"], true);
  EXPECT_EQ(live.body["exists"], true);
}

TEST(Ops, HealthReadinessAndMetrics) {
  roster_server s;
  EXPECT_EQ(s.call("GET", "/healthz").status, 200);
  auto ready = s.call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body["status"], "ready");
  ASSERT_EQ(s.register_user("wes@example.com", "wes").status, 201);
  auto m = s.raw("GET", "/metrics", "", "");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.raw.find("roster_http_requests_total{method=\"POST\",route=\"/v1/accounts\",status=\"201\"} 1"),
            std::string::npos)
    << m.raw.substr(0, 2000);
  EXPECT_NE(m.raw.find("roster_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.raw.find("roster_live_user_actors"), std::string::npos);
  EXPECT_NE(m.raw.find("roster_store{figure=\"estimate_num_keys\"}"), std::string::npos);
}

} // namespace
