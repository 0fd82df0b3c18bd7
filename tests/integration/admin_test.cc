// Admin and operator endpoints over HTTP.
#include <gtest/gtest.h>

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

TEST(Admin, StatsCountUsersByKind) {
  roster_server s;
  ASSERT_EQ(s.register_user("a1@example.com", "a1_user").status, 201);
  ASSERT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "device-stats-0001"}}).status, 201);
  ASSERT_EQ(s.call("POST", "/v1/sessions/anonymous").status, 201);
  auto st = s.admin("GET", "/v1/admin/stats");
  ASSERT_EQ(st.status, 200) << st.raw;
  EXPECT_EQ(st.body["users"], 3);
  EXPECT_EQ(st.body["with_password"], 1);
  EXPECT_EQ(st.body["registered_last_7d"], 3);
  EXPECT_EQ(st.body["by_provider"]["device"], 1);
  EXPECT_EQ(st.body["by_provider"]["anonymous"], 1);
  EXPECT_EQ(s.admin("GET", "/v1/admin/stats?days=30").body["registered_last_30d"], 3);
  EXPECT_EQ(s.admin("GET", "/v1/admin/stats?days=-1").status, 400);
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
