#include "domain/jwt.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>

#include "base/crypto.h"

namespace roster::jwt {

using json = nlohmann::json;

namespace {

std::shared_ptr<EVP_PKEY> wrap(EVP_PKEY* p) { return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free); }

std::string raw_public(EVP_PKEY* p) {
  std::string out(32, '\0');
  size_t n = out.size();
  if (EVP_PKEY_get_raw_public_key(p, reinterpret_cast<unsigned char*>(out.data()), &n) != 1 || n != 32) return {};
  return out;
}

std::optional<key> from_pkey(std::shared_ptr<EVP_PKEY> p) {
  if (!p || EVP_PKEY_get_id(p.get()) != EVP_PKEY_ED25519) return std::nullopt;
  std::string seed(32, '\0');
  size_t n = seed.size();
  if (EVP_PKEY_get_raw_private_key(p.get(), reinterpret_cast<unsigned char*>(seed.data()), &n) != 1 || n != 32)
    return std::nullopt;
  key k;
  k.seed = std::move(seed);
  k.pub = raw_public(p.get());
  if (k.pub.empty()) return std::nullopt;
  k.kid = thumbprint(k.pub);
  return k;
}

} // namespace

EVP_PKEY* key::pkey() const {
  if (!pkey_) {
    EVP_PKEY* p = nullptr;
    if (!seed.empty())
      p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()),
                                       seed.size());
    else if (pub.size() == 32)
      p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(pub.data()),
                                      pub.size());
    if (!p) return nullptr;
    pkey_ = wrap(p);
  }
  return pkey_.get();
}

key generate_key(millis now) {
  EVP_PKEY* p = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  if (ctx && EVP_PKEY_keygen_init(ctx) == 1) EVP_PKEY_keygen(ctx, &p);  // seed from OpenSSL's CSPRNG
  EVP_PKEY_CTX_free(ctx);
  auto k = from_pkey(wrap(p));
  if (!k) abort();  // as random_bytes: no key is better than a broken one
  k->created_at = k->active_from = now;
  return std::move(*k);
}

std::optional<key> key_from_seed(std::string_view seed) {
  if (seed.size() != 32) return std::nullopt;
  auto p = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()),
                                        seed.size());
  if (!p) return std::nullopt;
  return from_pkey(wrap(p));
}

std::optional<key> key_from_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return std::nullopt;
  EVP_PKEY* p = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!p) return std::nullopt;
  return from_pkey(wrap(p));
}

std::string thumbprint(std::string_view pub) {
  // RFC 7638: the required members in lexicographic order, no whitespace.
  return base64url_encode(sha256(R"({"crv":"Ed25519","kty":"OKP","x":")" + base64url_encode(pub) + "\"}"));
}

json public_jwk(const key& k) {
  return json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(k.pub)},
              {"kid", k.kid}, {"alg", "EdDSA"},   {"use", "sig"}};
}

// -- the key set ---------------------------------------------------------------------

const key* signing_key(const key_set& s, millis now) {
  const key* best = nullptr;
  for (auto& k : s.keys)
    if (k.active_from <= now && (k.retire_at == 0 || k.retire_at > now) && !k.seed.empty())
      if (!best || k.active_from >= best->active_from) best = &k;
  return best;
}

std::vector<const key*> published(const key_set& s, millis now) {
  std::vector<const key*> out;
  for (auto& k : s.keys)
    if (k.retire_at == 0 || k.retire_at > now) out.push_back(&k);
  return out;
}

json jwks(const std::vector<const key*>& keys) {
  json arr = json::array();
  for (auto* k : keys) arr.push_back(public_jwk(*k));
  return json{{"keys", std::move(arr)}};
}

namespace {
constexpr millis first_key_slack = 60'000;
} // namespace

bool maintain(key_set& s, millis now, const rotation_rules& r, bool force) {
  bool changed = false;
  auto before = s.keys.size();
  s.keys.erase(std::remove_if(s.keys.begin(), s.keys.end(),
                              [&](const key& k) { return k.retire_at != 0 && k.retire_at <= now; }),
               s.keys.end());
  changed = s.keys.size() != before;
  // A next key already waiting to sign: nothing more to do until it does.
  bool pending = std::any_of(s.keys.begin(), s.keys.end(), [&](const key& k) { return k.active_from > now; });
  const key* cur = signing_key(s, now);
  if (!cur) {
    if (pending) return changed;
    // The first key signs at once (no JWKS can predate it) — on every node:
    // the one asking may have read its clock before this actor did, or run a
    // clock behind it, so the key counts as active from a minute back.
    auto first = generate_key(now);
    first.active_from = now - first_key_slack;
    s.keys.push_back(std::move(first));
    return true;
  }
  if (pending || !(force || now - cur->active_from >= r.rotate_after)) return changed;
  auto next = generate_key(now);
  next.active_from = now + r.publish_ahead;
  // The replaced key signs until `next` is active; its last token expires ttl later.
  millis retire = next.active_from + r.ttl + leeway_s * 1000 + 60'000;
  for (auto& k : s.keys)
    if (k.retire_at == 0) k.retire_at = retire;
  s.keys.push_back(std::move(next));
  return true;
}

std::string encode_key_set(const key_set& s) {
  json arr = json::array();
  for (auto& k : s.keys)
    arr.push_back(json{{"kid", k.kid},
                       {"d", base64url_encode(k.seed)},
                       {"x", base64url_encode(k.pub)},
                       {"created_at", k.created_at},
                       {"active_from", k.active_from},
                       {"retire_at", k.retire_at}});
  return json{{"keys", std::move(arr)}}.dump();
}

std::optional<key_set> decode_key_set(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array()) return std::nullopt;
  key_set s;
  try {
    for (auto& e : j["keys"]) {
      key k;
      auto seed = base64url_decode(e.at("d").get<std::string>());
      auto pub = base64url_decode(e.at("x").get<std::string>());
      if (!seed || !pub || pub->size() != 32 || (!seed->empty() && seed->size() != 32)) return std::nullopt;
      k.seed = std::move(*seed);
      k.pub = std::move(*pub);
      k.kid = e.at("kid").get<std::string>();
      k.created_at = e.at("created_at").get<millis>();
      k.active_from = e.at("active_from").get<millis>();
      k.retire_at = e.at("retire_at").get<millis>();
      s.keys.push_back(std::move(k));
    }
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return s;
}

// -- tokens ----------------------------------------------------------------------------

std::string sign(const key& k, const claims& c) {
  if (k.seed.empty() || !k.pkey()) return {};
  std::string input = base64url_encode(json{{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", k.kid}}.dump());
  input += '.';
  input += base64url_encode(
    json{{"iss", c.iss}, {"sub", c.sub}, {"sid", c.sid}, {"iat", c.iat}, {"exp", c.exp}}.dump());
  std::string sig(64, '\0');
  size_t n = sig.size();
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = md && EVP_DigestSignInit(md, nullptr, nullptr, nullptr, k.pkey()) == 1 &&
            EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &n,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  if (!ok || n != 64) return {};
  input += '.';
  input += base64url_encode(sig);
  return input;
}

const char* verdict_name(verdict v) {
  switch (v) {
    case verdict::ok: return "ok";
    case verdict::malformed: return "malformed";
    case verdict::bad_alg: return "bad_alg";
    case verdict::unknown_kid: return "unknown_kid";
    case verdict::bad_signature: return "bad_signature";
    case verdict::expired: return "expired";
    case verdict::bad_claims: return "bad_claims";
  }
  return "?";
}

parsed parse(std::string_view token) {
  parsed p;
  if (token.size() > 4096) return p;
  auto d1 = token.find('.');
  if (d1 == std::string_view::npos) return p;
  auto d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) return p;
  auto header = base64url_decode(token.substr(0, d1));
  auto payload = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = base64url_decode(token.substr(d2 + 1));
  if (!header || !payload || !sig) return p;
  auto h = json::parse(*header, nullptr, false);
  if (!h.is_object()) return p;
  auto alg = h.find("alg");
  if (alg == h.end() || !alg->is_string()) return p;
  if (alg->get<std::string>() != "EdDSA") {
    p.v = verdict::bad_alg;
    return p;
  }
  auto kid = h.find("kid");
  if (kid == h.end() || !kid->is_string()) {
    p.v = verdict::unknown_kid;
    return p;
  }
  auto b = json::parse(*payload, nullptr, false);
  if (!b.is_object()) return p;
  auto str = [&](const char* name) {
    auto it = b.find(name);
    return it != b.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char* name) -> int64_t {
    auto it = b.find(name);
    return it != b.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  p.c.iss = str("iss");
  p.c.sub = str("sub");
  p.c.sid = str("sid");
  p.c.iat = num("iat");
  p.c.exp = num("exp");
  p.kid = kid->get<std::string>();
  p.signing_input = token.substr(0, d2);
  p.signature = std::move(*sig);
  p.v = verdict::ok;
  return p;
}

bool signature_ok(const key& k, std::string_view signing_input, std::string_view signature) {
  if (signature.size() != 64 || !k.pkey()) return false;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = md && EVP_DigestVerifyInit(md, nullptr, nullptr, nullptr, k.pkey()) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

verdict check_claims(const claims& c, millis now) {
  if (c.iss != issuer || c.sub.empty() || c.sid.empty() || c.exp == 0) return verdict::bad_claims;
  if (c.exp * 1000 + leeway_s * 1000 <= now) return verdict::expired;
  return verdict::ok;
}

} // namespace roster::jwt
