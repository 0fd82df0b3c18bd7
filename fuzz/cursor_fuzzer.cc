// Pagination cursors as clients send them back (?cursor=): the sessions list
// takes base64url(session id), the account log base64url(12-byte log key
// suffix); both decode with base64url_decode (actors/user/user_actor.cc). The
// same decoder family reads PHC hash fields (standard alphabet, unpadded).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/crypto.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);

  if (auto raw = base64url_decode(s)) {
    FUZZ_CHECK(raw->size() == s.size() * 3 / 4);
    // A cursor we hand out again must decode to the same position.
    auto again = base64url_encode(*raw);
    FUZZ_CHECK(again.size() == s.size() && base64url_decode(again) == raw);
    if (raw->size() == 12) {  // the log cursor: strictly after that key
      std::string prefix = "L";
      std::string begin = prefix + *raw;
      begin.push_back('\0');
      FUZZ_CHECK(begin > prefix + *raw);
    }
  }
  if (auto raw = base64_decode_unpadded(s)) {
    FUZZ_CHECK(base64_decode_unpadded(base64_encode_unpadded(*raw)) == raw);
  }
  // Everything we encode decodes back.
  FUZZ_CHECK(base64url_decode(base64url_encode(s)) == std::string(s));
  FUZZ_CHECK(base64_decode_unpadded(base64_encode_unpadded(s)) == std::string(s));
  auto hex = hex_encode(s);
  FUZZ_CHECK(hex.size() == 2 * s.size());
  return 0;
}
