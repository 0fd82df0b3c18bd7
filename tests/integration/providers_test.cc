// Social and platform logins, custom ids, linked identities and prefs over HTTP
// (issue "Every way in, part 2"). The providers are fakes served on loopback by the
// test: an OIDC issuer whose keys and tokens come from python3-cryptography and
// python3-jwt (tests/support/oidc_tokens.py, independent of Roster's code), and
// Discord, Facebook and Steam APIs answering as the real ones do.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// The fake providers, all on one loopback port.
class fake_providers {
 public:
  fake_providers() : port_(free_port()) {
    char tmpl[] = "/tmp/roster-oidc-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto [rc, out] = run_command(std::string(ROSTER_TEST_PYTHON) + " " ROSTER_SOURCE_DIR "/tests/support/oidc_tokens.py keys " + dir_ + " 2>&1");
    keys_ok = rc == 0;
    keys_log = out;
    jwks = read_text(fs::path(dir_) / "jwks.json");
    server_.Get("/google/jwks", [this](const httplib::Request&, httplib::Response& res) {
      ++jwks_fetches;
      std::lock_guard<std::mutex> lock(mutex_);
      res.status = jwks_status;
      res.set_content(jwks, "application/json");
    });
    server_.Get("/discord/users/@me", [](const httplib::Request& req, httplib::Response& res) {
      auto auth = req.get_header_value("Authorization");
      if (auth == "Bearer dc-typed")  // well-formed JSON, odd types: not a crash, not a login
        res.set_content(R"({"id":"80351110224678913","username":"odd","verified":"yes","email":7})", "application/json");
      else if (auth == "Bearer dc-good" || auth == "Bearer dc-other-app")
        res.set_content(R"({"id":"80351110224678912","username":"nelly","global_name":"Nelly","avatar":"8342729096ea3675442027381ff50dfe","email":"nelly@example.com","verified":true})", "application/json");
      else if (auth == "Bearer dc-boom") res.status = 500;
      else if (auth == "Bearer dc-garbage") res.set_content("<html>gateway</html>", "text/html");
      else { res.status = 401; res.set_content(R"({"message":"401: Unauthorized","code":0})", "application/json"); }
    });
    server_.Get("/discord/oauth2/@me", [](const httplib::Request& req, httplib::Response& res) {
      auto auth = req.get_header_value("Authorization");
      if (auth == "Bearer dc-good" || auth == "Bearer dc-typed")
        res.set_content(R"({"application":{"id":"1100220033","name":"Game"},"scopes":["identify","email"]})", "application/json");
      else if (auth == "Bearer dc-other-app")
        res.set_content(R"({"application":{"id":"9999999999","name":"Someone else's"},"scopes":["identify"]})", "application/json");
      else if (auth == "Bearer dc-boom") res.status = 500;
      else if (auth == "Bearer dc-garbage") res.set_content("<html>gateway</html>", "text/html");
      else { res.status = 401; res.set_content(R"({"message":"401: Unauthorized","code":0})", "application/json"); }
    });
    server_.Get("/fb/debug_token", [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("access_token") != "fbapp|fbsecret-0123") { res.status = 400; return; }
      auto t = req.get_param_value("input_token");
      if (t == "fb-good") res.set_content(R"({"data":{"app_id":"fbapp","is_valid":true,"user_id":"10229000"}})", "application/json");
      else if (t == "fb-other-app") res.set_content(R"({"data":{"app_id":"another","is_valid":true,"user_id":"10229001"}})", "application/json");
      else res.set_content(R"({"data":{"is_valid":false}})", "application/json");
    });
    server_.Get("/fb/me", [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("access_token") != "fb-good") { res.status = 400; return; }
      res.set_content(R"({"id":"10229000","name":"Fay","email":"fay@example.com","picture":{"data":{"url":"https://fb.example/fay.png"}}})", "application/json");
    });
    server_.Get("/steam/ISteamUserAuth/AuthenticateUserTicket/v1/", [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("key") != "steamkey" || req.get_param_value("appid") != "480") { res.status = 403; return; }
      if (req.get_param_value("ticket") == "14000000aabbccdd")
        res.set_content(R"({"response":{"params":{"result":"OK","steamid":"76561197960287930","ownersteamid":"76561197960287930","vacbanned":false,"publisherbanned":false}}})", "application/json");
      else
        res.set_content(R"({"response":{"error":{"errorcode":101,"errordesc":"Invalid ticket"}}})", "application/json");
    });
    for (int i = 0; i < 100 && !server_.bind_to_port("127.0.0.1", port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~fake_providers() {
    server_.stop();
    thread_.join();
    fs::remove_all(dir_);
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  env settings() const {
    return {{"ROSTER_PROVIDERS_GOOGLE_CLIENT_IDS", "web-client,game-client"},
            {"ROSTER_PROVIDERS_GOOGLE_ISSUER", "https://accounts.test"},
            {"ROSTER_PROVIDERS_GOOGLE_JWKS_URL", base() + "/google/jwks"},
            {"ROSTER_PROVIDERS_DISCORD_API_URL", base() + "/discord"},
            {"ROSTER_PROVIDERS_DISCORD_CLIENT_ID", "1100220033"},
            {"ROSTER_PROVIDERS_FACEBOOK_APP_ID", "fbapp"},
            {"ROSTER_PROVIDERS_FACEBOOK_APP_SECRET", "fbsecret-0123"},
            {"ROSTER_PROVIDERS_FACEBOOK_GRAPH_URL", base() + "/fb"},
            {"ROSTER_PROVIDERS_STEAM_APP_ID", "480"},
            {"ROSTER_PROVIDERS_STEAM_WEB_API_KEY", "steamkey"},
            {"ROSTER_PROVIDERS_STEAM_API_URL", base() + "/steam"}};
  }

  /// An ID token from the fake issuer; `claims` merged over good defaults.
  std::string token(json claims = json::object(), const std::string& key = "rsa", const std::string& kid = "rsa-1",
                    const std::string& mode = "normal") const {
    json c = {{"iss", "https://accounts.test"}, {"aud", "game-client"}, {"sub", "1094"}, {"iat", "now"},
              {"exp", "now+600"}, {"email", "gia@example.com"}, {"email_verified", true}, {"name", "Gia"},
              {"picture", "https://img.test/gia.png"}};
    for (auto& [k, v] : claims.items()) c[k] = v;
    std::string quoted = c.dump();
    std::string escaped;
    for (char ch : quoted) {
      if (ch == '\'') escaped += "'\\''";
      else escaped += ch;
    }
    auto [rc, out] = run_command(std::string(ROSTER_TEST_PYTHON) + " " ROSTER_SOURCE_DIR "/tests/support/oidc_tokens.py mint " +
                                 dir_ + " " + key + " " + kid + " '" + escaped + "' " + mode);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return rc == 0 ? out : std::string();
  }

  void serve_jwks(const std::string& text, int status = 200) {
    std::lock_guard<std::mutex> lock(mutex_);
    jwks = text;
    jwks_status = status;
  }
  std::string jwks_file(const std::string& name) const { return read_text(fs::path(dir_) / name); }

  bool keys_ok = false;
  std::string keys_log;
  std::atomic<int> jwks_fetches{0};

 private:
  int port_;
  std::string dir_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mutex_;
  std::string jwks;
  int jwks_status = 200;
};

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

}  // namespace

TEST(Providers, GoogleIdTokenFindsOrCreatesTheUserAndImportsTheProfile) {
  fake_providers fake;
  ASSERT_TRUE(fake.keys_ok) << fake.keys_log;
  roster_server s(fake.settings());
  auto in = s.call("POST", "/v1/sessions/provider/google", {{"token", fake.token()}});
  ASSERT_EQ(in.status, 201) << in.raw;
  EXPECT_TRUE(in.body["created"].get<bool>());
  EXPECT_EQ(in.body["session"]["method"], "google");
  EXPECT_EQ(in.body["user"]["display_name"], "Gia");
  EXPECT_EQ(in.body["user"]["avatar_url"], "https://img.test/gia.png");
  EXPECT_EQ(in.body["user"]["email"], "gia@example.com");
  EXPECT_TRUE(in.body["user"]["email_verified"].get<bool>());
  EXPECT_EQ(in.body["user"]["identities"], json::parse(R"([{"kind":"email","value":"gia@example.com"},{"kind":"google","value":"1094"}])"));
  // The player renames; the next login finds the same account and leaves the name alone.
  ASSERT_EQ(s.as(token_of(in), "PATCH", "/v1/account", {{"display_name", "Gianna"}}).status, 200);
  auto again = s.call("POST", "/v1/sessions/provider/google", {{"token", fake.token({{"name", "G"}}, "ec", "ec-1")}});
  ASSERT_EQ(again.status, 201) << again.raw;
  EXPECT_FALSE(again.body["created"].get<bool>());
  EXPECT_EQ(again.body["user"]["id"], in.body["user"]["id"]);
  EXPECT_EQ(again.body["user"]["display_name"], "Gianna");
  // An address another account has is not imported: the provider's user gets an account of its own.
  ASSERT_EQ(s.register_user("taken@example.com", "taken_one").status, 201);
  auto other = s.call("POST", "/v1/sessions/provider/google",
                      {{"token", fake.token({{"sub", "2001"}, {"email", "taken@example.com"}})}});
  ASSERT_EQ(other.status, 201) << other.raw;
  EXPECT_EQ(other.body["user"]["email"], nullptr);
  // The admin's stats count the method.
  EXPECT_EQ(s.admin("GET", "/v1/admin/stats").body["by_provider"]["google"], 2);
}

TEST(Providers, EveryBadIdTokenIsRefused) {
  fake_providers fake;
  ASSERT_TRUE(fake.keys_ok) << fake.keys_log;
  roster_server s(fake.settings());
  auto refused = [&](const std::string& token, const char* what) {
    ASSERT_FALSE(token.empty()) << what;
    auto r = s.call("POST", "/v1/sessions/provider/google", {{"token", token}});
    EXPECT_EQ(r.status, 401) << what << ": " << r.raw;
    EXPECT_EQ(r.body["error"]["code"], "invalid_credentials") << what;
    EXPECT_EQ(r.raw.find(token.substr(0, 20)), std::string::npos) << what;  // the token is not echoed
  };
  refused(fake.token({{"aud", "someone-elses-app"}}), "wrong audience");
  refused(fake.token({{"aud", json::array({"x", "y"})}}), "wrong audience list");
  refused(fake.token({{"iss", "https://evil.test"}}), "wrong issuer");
  refused(fake.token({{"exp", "now-120"}, {"iat", "now-900"}}), "expired");
  refused(fake.token({{"nbf", "now+600"}}), "not yet valid");
  refused(fake.token({}, "rsa", "rsa-1", "tamper"), "bad signature");
  refused(fake.token({}, "rsa", "rsa-1", "none"), "alg none");
  refused(fake.token({}, "rsa", "rsa-1", "hs256-public"), "HS256 with the public key");
  refused(fake.token({}, "rsa2", "rsa-2"), "unknown kid after a refetch");
  refused(fake.token({}, "rsa2", "rsa-1"), "signed by another key under a known kid");
  refused("not.a.jwt", "garbage");
  refused(fake.token({{"nbf", 1e300}}), "nbf beyond any clock");
  refused(fake.token({{"exp", "not a time"}}), "exp not a number");
  // An audience list naming us is fine.
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/google",
                   {{"token", fake.token({{"aud", json::array({"other", "web-client"})}})}}).status, 201);
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/google", {{"token", ""}}).status, 400);
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/myspace", {{"token", "x"}}).status, 404);
  // Apple has no settings on this server.
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/apple", {{"token", fake.token()}}).status, 403);
}

TEST(Providers, JwksIsCachedRefetchedForAnUnknownKidAtMostOncePerIntervalAndItsOutageIsA503) {
  fake_providers fake;
  ASSERT_TRUE(fake.keys_ok) << fake.keys_log;
  fake.serve_jwks("{}", 503);
  auto e = fake.settings();
  e["ROSTER_PROVIDERS_JWKS_REFETCH_INTERVAL"] = "2s";
  roster_server s(e);
  auto down = s.call("POST", "/v1/sessions/provider/google", {{"token", fake.token()}});
  EXPECT_EQ(down.status, 503) << down.raw;
  EXPECT_EQ(down.body["error"]["code"], "provider_unavailable");
  fake.serve_jwks(fake.jwks_file("jwks.json"));
  ASSERT_EQ(s.call("POST", "/v1/sessions/provider/google", {{"token", fake.token()}}).status, 201);
  int fetched = fake.jwks_fetches.load();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(s.call("POST", "/v1/sessions/provider/google", {{"token", fake.token({}, "ec", "ec-1")}}).status, 201);
  EXPECT_EQ(fake.jwks_fetches.load(), fetched);  // cached
  // The issuer rotates to a key we have not seen: one refetch (the last was
  // more than the interval ago) finds it ...
  // (Tokens are made before the clock starts: each is a Python start.)
  auto rotated = fake.token({}, "rsa2", "rsa-2");
  std::vector<std::string> made_up;
  for (int i = 0; i < 5; ++i) made_up.push_back(fake.token({}, "rsa2", "kid-" + std::to_string(i)));
  fake.serve_jwks(fake.jwks_file("jwks2.json"));
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/google", {{"token", rotated}}).status, 201);
  EXPECT_EQ(fake.jwks_fetches.load(), fetched + 1);
  // ... and made-up kids do not make us fetch again within the interval.
  for (auto& t : made_up) EXPECT_EQ(s.call("POST", "/v1/sessions/provider/google", {{"token", t}}).status, 401);
  EXPECT_EQ(fake.jwks_fetches.load(), fetched + 1);
}

TEST(Providers, DiscordFacebookAndSteamAreAskedAndTheirFailuresAreNeverALogin) {
  fake_providers fake;
  roster_server s(fake.settings());
  auto dc = s.call("POST", "/v1/sessions/provider/discord", {{"token", "dc-good"}});
  ASSERT_EQ(dc.status, 201) << dc.raw;
  EXPECT_EQ(dc.body["user"]["display_name"], "Nelly");
  EXPECT_EQ(dc.body["user"]["identities"][1], json({{"kind", "discord"}, {"value", "80351110224678912"}}));
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/discord", {{"token", "dc-good"}}).body["created"], false);
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/discord", {{"token", "dc-bad"}}).status, 401);
  // A token the player gave another Discord application is not a login here.
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/discord", {{"token", "dc-other-app"}}).status, 401);
  auto typed = s.call("POST", "/v1/sessions/provider/discord", {{"token", "dc-typed"}});
  EXPECT_EQ(typed.status, 201) << typed.raw;
  EXPECT_EQ(typed.body["user"]["email"], nullptr);
  for (const char* t : {"dc-boom", "dc-garbage"}) {
    auto r = s.call("POST", "/v1/sessions/provider/discord", {{"token", t}});
    EXPECT_EQ(r.status, 503) << t << r.raw;
    EXPECT_EQ(r.body["error"]["code"], "provider_unavailable");
  }
  auto fb = s.call("POST", "/v1/sessions/provider/facebook", {{"token", "fb-good"}});
  ASSERT_EQ(fb.status, 201) << fb.raw;
  EXPECT_EQ(fb.body["user"]["email"], "fay@example.com");
  EXPECT_EQ(fb.body["user"]["avatar_url"], "https://fb.example/fay.png");
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/facebook", {{"token", "fb-other-app"}}).status, 401);
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/facebook", {{"token", "fb-expired"}}).status, 401);
  auto st = s.call("POST", "/v1/sessions/provider/steam", {{"token", "14000000aabbccdd"}});
  ASSERT_EQ(st.status, 201) << st.raw;
  EXPECT_EQ(st.body["user"]["identities"][0], json({{"kind", "steam"}, {"value", "76561197960287930"}}));
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/steam", {{"token", "00ff"}}).status, 401);
  // Nothing listens: a 503, quickly.
  auto e = fake.settings();
  e["ROSTER_PROVIDERS_DISCORD_API_URL"] = "http://127.0.0.1:" + std::to_string(free_port()) + "/discord";
  roster_server lonely(e);
  auto r = lonely.call("POST", "/v1/sessions/provider/discord", {{"token", "dc-good"}});
  EXPECT_EQ(r.status, 503);
  // The tokens never reach the log.
  EXPECT_EQ(s.log().find("dc-good"), std::string::npos);
  EXPECT_EQ(s.log().find("fbsecret"), std::string::npos);
  EXPECT_EQ(s.log().find("steamkey"), std::string::npos);
}

TEST(Providers, CustomIdNeedsTheAdminKeyAndFindsOrCreates) {
  roster_server s;
  EXPECT_EQ(s.call("POST", "/v1/sessions/custom", {{"custom_id", "srv-42"}}).status, 401);
  auto first = s.call("POST", "/v1/sessions/custom", {{"custom_id", "srv-42"}, {"display_name", "Server Player"}},
                      {{"X-Admin-Key", s.admin_key()}});
  ASSERT_EQ(first.status, 201) << first.raw;
  EXPECT_TRUE(first.body["created"].get<bool>());
  EXPECT_EQ(first.body["session"]["method"], "custom");
  auto again = s.admin("POST", "/v1/sessions/custom", {{"custom_id", "srv-42"}});
  ASSERT_EQ(again.status, 201);
  EXPECT_FALSE(again.body["created"].get<bool>());
  EXPECT_EQ(again.body["user"]["id"], first.body["user"]["id"]);
  EXPECT_EQ(s.admin("POST", "/v1/sessions/custom", {{"custom_id", ""}}).status, 400);
}

TEST(Identities, LinkListAndUnlinkWithTheLastWayInKept) {
  fake_providers fake;
  ASSERT_TRUE(fake.keys_ok) << fake.keys_log;
  auto e = fake.settings();
  e["ROSTER_AUTH_SUDO_WINDOW"] = "5s";
  roster_server s(e);
  // Tokens first (each is a Python start), so the sudo window holds the calls.
  auto g77 = fake.token({{"sub", "g-77"}}), g78 = fake.token({{"sub", "g-78"}});
  // A guest links a device and Discord, then Google.
  auto guest = s.call("POST", "/v1/sessions/anonymous");
  auto t = token_of(guest);
  auto dev = s.as(t, "POST", "/v1/account/identities/device", {{"device_id", "console-777-abc"}});
  ASSERT_EQ(dev.status, 200) << dev.raw;
  EXPECT_FALSE(dev.body["anonymous"].get<bool>());
  EXPECT_EQ(s.as(t, "POST", "/v1/account/identities/discord", {{"token", "dc-good"}}).status, 200);
  ASSERT_EQ(s.as(t, "POST", "/v1/account/identities/google", {{"token", g77}}).status, 200);
  auto list = s.as(t, "GET", "/v1/account/identities");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["identities"].size(), 3u) << list.raw;
  // The device id itself logs in: views show its fingerprint only.
  EXPECT_EQ(list.raw.find("console-777-abc"), std::string::npos) << list.raw;
  EXPECT_NE(list.raw.find("sha256:"), std::string::npos) << list.raw;
  // Each now logs into this account.
  EXPECT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "console-777-abc"}}).body["user"]["id"], guest.body["user"]["id"]);
  EXPECT_EQ(s.call("POST", "/v1/sessions/provider/discord", {{"token", "dc-good"}}).body["user"]["id"], guest.body["user"]["id"]);
  // Taken, twice, or a second of a kind.
  auto other = s.call("POST", "/v1/sessions/anonymous");
  auto taken = s.as(token_of(other), "POST", "/v1/account/identities/discord", {{"token", "dc-good"}});
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(taken.body["error"]["code"], "identity_taken");
  EXPECT_EQ(s.as(t, "POST", "/v1/account/identities/device", {{"device_id", "console-777-abc"}}).status, 409);
  EXPECT_EQ(s.as(t, "POST", "/v1/account/identities/google", {{"token", g78}}).status, 409);
  EXPECT_EQ(s.as(t, "POST", "/v1/account/identities/custom", {{"custom_id", "x"}}).status, 400);
  EXPECT_EQ(s.as(t, "POST", "/v1/account/identities/myspace", {{"token", "x"}}).status, 404);
  // Unlinking: within the sudo window; the key is free afterwards.
  auto gone = s.as(t, "DELETE", "/v1/account/identities/discord");
  ASSERT_EQ(gone.status, 200) << gone.raw;
  EXPECT_EQ(gone.body["identities"].size(), 2u);
  EXPECT_EQ(s.as(token_of(other), "POST", "/v1/account/identities/discord", {{"token", "dc-good"}}).status, 200);
  EXPECT_EQ(s.as(t, "DELETE", "/v1/account/identities/device").status, 400);  // which device?
  EXPECT_EQ(s.as(t, "DELETE", "/v1/account/identities/device", {{"device_id", "console-777-abc"}}).status, 200);
  EXPECT_EQ(s.as(t, "DELETE", "/v1/account/identities/steam").status, 404);
  auto last = s.as(t, "DELETE", "/v1/account/identities/google");
  EXPECT_EQ(last.status, 409);
  EXPECT_EQ(last.body["error"]["code"], "last_login_method");
  // Past the sudo window, a password-less account has to log in again.
  std::this_thread::sleep_for(std::chrono::milliseconds(5100));
  auto stale = s.as(token_of(other), "DELETE", "/v1/account/identities/discord");
  EXPECT_EQ(stale.status, 403);
  EXPECT_EQ(stale.body["error"]["code"], "reauthentication_required");
  // Linking adds a way in: a session past the window (a stolen token, say) cannot.
  auto late = s.as(token_of(other), "POST", "/v1/account/identities/device", {{"device_id", "late-device-01"}});
  EXPECT_EQ(late.status, 403);
  EXPECT_EQ(late.body["error"]["code"], "reauthentication_required");
  // The security log names the changes.
  auto logs = s.as(t, "GET", "/v1/account/logs");
  EXPECT_NE(logs.raw.find("identity_linked"), std::string::npos);
  EXPECT_NE(logs.raw.find("identity_unlinked"), std::string::npos);
}

TEST(Identities, TwoUsersRacingToLinkOneIdentityOneWins) {
  roster_server s;
  constexpr int n = 8;
  std::vector<std::string> tokens;
  for (int i = 0; i < n; ++i) tokens.push_back(token_of(s.call("POST", "/v1/sessions/anonymous")));
  std::atomic<int> won{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      auto r = s.as(tokens[static_cast<size_t>(i)], "POST", "/v1/account/identities/device", {{"device_id", "shared-device-01"}});
      if (r.status == 200) ++won;
      if (r.status == 409 && r.body["error"]["code"] == "identity_taken") ++taken;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(won.load() + taken.load(), n);
}

TEST(Prefs, FreeFormJsonUpTo16KiB) {
  roster_server s;
  auto t = token_of(s.call("POST", "/v1/sessions/anonymous"));
  auto empty = s.as(t, "GET", "/v1/account/prefs");
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, json::object());
  json prefs = {{"volume", 0.7}, {"keys", {{"jump", "space"}}}, {"lang", "de"}};
  auto put = s.as(t, "PUT", "/v1/account/prefs", prefs);
  ASSERT_EQ(put.status, 200) << put.raw;
  EXPECT_EQ(put.body, prefs);
  EXPECT_EQ(s.as(t, "GET", "/v1/account/prefs").body, prefs);
  EXPECT_EQ(s.as(t, "PUT", "/v1/account/prefs", {{"blob", std::string(16500, 'x')}}).status, 400);
  EXPECT_EQ(s.as(t, "PUT", "/v1/account/prefs", json::array({1, 2})).status, 400);
  EXPECT_EQ(s.call("GET", "/v1/account/prefs").status, 401);
  EXPECT_EQ(s.as(t, "GET", "/v1/account/prefs").body, prefs);  // unchanged by the refusals
}
