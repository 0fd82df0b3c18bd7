// Sessions: listing, expiry, revocation, security log, blocked users.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

TEST(Sessions, ListGetExtendAndRevoke) {
  roster_server s;
  auto a = s.register_user("lee@example.com", "lee");
  ASSERT_EQ(a.status, 201);
  auto t1 = token_of(a);
  auto second = s.login("lee");
  auto t2 = token_of(second);
  auto list = s.as(t1, "GET", "/v1/sessions");
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body["items"].size(), 2u);
  int current = 0;
  for (auto& it : list.body["items"]) {
    current += it["current"].get<bool>();
    EXPECT_FALSE(it.contains("token"));
    EXPECT_TRUE(it.contains("expires_at"));
    EXPECT_EQ(it["ip"], "127.0.0.1");
  }
  EXPECT_EQ(current, 1);
  auto sid2 = second.body["session"]["id"].get<std::string>();
  auto one = s.as(t1, "GET", "/v1/sessions/" + sid2);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body["current"], false);
  EXPECT_EQ(s.as(t1, "GET", "/v1/sessions/current").body["current"], true);
  EXPECT_EQ(s.as(t1, "GET", "/v1/sessions/00000000-0000-4000-8000-000000000000").status, 404);
  auto ext = s.as(t1, "PATCH", "/v1/sessions/current");
  ASSERT_EQ(ext.status, 200);
  EXPECT_GE(ext.body["expires_at"].get<std::string>(), a.body["session"]["expires_at"].get<std::string>());
  EXPECT_EQ(s.as(t1, "DELETE", "/v1/sessions/" + sid2).status, 204);
  EXPECT_EQ(s.as(t2, "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.as(t1, "DELETE", "/v1/sessions/current").status, 204);
  EXPECT_EQ(s.as(t1, "GET", "/v1/account").status, 401);
}

TEST(Sessions, AUserAgentThatIsNotUtf8IsCleanedNotFatal) {
  // Found by fuzz/user_codec_fuzzer.cc: such a header made the login answer 500.
  roster_server s;
  ASSERT_EQ(s.register_user("ua@example.com", "uagent").status, 201);
  json creds = {{"login", "uagent"}, {"password", "correct-horse-9"}};
  auto bad = s.call("POST", "/v1/sessions/password", creds, {{"User-Agent", "curl/\xff"}});
  ASSERT_EQ(bad.status, 201) << bad.raw;
  // 511 bytes then a 2-byte character: the 512-byte cut must not split it.
  auto cut = s.call("POST", "/v1/sessions/password", creds, {{"User-Agent", std::string(511, 'a') + "\xc3\xa9"}});
  ASSERT_EQ(cut.status, 201) << cut.raw;
  auto list = s.as(bad.body["session"]["token"].get<std::string>(), "GET", "/v1/sessions");
  ASSERT_EQ(list.status, 200) << list.raw;
  std::set<std::string> agents;
  for (auto& it : list.body["items"]) agents.insert(it["user_agent"].get<std::string>());
  EXPECT_TRUE(agents.count("curl/\xef\xbf\xbd"));
  EXPECT_TRUE(agents.count(std::string(511, 'a')));
}

TEST(Sessions, ListIsPaginatedWithACursor) {
  roster_server s;
  auto a = s.register_user("pag@example.com", "pag");
  for (int i = 0; i < 4; ++i) ASSERT_EQ(s.login("pag").status, 201);
  auto t = token_of(a);
  std::set<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto r = s.as(t, "GET", "/v1/sessions?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_LE(r.body["items"].size(), 2u);
    for (auto& it : r.body["items"]) seen.insert(it["id"].get<std::string>());
    cursor = r.body["next_cursor"].is_string() ? r.body["next_cursor"].get<std::string>() : "";
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_EQ(s.as(t, "GET", "/v1/sessions?cursor=bogus").status, 400);
  EXPECT_EQ(s.as(t, "GET", "/v1/sessions?limit=abc").status, 400);
}

TEST(Sessions, DeleteAllLogsOutEverywhere) {
  roster_server s;
  auto a = s.register_user("max@example.com", "max");
  auto t2 = token_of(s.login("max"));
  ASSERT_EQ(s.as(token_of(a), "DELETE", "/v1/sessions").status, 204);
  EXPECT_EQ(s.as(token_of(a), "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.as(t2, "GET", "/v1/account").status, 401);
}

TEST(Sessions, IdleSessionsExpire) {
  roster_server s(env{{"ROSTER_AUTH_SESSION_IDLE_TTL", "1s"}});
  auto a = s.register_user("ned@example.com", "ned");
  ASSERT_EQ(a.status, 201);
  EXPECT_EQ(s.as(token_of(a), "GET", "/v1/account").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto r = s.as(token_of(a), "GET", "/v1/account");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"]["code"], "session_expired");
}

TEST(Sessions, AbsoluteExpiryHoldsEvenWhenUsed) {
  roster_server s(env{{"ROSTER_AUTH_SESSION_TTL", "3s"}});
  auto start = std::chrono::steady_clock::now();
  auto a = s.register_user("oli@example.com", "oli");
  ASSERT_EQ(a.status, 201);
  // Keep using the session (so it is never idle) until its absolute expiry.
  bool expired = false;
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(6)) {
    auto r = s.as(token_of(a), "GET", "/v1/account");
    auto age = std::chrono::steady_clock::now() - start;
    if (r.status == 401) {
      EXPECT_EQ(r.body["error"]["code"], "session_expired");
      EXPECT_GE(age, std::chrono::milliseconds(2900));  // not before its time
      expired = true;
      break;
    }
    EXPECT_EQ(r.status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(expired);
}

TEST(Sessions, MalformedOrForgedTokensAreUnauthorized) {
  roster_server s;
  auto a = s.register_user("pam@example.com", "pam");
  auto token = token_of(a);
  std::string forged = token;
  forged[40] = forged[40] == 'A' ? 'B' : 'A';
  for (const std::string& t : {std::string("x"), forged, token.substr(0, 63), std::string(64, '*')}) {
    auto r = s.as(t, "GET", "/v1/account");
    EXPECT_EQ(r.status, 401) << t;
    EXPECT_EQ(r.body["error"]["code"], "unauthorized");
  }
  EXPECT_EQ(s.call("GET", "/v1/account").status, 401);
  EXPECT_EQ(s.call("GET", "/v1/account", nullptr, {{"Authorization", "Basic abc"}}).status, 401);
}

TEST(Sessions, SecurityLogRecordsLoginsAndChangesWithPagination) {
  roster_server s;
  auto a = s.register_user("quin@example.com", "quin");
  ASSERT_EQ(s.login("quin", "bad-password-1").status, 401);
  auto t = token_of(s.login("quin"));
  auto logs = s.as(t, "GET", "/v1/account/logs");
  ASSERT_EQ(logs.status, 200) << logs.raw;
  auto& items = logs.body["items"];
  ASSERT_GE(items.size(), 3u);
  EXPECT_EQ(items[0]["event"], "login");  // newest first
  EXPECT_EQ(items[0]["ok"], true);
  EXPECT_EQ(items[1]["event"], "login");
  EXPECT_EQ(items[1]["ok"], false);
  EXPECT_EQ(items.back()["event"], "register");
  EXPECT_EQ(items[0]["ip"], "127.0.0.1");
  auto page1 = s.as(t, "GET", "/v1/account/logs?limit=1");
  ASSERT_EQ(page1.body["items"].size(), 1u);
  ASSERT_TRUE(page1.body["next_cursor"].is_string());
  auto page2 = s.as(t, "GET", "/v1/account/logs?limit=1&cursor=" + page1.body["next_cursor"].get<std::string>());
  ASSERT_EQ(page2.body["items"].size(), 1u);
  EXPECT_EQ(page2.body["items"][0]["ok"], false);
  EXPECT_EQ(s.as(t, "GET", "/v1/account/logs?limit=0").status, 400);
  EXPECT_EQ(s.as(t, "GET", "/v1/account/logs?limit=201").status, 400);
  EXPECT_EQ(s.as(t, "GET", "/v1/account/logs?cursor=%%%").status, 400);
}

TEST(Sessions, BlockedUsersSessionsStopAtOnce) {
  roster_server s;
  auto a = s.register_user("ray@example.com", "ray");
  auto token = token_of(a);
  auto id = a.body["user"]["id"].get<std::string>();
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + id + "/block").status, 200);
  auto r = s.as(token, "GET", "/v1/account");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"]["code"], "account_blocked");
  EXPECT_EQ(s.login("ray").body["error"]["code"], "account_blocked");
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + id + "/unblock").status, 200);
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200);
}

TEST(Sessions, SessionsSurviveARestart) {
  roster_server s;
  auto a = s.register_user("sue@example.com", "sue");
  auto token = token_of(a);
  s.stop();
  s.start();
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200);
  EXPECT_EQ(s.login("sue").status, 201);
}

} // namespace
