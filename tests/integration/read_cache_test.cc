// GET /v1/account is answered by the router from an answer the user's actor
// published (actors/env.h read_cache). These tests warm that answer, then
// make every kind of change and read again at once: the change must show.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

int64_t cached_reads(const roster_server& s) {
  return s.admin("GET", "/debug/actors").body.value("reads_answered_from_cache", int64_t{0});
}

/// Reads the account a few times so that the router holds its answer.
void warm(const roster_server& s, const std::string& token) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.as(token, "GET", "/v1/account").status, 200);
}

TEST(ReadCache, RepeatedReadsAreAnsweredByTheRouter) {
  roster_server s;
  auto token = token_of(s.register_user("rc1@example.com", "rc_one"));
  auto before = cached_reads(s);
  warm(s, token);
  EXPECT_GE(cached_reads(s) - before, 2);  // the first read goes to the actor, the next ones need not
  // A token of the same user that is not a session never matches an answer.
  auto forged = token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(s.as(forged, "GET", "/v1/account").status, 401);
}

TEST(ReadCache, EveryChangeShowsInTheNextRead) {
  roster_server s;
  auto a = s.register_user("rc2@example.com", "rc_two");
  ASSERT_EQ(a.status, 201);
  auto t1 = token_of(a), t2 = token_of(s.login("rc_two"));
  auto id = a.body["user"]["id"].get<std::string>();

  warm(s, t1);
  warm(s, t2);
  ASSERT_EQ(s.as(t1, "PATCH", "/v1/account", {{"display_name", "Renamed"}}).status, 200);
  EXPECT_EQ(s.as(t1, "GET", "/v1/account").body["display_name"], "Renamed");
  EXPECT_EQ(s.as(t2, "GET", "/v1/account").body["display_name"], "Renamed");

  warm(s, t1);
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + id + "/block").status, 200);
  EXPECT_EQ(s.as(t1, "GET", "/v1/account").status, 403);
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + id + "/unblock").status, 200);

  warm(s, t1);
  warm(s, t2);
  ASSERT_EQ(s.as(t1, "PUT", "/v1/account/password",
                 {{"current_password", "correct-horse-9"}, {"new_password", "brand-new-secret-1"}})
                .status,
            200);
  EXPECT_EQ(s.as(t2, "GET", "/v1/account").status, 401);  // revoked with the other sessions
  EXPECT_EQ(s.as(t1, "GET", "/v1/account").status, 200);

  auto t3 = token_of(s.login("rc_two", "brand-new-secret-1"));
  warm(s, t3);
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/users/" + id + "/sessions").status, 204);
  EXPECT_EQ(s.as(t3, "GET", "/v1/account").status, 401);

  auto t4 = token_of(s.login("rc_two", "brand-new-secret-1"));
  warm(s, t4);
  ASSERT_EQ(s.as(t4, "DELETE", "/v1/sessions/current").status, 204);
  EXPECT_EQ(s.as(t4, "GET", "/v1/account").status, 401);

  auto t5 = token_of(s.login("rc_two", "brand-new-secret-1"));
  warm(s, t5);
  ASSERT_EQ(s.as(t5, "DELETE", "/v1/account").status, 204);
  EXPECT_EQ(s.as(t5, "GET", "/v1/account").status, 401);
}

TEST(ReadCache, ReadsAnsweredByTheRouterKeepAnIdleSessionAlive) {
  // Idle expiry 2 s: reading every 200 ms for 5 s keeps the session alive
  // although most reads never reach the actor; then 2.5 s without a read
  // expires it.
  roster_server s(env{{"ROSTER_AUTH_SESSION_IDLE_TTL", "2s"}});
  auto token = token_of(s.register_user("rc3@example.com", "rc_three"));
  auto before = cached_reads(s);
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    auto r = s.as(token, "GET", "/v1/account");
    ASSERT_EQ(r.status, 200) << r.raw;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_GT(cached_reads(s) - before, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto r = s.as(token, "GET", "/v1/account");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"]["code"], "session_expired");
}

} // namespace
