// JWTs for game servers (issue 11 item 5, SPEC §3): POST /v1/sessions/jwt,
// GET /.well-known/jwks.json, Bearer JWTs on read endpoints, and one key set
// across a cluster, checked by an independent verifier (Debian's python3-jwt).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/crypto.h"
#include "tests/support/roster_server.h"

using namespace roster::testing;
namespace fs = std::filesystem;

namespace {

struct session {
  std::string user_id, token;
};

session device_login(const roster_server& s, const std::string& device) {
  auto r = s.call("POST", "/v1/sessions/device", {{"device_id", device}});
  EXPECT_EQ(r.status, 201) << r.raw;
  if (r.status != 201) return {};
  return {r.body["user"]["id"], r.body["session"]["token"]};
}

std::string mint(const roster_server& s, const std::string& token) {
  auto r = s.as(token, "POST", "/v1/sessions/jwt");
  EXPECT_EQ(r.status, 201) << r.raw;
  return r.status == 201 ? r.body["token"].get<std::string>() : "";
}

json part(const std::string& jwt, int i) {
  auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
  auto text = i == 0 ? jwt.substr(0, d1) : jwt.substr(d1 + 1, d2 - d1 - 1);
  return json::parse(*roster::base64url_decode(text));
}

std::string error_code(const response& r) { return r.body.is_object() ? r.body["error"].value("code", "") : ""; }

/// Runs /usr/bin/python3 (Debian's python3-jwt and python3-cryptography) to
/// verify `token` against the JWKS document `jwks`: its output, "ok <sub>" or why not.
std::string python_verify(const std::string& token, const json& jwks) {
  auto dir = fs::temp_directory_path() / ("roster-jwt-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto script = dir / "verify.py";
  {
    std::ofstream(dir / "jwks.json") << jwks.dump();
    std::ofstream(dir / "token") << token;
    std::ofstream(script) << R"(import json, sys, jwt
jwks = json.load(open(sys.argv[1]))
token = open(sys.argv[2]).read()
kid = jwt.get_unverified_header(token)["kid"]
keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(jwks).keys}
if kid not in keys:
    print("unknown kid"); sys.exit(0)
claims = jwt.decode(token, keys[kid].key, algorithms=["EdDSA"], issuer="roster",
                    options={"require": ["exp", "iat", "sub", "iss"]})
print("ok", claims["sub"], claims["sid"])
)";
  }
  std::string cmd = "/usr/bin/python3 " + script.string() + " " + (dir / "jwks.json").string() + " " +
                    (dir / "token").string() + " 2>&1";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
  }
  fs::remove_all(dir);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

TEST(Jwt, MintedTokenReadsTheAccountAndNamesItsSession) {
  roster_server s;
  auto me = device_login(s, "jwt-device-000001");
  auto r = s.as(me.token, "POST", "/v1/sessions/jwt");
  ASSERT_EQ(r.status, 201) << r.raw;
  ASSERT_TRUE(r.body["token"].is_string());
  ASSERT_TRUE(r.body["expires_at"].is_string());
  auto jwt = r.body["token"].get<std::string>();
  auto header = part(jwt, 0);
  auto claims = part(jwt, 1);
  EXPECT_EQ(header["alg"], "EdDSA");
  EXPECT_EQ(header["typ"], "JWT");
  EXPECT_EQ(claims["sub"], me.user_id);
  EXPECT_EQ(claims["iss"], "roster");
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 900);  // jwt.ttl = 15m
  auto current = s.as(me.token, "GET", "/v1/sessions/current");
  ASSERT_EQ(current.status, 200) << current.raw;
  EXPECT_EQ(claims["sid"], current.body["id"]);

  // The JWKS publishes the key that signed it.
  auto keys = s.call("GET", "/.well-known/jwks.json");
  ASSERT_EQ(keys.status, 200) << keys.raw;
  bool found = false;
  for (auto& k : keys.body["keys"]) {
    EXPECT_EQ(k["kty"], "OKP");
    EXPECT_EQ(k["crv"], "Ed25519");
    EXPECT_EQ(k["alg"], "EdDSA");
    EXPECT_EQ(k["use"], "sig");
    EXPECT_FALSE(k.contains("d"));  // never the private key
    found |= k["kid"] == header["kid"];
  }
  EXPECT_TRUE(found) << keys.raw;

  // Read endpoints take it (twice: the second may come from the read cache).
  for (int i = 0; i < 2; ++i) {
    auto acc = s.as(jwt, "GET", "/v1/account");
    ASSERT_EQ(acc.status, 200) << acc.raw;
    EXPECT_EQ(acc.body["id"], me.user_id);
    EXPECT_EQ(acc.body["session_id"], claims["sid"]);
  }
  EXPECT_EQ(s.as(jwt, "GET", "/v1/sessions").status, 200);
  auto cur = s.as(jwt, "GET", "/v1/sessions/current");
  EXPECT_EQ(cur.status, 200) << cur.raw;
  EXPECT_EQ(cur.body["id"], claims["sid"]);
  EXPECT_EQ(s.as(jwt, "GET", "/v1/account/logs").status, 200);

  // Writes keep requiring the session token; a JWT cannot mint another.
  auto patch = s.as(jwt, "PATCH", "/v1/account", {{"display_name", "Nope"}});
  EXPECT_EQ(patch.status, 401) << patch.raw;
  EXPECT_EQ(error_code(patch), "unauthorized");
  EXPECT_EQ(s.as(jwt, "POST", "/v1/sessions/jwt").status, 401);
  EXPECT_EQ(s.as(jwt, "DELETE", "/v1/sessions/current").status, 401);
  EXPECT_EQ(s.as(me.token, "GET", "/v1/account").status, 200);  // still alive
  EXPECT_EQ(s.call("POST", "/v1/sessions/jwt").status, 401);

  // The token never reaches the log.
  EXPECT_EQ(s.log().find(jwt.substr(jwt.rfind('.') + 1)), std::string::npos);
}

TEST(Jwt, ForgedAndForeignTokensAreRefused) {
  roster_server s;
  auto me = device_login(s, "jwt-device-000002");
  auto jwt = mint(s, me.token);
  ASSERT_FALSE(jwt.empty());
  auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
  auto head = jwt.substr(0, d1), body = jwt.substr(d1 + 1, d2 - d1 - 1), sig = jwt.substr(d2 + 1);
  auto claims = part(jwt, 1);
  auto header = part(jwt, 0);
  auto enc = [](const json& j) { return roster::base64url_encode(j.dump()); };

  std::vector<std::string> bad;
  // Another user's id under the same signature.
  auto other = claims;
  other["sub"] = "00000000-0000-4000-8000-000000000000";
  bad.push_back(head + "." + enc(other) + "." + sig);
  // alg none, HS256 with the public key as the secret, RS256.
  auto none = header;
  none["alg"] = "none";
  bad.push_back(enc(none) + "." + body + ".");
  auto hs = header;
  hs["alg"] = "HS256";
  auto x = *roster::base64url_decode(s.call("GET", "/.well-known/jwks.json").body["keys"][0]["x"].get<std::string>());
  bad.push_back(enc(hs) + "." + body + "." + roster::base64url_encode(roster::hmac_sha256(x, enc(hs) + "." + body)));
  // An unknown kid, a truncated signature, garbage.
  auto kid = header;
  kid["kid"] = "not-a-key";
  bad.push_back(enc(kid) + "." + body + "." + sig);
  bad.push_back(head + "." + body + "." + sig.substr(0, 20));
  bad.push_back("a.b.c");
  for (auto& t : bad) {
    auto r = s.as(t, "GET", "/v1/account");
    EXPECT_EQ(r.status, 401) << t << " " << r.raw;
    EXPECT_EQ(error_code(r), "unauthorized") << r.raw;
  }
  EXPECT_EQ(s.as(jwt, "GET", "/v1/account").status, 200);
}

TEST(Jwt, RevokedSessionOrBlockedAccountStopsIt) {
  roster_server s;
  auto me = device_login(s, "jwt-device-000003");
  auto jwt = mint(s, me.token);
  ASSERT_EQ(s.as(jwt, "GET", "/v1/account").status, 200);
  ASSERT_EQ(s.as(jwt, "GET", "/v1/account").status, 200);  // published to the read cache

  auto block = s.admin("POST", "/v1/admin/users/" + me.user_id + "/block");
  ASSERT_EQ(block.status, 200) << block.raw;
  auto r = s.as(jwt, "GET", "/v1/account");
  EXPECT_EQ(r.status, 403) << r.raw;
  EXPECT_EQ(error_code(r), "account_blocked");
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + me.user_id + "/unblock").status, 200);
  EXPECT_EQ(s.as(jwt, "GET", "/v1/account").status, 200);

  ASSERT_EQ(s.as(me.token, "DELETE", "/v1/sessions/current").status, 204);
  r = s.as(jwt, "GET", "/v1/account");
  EXPECT_EQ(r.status, 401) << r.raw;
  EXPECT_EQ(error_code(r), "unauthorized");

  // A JWT of another session of the same user is unaffected by that revoke.
  auto second = device_login(s, "jwt-device-000003");
  auto jwt2 = mint(s, second.token);
  EXPECT_EQ(s.as(jwt2, "GET", "/v1/account").status, 200);
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/users/" + me.user_id + "/sessions").status, 204);
  EXPECT_EQ(s.as(jwt2, "GET", "/v1/account").status, 401);
}

TEST(Jwt, ExpiredTokenIsRefused) {
  roster_server s(env{{"ROSTER_JWT_TTL", "1s"}});
  auto me = device_login(s, "jwt-device-000004");
  auto jwt = mint(s, me.token);
  auto c = part(jwt, 1);
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 1);
  EXPECT_EQ(s.as(jwt, "GET", "/v1/account").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(4200));  // 1 s ttl + 2 s leeway + rounding
  auto r = s.as(jwt, "GET", "/v1/account");
  EXPECT_EQ(r.status, 401) << r.raw;
  EXPECT_EQ(error_code(r), "session_expired");
  EXPECT_EQ(s.as(me.token, "GET", "/v1/account").status, 200);  // the session itself lives on
  EXPECT_EQ(s.as(mint(s, me.token), "GET", "/v1/account").status, 200);
}

TEST(Jwt, RotationKeepsTokensOfThePreviousKeyValid) {
  roster_server s;
  auto me = device_login(s, "jwt-device-000005");
  auto before = mint(s, me.token);
  auto kid = part(before, 0)["kid"];
  EXPECT_EQ(s.call("POST", "/v1/admin/jwt/rotate").status, 401);
  auto rot = s.admin("POST", "/v1/admin/jwt/rotate");
  ASSERT_EQ(rot.status, 200) << rot.raw;
  ASSERT_EQ(rot.body["keys"].size(), 2u) << rot.raw;  // the old key and the next one, published ahead
  auto keys = s.call("GET", "/.well-known/jwks.json");
  EXPECT_EQ(keys.body, rot.body);
  EXPECT_EQ(s.as(before, "GET", "/v1/account").status, 200);
  // The next key signs only once every node can have fetched it (publish_ahead).
  EXPECT_EQ(part(mint(s, me.token), 0)["kid"], kid);
  // A second rotation while one is pending changes nothing.
  EXPECT_EQ(s.admin("POST", "/v1/admin/jwt/rotate").body["keys"].size(), 2u);
  // It survives a restart (the set is in the store).
  s.stop();
  s.start();
  EXPECT_EQ(s.call("GET", "/.well-known/jwks.json").body, rot.body);
  EXPECT_EQ(s.as(before, "GET", "/v1/account").status, 200);
}

TEST(Jwt, KeyFileSignsWhenConfigured) {
  auto dir = fs::temp_directory_path() / ("roster-jwt-key-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto pem = (dir / "jwt.pem").string();
  ASSERT_EQ(std::system(("openssl genpkey -algorithm ed25519 -out " + pem + " 2>/dev/null").c_str()), 0);
  roster_server s(env{{"ROSTER_JWT_KEY_FILE", pem}});
  auto me = device_login(s, "jwt-device-000006");
  auto jwt = mint(s, me.token);
  auto kid = part(jwt, 0)["kid"];
  auto keys = s.call("GET", "/.well-known/jwks.json").body;
  EXPECT_EQ(keys["keys"][0]["kid"], kid);
  EXPECT_EQ(python_verify(jwt, keys), "ok " + me.user_id + " " + part(jwt, 1)["sid"].get<std::string>());
  EXPECT_EQ(s.as(jwt, "GET", "/v1/account").status, 200);
  s.stop();
  fs::remove_all(dir);
  EXPECT_THROW(roster_server(env{{"ROSTER_JWT_KEY_FILE", (dir / "missing.pem").string()}}), std::exception);
}

TEST(JwtCluster, ATokenFromOneNodeVerifiesAgainstEveryNodesJwks) {
  constexpr const char* secret = "jwt-cluster-secret-0123456";
  std::vector<std::unique_ptr<roster_server>> nodes;
  int seed_port = 0;
  for (int i = 0; i < 3; ++i) {
    int port = free_port();
    env e{{"ROSTER_NODE_NAME", "node-" + std::to_string(i + 1)},
          {"ROSTER_CLUSTER_LISTEN", "127.0.0.1:" + std::to_string(port)},
          {"ROSTER_CLUSTER_SECRET", secret},
          {"ROSTER_CLUSTER_INSECURE", "true"}};
    if (i > 0) e["ROSTER_CLUSTER_SEEDS"] = "127.0.0.1:" + std::to_string(seed_port);
    nodes.push_back(std::make_unique<roster_server>(e));
    if (i == 0) seed_port = nodes[0]->cluster_port();
  }
  // Settled: every node sees three members and no handoff.
  for (auto& n : nodes) {
    json v;
    for (int t = 0; t < 600; ++t) {
      v = n->admin("GET", "/debug/cluster").body;
      if (v.is_object() && v["members"].size() == 3 && v["handoffs"].empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(v["members"].size(), 3u) << v.dump();
  }
  // Every node asks for the key set at once: one set is created.
  std::vector<std::thread> askers;
  std::vector<json> first(3);
  for (size_t i = 0; i < 3; ++i)
    askers.emplace_back([&, i] { first[i] = nodes[i]->call("GET", "/.well-known/jwks.json").body; });
  for (auto& t : askers) t.join();
  EXPECT_EQ(first[0]["keys"].size(), 1u) << first[0].dump();
  EXPECT_EQ(first[0], first[1]);
  EXPECT_EQ(first[0], first[2]);

  for (size_t via = 0; via < 3; ++via) {
    auto me = device_login(*nodes[via], "jwt-cluster-dev-" + std::to_string(via) + "-xyz");
    auto jwt = mint(*nodes[via], me.token);
    ASSERT_FALSE(jwt.empty());
    auto sid = part(jwt, 1)["sid"].get<std::string>();
    for (size_t i = 0; i < 3; ++i) {
      auto keys = nodes[i]->call("GET", "/.well-known/jwks.json");
      ASSERT_EQ(keys.status, 200) << keys.raw;
      EXPECT_EQ(python_verify(jwt, keys.body), "ok " + me.user_id + " " + sid) << "minted via node " << via + 1
                                                                               << ", JWKS of node " << i + 1;
      auto acc = nodes[i]->as(jwt, "GET", "/v1/account");
      EXPECT_EQ(acc.status, 200) << acc.raw;
    }
  }
}
