// MFA over HTTP (issue 11, item 4): TOTP enrolment checked with codes from
// Debian's oathtool (an independent implementation, run as a subprocess),
// the login gate of every way in, POST /v1/sessions/mfa with a TOTP code or a
// recovery code, replay refusal, 5 tries per challenge, expiry, throttling
// across challenges, and the sudo rule of the enrolment endpoints.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/roster_server.h"
#include "tests/support/webhook_receiver.h"

using namespace roster::testing;
namespace fs = std::filesystem;

namespace {

/// A TOTP code for `secret` (base32) from oathtool, `offset` seconds from now.
std::string oathtool(const std::string& secret, int offset = 0) {
  std::string now = offset == 0 ? "now" : "now " + std::string(offset > 0 ? "+ " : "- ") + std::to_string(std::abs(offset)) + " seconds";
  auto [rc, out] = run_command("oathtool --totp -b -N '" + now + "' " + secret);
  EXPECT_EQ(rc, 0) << "oathtool missing? (scripts/deps installs it) " << out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

/// Cheap Argon2id for recovery codes (10 hashes per confirm) and passwords.
env fast(env extra = {}) {
  env e{{"ROSTER_AUTH_ARGON2_MEMORY_KIB", "1024"}, {"ROSTER_AUTH_ARGON2_ITERATIONS", "1"},
        {"ROSTER_AUTH_CODE_SEND_PER_MINUTE", "100"}, {"ROSTER_AUTH_CODE_SEND_PER_HOUR", "100"}};
  for (auto& [k, v] : extra) e[k] = v;
  return e;
}

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

struct enrolled {
  std::string token, secret;
  std::vector<std::string> recovery;
};

/// Registers `name` and turns TOTP on (enrol, confirm with oathtool's code).
enrolled enrol(const roster_server& s, const std::string& name) {
  enrolled out;
  auto reg = s.register_user(name + "@example.com", name);
  EXPECT_EQ(reg.status, 201) << reg.raw;
  out.token = token_of(reg);
  auto e = s.as(out.token, "POST", "/v1/account/mfa/totp");
  EXPECT_EQ(e.status, 201) << e.raw;
  out.secret = e.body["secret"].get<std::string>();
  auto c = s.as(out.token, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(out.secret)}});
  EXPECT_EQ(c.status, 200) << c.raw;
  for (auto& r : c.body["recovery_codes"]) out.recovery.push_back(r.get<std::string>());
  return out;
}

std::string challenge_of(const response& r) {
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body.value("mfa_required", false), true) << r.raw;
  return r.body.value("challenge_id", std::string());
}

std::string last_code(const roster_server& s, const std::string& to) {
  auto dir = fs::path(s.data_dir()) / "messages";
  for (int i = 0; i < 100; ++i) {
    std::vector<std::pair<std::string, std::string>> found;
    if (fs::exists(dir))
      for (auto& f : fs::directory_iterator(dir)) {
        std::ifstream in(f.path());
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.find("To: " + to + "\n") != std::string::npos) found.emplace_back(f.path().filename().string(), text);
      }
    std::sort(found.begin(), found.end());
    std::smatch m;
    if (!found.empty() && std::regex_search(found.back().second, m, std::regex("\\b([0-9]{6})\\b"))) return m[1].str();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

} // namespace

TEST(Mfa, EnrolConfirmWithOathtoolThenLoginNeedsTheSecondStep) {
  roster_server s(fast());
  auto reg = s.register_user("ada@example.com", "ada");
  ASSERT_EQ(reg.status, 201);
  auto t = token_of(reg);
  EXPECT_EQ(reg.body["user"]["mfa_enabled"], false);
  auto e = s.as(t, "POST", "/v1/account/mfa/totp");
  ASSERT_EQ(e.status, 201) << e.raw;
  std::string secret = e.body["secret"];
  EXPECT_EQ(secret.size(), 32u);  // 20 bytes, base32
  std::string uri = e.body["otpauth_uri"];
  EXPECT_EQ(uri.rfind("otpauth://totp/Roster:ada%40example.com?secret=" + secret + "&issuer=Roster", 0), 0u) << uri;
  EXPECT_NE(uri.find("&digits=6&period=30&algorithm=SHA1"), std::string::npos);
  // Enrolling again replaces the pending secret: the first one no longer confirms.
  auto e2 = s.as(t, "POST", "/v1/account/mfa/totp");
  ASSERT_EQ(e2.status, 201);
  std::string secret2 = e2.body["secret"];
  EXPECT_NE(secret2, secret);
  // A code of a wrong secret is refused.
  auto wrong = s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(secret)}});
  EXPECT_EQ(wrong.status, 401) << wrong.raw;
  EXPECT_EQ(wrong.body["error"]["code"], "invalid_credentials");
  EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", "12345"}}).status, 400);
  auto ok = s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(secret2)}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  ASSERT_EQ(ok.body["recovery_codes"].size(), 10u);
  EXPECT_TRUE(std::regex_match(ok.body["recovery_codes"][0].get<std::string>(), std::regex("[a-z2-9]{4}-[a-z2-9]{4}")));
  EXPECT_EQ(s.as(t, "GET", "/v1/account").body["mfa_enabled"], true);
  // MFA is on: enrolling again is 409, the secret is never shown again.
  auto again = s.as(t, "POST", "/v1/account/mfa/totp");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.raw.find(secret2), std::string::npos);
  EXPECT_EQ(s.as(t, "GET", "/v1/account").raw.find(secret2), std::string::npos);

  // The password login now asks for the second step.
  auto login = s.login("ada");
  auto challenge = challenge_of(login);
  ASSERT_FALSE(challenge.empty());
  EXPECT_FALSE(login.body.contains("session"));
  // The confirm used this step's code; the next step's (inside the skew) logs in.
  auto code = oathtool(secret2, 30);
  auto in = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", code}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_EQ(in.body["session"]["method"], "password");
  EXPECT_EQ(in.body["user"]["mfa_enabled"], true);
  EXPECT_EQ(s.as(token_of(in), "GET", "/v1/account").status, 200);
  // The challenge is used up; the same code on a new challenge is a replay.
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", code}}).status, 401);
  auto replay = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge_of(s.login("ada"))}, {"code", code}});
  EXPECT_EQ(replay.status, 401) << replay.raw;
  EXPECT_EQ(replay.body["error"]["code"], "invalid_credentials");
  // Garbage challenge ids: 401, malformed bodies: 400.
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", "nope"}, {"code", "123456"}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}}).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", "123456"}, {"recovery_code", "x"}}).status, 400);
  // The security log has the changes.
  auto logs = s.as(t, "GET", "/v1/account/logs?limit=100");
  ASSERT_EQ(logs.status, 200);
  for (const char* ev : {"mfa_enabled", "mfa_challenge", "mfa_failed"})
    EXPECT_NE(logs.raw.find(std::string("\"event\":\"") + ev + "\""), std::string::npos) << ev;
}

TEST(Mfa, ARecoveryCodeWorksOnceAndRegeneratingKillsTheOldOnes) {
  roster_server s(fast());
  auto u = enrol(s, "bea");
  ASSERT_EQ(u.recovery.size(), 10u);
  auto in = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge_of(s.login("bea"))}, {"recovery_code", u.recovery[0]}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_EQ(in.body["session"]["method"], "password");
  auto twice = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge_of(s.login("bea"))}, {"recovery_code", u.recovery[0]}});
  EXPECT_EQ(twice.status, 401) << twice.raw;
  // Typed loosely: upper case, no dash.
  std::string loose = u.recovery[1];
  loose.erase(4, 1);
  for (auto& ch : loose) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge_of(s.login("bea"))}, {"recovery_code", loose}}).status, 201);
  // New codes: the old ones die.
  auto fresh = s.as(u.token, "POST", "/v1/account/mfa/recovery-codes");
  ASSERT_EQ(fresh.status, 200) << fresh.raw;
  ASSERT_EQ(fresh.body["recovery_codes"].size(), 10u);
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge_of(s.login("bea"))}, {"recovery_code", u.recovery[2]}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa",
                   {{"challenge_id", challenge_of(s.login("bea"))}, {"recovery_code", fresh.body["recovery_codes"][0]}}).status, 201);
  auto logs = s.as(u.token, "GET", "/v1/account/logs?limit=100");
  for (const char* ev : {"mfa_recovery_code_used", "mfa_recovery_codes_regenerated"})
    EXPECT_NE(logs.raw.find(std::string("\"event\":\"") + ev + "\""), std::string::npos) << ev;
}

TEST(Mfa, FiveWrongCodesKillTheChallenge) {
  roster_server s(fast({{"ROSTER_AUTH_MAX_FAILED_LOGINS", "50"}}));
  auto u = enrol(s, "cal");
  auto challenge = challenge_of(s.login("cal"));
  auto right = oathtool(u.secret, 30);
  std::string wrong = right == "000000" ? "111111" : "000000";
  for (int i = 0; i < 5; ++i) {
    auto r = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", wrong}});
    EXPECT_EQ(r.status, 401) << i << r.raw;
  }
  auto dead = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", right}});
  EXPECT_EQ(dead.status, 401) << dead.raw;
  // A new login gets a new challenge, which the right code completes.
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge_of(s.login("cal"))}, {"code", right}}).status, 201);
}

TEST(Mfa, FailuresCountIntoTheAccountsLoginThrottleAcrossChallenges) {
  roster_server s(fast());  // auth.max_failed_logins = 5
  auto u = enrol(s, "dee");
  auto right = oathtool(u.secret, 30);
  std::string wrong = right == "000000" ? "111111" : "000000";
  for (int i = 0; i < 3; ++i) {
    auto c = challenge_of(s.login("dee"));
    auto r = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", c}, {"code", wrong}});
    EXPECT_EQ(r.status, 401) << r.raw;
  }
  auto c = challenge_of(s.login("dee"));
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", c}, {"code", wrong}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", c}, {"code", wrong}}).status, 401);
  // Five failures over three challenges: the account is locked, even for the right code.
  auto locked = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", c}, {"code", right}});
  EXPECT_EQ(locked.status, 429) << locked.raw;
  EXPECT_FALSE(locked.header("Retry-After").empty());
}

TEST(Mfa, AnExpiredChallengeFails) {
  roster_server s(fast({{"ROSTER_AUTH_MFA_CHALLENGE_TTL", "1s"}}));
  auto u = enrol(s, "eli");
  auto challenge = challenge_of(s.login("eli"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto r = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", oathtool(u.secret, 30)}});
  EXPECT_EQ(r.status, 401) << r.raw;
  EXPECT_EQ(r.body["error"]["code"], "invalid_credentials");
}

TEST(Mfa, EnrolmentChangesNeedTheSudoWindowOrThePassword) {
  roster_server s(fast({{"ROSTER_AUTH_SUDO_WINDOW", "1s"}}));
  auto reg = s.register_user("fay@example.com", "fay");
  ASSERT_EQ(reg.status, 201);
  auto t = token_of(reg);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  auto stale = s.as(t, "POST", "/v1/account/mfa/totp");
  EXPECT_EQ(stale.status, 403) << stale.raw;
  EXPECT_EQ(stale.body["error"]["code"], "reauthentication_required");
  auto e = s.as(t, "POST", "/v1/account/mfa/totp", {{"password", "correct-horse-9"}});
  ASSERT_EQ(e.status, 201) << e.raw;
  std::string secret = e.body["secret"];
  EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(secret)}}).status, 403);
  auto c = s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(secret)}, {"password", "correct-horse-9"}});
  ASSERT_EQ(c.status, 200) << c.raw;
  EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/recovery-codes").status, 403);
  EXPECT_EQ(s.as(t, "DELETE", "/v1/account/mfa/totp").status, 403);
  EXPECT_EQ(s.as(t, "DELETE", "/v1/account/mfa/totp", {{"password", "wrong-horse-1"}}).status, 401);
  EXPECT_EQ(s.as(t, "GET", "/v1/account").body["mfa_enabled"], true);
  EXPECT_EQ(s.as(t, "DELETE", "/v1/account/mfa/totp", {{"password", "correct-horse-9"}}).status, 204);
  EXPECT_EQ(s.as(t, "GET", "/v1/account").body["mfa_enabled"], false);
  // Off: the password alone logs in again; recovery codes are gone with it.
  auto in = s.login("fay");
  EXPECT_EQ(in.status, 201) << in.raw;
  EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/recovery-codes", {{"password", "correct-horse-9"}}).status, 404);
}

TEST(Mfa, DeviceAndEmailCodeLoginsAreGatedToo) {
  roster_server s(fast());
  // A device account (no password: its fresh session is the proof).
  auto dev = s.call("POST", "/v1/sessions/device", {{"device_id", "console-mfa-0001"}});
  ASSERT_EQ(dev.status, 201) << dev.raw;
  auto dt = token_of(dev);
  auto e = s.as(dt, "POST", "/v1/account/mfa/totp");
  ASSERT_EQ(e.status, 201) << e.raw;
  std::string secret = e.body["secret"];
  ASSERT_EQ(s.as(dt, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(secret)}}).status, 200);
  auto again = s.call("POST", "/v1/sessions/device", {{"device_id", "console-mfa-0001"}});
  auto c = challenge_of(again);
  auto in = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", c}, {"code", oathtool(secret, 30)}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_EQ(in.body["session"]["method"], "device");

  // An email account (its address proven by a first email code: TOTP set up
  // on an unproven address would be dropped by that proof, as a squatter's):
  // the email code is the first factor, TOTP the second.
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "gus@example.com"}}).status, 202);
  auto code = last_code(s, "gus@example.com");
  ASSERT_EQ(code.size(), 6u);
  auto made = s.call("POST", "/v1/sessions/email-code", {{"email", "gus@example.com"}, {"code", code}});
  ASSERT_EQ(made.status, 201) << made.raw;
  auto gt = token_of(made);
  auto ge = s.as(gt, "POST", "/v1/account/mfa/totp");
  ASSERT_EQ(ge.status, 201) << ge.raw;
  auto gconf = s.as(gt, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(ge.body["secret"].get<std::string>())}});
  ASSERT_EQ(gconf.status, 200) << gconf.raw;
  ASSERT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "gus@example.com"}}).status, 202);
  std::string second;
  for (int i = 0; i < 100 && (second.empty() || second == code); ++i) {
    second = last_code(s, "gus@example.com");
    if (second == code) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto first = s.call("POST", "/v1/sessions/email-code", {{"email", "gus@example.com"}, {"code", second}});
  auto gc = challenge_of(first);
  auto done = s.call("POST", "/v1/sessions/mfa",
                     {{"challenge_id", gc}, {"recovery_code", gconf.body["recovery_codes"][0].get<std::string>()}});
  ASSERT_EQ(done.status, 201) << done.raw;
  EXPECT_EQ(done.body["session"]["method"], "email_code");
  EXPECT_TRUE(done.body["user"]["email_verified"].get<bool>());
}

TEST(Mfa, AChallengeFromOneNodeCompletesThroughAnotherAndSecretsAreSealed) {
  // Two nodes with cluster.secret: the TOTP secrets are sealed under its key,
  // the new operations cross the member link, and a challenge id routes to
  // its user's actor from any node, like a session token.
  auto node_env = [](const std::string& name, int port, const std::string& seeds) {
    env e = fast({{"ROSTER_NODE_NAME", name}, {"ROSTER_CLUSTER_LISTEN", "127.0.0.1:" + std::to_string(port)},
                  {"ROSTER_CLUSTER_SECRET", "mfa-cluster-secret-0123456"}, {"ROSTER_CLUSTER_INSECURE", "true"}});
    if (!seeds.empty()) e["ROSTER_CLUSTER_SEEDS"] = seeds;
    return e;
  };
  roster_server a(node_env("node-1", free_port(), ""));
  roster_server b(node_env("node-2", free_port(), "127.0.0.1:" + std::to_string(a.cluster_port())));
  json view;
  for (int t = 0; t < 600; ++t) {
    view = a.admin("GET", "/debug/cluster").body;
    if (view.is_object() && view["members"].size() == 2 && view["handoffs"].empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(view["members"].size(), 2u) << view.dump();
  std::set<std::string> owners;
  // Users until both nodes own one (at least 4 users; each lands on a node at random).
  for (int i = 0; i < 32 && (i < 4 || owners.size() < 2); ++i) {
    auto name = "hal" + std::to_string(i);
    auto reg = a.register_user(name + "@example.com", name);
    ASSERT_EQ(reg.status, 201) << reg.raw;
    auto t = token_of(reg);
    owners.insert(a.admin("GET", "/debug/users/" + reg.body["user"]["id"].get<std::string>()).body.value("owner", ""));
    auto e = b.as(t, "POST", "/v1/account/mfa/totp");
    ASSERT_EQ(e.status, 201) << e.raw;
    std::string secret = e.body["secret"];
    ASSERT_EQ(a.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(secret)}}).status, 200);
    auto challenge = challenge_of(b.login(name));
    auto in = a.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", oathtool(secret, 30)}});
    ASSERT_EQ(in.status, 201) << in.raw;
    EXPECT_EQ(b.as(token_of(in), "GET", "/v1/account").body["mfa_enabled"], true);
    EXPECT_EQ(a.log().find(secret), std::string::npos);
    EXPECT_EQ(b.log().find(secret), std::string::npos);
  }
  EXPECT_EQ(owners.size(), 2u) << "every user landed on one node";
}

TEST(Mfa, EveryChangeAndFailureIsAWebhookEventWithoutSecrets) {
  webhook_receiver hook(free_port(), "whsec-mfa-0123456789abcdef");
  hook.start();
  roster_server s(fast({{"ROSTER_WEBHOOKS_URLS", hook.url()}, {"ROSTER_WEBHOOKS_SECRET", "whsec-mfa-0123456789abcdef"},
                        {"ROSTER_OUTBOX_BACKOFF_INITIAL", "100ms"}, {"ROSTER_OUTBOX_BACKOFF_MAX", "500ms"}}));
  auto u = enrol(s, "ivy");
  auto challenge = challenge_of(s.login("ivy"));
  auto right = oathtool(u.secret, 30);
  std::string wrong = right == "000000" ? "111111" : "000000";
  ASSERT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", wrong}}).status, 401);
  ASSERT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"recovery_code", u.recovery[0]}}).status, 201);
  ASSERT_EQ(s.as(u.token, "POST", "/v1/account/mfa/recovery-codes").status, 200);
  ASSERT_EQ(s.as(u.token, "DELETE", "/v1/account/mfa/totp").status, 204);
  std::vector<std::string> wanted = {"user.mfa_enabled", "user.mfa_failed", "user.mfa_recovery_code_used", "user.login",
                                     "user.mfa_recovery_codes_regenerated", "user.mfa_disabled"};
  auto types = [&] {
    std::vector<std::string> out;
    for (auto& d : hook.accepted()) {
      auto j = json::parse(d.body, nullptr, false);
      if (j.is_object()) out.push_back(j.value("type", ""));
    }
    return out;
  };
  ASSERT_TRUE(hook.wait_for([&](auto&) {
    auto t = types();
    return std::all_of(wanted.begin(), wanted.end(), [&](auto& w) { return std::find(t.begin(), t.end(), w) != t.end(); });
  }, std::chrono::seconds(30))) << s.log();
  for (auto& d : hook.deliveries()) {
    EXPECT_TRUE(d.signature_ok);
    EXPECT_EQ(d.body.find(u.secret), std::string::npos);
    for (auto& code : u.recovery) EXPECT_EQ(d.body.find(code), std::string::npos);
  }
}

TEST(Mfa, PhoneCodeMagicLinkAndCustomIdLoginsAreGatedToo) {
  roster_server s(fast());
  // Every login ends in the user actor's login_finish, which opens the
  // challenge; these are the login paths the other tests do not take.
  auto turn_on = [&](const std::string& token) {
    auto e = s.as(token, "POST", "/v1/account/mfa/totp");
    EXPECT_EQ(e.status, 201) << e.raw;
    std::string secret = e.body.value("secret", "");
    EXPECT_EQ(s.as(token, "POST", "/v1/account/mfa/totp/confirm", {{"code", oathtool(secret)}}).status, 200);
    return secret;
  };
  // A phone-code account.
  const std::string phone = "+14155550177";
  ASSERT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", phone}}).status, 202);
  auto code = last_code(s, phone);
  auto made = s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", code}});
  ASSERT_EQ(made.status, 201) << made.raw;
  auto secret = turn_on(token_of(made));
  ASSERT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", phone}}).status, 202);
  std::string second;
  for (int i = 0; i < 100 && (second.empty() || second == code); ++i) {
    second = last_code(s, phone);
    if (second == code) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto c = challenge_of(s.call("POST", "/v1/sessions/phone-code", {{"phone", phone}, {"code", second}}));
  auto in = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", c}, {"code", oathtool(secret, 30)}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_EQ(in.body["session"]["method"], "phone_code");
  // A magic-link account (the link's token read from the log sender's file).
  auto link_token = [&] {
    auto dir = fs::path(s.data_dir()) / "messages";
    std::string newest_name, token;
    for (auto& f : fs::directory_iterator(dir)) {
      std::ifstream file(f.path());
      std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      std::smatch m;
      if (text.find("Purpose: magic_link\n") != std::string::npos &&
          std::regex_search(text, m, std::regex("token=([A-Za-z0-9_-]{43})")) && f.path().filename().string() > newest_name) {
        newest_name = f.path().filename().string();
        token = m[1].str();
      }
    }
    return token;
  };
  ASSERT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "mila@example.com"}}).status, 202);
  std::string first_link;
  for (int i = 0; i < 100 && first_link.empty(); ++i) {
    first_link = link_token();
    if (first_link.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto ml = s.call("POST", "/v1/sessions/magic-link", {{"token", first_link}});
  ASSERT_EQ(ml.status, 201) << ml.raw;
  auto ml_secret = turn_on(token_of(ml));
  ASSERT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "mila@example.com"}}).status, 202);
  std::string next_link;
  for (int i = 0; i < 100 && (next_link.empty() || next_link == first_link); ++i) {
    next_link = link_token();
    if (next_link == first_link) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto mc = challenge_of(s.call("POST", "/v1/sessions/magic-link", {{"token", next_link}}));
  auto min = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", mc}, {"code", oathtool(ml_secret, 30)}});
  ASSERT_EQ(min.status, 201) << min.raw;
  EXPECT_EQ(min.body["session"]["method"], "magic_link");
  // A custom-id account.
  auto cu = s.admin("POST", "/v1/sessions/custom", {{"custom_id", "srv-mfa-1"}});
  ASSERT_EQ(cu.status, 201) << cu.raw;
  turn_on(token_of(cu));
  challenge_of(s.admin("POST", "/v1/sessions/custom", {{"custom_id", "srv-mfa-1"}}));
}
