// Registration, logins and account changes over real HTTP against build/roster.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

TEST(Accounts, RegisterReturnsUserAndSessionThatReadsTheAccount) {
  roster_server s;
  auto r = s.register_user("Ann@Example.com", "ann_1", "correct-horse-9");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["user"]["email"], "Ann@Example.com");
  EXPECT_EQ(r.body["user"]["username"], "ann_1");
  EXPECT_EQ(r.body["user"]["has_password"], true);
  EXPECT_FALSE(r.body["user"].contains("password_hash"));
  auto token = token_of(r);
  EXPECT_EQ(token.size(), 64u);
  auto me = s.as(token, "GET", "/v1/account");
  ASSERT_EQ(me.status, 200) << me.raw;
  EXPECT_EQ(me.body["id"], r.body["user"]["id"]);
  EXPECT_FALSE(me.header("X-Request-Id").empty());
}

TEST(Accounts, DuplicateEmailIsRejectedCaseInsensitively) {
  roster_server s;
  ASSERT_EQ(s.register_user("dup@example.com", "first").status, 201);
  auto r = s.register_user("DUP@example.com", "second");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["error"]["code"], "email_taken");
}

TEST(Accounts, UsernamesAreUniqueByFoldedTag) {
  roster_server s;
  ASSERT_EQ(s.register_user("", "Tk421").status, 201);
  auto r = s.register_user("", "tk42l");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["error"]["code"], "username_taken");
  EXPECT_EQ(s.register_user("lost@example.com", "t.k-4_2_1").body["error"]["code"], "username_taken");
  // the failed registration released its email claim: the email is still free
  EXPECT_EQ(s.register_user("lost@example.com", "other").status, 201);
}

TEST(Accounts, ConcurrentRegistrationsOfOneEmailHaveExactlyOneWinner) {
  roster_server s;
  std::atomic<int> created{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&, i] {
      auto r = s.register_user("race@example.com", "racer_" + std::to_string(i));
      if (r.status == 201) ++created;
      else if (r.status == 409 && r.body["error"]["code"] == "email_taken") ++taken;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(taken, 19);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users?q=race@example.com").body["total"], 1);
}

TEST(Accounts, RegistrationValidatesEveryField) {
  roster_server s;
  auto r = s.call("POST", "/v1/accounts", {{"email", "not-an-email"}, {"username", "a!"}, {"password", "short"},
                                           {"display_name", ""}, {"bogus", 1}});
  ASSERT_EQ(r.status, 400) << r.raw;
  EXPECT_EQ(r.body["error"]["code"], "invalid_request");
  auto& f = r.body["error"]["fields"];
  EXPECT_TRUE(f.contains("email"));
  EXPECT_TRUE(f.contains("username"));
  EXPECT_TRUE(f.contains("password"));
  EXPECT_TRUE(f.contains("display_name"));
  EXPECT_TRUE(f.contains("bogus"));
  auto common = s.register_user("c@example.com", "commonpw", "password123");
  EXPECT_EQ(common.status, 400);
  EXPECT_EQ(common.body["error"]["fields"]["password"], "is too common");
  auto none = s.call("POST", "/v1/accounts", {{"password", "correct-horse-9"}});
  EXPECT_EQ(none.status, 400);
  EXPECT_TRUE(none.body["error"]["fields"].contains("email"));
}

TEST(Accounts, PasswordLoginByEmailOrUsername) {
  roster_server s;
  ASSERT_EQ(s.register_user("bob@example.com", "Bob").status, 201);
  auto by_email = s.login("BOB@example.com");
  ASSERT_EQ(by_email.status, 201) << by_email.raw;
  auto by_name = s.login("bob");
  ASSERT_EQ(by_name.status, 201) << by_name.raw;
  EXPECT_NE(token_of(by_email), token_of(by_name));
  EXPECT_EQ(s.as(token_of(by_name), "GET", "/v1/account").status, 200);
}

TEST(Accounts, UnknownLoginAndWrongPasswordLookAlike) {
  roster_server s;
  ASSERT_EQ(s.register_user("carol@example.com", "carol").status, 201);
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  auto wrong = s.login("carol@example.com", "not-the-password");
  auto t1 = clock::now();
  auto unknown = s.login("nobody@example.com", "not-the-password");
  auto t2 = clock::now();
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.raw, unknown.raw);
  EXPECT_EQ(wrong.body["error"]["code"], "invalid_credentials");
  // The unknown login pays for an Argon2id verification too (not a timing
  // benchmark: it only fails if the unknown path skips the hash entirely).
  auto wrong_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  auto unknown_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  EXPECT_GT(unknown_ms, wrong_ms * 0.25) << wrong_ms << " vs " << unknown_ms;
}

TEST(Accounts, FailedLoginsAreThrottledWithRetryAfter) {
  roster_server s;
  ASSERT_EQ(s.register_user("dave@example.com", "dave").status, 201);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(s.login("dave", "wrong-password-x").status, 401);
  auto r = s.login("dave");  // even the right password is refused now
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body["error"]["code"], "rate_limited");
  EXPECT_GE(std::stoi(r.header("Retry-After")), 1);
}

TEST(Accounts, DeviceLoginFindsOrCreates) {
  roster_server s;
  auto first = s.call("POST", "/v1/sessions/device", {{"device_id", "device-0001-abcdef"}, {"display_name", "Pat"}});
  ASSERT_EQ(first.status, 201) << first.raw;
  EXPECT_EQ(first.body["created"], true);
  auto again = s.call("POST", "/v1/sessions/device", {{"device_id", "device-0001-abcdef"}});
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(again.body["created"], false);
  EXPECT_EQ(again.body["user"]["id"], first.body["user"]["id"]);
  EXPECT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "short"}}).status, 400);
}

TEST(Accounts, DeviceLoginCanBeDisabled) {
  roster_server s(env{{"ROSTER_AUTH_DEVICE_AUTH", "false"}});
  auto r = s.call("POST", "/v1/sessions/device", {{"device_id", "device-0001-abcdef"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"]["code"], "forbidden");
}

TEST(Accounts, AnonymousLoginCreatesAGuest) {
  roster_server s;
  auto r = s.call("POST", "/v1/sessions/anonymous");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(r.body["user"]["anonymous"], true);
  EXPECT_EQ(s.as(token_of(r), "GET", "/v1/account").status, 200);
}

TEST(Accounts, RequireActivationHoldsNewAccountsUntilAnAdminActivates) {
  roster_server s(env{{"ROSTER_AUTH_REQUIRE_ACTIVATION", "true"}});
  auto r = s.register_user("eve@example.com", "eve");
  ASSERT_EQ(r.status, 201) << r.raw;
  EXPECT_TRUE(r.body["session"].is_null());
  EXPECT_EQ(r.body["user"]["status"], "pending_activation");
  auto login = s.login("eve");
  EXPECT_EQ(login.status, 403);
  EXPECT_EQ(login.body["error"]["code"], "pending_activation");
  auto id = r.body["user"]["id"].get<std::string>();
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + id + "/activate").status, 200);
  EXPECT_EQ(s.login("eve").status, 201);
  // Guests and device users wait for activation too.
  EXPECT_TRUE(s.call("POST", "/v1/sessions/anonymous").body["session"].is_null());
  auto device = s.call("POST", "/v1/sessions/device", {{"device_id", "pending-device-01"}});
  EXPECT_EQ(device.status, 201);
  EXPECT_TRUE(device.body["session"].is_null());
  EXPECT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "pending-device-01"}}).body["error"]["code"],
            "pending_activation");
}

TEST(Accounts, PatchAccountChangesProfileAndMovesTheUsername) {
  roster_server s;
  auto a = s.register_user("fay@example.com", "fay");
  ASSERT_EQ(a.status, 201);
  auto token = token_of(a);
  auto r = s.as(token, "PATCH", "/v1/account",
                {{"display_name", "Fay F."}, {"username", "fay_new"}, {"lang", "en-GB"},
                 {"metadata", {{"level", 3}, {"title", "Knight"}}}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["display_name"], "Fay F.");
  EXPECT_EQ(r.body["username"], "fay_new");
  EXPECT_EQ(r.body["metadata"]["level"], 3);
  // the old name is free again, the new one is taken
  EXPECT_EQ(s.register_user("", "fay").status, 201);
  EXPECT_EQ(s.register_user("", "FAY_NEW").body["error"]["code"], "username_taken");
  EXPECT_EQ(s.login("fay_new").status, 201);
  auto bad = s.as(token, "PATCH", "/v1/account", {{"display_name", 7}, {"email", "x@y.zz"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.body["error"]["fields"].contains("display_name"));
  EXPECT_TRUE(bad.body["error"]["fields"].contains("email"));
  auto taken = s.as(token, "PATCH", "/v1/account", {{"username", "fay"}});
  EXPECT_EQ(taken.status, 409);
}

TEST(Accounts, ChangePasswordRevokesOtherSessions) {
  roster_server s;
  auto a = s.register_user("gus@example.com", "gus");
  ASSERT_EQ(a.status, 201);
  auto other = token_of(s.login("gus"));
  auto token = token_of(a);
  auto wrong = s.as(token, "PUT", "/v1/account/password",
                    {{"current_password", "nope-nope-nope"}, {"new_password", "brand-new-secret-1"}});
  EXPECT_EQ(wrong.status, 401);
  auto weak = s.as(token, "PUT", "/v1/account/password",
                   {{"current_password", "correct-horse-9"}, {"new_password", "short"}});
  EXPECT_EQ(weak.status, 400);
  auto ok = s.as(token, "PUT", "/v1/account/password",
                 {{"current_password", "correct-horse-9"}, {"new_password", "brand-new-secret-1"}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["sessions_revoked"], 1);
  EXPECT_EQ(s.as(other, "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200);
  EXPECT_EQ(s.login("gus").status, 401);
  EXPECT_EQ(s.login("gus", "brand-new-secret-1").status, 201);
}

TEST(Accounts, DeleteAccountFreesItsKeysAndKillsItsSessions) {
  roster_server s;
  auto a = s.register_user("hal@example.com", "hal");
  ASSERT_EQ(a.status, 201);
  auto token = token_of(a);
  auto del = s.as(token, "DELETE", "/v1/account");
  ASSERT_EQ(del.status, 204) << del.raw;
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.login("hal").status, 401);
  EXPECT_EQ(s.call("GET", "/v1/users/" + a.body["user"]["id"].get<std::string>()).status, 404);
  EXPECT_EQ(s.register_user("hal@example.com", "hal").status, 201);
}

TEST(Accounts, DeleteOutsideTheSudoWindowNeedsThePassword) {
  roster_server s(env{{"ROSTER_AUTH_SUDO_WINDOW", "1s"}});
  auto a = s.register_user("ivy@example.com", "ivy");
  ASSERT_EQ(a.status, 201);
  auto token = token_of(a);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto stale = s.as(token, "DELETE", "/v1/account");
  EXPECT_EQ(stale.status, 403);
  EXPECT_EQ(stale.body["error"]["code"], "reauthentication_required");
  EXPECT_EQ(s.as(token, "DELETE", "/v1/account", {{"password", "wrong-wrong-1"}}).status, 401);
  EXPECT_EQ(s.as(token, "DELETE", "/v1/account", {{"password", "correct-horse-9"}}).status, 204);
}

TEST(Users, PublicProfilesHideprivateFields) {
  roster_server s;
  auto a = s.register_user("jo@example.com", "jo_player");
  auto b = s.register_user("kim@example.com", "kim_player");
  ASSERT_EQ(a.status, 201);
  ASSERT_EQ(b.status, 201);
  auto ida = a.body["user"]["id"].get<std::string>();
  auto idb = b.body["user"]["id"].get<std::string>();
  auto one = s.call("GET", "/v1/users/" + ida);
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_EQ(one.body["username"], "jo_player");
  EXPECT_FALSE(one.body.contains("email"));
  EXPECT_TRUE(one.body.contains("online"));
  auto many = s.call("GET", "/v1/users?ids=" + ida + "," + idb + ",00000000-0000-4000-8000-000000000000");
  ASSERT_EQ(many.status, 200);
  EXPECT_EQ(many.body["items"].size(), 2u);
  auto by_name = s.call("GET", "/v1/users?usernames=KIM_PLAYER,nobody_here");
  ASSERT_EQ(by_name.status, 200);
  ASSERT_EQ(by_name.body["items"].size(), 1u);
  EXPECT_EQ(by_name.body["items"][0]["id"], idb);
  EXPECT_EQ(s.call("GET", "/v1/users/not-a-uuid").status, 404);
  EXPECT_EQ(s.call("GET", "/v1/users").status, 400);
}

TEST(Users, UsernameAvailability) {
  roster_server s;
  ASSERT_EQ(s.register_user("", "Taken_Name").status, 201);
  auto taken = s.call("GET", "/v1/usernames/taken.name");
  ASSERT_EQ(taken.status, 200);
  EXPECT_EQ(taken.body["available"], false);
  auto free = s.call("GET", "/v1/usernames/free_name");
  EXPECT_EQ(free.body["available"], true);
  EXPECT_EQ(s.call("GET", "/v1/usernames/x").status, 400);
}

} // namespace
