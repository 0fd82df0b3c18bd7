// Session tokens as they arrive: an Authorization header value → bearer_token
// → user_id_of_token (the path of http::context::auth), plus UUID text, the
// other identifier clients send, and the minting side for round trips.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/crypto.h"
#include "domain/request.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::string header = in.ConsumeRandomLengthString(200);
  if (auto token = bearer_token(header)) {
    FUZZ_CHECK(!token->empty() && header.size() == token->size() + 7);
    if (auto uid = user_id_of_token(*token)) {
      FUZZ_CHECK(uid->size() == 16 && token->size() == 64);
      auto raw = base64url_decode(*token);
      FUZZ_CHECK(raw && raw->size() == 48 && raw->substr(0, 16) == *uid);
      FUZZ_CHECK(sha256(*token).size() == 32);
    }
  }

  std::string uuid_text = in.ConsumeRandomLengthString(40);
  if (auto bytes = uuid_from_string(uuid_text)) {
    FUZZ_CHECK(bytes->size() == 16 && uuid_to_string(*bytes) == uuid_text);
  }

  std::string uid16 = in.ConsumeBytesAsString(16);
  if (uid16.size() == 16) {
    auto text = uuid_to_string(uid16);
    FUZZ_CHECK(uuid_from_string(text) == uid16);
    auto minted = new_session_token(uid16);
    FUZZ_CHECK(user_id_of_token(minted.token) == uid16);
    FUZZ_CHECK(bearer_token("Bearer " + minted.token) == std::string_view(minted.token));
    FUZZ_CHECK(constant_time_equal(minted.token_hash, sha256(minted.token)));
  }
  std::string rest = in.ConsumeRemainingBytesAsString();
  FUZZ_CHECK(constant_time_equal(rest, header) == (rest == header));
  return 0;
}
