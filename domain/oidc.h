#pragma once
// OpenID Connect ID tokens (Google, Apple): the rules that decide whether a
// token is the provider's word that its holder is `sub` — the key it names
// in the provider's JWKS, the one algorithm that key allows, the signature
// (OpenSSL), issuer, audience and times. Pure: the JWKS is fetched and
// cached by service/providers.cc. The tests sign with cpp-jwt and PyJWT,
// independent implementations.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/errc.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace roster {

/// The parts of a JWT header that pick the key.
struct jwt_header {
  std::string alg;
  std::string kid;
};
/// The (unverified) header of a compact JWT; invalid_credentials if the
/// token is not three base64url parts with a JSON object header.
result<jwt_header> peek_jwt_header(std::string_view token);

/// A usable key of a JWKS: its id, the one algorithm it verifies (RS256 for
/// an RSA key, ES256 for a P-256 key; the JWK's own `alg` must agree when
/// given) and the public key, parsed once (OpenSSL's EVP_PKEY, shared and
/// only read: verifications on many threads may use it at once).
struct jwk_key {
  std::string kid;
  std::string alg;
  std::shared_ptr<evp_pkey_st> key;
  /// The public key as PEM (for logs and tests).
  std::string pem() const;
};
/// The usable keys of a JWKS document ({"keys": [...]}); keys of other types,
/// curves or uses ("enc"), and malformed ones, are skipped.
std::vector<jwk_key> parse_jwks(const nlohmann::json& jwks);

struct id_token_expectations {
  std::string issuer;
  std::vector<std::string> audiences;  // the studio's client ids: `aud` must name one
  int64_t now_s = 0;                   // Unix seconds
  int64_t skew_s = 60;                 // clock skew allowed on exp, nbf and iat
};

/// Verifies `token` with `key` — only key.alg is accepted, so `none` and
/// HS256 signed with the public key fail; the signature is checked by
/// OpenSSL's EVP_DigestVerify (RSASSA-PKCS1-v1_5 or ECDSA over SHA-256)
/// against the key parsed once — cpp-jwt takes a PEM and decodes it on
/// every call, and OpenSSL 3's decoders serialise on a lock: 40% of a
/// provider login's CPU went there — then its claims: `iss`, `aud`
/// (a string or an array), `exp` (required), `nbf`, `iat` (not in the
/// future), `sub` (required). The claims, or invalid_credentials with what
/// failed (never the token).
result<nlohmann::json> verify_id_token(std::string_view token, const jwk_key& key, const id_token_expectations& x);

} // namespace roster
