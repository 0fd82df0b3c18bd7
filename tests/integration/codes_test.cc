// One-time codes over HTTP (issue "Every way in, part 1"): email-code login
// and password recovery, the code read from the `log` sender's files the way a
// player reads the mail. Codes are single use, scoped to identity and purpose,
// spent after 5 wrong tries, replaced by a newer code, throttled, stored before
// the 202 (they survive kill -9).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include "tests/support/roster_server.h"
#include "tests/support/smtp_fixture.h"
#include "tests/support/webhook_receiver.h"

using namespace roster::testing;
namespace fs = std::filesystem;

namespace {

/// The newest message the log sender wrote to `to` with `purpose`, waiting
/// up to 5 s; "" if none.
std::string last_message(const roster_server& s, const std::string& to, const std::string& purpose,
                         size_t after = 0) {
  auto dir = fs::path(s.data_dir()) / "messages";
  for (int i = 0; i < 100; ++i) {
    // Oldest first by the time the sender wrote them (ids of one millisecond
    // are not ordered: their tails are random); each caller waited for the
    // previous message before asking for the next.
    // A file's time has the kernel's coarse clock (a few ms): two messages
    // sent back to back may share it. Of those, one never returned before
    // is the newer (each caller read the previous message first).
    static std::set<std::string> returned;
    std::vector<std::tuple<fs::file_time_type, bool, std::string, std::string>> found;  // written, new, name, text
    if (fs::exists(dir))
      for (auto& f : fs::directory_iterator(dir)) {
        std::ifstream in(f.path());
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto name = f.path().string();
        if (text.find("To: " + to + "\n") != std::string::npos && text.find("Purpose: " + purpose + "\n") != std::string::npos)
          found.emplace_back(fs::last_write_time(f.path()), !returned.count(name), name, text);
      }
    std::sort(found.begin(), found.end());
    if (found.size() > after) {
      returned.insert(std::get<2>(found.back()));
      return std::get<3>(found.back());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

std::string code_in(const std::string& text) {
  std::smatch m;
  return std::regex_search(text, m, std::regex("\\b([0-9]{6})\\b")) ? m[1].str() : "";
}

size_t messages_to(const roster_server& s, const std::string& to) {
  auto dir = fs::path(s.data_dir()) / "messages";
  size_t n = 0;
  if (fs::exists(dir))
    for (auto& f : fs::directory_iterator(dir)) {
      std::ifstream in(f.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      n += text.find("To: " + to + "\n") != std::string::npos;
    }
  return n;
}

/// Runs `call(i)` for every i < n at once: how many answered 200, and how
/// many 409 with error `code`.
std::pair<int, int> race(int n, const std::function<response(size_t)>& call, const std::string& code) {
  std::atomic<int> won{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      auto r = call(static_cast<size_t>(i));
      if (r.status == 200) ++won;
      if (r.status == 409 && r.body["error"]["code"] == code) ++taken;
    });
  for (auto& t : threads) t.join();
  return {won.load(), taken.load()};
}

env fast_sends() { return {{"ROSTER_AUTH_CODE_SEND_PER_MINUTE", "100"}, {"ROSTER_AUTH_CODE_SEND_PER_HOUR", "100"}}; }

}  // namespace

TEST(Codes, EmailCodeLoginCreatesAVerifiedPasswordlessUserThenLogsIntoIt) {
  roster_server s(fast_sends());
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "Zoe@Example.com"}}).status, 202);
  auto code = code_in(last_message(s, "Zoe@Example.com", "email_code"));
  ASSERT_EQ(code.size(), 6u);
  auto in = s.call("POST", "/v1/sessions/email-code", {{"email", "zoe@example.com"}, {"code", code}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_TRUE(in.body["created"].get<bool>());
  EXPECT_TRUE(in.body["user"]["email_verified"].get<bool>());
  EXPECT_FALSE(in.body["user"]["has_password"].get<bool>());
  EXPECT_EQ(in.body["session"]["method"], "email_code");
  auto uid = in.body["user"]["id"];
  // Used once: the same code again fails.
  auto again = s.call("POST", "/v1/sessions/email-code", {{"email", "zoe@example.com"}, {"code", code}});
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(again.body["error"]["code"], "invalid_credentials");
  // A second code logs into the same account, and verifies an existing user's email.
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "zoe@example.com"}}).status, 202);
  auto second = code_in(last_message(s, "zoe@example.com", "email_code"));
  auto back = s.call("POST", "/v1/sessions/email-code", {{"email", "ZOE@example.com"}, {"code", second}});
  ASSERT_EQ(back.status, 201) << back.raw;
  EXPECT_FALSE(back.body["created"].get<bool>());
  EXPECT_EQ(back.body["user"]["id"], uid);

}

TEST(Codes, ProvingAnUnverifiedEmailDropsWhatWasSetUpWithoutProof) {
  // Pre-hijacking: somebody registers the victim's address with a password;
  // when the victim proves the address with a code, that password and its
  // sessions stop working.
  roster_server s(fast_sends());
  auto squatter = s.register_user("vic@example.com", "squatter");
  ASSERT_EQ(squatter.status, 201);
  auto squat_token = squatter.body["session"]["token"].get<std::string>();
  // The squatter also gives itself a device login on the account.
  ASSERT_EQ(s.as(squat_token, "POST", "/v1/account/identities/device", {{"device_id", "squatter-device-1"}}).status, 200);
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "vic@example.com"}}).status, 202);
  auto in = s.call("POST", "/v1/sessions/email-code",
                   {{"email", "vic@example.com"}, {"code", code_in(last_message(s, "vic@example.com", "email_code"))}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_FALSE(in.body["created"].get<bool>());
  EXPECT_TRUE(in.body["user"]["email_verified"].get<bool>());
  EXPECT_FALSE(in.body["user"]["has_password"].get<bool>());
  EXPECT_EQ(s.as(squat_token, "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.login("vic@example.com").status, 401);
  // ... and the squatter's device is no way in any more: it makes an account of its own.
  auto dev = s.call("POST", "/v1/sessions/device", {{"device_id", "squatter-device-1"}});
  ASSERT_EQ(dev.status, 201) << dev.raw;
  EXPECT_TRUE(dev.body["created"].get<bool>());
  EXPECT_NE(dev.body["user"]["id"], in.body["user"]["id"]);
  EXPECT_EQ(in.body["user"]["identities"].size(), 1u) << in.raw;  // the email alone
  auto mine = in.body["session"]["token"].get<std::string>();
  EXPECT_EQ(s.as(mine, "GET", "/v1/account").status, 200);
  // Once verified, a later code login leaves the account as it is.
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "vic@example.com"}}).status, 202);
  auto again = s.call("POST", "/v1/sessions/email-code",
                      {{"email", "vic@example.com"}, {"code", code_in(last_message(s, "vic@example.com", "email_code", 1))}});
  ASSERT_EQ(again.status, 201) << again.raw;
  EXPECT_EQ(s.as(mine, "GET", "/v1/account").status, 200);
}

TEST(Codes, FiveWrongTriesSpendTheCodeAndANewCodeReplacesTheOld) {
  roster_server s(fast_sends());
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "eve@example.com"}}).status, 202);
  auto code = code_in(last_message(s, "eve@example.com", "email_code"));
  auto wrong = code == "000000" ? "000001" : "000000";
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "eve@example.com"}, {"code", wrong}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "eve@example.com"}, {"code", code}}).status, 401);

  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "eve@example.com"}}).status, 202);
  auto old = code_in(last_message(s, "eve@example.com", "email_code", 1));
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "eve@example.com"}}).status, 202);
  auto fresh = code_in(last_message(s, "eve@example.com", "email_code", 2));
  if (old != fresh)
    EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "eve@example.com"}, {"code", old}}).status, 401);
  // ... for another identity or another purpose the code is nothing.
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "eva@example.com"}, {"code", fresh}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/auth/recovery/confirm",
                   {{"email", "eve@example.com"}, {"code", fresh}, {"new_password", "battery-staple-77"}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "eve@example.com"}, {"code", fresh}}).status, 201);
}

TEST(Codes, ExpireAndAreThrottledPerIdentityAndPerAddress) {
  roster_server s(env{{"ROSTER_AUTH_CODE_TTL", "1s"}, {"ROSTER_LIMITS_CODE_SENDS_PER_MINUTE", "4"}});
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "old@example.com"}}).status, 202);
  auto code = code_in(last_message(s, "old@example.com", "email_code"));
  auto again = s.call("POST", "/v1/auth/email-code", {{"email", "old@example.com"}});
  EXPECT_EQ(again.status, 429);
  EXPECT_FALSE(again.headers.find("Retry-After") == again.headers.end());
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "old@example.com"}, {"code", code}}).status, 401);
  // The address's budget: 4 code requests (sends and checks) a minute from one
  // IP, whatever the identity; the 429 and the check above counted too.
  EXPECT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "a1@example.com"}}).status, 202);
  auto fifth = s.call("POST", "/v1/auth/recovery", {{"email", "a2@example.com"}});
  EXPECT_EQ(fifth.status, 429) << fifth.raw;
  EXPECT_FALSE(fifth.header("Retry-After").empty());
}

TEST(Codes, RecoveryResetsThePasswordRevokesEverySessionAndNeverRevealsAnAccount) {
  roster_server s(fast_sends());
  auto reg = s.register_user("rob@example.com", "rob_user");
  ASSERT_EQ(reg.status, 201);
  auto token = reg.body["session"]["token"].get<std::string>();
  auto known = s.call("POST", "/v1/auth/recovery", {{"email", "rob@example.com"}});
  auto unknown = s.call("POST", "/v1/auth/recovery", {{"email", "nobody@example.com"}});
  EXPECT_EQ(known.status, 202);
  EXPECT_EQ(unknown.status, 202);
  EXPECT_EQ(known.raw, unknown.raw);
  auto code = code_in(last_message(s, "rob@example.com", "recovery"));
  ASSERT_EQ(code.size(), 6u);
  // Everything committed is delivered once the outbox is empty: nothing went to the unknown address.
  for (int i = 0; i < 100 && s.admin("GET", "/debug/actors").body.value("outbox_depth", -1) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(s.admin("GET", "/debug/actors").body.value("outbox_depth", -1), 0);
  EXPECT_EQ(messages_to(s, "nobody@example.com"), 0u);
  EXPECT_EQ(messages_to(s, "rob@example.com"), 1u);
  auto bad = s.call("POST", "/v1/auth/recovery/confirm", {{"email", "rob@example.com"}, {"code", code}, {"new_password", "short"}});
  EXPECT_EQ(bad.status, 400);
  auto ok = s.call("POST", "/v1/auth/recovery/confirm",
                   {{"email", "rob@example.com"}, {"code", code}, {"new_password", "battery-staple-77"}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["sessions_revoked"], 1);
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 401);
  EXPECT_EQ(s.login("rob@example.com", "correct-horse-9").status, 401);
  EXPECT_EQ(s.login("rob@example.com", "battery-staple-77").status, 201);
  EXPECT_EQ(s.call("POST", "/v1/auth/recovery/confirm",
                   {{"email", "rob@example.com"}, {"code", code}, {"new_password", "battery-staple-78"}}).status, 401);
}

TEST(Codes, ARecoveryCodeIsWorthNothingOnceTheAddressLeftTheAccount) {
  roster_server s(fast_sends());
  auto reg = s.register_user("moved@example.com", "moved_user");
  ASSERT_EQ(reg.status, 201);
  auto uid = reg.body["user"]["id"].get<std::string>();
  ASSERT_EQ(s.call("POST", "/v1/auth/recovery", {{"email", "moved@example.com"}}).status, 202);
  auto code = code_in(last_message(s, "moved@example.com", "recovery"));
  ASSERT_EQ(s.admin("PATCH", "/v1/admin/users/" + uid, {{"email", "elsewhere@example.com"}}).status, 200);
  EXPECT_EQ(s.call("POST", "/v1/auth/recovery/confirm",
                   {{"email", "moved@example.com"}, {"code", code}, {"new_password", "battery-staple-77"}}).status, 401);
  EXPECT_EQ(s.login("elsewhere@example.com").status, 201);  // the password is untouched
}

TEST(Codes, ACodeSentIsHonouredAfterKill9) {
  roster_server s(fast_sends());
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "kim@example.com"}}).status, 202);
  auto code = code_in(last_message(s, "kim@example.com", "email_code"));
  s.kill9();
  s.start();
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "kim@example.com"}, {"code", code}}).status, 201);
}

namespace {
std::string link_in(const std::string& text) {
  std::smatch m;
  return std::regex_search(text, m, std::regex("(https?://[^\\s\"<]+\\?token=[A-Za-z0-9_-]{43}[^\\s\"<]*)")) ? m[1].str() : "";
}
std::string token_in(const std::string& link) {
  std::smatch m;
  return std::regex_search(link, m, std::regex("token=([A-Za-z0-9_-]{43})")) ? m[1].str() : "";
}
}  // namespace

TEST(Codes, MagicLinkLogsInOnceAndCarriesOnlyAnAllowedRedirect) {
  auto e = fast_sends();
  e["ROSTER_AUTH_LINK_BASE_URL"] = "https://play.example.com/verify";
  e["ROSTER_AUTH_REDIRECT_ALLOWLIST"] = "https://play.example.com/";
  roster_server s(e);
  ASSERT_EQ(s.call("POST", "/v1/auth/magic-link",
                   {{"email", "mia@example.com"}, {"redirect_url", "https://play.example.com/home?a=1&b=2"}}).status, 202);
  auto link = link_in(last_message(s, "mia@example.com", "magic_link"));
  ASSERT_EQ(link.rfind("https://play.example.com/verify?token=", 0), 0u) << link;
  EXPECT_NE(link.find("&redirect_url=https%3A%2F%2Fplay.example.com%2Fhome%3Fa%3D1%26b%3D2"), std::string::npos) << link;
  auto token = token_in(link);
  auto in = s.call("POST", "/v1/sessions/magic-link", {{"token", token}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_TRUE(in.body["created"].get<bool>());
  EXPECT_EQ(in.body["user"]["email"], "mia@example.com");
  EXPECT_TRUE(in.body["user"]["email_verified"].get<bool>());
  EXPECT_EQ(in.body["session"]["method"], "magic_link");
  EXPECT_EQ(s.call("POST", "/v1/sessions/magic-link", {{"token", token}}).status, 401);  // single use
  // A second link logs into the same account.
  ASSERT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "MIA@example.com"}}).status, 202);
  auto second = token_in(link_in(last_message(s, "MIA@example.com", "magic_link")));
  auto back = s.call("POST", "/v1/sessions/magic-link", {{"token", second}});
  ASSERT_EQ(back.status, 201) << back.raw;
  EXPECT_EQ(back.body["user"]["id"], in.body["user"]["id"]);
  // Not allowed: another host, or any redirect when the list is empty.
  auto bad = s.call("POST", "/v1/auth/magic-link", {{"email", "mia@example.com"}, {"redirect_url", "https://evil.example.net/"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.body["error"]["fields"].contains("redirect_url"));
  EXPECT_EQ(s.call("POST", "/v1/sessions/magic-link", {{"token", std::string(43, 'A')}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/sessions/magic-link", {{"token", "short"}}).status, 400);
}

TEST(Codes, MagicLinksShareTheAddressSendBudget) {
  roster_server s;
  ASSERT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "max@example.com"}}).status, 202);
  auto again = s.call("POST", "/v1/auth/magic-link", {{"email", "max@example.com"}});
  EXPECT_EQ(again.status, 429);
  EXPECT_FALSE(again.header("Retry-After").empty());
  EXPECT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "other@example.com"}}).status, 202);
}

TEST(Codes, RegistrationWithoutAPasswordNeedsAnEmailAndLogsInByCode) {
  roster_server s(fast_sends());
  auto reg = s.call("POST", "/v1/accounts", {{"email", "nopw@example.com"}});
  ASSERT_EQ(reg.status, 201) << reg.raw;
  EXPECT_FALSE(reg.body["user"]["has_password"].get<bool>());
  EXPECT_EQ(reg.body["session"]["method"], "email");
  auto only_name = s.call("POST", "/v1/accounts", {{"username", "nopw_name"}});
  EXPECT_EQ(only_name.status, 400);
  EXPECT_TRUE(only_name.body["error"]["fields"].contains("password"));
  EXPECT_EQ(s.login("nopw@example.com", "anything-at-all").status, 401);
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "nopw@example.com"}}).status, 202);
  auto in = s.call("POST", "/v1/sessions/email-code",
                   {{"email", "nopw@example.com"}, {"code", code_in(last_message(s, "nopw@example.com", "email_code"))}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_EQ(in.body["user"]["id"], reg.body["user"]["id"]);
}

TEST(Codes, RequireVerifiedEmailRefusesPasswordLoginsUntilACodeProvesTheAddress) {
  auto e = fast_sends();
  e["ROSTER_AUTH_REQUIRE_VERIFIED_EMAIL"] = "true";
  roster_server s(e);
  ASSERT_EQ(s.register_user("unv@example.com", "unv_user").status, 201);
  auto refused = s.login("unv@example.com");
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.body["error"]["code"], "email_not_verified");
  EXPECT_EQ(s.login("unv@example.com", "wrong-horse-9").status, 401);  // a wrong password says nothing more
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "unv@example.com"}}).status, 202);
  auto in = s.call("POST", "/v1/sessions/email-code",
                   {{"email", "unv@example.com"}, {"code", code_in(last_message(s, "unv@example.com", "email_code"))}});
  ASSERT_EQ(in.status, 201) << in.raw;
  // Proving the address dropped the password set without proof; a new one works from now on.
  auto token = in.body["session"]["token"].get<std::string>();
  ASSERT_EQ(s.as(token, "PUT", "/v1/account/password", {{"current_password", ""}, {"new_password", "battery-staple-77"}}).status, 200);
  EXPECT_EQ(s.login("unv@example.com", "battery-staple-77").status, 201);
  ASSERT_EQ(s.register_user("", "name_only").status, 201);  // no email: nothing to verify
  EXPECT_EQ(s.login("name_only").status, 201);
}

TEST(Codes, AVerificationCodeVerifiesTheCallersOwnEmail) {
  roster_server s(fast_sends());
  auto reg = s.register_user("ver@example.com", "ver_user");
  ASSERT_EQ(reg.status, 201);
  auto token = reg.body["session"]["token"].get<std::string>();
  ASSERT_EQ(s.as(token, "POST", "/v1/account/verification/email").status, 202);
  auto code = code_in(last_message(s, "ver@example.com", "verification"));
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "ver@example.com"}, {"code", code}}).status, 401);  // not a login code
  auto wrong = code == "000000" ? "000001" : "000000";
  EXPECT_EQ(s.as(token, "POST", "/v1/account/verification/email/confirm", {{"code", wrong}}).status, 401);
  auto ok = s.as(token, "POST", "/v1/account/verification/email/confirm", {{"code", code}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_TRUE(ok.body["email_verified"].get<bool>());
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200);  // the session stays, the password too
  EXPECT_EQ(s.login("ver@example.com").status, 201);
  auto again = s.as(token, "POST", "/v1/account/verification/email");
  EXPECT_EQ(again.status, 409);
  auto guest = s.call("POST", "/v1/sessions/anonymous");
  EXPECT_EQ(s.as(guest.body["session"]["token"].get<std::string>(), "POST", "/v1/account/verification/email").status, 400);
  EXPECT_EQ(s.call("POST", "/v1/account/verification/email").status, 401);
}

TEST(Codes, EmailChangeNeedsProofTellsTheOldAddressAndSetsAVerifiedEmail) {
  roster_server s(env{{"ROSTER_AUTH_CODE_SEND_PER_MINUTE", "100"}, {"ROSTER_AUTH_CODE_SEND_PER_HOUR", "100"},
                      {"ROSTER_AUTH_SUDO_WINDOW", "1s"}});
  auto reg = s.register_user("old@example.com", "changer");
  ASSERT_EQ(reg.status, 201);
  auto token = reg.body["session"]["token"].get<std::string>();
  ASSERT_EQ(s.register_user("taken@example.com", "holder").status, 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the sudo window is over
  auto stale = s.as(token, "POST", "/v1/account/email", {{"email", "new@example.com"}});
  EXPECT_EQ(stale.status, 403);
  EXPECT_EQ(stale.body["error"]["code"], "reauthentication_required");
  EXPECT_EQ(s.as(token, "POST", "/v1/account/email", {{"email", "new@example.com"}, {"password", "wrong-horse-9"}}).status, 401);
  EXPECT_EQ(s.as(token, "POST", "/v1/account/email", {{"email", "taken@example.com"}, {"password", "correct-horse-9"}}).body["error"]["code"],
            "email_taken");
  EXPECT_EQ(s.as(token, "POST", "/v1/account/email", {{"email", "OLD@example.com"}, {"password", "correct-horse-9"}}).status, 400);
  ASSERT_EQ(s.as(token, "POST", "/v1/account/email", {{"email", "new@example.com"}, {"password", "correct-horse-9"}}).status, 202);
  auto code = code_in(last_message(s, "new@example.com", "email_change_new"));
  ASSERT_EQ(code.size(), 6u);
  auto notice = last_message(s, "old@example.com", "email_change_old");
  EXPECT_NE(notice.find("new@example.com"), std::string::npos);
  EXPECT_EQ(notice.find(code), std::string::npos);  // the old address never sees the code
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "new@example.com"}, {"code", code}}).status, 401);
  auto done = s.as(token, "POST", "/v1/account/email/confirm", {{"email", "new@example.com"}, {"code", code}});
  ASSERT_EQ(done.status, 200) << done.raw;
  EXPECT_EQ(done.body["email"], "new@example.com");
  EXPECT_TRUE(done.body["email_verified"].get<bool>());
  EXPECT_EQ(s.login("new@example.com").status, 201);
  EXPECT_EQ(s.login("old@example.com").status, 401);
  EXPECT_EQ(s.as(token, "POST", "/v1/account/email/confirm", {{"email", "new@example.com"}, {"code", code}}).status, 401);
}

TEST(Codes, UsersRacingForOneAddressEachGetACodeAndExactlyOneWins) {
  roster_server s(env{{"ROSTER_AUTH_CODE_SEND_PER_MINUTE", "100"}, {"ROSTER_AUTH_CODE_SEND_PER_HOUR", "100"}});
  constexpr int n = 20;
  // Each user asks in turn, and the one new mail is that user's code.
  std::vector<std::string> tokens, codes;
  std::set<std::string> seen;
  auto dir = fs::path(s.data_dir()) / "messages";
  for (int i = 0; i < n; ++i) {
    auto r = s.register_user("racer" + std::to_string(i) + "@example.com", "racer_" + std::to_string(i));
    ASSERT_EQ(r.status, 201);
    tokens.push_back(r.body["session"]["token"].get<std::string>());
    ASSERT_EQ(s.as(tokens.back(), "POST", "/v1/account/email", {{"email", "prize@example.com"}}).status, 202);
    std::string code;
    for (int k = 0; k < 100 && code.empty(); ++k) {
      if (fs::exists(dir))
        for (auto& f : fs::directory_iterator(dir)) {
          auto name = f.path().filename().string();
          if (seen.count(name)) continue;
          std::ifstream in(f.path());
          std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
          if (text.find("Purpose: email_change_new\n") == std::string::npos) continue;
          seen.insert(name);
          code = code_in(text);
        }
      if (code.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(code.size(), 6u) << i;
    codes.push_back(code);
  }
  auto [won, taken] = race(n, [&](size_t i) {
    return s.as(tokens[i], "POST", "/v1/account/email/confirm", {{"email", "prize@example.com"}, {"code", codes[i]}});
  }, "email_taken");
  EXPECT_EQ(won, 1);
  EXPECT_EQ(won + taken, n);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users?q=prize@example.com").body["total"], 1);
}

TEST(Codes, PhoneCodeLoginCreatesAUserWithTheNumberThenLogsIntoIt) {
  roster_server s(fast_sends());
  const std::string phone = "+14155550123";
  ASSERT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", phone}}).status, 202);
  auto sms = last_message(s, phone, "phone_code");
  EXPECT_EQ(sms.find("Subject:"), std::string::npos);  // an SMS, not a mail
  auto code = code_in(sms);
  ASSERT_EQ(code.size(), 6u);
  // Scoped to the number: another number, or the email flow, gets nothing.
  EXPECT_EQ(s.call("POST", "/v1/sessions/phone-code", {{"phone", "+14155550124"}, {"code", code}}).status, 401);
  auto in = s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", code}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_TRUE(in.body["created"].get<bool>());
  EXPECT_EQ(in.body["user"]["phone"], phone);
  EXPECT_EQ(in.body["user"]["email"], nullptr);
  EXPECT_FALSE(in.body["user"]["anonymous"].get<bool>());
  EXPECT_EQ(in.body["user"]["identities"], json::array({{{"kind", "phone"}, {"value", phone}}}));
  EXPECT_EQ(in.body["session"]["method"], "phone_code");
  EXPECT_EQ(s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", code}}).status, 401);  // used
  ASSERT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", phone}}).status, 202);
  auto back = s.call("POST", "/v1/sessions/phone-code",
                     {{"phone", phone}, {"code", code_in(last_message(s, phone, "phone_code", 1))}});
  ASSERT_EQ(back.status, 201) << back.raw;
  EXPECT_FALSE(back.body["created"].get<bool>());
  EXPECT_EQ(back.body["user"]["id"], in.body["user"]["id"]);
  // The security log and the admin's stats know the method.
  auto logs = s.as(back.body["session"]["token"].get<std::string>(), "GET", "/v1/account/logs");
  EXPECT_NE(logs.raw.find("phone_code"), std::string::npos);
  EXPECT_EQ(s.admin("GET", "/v1/admin/stats").body["by_provider"]["phone_code"], 1) << s.admin("GET", "/v1/admin/stats").raw;
}

TEST(Codes, PhoneVerificationAddsANumberNeedsProofAndOneNumberHasOneAccount) {
  roster_server s(env{{"ROSTER_AUTH_CODE_SEND_PER_MINUTE", "100"}, {"ROSTER_AUTH_CODE_SEND_PER_HOUR", "100"},
                      {"ROSTER_AUTH_SUDO_WINDOW", "5s"}});
  const std::string phone = "+447700900123";
  auto reg = s.register_user("ph@example.com", "phone_owner");
  ASSERT_EQ(reg.status, 201);
  auto token = reg.body["session"]["token"].get<std::string>();
  ASSERT_EQ(s.as(token, "POST", "/v1/account/verification/phone", {{"phone", phone}}).status, 202);
  auto code = code_in(last_message(s, phone, "phone_verification"));
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", code}}).status, 401);  // no login code
  auto wrong = code == "000000" ? "000001" : "000000";
  EXPECT_EQ(s.as(token, "POST", "/v1/account/verification/phone/confirm", {{"phone", phone}, {"code", wrong}}).status, 401);
  auto ok = s.as(token, "POST", "/v1/account/verification/phone/confirm", {{"phone", phone}, {"code", code}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["phone"], phone);
  EXPECT_EQ(ok.body["email"], "ph@example.com");
  EXPECT_EQ(s.as(token, "POST", "/v1/account/verification/phone/confirm", {{"phone", phone}, {"code", code}}).status, 401);
  // The number is now a way in to this account ...
  ASSERT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", phone}}).status, 202);
  auto in = s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", code_in(last_message(s, phone, "phone_code"))}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_FALSE(in.body["created"].get<bool>());
  EXPECT_EQ(in.body["user"]["id"], reg.body["user"]["id"]);
  // ... and nobody else's.
  EXPECT_EQ(s.as(token, "POST", "/v1/account/verification/phone", {{"phone", phone}}).status, 409);
  auto other = s.register_user("other@example.com", "other_owner");
  auto other_token = other.body["session"]["token"].get<std::string>();
  auto taken = s.as(other_token, "POST", "/v1/account/verification/phone", {{"phone", phone}});
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(taken.body["error"]["code"], "identity_taken");
  // Replacing the number frees the old one.
  ASSERT_EQ(s.as(in.body["session"]["token"].get<std::string>(), "POST", "/v1/account/verification/phone",
                 {{"phone", "+447700900555"}}).status, 202);
  auto swap = s.as(in.body["session"]["token"].get<std::string>(), "POST", "/v1/account/verification/phone/confirm",
                   {{"phone", "+447700900555"}, {"code", code_in(last_message(s, "+447700900555", "phone_verification"))}});
  ASSERT_EQ(swap.status, 200) << swap.raw;
  EXPECT_EQ(swap.body["phone"], "+447700900555");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", phone}}).status, 202);
  auto fresh = s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", code_in(last_message(s, phone, "phone_code", 1))}});
  ASSERT_EQ(fresh.status, 201) << fresh.raw;
  EXPECT_TRUE(fresh.body["created"].get<bool>());
  // Past the sudo window, the password is needed.
  std::this_thread::sleep_for(std::chrono::milliseconds(5100));
  auto stale = s.as(other_token, "POST", "/v1/account/verification/phone", {{"phone", "+447700900999"}});
  EXPECT_EQ(stale.status, 403);
  EXPECT_EQ(stale.body["error"]["code"], "reauthentication_required");
  EXPECT_EQ(s.as(other_token, "POST", "/v1/account/verification/phone",
                 {{"phone", "+447700900999"}, {"password", "correct-horse-9"}}).status, 202);
}

TEST(Codes, UsersRacingForOneNumberExactlyOneWins) {
  roster_server s(env{{"ROSTER_AUTH_CODE_SEND_PER_MINUTE", "100"}, {"ROSTER_AUTH_CODE_SEND_PER_HOUR", "100"}});
  constexpr int n = 8;
  const std::string phone = "+819012345678";
  std::vector<std::string> tokens, codes;
  for (int i = 0; i < n; ++i) {
    auto r = s.register_user("pr" + std::to_string(i) + "@example.com", "pracer_" + std::to_string(i));
    ASSERT_EQ(r.status, 201);
    tokens.push_back(r.body["session"]["token"].get<std::string>());
    ASSERT_EQ(s.as(tokens.back(), "POST", "/v1/account/verification/phone", {{"phone", phone}}).status, 202);
    auto code = code_in(last_message(s, phone, "phone_verification", static_cast<size_t>(i)));
    ASSERT_EQ(code.size(), 6u) << i;
    codes.push_back(code);
  }
  auto [won, taken] = race(n, [&](size_t i) {
    return s.as(tokens[i], "POST", "/v1/account/verification/phone/confirm", {{"phone", phone}, {"code", codes[i]}});
  }, "identity_taken");
  EXPECT_EQ(won, 1);
  EXPECT_EQ(won + taken, n);
}

// SMS through the webhook sender: a signed POST to sms.webhook_url that an
// SMS gateway turns into a text; the code in it works.
TEST(Codes, PhoneCodesGoOutThroughTheSmsWebhook) {
  webhook_receiver gateway(free_port(), "whsec-sms-0123456789abcdef");
  gateway.start();
  auto e = fast_sends();
  e["ROSTER_SMS_SENDER"] = "webhook";
  e["ROSTER_SMS_WEBHOOK_URL"] = gateway.url();
  e["ROSTER_WEBHOOKS_SECRET"] = "whsec-sms-0123456789abcdef";
  roster_server s(e);
  const std::string phone = "+33612345678";
  ASSERT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", phone}}).status, 202);
  ASSERT_TRUE(gateway.wait_for([](const std::vector<delivery>& d) { return !d.empty(); }));
  auto d = gateway.accepted().front();
  EXPECT_TRUE(d.signature_ok);
  auto body = json::parse(d.body);
  EXPECT_EQ(body["to"], phone);
  EXPECT_EQ(body["purpose"], "phone_code");
  EXPECT_EQ(body["delivery_id"], d.id);
  auto code = code_in(body["text"].get<std::string>());
  ASSERT_EQ(code.size(), 6u);
  EXPECT_FALSE(fs::exists(fs::path(s.data_dir()) / "messages"));  // nothing left on disk with the code
  auto in = s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", code}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_EQ(in.body["user"]["phone"], phone);
  // Verification codes take the same way.
  ASSERT_EQ(s.as(in.body["session"]["token"].get<std::string>(), "POST", "/v1/account/verification/phone",
                 {{"phone", "+33612345679"}}).status, 202);
  ASSERT_TRUE(gateway.wait_for([](const std::vector<delivery>& d) { return d.size() >= 2; }));
  EXPECT_EQ(json::parse(gateway.accepted()[1].body)["purpose"], "phone_verification");
}

// Enumeration: the send endpoints give the same status, body and — within a
// stated tolerance — time for addresses with and without an account. 200
// samples of each, interleaved; the tolerance: medians within 1 ms or 25% of
// the larger (the work differs only by the message written for a known
// recovery address: microseconds, against a loopback round trip).
TEST(Codes, SendEndpointsAnswerKnownAndUnknownAddressesAlike) {
  roster_server s(env{{"ROSTER_AUTH_ARGON2_MEMORY_KIB", "8"}, {"ROSTER_AUTH_ARGON2_ITERATIONS", "1"}});
  constexpr int n = 200;
  for (int i = 0; i < n; ++i)
    ASSERT_EQ(s.register_user("known" + std::to_string(i) + "@example.com", "known_" + std::to_string(i)).status, 201);
  for (const char* path : {"/v1/auth/recovery", "/v1/auth/email-code", "/v1/auth/magic-link"}) {
    std::vector<double> known, unknown;
    std::set<std::string> bodies;
    std::set<int> statuses;
    for (int i = 0; i < n; ++i)
      for (bool k : {true, false}) {
        auto email = (k ? "known" : "unknown") + std::to_string(i) + "@example.com";
        auto t0 = std::chrono::steady_clock::now();
        auto r = s.call("POST", path, {{"email", email}});
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        (k ? known : unknown).push_back(ms);
        bodies.insert(r.raw);
        statuses.insert(r.status);
      }
    EXPECT_EQ(statuses, std::set<int>{202}) << path;
    EXPECT_EQ(bodies.size(), 1u) << path;
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    double a = median(known), b = median(unknown);
    std::cout << path << ": median known " << a << " ms, unknown " << b << " ms (" << n << " each)\n";
    EXPECT_LE(std::abs(a - b), std::max(1.0, 0.25 * std::max(a, b))) << path << ": known " << a << " ms, unknown " << b << " ms";
  }
}

TEST(Codes, BadInputIsA400) {
  roster_server s;
  EXPECT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "not-an-email"}}).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "a@example.com"}, {"extra", 1}}).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "a@example.com"}, {"code", "12345"}}).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "a@example.com"}, {"code", 123456}}).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/auth/recovery/confirm", {{"email", "a@example.com"}, {"code", "123456"}}).status, 400);
  for (const char* phone : {"14155550123", "+0155550123", "+1 415 555 0123", "+1415", "+1234567890123456", "+1415555012a"}) {
    auto r = s.call("POST", "/v1/auth/phone-code", {{"phone", phone}});
    EXPECT_EQ(r.status, 400) << phone;
    EXPECT_TRUE(r.body["error"]["fields"].contains("phone")) << r.raw;
  }
  EXPECT_EQ(s.call("POST", "/v1/sessions/phone-code", {{"phone", "+14155550123"}}).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/account/verification/phone", {{"phone", "+14155550123"}}).status, 401);
  auto guest = s.call("POST", "/v1/sessions/anonymous").body["session"]["token"].get<std::string>();
  EXPECT_EQ(s.as(guest, "POST", "/v1/account/verification/phone", {{"phone", "nope"}}).status, 400);
  EXPECT_EQ(s.as(guest, "POST", "/v1/account/verification/phone/confirm", {{"phone", "+14155550123"}}).status, 400);
}

// Once per flow through a real SMTP server (STARTTLS, certificate checked):
// the mail a player receives carries the code or the link that works.
TEST(Codes, EveryFlowsMailArrivesOverSmtpAndWhatItCarriesWorks) {
  roster::smtp_fixture::test_pki pki;
  ASSERT_TRUE(pki.ok) << roster::smtp_fixture::read_file(pki.log);
  roster::smtp_fixture::smtp_server mail({pki.server_cert, pki.server_key, "", "", false});
  ASSERT_TRUE(mail.ready()) << mail.stderr_text();
  auto e = fast_sends();
  e["ROSTER_MAIL_SENDER"] = "smtp";
  e["ROSTER_MAIL_SMTP_URL"] = mail.url();
  e["ROSTER_MAIL_SMTP_CA_FILE"] = pki.ca;
  e["ROSTER_MAIL_FROM"] = "Game <no-reply@game.test>";
  e["ROSTER_AUTH_LINK_BASE_URL"] = "https://play.game.test/verify";
  roster_server s(e);
  // The n-th message received (1-based), waiting up to 10 s.
  auto received = [&](size_t n) -> json {
    for (int i = 0; i < 200; ++i) {
      auto all = mail.messages();
      if (all.size() >= n) return all[n - 1];
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return json();
  };
  auto code_of_mail = [](const json& m) { return m.is_object() ? code_in(m.value("text", "")) : std::string(); };

  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "sam@game.test"}}).status, 202);
  auto first = received(1);
  ASSERT_TRUE(first.is_object()) << s.log();
  EXPECT_TRUE(first["tls"].get<bool>());
  EXPECT_EQ(first["rcpt_tos"], json::array({"sam@game.test"}));
  EXPECT_EQ(first["subject"], "Your code");
  EXPECT_NE(first["html"].get<std::string>().find("<strong>" + code_of_mail(first) + "</strong>"), std::string::npos);
  auto in = s.call("POST", "/v1/sessions/email-code", {{"email", "sam@game.test"}, {"code", code_of_mail(first)}});
  ASSERT_EQ(in.status, 201) << in.raw;
  auto token = in.body["session"]["token"].get<std::string>();

  ASSERT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "lin@game.test"}}).status, 202);
  auto link_mail = received(2);
  auto link = link_in(link_mail.value("text", ""));
  ASSERT_EQ(link.rfind("https://play.game.test/verify?token=", 0), 0u) << link_mail.dump();
  EXPECT_NE(link_mail["html"].get<std::string>().find("href=\"" + link + "\""), std::string::npos);
  EXPECT_EQ(s.call("POST", "/v1/sessions/magic-link", {{"token", token_in(link)}}).status, 201);

  ASSERT_EQ(s.register_user("rec@game.test", "rec_user").status, 201);
  ASSERT_EQ(s.call("POST", "/v1/auth/recovery", {{"email", "rec@game.test"}}).status, 202);
  auto recovery = received(3);
  EXPECT_EQ(recovery["subject"], "Reset your password");
  EXPECT_EQ(s.call("POST", "/v1/auth/recovery/confirm",
                   {{"email", "rec@game.test"}, {"code", code_of_mail(recovery)}, {"new_password", "battery-staple-77"}})
                .status,
            200);

  auto reg = s.register_user("ver@game.test", "ver_game");
  ASSERT_EQ(reg.status, 201);
  ASSERT_EQ(s.as(reg.body["session"]["token"].get<std::string>(), "POST", "/v1/account/verification/email").status, 202);
  auto verification = received(4);
  EXPECT_EQ(verification["subject"], "Confirm your email");
  EXPECT_EQ(s.as(reg.body["session"]["token"].get<std::string>(), "POST", "/v1/account/verification/email/confirm",
                 {{"code", code_of_mail(verification)}}).status, 200);
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200);
}
