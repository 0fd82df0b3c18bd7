#include "domain/oidc.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctime>
#include <jwt/jwt.hpp>

#include "base/crypto.h"

namespace roster {
namespace {

/// A fresh P-256 key: its private PEM and its JWK.
struct ec_key {
  std::string private_pem;
  nlohmann::json jwk;
};

std::string bn_bytes(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, name, &bn);
  std::string out(32, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_free(bn);
  return out;
}

ec_key make_ec_key(const std::string& kid) {
  EVP_PKEY* k = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  ec_key out{std::string(data, static_cast<size_t>(n)),
             {{"kty", "EC"}, {"crv", "P-256"}, {"kid", kid}, {"use", "sig"},
              {"x", base64url_encode(bn_bytes(k, OSSL_PKEY_PARAM_EC_PUB_X))},
              {"y", base64url_encode(bn_bytes(k, OSSL_PKEY_PARAM_EC_PUB_Y))}}};
  BIO_free(bio);
  EVP_PKEY_free(k);
  return out;
}

std::string sign_es256(const ec_key& key, const nlohmann::json& claims) {
  jwt::jwt_object obj{jwt::params::algorithm("ES256"), jwt::params::secret(key.private_pem),
                      jwt::params::headers({{"kid", key.jwk["kid"].get<std::string>()}})};
  for (auto& [k, v] : claims.items()) {
    if (v.is_string()) obj.add_claim(k, v.get<std::string>());
    else obj.add_claim(k, v.get<int64_t>());
  }
  return obj.signature();
}

TEST(Oidc, JwksKeysBecomePemWithTheirOneAlgorithm) {
  auto a = make_ec_key("ec-1");
  nlohmann::json jwks = {{"keys",
                          {a.jwk,
                           {{"kty", "EC"}, {"crv", "P-384"}, {"kid", "p384"}, {"x", "AA"}, {"y", "AA"}},
                           {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
                           {{"kty", "RSA"}, {"kid", "short"}, {"n", "AQAB"}, {"e", "AQAB"}},
                           {{"kty", "EC"}, {"crv", "P-256"}, {"kid", "enc"}, {"use", "enc"}, {"x", a.jwk["x"]}, {"y", a.jwk["y"]}},
                           {{"kty", "EC"}, {"crv", "P-256"}, {"kid", "lying"}, {"alg", "RS256"}, {"x", a.jwk["x"]}, {"y", a.jwk["y"]}}}}};
  auto keys = parse_jwks(jwks);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].kid, "ec-1");
  EXPECT_EQ(keys[0].alg, "ES256");
  EXPECT_EQ(keys[0].pem().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  EXPECT_TRUE(parse_jwks(nlohmann::json::array()).empty());
  EXPECT_FALSE(peek_jwt_header("a.b"));
  EXPECT_FALSE(peek_jwt_header("!!.b.c"));
}

TEST(Oidc, IdTokenClaimsAreChecked) {
  auto a = make_ec_key("ec-1");
  auto key = parse_jwks({{"keys", {a.jwk}}}).at(0);
  int64_t now = std::time(nullptr);
  nlohmann::json good = {{"iss", "https://issuer.test"}, {"aud", "app"}, {"sub", "42"}, {"iat", now}, {"exp", now + 300}};
  id_token_expectations x{"https://issuer.test", {"app", "app2"}, now, 60};
  auto ok = verify_id_token(sign_es256(a, good), key, x);
  ASSERT_TRUE(ok) << ok.err().message;
  EXPECT_EQ((*ok)["sub"], "42");
  auto with = [&](const char* k, const nlohmann::json& v) {
    auto c = good;
    if (v.is_null()) c.erase(k);
    else c[k] = v;
    return sign_es256(a, c);
  };
  EXPECT_FALSE(verify_id_token(with("aud", "other"), key, x));
  EXPECT_FALSE(verify_id_token(with("iss", "https://evil.test"), key, x));
  EXPECT_FALSE(verify_id_token(with("exp", now - 120), key, x));
  EXPECT_FALSE(verify_id_token(with("exp", nullptr), key, x));
  EXPECT_FALSE(verify_id_token(with("sub", nullptr), key, x));
  EXPECT_FALSE(verify_id_token(with("nbf", now + 600), key, x));
  EXPECT_FALSE(verify_id_token(with("iat", now + 600), key, x));
  EXPECT_TRUE(verify_id_token(with("exp", now - 30), key, x));  // inside the skew
  // Another key's signature under this kid.
  auto b = make_ec_key("ec-1");
  EXPECT_FALSE(verify_id_token(sign_es256(b, good), key, x));
  // The key allows ES256 only.
  auto rs = key;
  rs.alg = "RS256";
  EXPECT_FALSE(verify_id_token(sign_es256(a, good), rs, x));
  auto refused = verify_id_token(with("aud", "other"), key, x);
  EXPECT_EQ(refused.err().code, errc::invalid_credentials);
}

} // namespace
} // namespace roster
