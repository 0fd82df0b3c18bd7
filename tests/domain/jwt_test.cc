#include "domain/jwt.h"

#include <gtest/gtest.h>

#include "base/crypto.h"

using namespace roster;
using namespace roster::jwt;

namespace {
constexpr millis t0 = 1'800'000'000'000;

claims claims_at(millis now, int64_t ttl_s = 900) {
  claims c;
  c.sub = "0b0f9c7e-2c55-4d0e-9a54-7f3f0a1c2d3e";
  c.sid = "5a1e2f3d-9c8b-4a7f-8e6d-1c2b3a4f5e6d";
  c.iat = now / 1000;
  c.exp = c.iat + ttl_s;
  return c;
}

auto finder(const key& k) {
  return [&k](const std::string& kid) -> const key* { return kid == k.kid ? &k : nullptr; };
}

std::string part(const std::string& token, int i) {
  auto d1 = token.find('.'), d2 = token.rfind('.');
  if (i == 0) return token.substr(0, d1);
  if (i == 1) return token.substr(d1 + 1, d2 - d1 - 1);
  return token.substr(d2 + 1);
}

std::string b64json(const nlohmann::json& j) { return base64url_encode(j.dump()); }
}  // namespace

TEST(JwtToken, SignVerifyRoundTrip) {
  auto k = generate_key(t0);
  auto t = sign(k, claims_at(t0));
  ASSERT_FALSE(t.empty());
  auto header = nlohmann::json::parse(*base64url_decode(part(t, 0)));
  EXPECT_EQ(header["alg"], "EdDSA");
  EXPECT_EQ(header["typ"], "JWT");
  EXPECT_EQ(header["kid"], k.kid);
  auto v = verify(t, t0 + 1000, finder(k));
  ASSERT_EQ(v.v, verdict::ok);
  EXPECT_EQ(v.c.sub, claims_at(t0).sub);
  EXPECT_EQ(v.c.sid, claims_at(t0).sid);
  EXPECT_EQ(v.c.iss, "roster");
  EXPECT_EQ(v.c.exp - v.c.iat, 900);
}

TEST(JwtToken, PublicHalfAloneVerifies) {
  auto k = generate_key(t0);
  key pub_only;
  pub_only.kid = k.kid;
  pub_only.pub = k.pub;
  auto t = sign(k, claims_at(t0));
  EXPECT_EQ(verify(t, t0, finder(pub_only)).v, verdict::ok);
  EXPECT_TRUE(sign(pub_only, claims_at(t0)).empty());
}

TEST(JwtToken, TamperedPayloadOrSignatureIsRefused) {
  auto k = generate_key(t0);
  auto t = sign(k, claims_at(t0));
  auto c = claims_at(t0);
  c.sub = "ffffffff-2c55-4d0e-9a54-7f3f0a1c2d3e";
  auto forged = part(t, 0) + "." +
                b64json({{"iss", c.iss}, {"sub", c.sub}, {"sid", c.sid}, {"iat", c.iat}, {"exp", c.exp}}) + "." +
                part(t, 2);
  EXPECT_EQ(verify(forged, t0, finder(k)).v, verdict::bad_signature);
  auto sig = *base64url_decode(part(t, 2));
  sig[10] ^= 1;
  EXPECT_EQ(verify(part(t, 0) + "." + part(t, 1) + "." + base64url_encode(sig), t0, finder(k)).v,
            verdict::bad_signature);
  // Another key with the same kid.
  auto other = generate_key(t0);
  other.kid = k.kid;
  EXPECT_EQ(verify(sign(other, claims_at(t0)), t0, finder(k)).v, verdict::bad_signature);
}

TEST(JwtToken, AlgNoneAndHs256AreRefused) {
  auto k = generate_key(t0);
  auto t = sign(k, claims_at(t0));
  auto none = b64json({{"alg", "none"}, {"typ", "JWT"}, {"kid", k.kid}}) + "." + part(t, 1) + ".";
  EXPECT_EQ(verify(none, t0, finder(k)).v, verdict::bad_alg);
  auto hs_input = b64json({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", k.kid}}) + "." + part(t, 1);
  auto hs = hs_input + "." + base64url_encode(hmac_sha256(k.pub, hs_input));
  EXPECT_EQ(verify(hs, t0, finder(k)).v, verdict::bad_alg);
  auto rs = b64json({{"alg", "RS256"}, {"kid", k.kid}}) + "." + part(t, 1) + "." + part(t, 2);
  EXPECT_EQ(verify(rs, t0, finder(k)).v, verdict::bad_alg);
}

TEST(JwtToken, UnknownKidMalformedAndBadClaimsAreRefused) {
  auto k = generate_key(t0);
  auto other = generate_key(t0);
  auto t = sign(k, claims_at(t0));
  EXPECT_EQ(verify(t, t0, finder(other)).v, verdict::unknown_kid);
  EXPECT_EQ(verify("", t0, finder(k)).v, verdict::malformed);
  EXPECT_EQ(verify("a.b", t0, finder(k)).v, verdict::malformed);
  EXPECT_EQ(verify(t + ".x", t0, finder(k)).v, verdict::malformed);
  EXPECT_EQ(verify("!!." + part(t, 1) + "." + part(t, 2), t0, finder(k)).v, verdict::malformed);
  auto c = claims_at(t0);
  c.iss = "someone-else";
  EXPECT_EQ(verify(sign(k, c), t0, finder(k)).v, verdict::bad_claims);
  c = claims_at(t0);
  c.sid.clear();
  EXPECT_EQ(verify(sign(k, c), t0, finder(k)).v, verdict::bad_claims);
}

TEST(JwtToken, ExpiredIsRefusedWithAFewSecondsOfSkewOnly) {
  auto k = generate_key(t0);
  auto t = sign(k, claims_at(t0, 60));
  EXPECT_EQ(verify(t, t0 + 60'000, finder(k)).v, verdict::ok);  // within leeway
  EXPECT_EQ(verify(t, t0 + 60'000 + leeway_s * 1000, finder(k)).v, verdict::expired);
  EXPECT_EQ(verify(t, t0 + 3600'000, finder(k)).v, verdict::expired);
}

TEST(JwtKey, JwkXIsTheRawPublicKeyAndKidItsThumbprint) {
  // RFC 8037 appendix A.1/A.3: this private key, its x, and its RFC 7638 thumbprint.
  auto seed = *base64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
  auto k = key_from_seed(seed);
  ASSERT_TRUE(k);
  auto jwk = public_jwk(*k);
  EXPECT_EQ(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
  EXPECT_EQ(jwk["kty"], "OKP");
  EXPECT_EQ(jwk["crv"], "Ed25519");
  EXPECT_EQ(jwk["alg"], "EdDSA");
  EXPECT_EQ(jwk["use"], "sig");
  EXPECT_EQ(k->kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
  EXPECT_EQ(jwk["kid"], k->kid);
}

TEST(JwtKey, PemPrivateKeyLoads) {
  auto k = generate_key(t0);
  // PKCS#8 DER of an Ed25519 key: a fixed 16-byte prefix and the seed.
  std::string der("\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20", 16);
  der += k.seed;
  std::string b64;
  {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < der.size(); i += 3) {
      uint32_t n = (uint8_t(der[i]) << 16) | (uint8_t(der[i + 1]) << 8) | uint8_t(der[i + 2]);
      for (int s = 18; s >= 0; s -= 6) b64 += a[(n >> s) & 63];
    }
    ASSERT_EQ(i, der.size());  // 48 bytes: no padding
  }
  auto pem = "-----BEGIN PRIVATE KEY-----\n" + b64 + "\n-----END PRIVATE KEY-----\n";
  auto loaded = key_from_pem(pem);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->pub, k.pub);
  EXPECT_EQ(loaded->kid, k.kid);
  EXPECT_FALSE(key_from_pem("not a pem"));
}

TEST(JwtKeySet, FirstKeySignsAtOnceAndEncodesRoundTrip) {
  key_set s;
  rotation_rules r;
  EXPECT_TRUE(maintain(s, t0, r));
  ASSERT_EQ(s.keys.size(), 1u);
  EXPECT_FALSE(maintain(s, t0 + 1000, r));
  ASSERT_NE(signing_key(s, t0), nullptr);
  // ... also for a node that read its clock before the key set's actor did,
  // or whose clock runs behind (was a 500 on the first mint under ASan).
  EXPECT_NE(signing_key(s, t0 - 1000), nullptr);
  auto back = decode_key_set(encode_key_set(s));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->keys.size(), 1u);
  EXPECT_EQ(back->keys[0].kid, s.keys[0].kid);
  EXPECT_EQ(back->keys[0].seed, s.keys[0].seed);
  EXPECT_EQ(back->keys[0].active_from, s.keys[0].active_from);
  EXPECT_FALSE(decode_key_set("{}"));
  EXPECT_FALSE(decode_key_set("garbage"));
}

TEST(JwtKeySet, RotationKeepsThePreviousKeyUntilItsLastTokenExpired) {
  key_set s;
  rotation_rules r;
  r.ttl = 15 * 60'000;
  maintain(s, t0, r);
  const auto first = s.keys[0];
  auto find_in = [&](millis now) {
    return [&s, now](const std::string& kid) -> const key* {
      for (auto* k : published(s, now))
        if (k->kid == kid) return k;
      return nullptr;
    };
  };
  // Minted just before the rotation is due.
  millis minted = t0 + r.rotate_after - 1000;
  auto old_token = sign(*signing_key(s, minted), claims_at(minted, r.ttl / 1000));
  millis rot = t0 + r.rotate_after;
  EXPECT_TRUE(maintain(s, rot, r));
  ASSERT_EQ(s.keys.size(), 2u);
  // The next key is published at once but signs only after publish_ahead.
  EXPECT_EQ(published(s, rot).size(), 2u);
  EXPECT_EQ(signing_key(s, rot)->kid, first.kid);
  EXPECT_FALSE(maintain(s, rot + 1000, r));  // no second rotation while one is pending
  millis switched = rot + r.publish_ahead;
  EXPECT_NE(signing_key(s, switched)->kid, first.kid);
  // A token signed by the old key up to the switch still verifies until it expires.
  auto last_old = sign(first, claims_at(switched - 1, r.ttl / 1000));
  millis late = switched - 1 + r.ttl;
  EXPECT_FALSE(maintain(s, late, r));
  EXPECT_EQ(verify(old_token, minted + r.ttl - 1000, find_in(minted + r.ttl - 1000)).v, verdict::ok);
  EXPECT_EQ(verify(last_old, late, find_in(late)).v, verdict::ok);
  EXPECT_EQ(published(s, late).size(), 2u);
  // After that the old key is dropped.
  millis gone = switched + r.ttl + 5 * 60'000;
  EXPECT_TRUE(maintain(s, gone, r));
  ASSERT_EQ(s.keys.size(), 1u);
  EXPECT_NE(s.keys[0].kid, first.kid);
  EXPECT_EQ(verify(old_token, gone, find_in(gone)).v, verdict::unknown_kid);
}

TEST(JwtKeySet, ForcedRotation) {
  key_set s;
  rotation_rules r;
  maintain(s, t0, r);
  EXPECT_TRUE(maintain(s, t0 + 5000, r, true));
  EXPECT_EQ(s.keys.size(), 2u);
}
