#pragma once
// JWTs for game servers (SPEC §3): EdDSA (Ed25519) JWS compact tokens, the
// JWK form of their public keys, and the key set every node of a cluster
// shares (its rotation rule). Pure: OpenSSL only (EVP_DigestSign/Verify with
// Ed25519), no CAF, no RocksDB; the caller passes the time.
//
//   token = base64url(header) "." base64url(claims) "." base64url(signature)
//   header {"alg":"EdDSA","typ":"JWT","kid":…}; claims {iss, sub, sid, iat, exp}
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace roster::jwt {

/// The issuer (`iss`) of every Roster JWT: the same on every node, so a
/// verifier need not know which node minted a token.
inline constexpr const char* issuer = "roster";
/// Clock skew allowed when judging `exp` (seconds).
inline constexpr int64_t leeway_s = 2;

/// One Ed25519 key. `seed` (the 32-byte private key) is empty for a key known
/// only by its public half. Times are epoch milliseconds; 0 = not set.
struct key {
  std::string kid;         // RFC 7638 JWK thumbprint of the public key (base64url)
  std::string seed;        // 32 raw bytes, or empty
  std::string pub;         // 32 raw bytes
  millis created_at = 0;
  millis active_from = 0;  // signs from then on (published before, so every node's JWKS has it first)
  millis retire_at = 0;    // no longer published nor accepted from then on (0: current)

  /// The OpenSSL key (private if `seed` is set), built once and shared by copies.
  EVP_PKEY* pkey() const;

 private:
  mutable std::shared_ptr<EVP_PKEY> pkey_;
};

/// A new key from OpenSSL's CSPRNG.
key generate_key(millis now);
/// A key from its 32-byte private seed (public half and kid derived).
std::optional<key> key_from_seed(std::string_view seed);
/// An Ed25519 private key in PEM (PKCS#8, `openssl genpkey -algorithm ed25519`).
std::optional<key> key_from_pem(std::string_view pem);
/// RFC 7638 thumbprint of an Ed25519 public key: base64url(SHA-256 of
/// {"crv":"Ed25519","kty":"OKP","x":"<base64url pub>"}).
std::string thumbprint(std::string_view pub);
/// The public JWK of `k`: {kty:"OKP", crv:"Ed25519", x, kid, alg:"EdDSA", use:"sig"}.
nlohmann::json public_jwk(const key& k);

// -- the shared key set ------------------------------------------------------------

/// The cluster's key set: newest last. It keeps the current key, a next one
/// published ahead of its use, and previous ones until their last token has
/// expired.
struct key_set {
  std::vector<key> keys;
};

struct rotation_rules {
  millis rotate_after = 7LL * 24 * 3600'000;  // a signing key's age at which the next one takes over
  millis publish_ahead = 3 * 60'000;          // a new key is published this long before it signs (> node refresh)
  millis ttl = 15 * 60'000;                   // jwt.ttl: how long a replaced key must still verify
};

/// Creates the first key (active at once: nobody can hold an older JWKS) or,
/// once the signing key is `rotate_after` old (or `force`), a next key
/// active `publish_ahead` from now and the old one's retire time (when its
/// last token has expired, plus leeway); drops retired keys. True if `s`
/// changed (the caller stores it).
bool maintain(key_set& s, millis now, const rotation_rules& r, bool force = false);
/// The key that signs at `now`: the newest active one; nullptr if none.
const key* signing_key(const key_set& s, millis now);
/// The keys a JWKS publishes (and a verifier accepts) at `now`.
std::vector<const key*> published(const key_set& s, millis now);
/// {"keys":[public_jwk…]} of `keys`.
nlohmann::json jwks(const std::vector<const key*>& keys);

/// Storage form (private seeds included: it lives in the store and on the
/// member link only, never in an answer to a client).
std::string encode_key_set(const key_set& s);
std::optional<key_set> decode_key_set(std::string_view text);

// -- tokens ------------------------------------------------------------------------

struct claims {
  std::string iss = issuer;
  std::string sub;  // the user id (uuid text)
  std::string sid;  // the session id (uuid text)
  int64_t iat = 0;  // seconds
  int64_t exp = 0;  // seconds
};

/// The signed compact token; empty if `k` has no private key.
std::string sign(const key& k, const claims& c);

enum class verdict { ok, malformed, bad_alg, unknown_kid, bad_signature, expired, bad_claims };
const char* verdict_name(verdict v);

struct verified {
  verdict v = verdict::malformed;
  claims c;
};

/// Checks a compact token: three base64url parts, header alg exactly
/// "EdDSA" (anything else, "none" and HS256 included, refused), a kid that
/// `find(kid)` knows, the Ed25519 signature, iss == issuer, sub and sid
/// present, and exp > now (leeway_s). `find` returns nullptr for an unknown kid.
template <class Find>
verified verify(std::string_view token, millis now, Find&& find);

/// The pieces verify() checks, for the template above.
struct parsed {
  std::string kid;
  std::string_view signing_input;  // header "." payload
  std::string signature;
  claims c;
  verdict v = verdict::malformed;
};
parsed parse(std::string_view token);
bool signature_ok(const key& k, std::string_view signing_input, std::string_view signature);
verdict check_claims(const claims& c, millis now);

template <class Find>
verified verify(std::string_view token, millis now, Find&& find) {
  auto p = parse(token);
  if (p.v != verdict::ok) return {p.v, {}};
  const key* k = find(p.kid);
  if (!k) return {verdict::unknown_kid, {}};
  if (!signature_ok(*k, p.signing_input, p.signature)) return {verdict::bad_signature, {}};
  auto v = check_claims(p.c, now);
  return {v, v == verdict::ok ? std::move(p.c) : claims{}};
}

} // namespace roster::jwt
