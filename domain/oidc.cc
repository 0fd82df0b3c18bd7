#include "domain/oidc.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>

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

/// A public key from OpenSSL parameters (type "RSA" or "EC").
std::shared_ptr<EVP_PKEY> key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  params_ptr params(OSSL_PARAM_BLD_to_param(bld));
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return {};
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return {};
  return std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free);
}

bn_ptr bignum(const std::string& bytes) {
  return bn_ptr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
}

std::shared_ptr<EVP_PKEY> rsa_key(const std::string& n, const std::string& e) {
  auto bn_n = bignum(n), bn_e = bignum(e);
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld || BN_num_bits(bn_n.get()) < 2048) return {};
  if (OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return {};
  return key_from_params("RSA", bld.get());
}

std::shared_ptr<EVP_PKEY> ec_p256_key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return {};
  std::string point = "\x04" + x + y;
  param_bld_ptr bld(OSSL_PARAM_BLD_new());
  if (!bld) return {};
  if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    return {};
  return key_from_params("EC", bld.get());
}

std::string text(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// A JWS signature over `signed_part` by `key`: RS256 (PKCS#1 v1.5) or
/// ES256 (JOSE's r‖s, 64 bytes, turned into the DER OpenSSL checks).
bool signature_ok(const jwk_key& key, std::string_view signed_part, const std::string& sig) {
  std::string der;
  const std::string* checked = &sig;
  if (key.alg == "ES256") {
    if (sig.size() != 64) return false;
    std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> es(ECDSA_SIG_new(), ECDSA_SIG_free);
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
    if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return false;
    }
    unsigned char* out = nullptr;
    int n = i2d_ECDSA_SIG(es.get(), &out);
    if (n <= 0) return false;
    der.assign(reinterpret_cast<char*>(out), static_cast<size_t>(n));
    OPENSSL_free(out);
    checked = &der;
  } else if (key.alg != "RS256") {
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(checked->data()), checked->size(),
                          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

} // namespace

std::string jwk_key::pem() const { return key ? pem_of(key.get()) : std::string(); }

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
      key.key = rsa_key(*n, *e);
    } else if (kty == "EC" && text(k, "crv") == "P-256") {
      auto x = base64url_decode(text(k, "x")), y = base64url_decode(text(k, "y"));
      if (!x || !y) continue;
      key.alg = "ES256";
      key.key = ec_p256_key(*x, *y);
    } else {
      continue;
    }
    if (!key.key || (!alg.empty() && alg != key.alg)) continue;
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
  auto first = token.find('.'), last = token.rfind('.');
  auto sig = base64url_decode(token.substr(last + 1));
  if (!sig || !key.key) return refused("malformed");
  if (!signature_ok(key, token.substr(0, last), *sig)) return refused("bad signature");
  json claims = decode_segment(token.substr(first + 1, last - first - 1));
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
    // Clamped first: a double beyond int64's range (1e300) would not convert.
    return static_cast<int64_t>(std::clamp(it->get<double>(), -1e15, 1e15));
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
