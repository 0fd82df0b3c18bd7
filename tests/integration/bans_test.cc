// Bans (issue 12 item 5, SPEC §4): POST /v1/admin/bans, GET and DELETE
// /v1/admin/bans/{user_id}, 403 account_banned with reason and expiry,
// bans that lift themselves, named admin keys as the ban's `by`.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "base/clock.h"
#include "tests/support/roster_server.h"
#include "tests/support/sse_client.h"
#include "tests/support/webhook_receiver.h"

using namespace roster::testing;

namespace {

// The fixture's plain key plus a named one: "moderator-ana" is what a ban
// made with ana's key records as `by`.
constexpr const char* ana_key = "ana-admin-key-0123456789";

constexpr const char* fixture_key = "test-admin-key-0123456789";  // roster_server::admin_key()

env named_keys() { return {{"ROSTER_ADMIN_KEYS", std::string(fixture_key) + ",moderator-ana:" + ana_key}}; }

struct player {
  std::string id, token;
};

player make_player(const roster_server& s, const std::string& name) {
  auto r = s.register_user(name + "@example.com", name);
  EXPECT_EQ(r.status, 201) << r.raw;
  if (r.status != 201) return {};
  return {r.body["user"]["id"], r.body["session"]["token"]};
}

response as_ana(const roster_server& s, const std::string& method, const std::string& path, const json& body = nullptr) {
  return s.call(method, path, body, {{"X-Admin-Key", ana_key}});
}

std::string code_of(const response& r) { return r.body.is_object() ? r.body["error"].value("code", "") : ""; }

std::string in_ms(roster::millis ms) { return roster::format_time(roster::now_ms() + ms); }

TEST(Bans, ABanStopsSessionsJwtsStreamsAndLoginsUntilLifted) {
  roster_server s(named_keys());
  ASSERT_EQ(s.admin_key(), fixture_key);
  auto ann = make_player(s, "ann_banned");
  auto jwt = s.as(ann.token, "POST", "/v1/sessions/jwt");
  ASSERT_EQ(jwt.status, 201) << jwt.raw;
  std::string jwt_token = jwt.body["token"];
  ASSERT_EQ(s.as(jwt_token, "GET", "/v1/account").status, 200);
  ASSERT_EQ(s.as(ann.token, "GET", "/v1/account").status, 200);  // published in the read cache
  auto dev = s.call("POST", "/v1/sessions/device", {{"device_id", "device-ban-0001-abcdef"}});
  ASSERT_EQ(dev.status, 201) << dev.raw;
  std::string dev_id = dev.body["user"]["id"];
  sse_client stream(s.port(), "/v1/events", {{"Authorization", "Bearer " + ann.token}});
  ASSERT_EQ(stream.status(), 200);

  auto until = in_ms(3'600'000);
  auto ban = as_ana(s, "POST", "/v1/admin/bans", {{"user_id", ann.id}, {"reason", "cheating in ranked"}, {"expires_at", until}});
  ASSERT_EQ(ban.status, 201) << ban.raw;
  EXPECT_EQ(ban.body["banned"], true);
  EXPECT_EQ(ban.body["by"], "moderator-ana");
  EXPECT_EQ(ban.body["expires_at"], until);
  EXPECT_EQ(ban.raw.find(ana_key), std::string::npos);  // never the key

  // The session token and the JWT: 403 with the reason and the expiry.
  for (auto& token : {ann.token, jwt_token}) {
    auto r = s.as(token, "GET", "/v1/account");
    ASSERT_EQ(r.status, 403) << r.raw;
    EXPECT_EQ(code_of(r), "account_banned");
    EXPECT_EQ(r.body["error"]["details"]["reason"], "cheating in ranked");
    EXPECT_EQ(r.body["error"]["details"]["expires_at"], until);
  }
  EXPECT_EQ(code_of(s.as(ann.token, "PATCH", "/v1/account", {{"display_name", "Still Here"}})), "account_banned");
  EXPECT_EQ(code_of(s.as(ann.token, "POST", "/v1/sessions/jwt")), "account_banned");  // no new JWTs either
  EXPECT_EQ(code_of(s.as(ann.token, "POST", "/v1/events/ticket")), "account_banned");
  // The stream hears of it, then ends.
  std::optional<sse_event> e;
  bool saw_banned = false;
  while ((e = stream.next()) && e->event != "end") {
    if (e->event != "user.banned") continue;
    saw_banned = true;
    auto data = json::parse(e->data)["data"];
    EXPECT_EQ(data["reason"], "cheating in ranked");
    EXPECT_FALSE(data.contains("by")) << e->data;  // the admin key's name is the studio's (webhooks), not the player's
  }
  EXPECT_TRUE(saw_banned);
  ASSERT_TRUE(e);
  EXPECT_EQ(json::parse(e->data)["reason"], "account_banned");
  EXPECT_TRUE(stream.wait_closed());

  // Logins: password (right password) and device.
  auto login = s.login("ann_banned");
  EXPECT_EQ(login.status, 403) << login.raw;
  EXPECT_EQ(code_of(login), "account_banned");
  EXPECT_EQ(login.body["error"]["details"]["reason"], "cheating in ranked");
  EXPECT_EQ(code_of(s.login("ann_banned", "wrong-password-1")), "invalid_credentials");  // reveals nothing
  auto dev_ban = s.admin("POST", "/v1/admin/bans", {{"user_id", dev_id}, {"reason", "botting"}});
  ASSERT_EQ(dev_ban.status, 201) << dev_ban.raw;
  EXPECT_TRUE(dev_ban.body["expires_at"].is_null());
  EXPECT_EQ(dev_ban.body["by"], "key-1");  // a plain key: its position in admin.keys
  auto dev_login = s.call("POST", "/v1/sessions/device", {{"device_id", "device-ban-0001-abcdef"}});
  EXPECT_EQ(dev_login.status, 403) << dev_login.raw;
  EXPECT_EQ(code_of(dev_login), "account_banned");
  EXPECT_TRUE(dev_login.body["error"]["details"]["expires_at"].is_null());

  auto shown = s.admin("GET", "/v1/admin/bans/" + ann.id);
  ASSERT_EQ(shown.status, 200) << shown.raw;
  EXPECT_EQ(shown.body["banned"], true);
  EXPECT_EQ(shown.body["reason"], "cheating in ranked");
  EXPECT_EQ(shown.body["by"], "moderator-ana");
  EXPECT_EQ(shown.body["expires_at"], until);
  EXPECT_TRUE(shown.body["created_at"].is_string());

  // Lifted: the sessions from before the ban stay revoked; logging in works.
  ASSERT_EQ(as_ana(s, "DELETE", "/v1/admin/bans/" + ann.id).status, 204);
  EXPECT_EQ(as_ana(s, "DELETE", "/v1/admin/bans/" + ann.id).status, 204);  // idempotent
  EXPECT_EQ(s.admin("GET", "/v1/admin/bans/" + ann.id).body["banned"], false);
  EXPECT_EQ(s.as(ann.token, "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.as(jwt_token, "GET", "/v1/account").status, 401);
  auto again = s.login("ann_banned");
  ASSERT_EQ(again.status, 201) << again.raw;
  std::string fresh = again.body["session"]["token"];
  EXPECT_EQ(s.as(fresh, "GET", "/v1/account").status, 200);

  // The player's own security log has the ban and its lifting, but not who
  // made them nor from where (the admin's address and key name are the
  // studio's to know: GET /v1/admin/bans and the events say who).
  auto logs = s.as(fresh, "GET", "/v1/account/logs");
  ASSERT_EQ(logs.status, 200) << logs.raw;
  bool logged_ban = false, logged_unban = false;
  for (auto& entry : logs.body["items"]) {
    bool admins = entry["event"] == "banned" || entry["event"] == "unbanned";
    if (!admins) continue;
    (entry["event"] == "banned" ? logged_ban : logged_unban) = true;
    EXPECT_FALSE(entry["detail"].contains("by")) << entry;
    EXPECT_EQ(entry["ip"], "") << entry;
    EXPECT_EQ(entry["user_agent"], "") << entry;
  }
  EXPECT_EQ(logs.raw.find("moderator-ana"), std::string::npos);
  EXPECT_TRUE(logged_ban) << logs.raw;
  EXPECT_TRUE(logged_unban) << logs.raw;
  EXPECT_EQ(logs.raw.find(ana_key), std::string::npos);
  EXPECT_EQ(s.log().find(ana_key), std::string::npos);
}

TEST(Bans, BanAndUnbanAreWebhookEventsNamingTheAdminKey) {
  webhook_receiver hook(free_port(), "ban-hook-secret-0123456789");
  hook.start();
  auto e = named_keys();
  e["ROSTER_WEBHOOKS_URLS"] = hook.url();
  e["ROSTER_WEBHOOKS_SECRET"] = "ban-hook-secret-0123456789";
  e["ROSTER_WEBHOOKS_EVENTS"] = "user.banned,user.unbanned";
  roster_server s(e);
  auto eve = make_player(s, "eve_hooked");
  ASSERT_EQ(as_ana(s, "POST", "/v1/admin/bans", {{"user_id", eve.id}, {"reason", "griefing"}}).status, 201);
  ASSERT_EQ(as_ana(s, "DELETE", "/v1/admin/bans/" + eve.id).status, 204);
  ASSERT_TRUE(hook.wait_for([](auto& ds) { return ds.size() >= 2; })) << s.log();
  auto ds = hook.accepted();
  ASSERT_EQ(ds.size(), 2u);
  // Deliveries may arrive in any order (senders run in parallel): by sequence.
  auto banned = json::parse(ds[0].body), unbanned = json::parse(ds[1].body);
  if (banned["seq"] > unbanned["seq"]) std::swap(banned, unbanned);
  EXPECT_EQ(banned["type"], "user.banned");
  EXPECT_EQ(banned["user_id"], eve.id);
  EXPECT_EQ(banned["data"]["reason"], "griefing");
  EXPECT_TRUE(banned["data"]["expires_at"].is_null());
  EXPECT_EQ(banned["data"]["by"], "moderator-ana");
  EXPECT_EQ(unbanned["type"], "user.unbanned");
  EXPECT_EQ(unbanned["data"]["lifted"], "admin");
  EXPECT_EQ(unbanned["data"]["by"], "moderator-ana");
  EXPECT_EQ(unbanned["data"]["sessions_revoked"], 1);
  for (auto& d : ds) EXPECT_EQ(d.body.find(ana_key), std::string::npos);
}

TEST(Bans, BannedIsItsOwnStateBesideBlocked) {
  roster_server s;
  auto bo = make_player(s, "bo_blocked");
  auto ban = [&] { return s.admin("POST", "/v1/admin/bans", {{"user_id", bo.id}, {"reason", "abuse"}}).status; };
  auto status_of = [&] { return s.admin("GET", "/v1/admin/users/" + bo.id).body.value("status", ""); };

  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + bo.id + "/block").status, 200);
  ASSERT_EQ(ban(), 201);
  EXPECT_EQ(code_of(s.login("bo_blocked")), "account_banned");  // banned wins, with its reason
  EXPECT_EQ(status_of(), "blocked");                             // the block is untouched
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + bo.id).body["banned"], true);
  // Lifting the ban does not unblock.
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/bans/" + bo.id).status, 204);
  EXPECT_EQ(code_of(s.login("bo_blocked")), "account_blocked");
  EXPECT_EQ(status_of(), "blocked");
  // Unblocking does not unban.
  ASSERT_EQ(ban(), 201);
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + bo.id + "/unblock").status, 200);
  EXPECT_EQ(code_of(s.login("bo_blocked")), "account_banned");
  EXPECT_EQ(status_of(), "active");
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/bans/" + bo.id).status, 204);
  EXPECT_EQ(s.login("bo_blocked").status, 201);
}

TEST(Bans, ABanWithAnExpiryLiftsItself) {
  roster_server s;
  auto cy = make_player(s, "cy_expiring");
  auto until = roster::now_ms() + 4'000;  // room for an Argon2 login under ASan on a busy machine
  auto ban = s.admin("POST", "/v1/admin/bans",
                     {{"user_id", cy.id}, {"reason", "cool down"}, {"expires_at", roster::format_time(until)}});
  ASSERT_EQ(ban.status, 201) << ban.raw;
  EXPECT_EQ(code_of(s.as(cy.token, "GET", "/v1/account")), "account_banned");
  EXPECT_EQ(code_of(s.login("cy_expiring")), "account_banned");
  std::this_thread::sleep_for(std::chrono::milliseconds(until - roster::now_ms() + 300));
  auto shown = s.admin("GET", "/v1/admin/bans/" + cy.id);
  ASSERT_EQ(shown.status, 200) << shown.raw;
  EXPECT_EQ(shown.body["banned"], false);
  EXPECT_TRUE(shown.body["reason"].is_null());
  EXPECT_EQ(s.as(cy.token, "GET", "/v1/account").status, 401);  // sessions from before the ban stay gone
  auto login = s.login("cy_expiring");
  ASSERT_EQ(login.status, 201) << login.raw;
  EXPECT_EQ(s.as(login.body["session"]["token"], "GET", "/v1/account").status, 200);
}

TEST(Bans, ABanIsDurable) {
  roster_server s;
  auto fay = make_player(s, "fay_durable");
  ASSERT_EQ(s.admin("POST", "/v1/admin/bans", {{"user_id", fay.id}, {"reason", "smurfing"}}).status, 201);
  s.kill9();  // acknowledged: stored
  s.start();
  auto shown = s.admin("GET", "/v1/admin/bans/" + fay.id);
  EXPECT_EQ(shown.body["banned"], true) << shown.raw;
  EXPECT_EQ(shown.body["reason"], "smurfing");
  auto r = s.as(fay.token, "GET", "/v1/account");
  EXPECT_EQ(code_of(r), "account_banned") << r.raw;
  EXPECT_EQ(r.body["error"]["details"]["reason"], "smurfing");
}

TEST(Bans, UnknownUsersBadInputAndMissingAdminKey) {
  roster_server s;
  auto di = make_player(s, "di_input");
  const std::string nobody = "00000000-0000-4000-8000-000000000000";
  EXPECT_EQ(s.admin("POST", "/v1/admin/bans", {{"user_id", nobody}, {"reason", "x"}}).status, 404);
  EXPECT_EQ(s.admin("GET", "/v1/admin/bans/" + nobody).status, 404);
  EXPECT_EQ(s.admin("DELETE", "/v1/admin/bans/" + nobody).status, 404);
  EXPECT_EQ(s.admin("GET", "/v1/admin/bans/not-a-uuid").status, 404);

  auto bad = [&](const json& body, const std::string& field) {
    auto r = s.admin("POST", "/v1/admin/bans", body);
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.raw;
    EXPECT_EQ(code_of(r), "invalid_request");
    EXPECT_TRUE(r.body["error"]["fields"].contains(field)) << r.raw;
  };
  bad({{"reason", "x"}}, "user_id");
  bad({{"user_id", "nope"}, {"reason", "x"}}, "user_id");
  bad({{"user_id", di.id}}, "reason");
  bad({{"user_id", di.id}, {"reason", ""}}, "reason");
  bad({{"user_id", di.id}, {"reason", "x"}, {"expires_at", in_ms(-60'000)}}, "expires_at");
  bad({{"user_id", di.id}, {"reason", "x"}, {"expires_at", "next tuesday"}}, "expires_at");
  // Days a month does not have, and leap seconds, are refused, not moved to another day.
  for (auto when : {"2030-02-30T00:00:00Z", "2030-04-31T00:00:00Z", "2030-02-29T00:00:00Z", "2030-01-01T23:59:60Z"})
    bad({{"user_id", di.id}, {"reason", "x"}, {"expires_at", when}}, "expires_at");
  bad({{"user_id", di.id}, {"reason", "x"}, {"by", "someone"}}, "by");
  auto not_json = s.raw("POST", "/v1/admin/bans", "{", "application/json", {{"X-Admin-Key", s.admin_key()}});
  EXPECT_EQ(not_json.status, 400);
  EXPECT_EQ(s.admin("GET", "/v1/admin/bans/" + di.id).body["banned"], false);  // nothing happened

  const json body = {{"user_id", di.id}, {"reason", "x"}};
  for (const httplib::Headers& h : {httplib::Headers{}, httplib::Headers{{"X-Admin-Key", "wrong-key-wrong-key"}}}) {
    EXPECT_EQ(s.call("POST", "/v1/admin/bans", body, h).status, 401);
    EXPECT_EQ(s.call("GET", "/v1/admin/bans/" + di.id, nullptr, h).status, 401);
    EXPECT_EQ(s.call("DELETE", "/v1/admin/bans/" + di.id, nullptr, h).status, 401);
  }
  // A user's own token is no admin key.
  EXPECT_EQ(s.call("POST", "/v1/admin/bans", body, {{"Authorization", "Bearer " + di.token}}).status, 401);
  EXPECT_EQ(s.as(di.token, "GET", "/v1/account").status, 200);
}

} // namespace
