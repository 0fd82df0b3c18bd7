// Signed tokens from outside: a Bearer JWT on a read (domain/jwt.h verify, the
// path of http::context::auth), and a login provider's ID token with the JWKS it
// is checked against (domain/oidc.h: peek_jwt_header, parse_jwks,
// verify_id_token). Nothing made of fuzzer bytes may verify: the keys are ours,
// fixed per process, and the bytes never hold their signatures.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/jwt.h"
#include "domain/oidc.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const jwt::key ours = jwt::generate_key(0);
  FuzzedDataProvider in(data, size);
  std::string token = in.ConsumeRandomLengthString(1024);
  auto v = jwt::verify(token, 1'000'000, [&](const std::string& kid) -> const jwt::key* {
    return kid == ours.kid ? &ours : nullptr;
  });
  FUZZ_CHECK(v.v != jwt::verdict::ok);
  // A token we sign verifies, and one byte changed anywhere does not.
  if (in.ConsumeBool()) {
    jwt::claims c;
    // Roster signs only its own ids (UUID text): printable ASCII here too.
    auto ascii = [&] {
      std::string s = in.ConsumeRandomLengthString(40);
      for (auto& ch : s) ch = static_cast<char>(0x21 + static_cast<unsigned char>(ch) % 94);
      return s;
    };
    c.sub = ascii();
    c.sid = ascii();
    c.iat = 0;
    c.exp = 2'000'000'000;
    auto signed_token = jwt::sign(ours, c);
    auto find = [&](const std::string& kid) -> const jwt::key* { return kid == ours.kid ? &ours : nullptr; };
    auto good = jwt::verify(signed_token, 1'000'000, find);
    if (!c.sub.empty() && !c.sid.empty()) FUZZ_CHECK(good.v == jwt::verdict::ok && good.c.sub == c.sub);
    if (!signed_token.empty()) {
      auto at = in.ConsumeIntegralInRange<size_t>(0, signed_token.size() - 1);
      auto bad = signed_token;
      bad[at] = static_cast<char>(bad[at] ^ (1 + in.ConsumeIntegralInRange<int>(0, 126)));
      // base64url's last character may carry padding bits nobody reads: a change
      // there can leave the bytes the same, which is the one harmless case.
      auto again = jwt::verify(bad, 1'000'000, find);
      if (again.v == jwt::verdict::ok) FUZZ_CHECK(again.c.sub == c.sub && again.c.sid == c.sid);
    }
  }
  auto header = peek_jwt_header(token);
  (void)header;
  auto jwks = nlohmann::json::parse(in.ConsumeRandomLengthString(2048), nullptr, false);
  for (auto& k : parse_jwks(jwks)) {
    FUZZ_CHECK(k.key && (k.alg == "RS256" || k.alg == "ES256"));
    auto claims = verify_id_token(token, k, {"https://issuer.test", {"app"}, 1'000'000, 60});
    FUZZ_CHECK(!claims);
  }
  return 0;
}
