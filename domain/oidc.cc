#include "domain/oidc.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

// cpp-jwt brings nlohmann's json under the global name json_t.
#include <jwt/jwt.hpp>

#include <algorithm>
#include <memory>

#include "base/crypto.h"

namespace roster {

using json = nlohmann::json;

namespace {

error refused(std::string why) { return make_error(errc::invalid_credentials, "provider token refused: " + why); }

/// The JSON object of a base64url segment; discarded JSON if it is not one.
json decode_segment(std::string_view seg) {
  auto raw = base64url_decode(seg);
  if (!raw) return json(json::value_t::discarded);
  auto j = json::parse(*raw, nullptr, false);
  if (!j.is_object()) return json(json::value_t::discarded);
  return j;
}

template <class T, void (*F)(T*)>
struct freer {
  void operator()(T* p) const { F(p); }
};
using bn_ptr = std::unique_ptr<BIGNUM, freer<BIGNUM, BN_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, freer<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using param_bld_ptr = std::unique_ptr<OSSL_PARAM_BLD, freer<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using params_ptr = std::unique_ptr<OSSL_PARAM, freer<OSSL_PARAM, OSSL_PARAM_free>>;
using bio_ptr = std::unique_ptr<BIO, freer<BIO, BIO_free_all>>;

std::string pem_of(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

/// A public key from OpenSSL parameters (type "RSA" or "EC"), as PEM.
std::string pem_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  params_ptr params(OSSL_PARAM_BLD_to_param(bld));
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return {};
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return {};
  pkey_ptr key(raw);
  return pem_of(key.get());
}

bn_ptr bignum(const std::string& bytes) {
  return bn_ptr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

std::string rsa_pem(const std::string& n, const std::string& e) {
  auto bn_n = bignum(n), bn_e = bignum(e);
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || BN_num_bits(bn_n.get()) < 2048) return {};
  if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return {};
  return pem_from_params("RSA", bld.get());
}

std::string ec_p256_pem(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return {};
  std::string point = "\x04" + x + y;
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bld) return {};
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return {};
  return pem_from_params("EC", bld.get());
}

std::string text(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

} // namespace

result<jwt_header> peek_jwt_header(std::string_view token) {
  auto dot = token.find('.');
  if (dot == std::string_view::npos || std::count(token.begin(), token.end(), '.') != 2)
    return refused("not a JWT");
  auto header = decode_segment(token.substr(0, dot));
  if (header.is_discarded()) return refused("not a JWT");
  return jwt_header{text(header, "alg"), text(header, "kid")};
}

std::vector<jwk_key> parse_jwks(const json& jwks) {
  std::vector<jwk_key> out;
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) return out;
  for (auto& k : jwks["keys"]) {
    if (!k.is_object()) continue;
    auto kty = text(k, "kty"), use = text(k, "use"), alg = text(k, "alg");
    if (!use.empty() && use != "sig") continue;
    jwk_key key;
    key.kid = text(k, "kid");
    if (kty == "RSA") {
      auto n = base64url_decode(text(k, "n")), e = base64url_decode(text(k, "e"));
      if (!n || !e || n->empty() || e->empty()) continue;
      key.alg = "RS256";
      key.pem = rsa_pem(*n, *e);
    } else if (kty == "EC" && text(k, "crv") == "P-256") {
      auto x = base64url_decode(text(k, "x")), y = base64url_decode(text(k, "y"));
      if (!x || !y) continue;
      key.alg = "ES256";
      key.pem = ec_p256_pem(*x, *y);
    } else {
      continue;
    }
    if (key.pem.empty() || (!alg.empty() && alg != key.alg)) continue;
    out.push_back(std::move(key));
  }
  return out;
}

result<json> verify_id_token(std::string_view token, const jwk_key& key, const id_token_expectations& x) {
  auto header = peek_jwt_header(token);
  if (!header) return header.err();
  // The algorithm is the key's, whatever the header claims: "none", HS256
  // with the public key as its secret, or another key type never verify.
  if (header->alg != key.alg) return refused("algorithm " + key.alg + " expected");
  json claims;
  try {
    std::error_code ec;
    auto obj = jwt::decode(jwt::string_view(token.data(), token.size()), jwt::params::algorithms({key.alg}), ec,
                           jwt::params::secret(key.pem), jwt::params::verify(true),
                           jwt::params::leeway(static_cast<uint32_t>(x.skew_s)));
    if (ec) {
      if (ec == jwt::VerificationErrc::TokenExpired) return refused("expired");
      if (ec == jwt::VerificationErrc::ImmatureSignature) return refused("not valid yet");
      if (ec == jwt::VerificationErrc::InvalidSignature) return refused("bad signature");
      return refused("malformed or unverifiable");
    }
    claims = obj.payload().create_json_obj();
  } catch (const std::exception&) {
    return refused("malformed or unverifiable");
  }
  if (!claims.is_object()) return refused("malformed claims");
  if (text(claims, "iss") != x.issuer) return refused("wrong issuer");
  bool audience_ok = false;
  auto aud = claims.find("aud");
  auto ours = [&](const json& a) {
    return a.is_string() && std::find(x.audiences.begin(), x.audiences.end(), a.get<std::string>()) != x.audiences.end();
  };
  if (aud != claims.end()) {
    if (aud->is_array()) audience_ok = std::any_of(aud->begin(), aud->end(), ours);
    else audience_ok = ours(*aud);
  }
  if (!audience_ok) return refused("wrong audience");
  auto number = [&](const char* name) -> std::optional<int64_t> {
    auto it = claims.find(name);
    if (it == claims.end() || !it->is_number()) return std::nullopt;
    return static_cast<int64_t>(it->get<double>());
  };
  auto exp = number("exp");
  if (!exp) return refused("no expiry");
  if (*exp + x.skew_s < x.now_s) return refused("expired");
  if (auto nbf = number("nbf"); nbf && *nbf - x.skew_s > x.now_s) return refused("not valid yet");
  if (auto iat = number("iat"); iat && *iat - x.skew_s > x.now_s) return refused("issued in the future");
  if (text(claims, "sub").empty()) return refused("no subject");
  return claims;
}

} // namespace roster
