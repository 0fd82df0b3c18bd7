// Pagination cursors as clients send them back (?cursor=): the sessions list
// takes base64url(session id) (session_book::page, domain/session_book.cc),
// the account log base64url(12-byte log key suffix) (actors/user/user_actor.cc);
// both decode with base64url_decode. The same decoder family reads PHC hash
// fields (standard alphabet, unpadded).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/crypto.h"
#include "domain/session_book.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

namespace {
/// A book of three sessions, the same for every input.
const session_book& book() {
  static const session_book b = [] {
    session_book out;
    for (char c : {'1', '2', '3'}) {
      session_record s;
      s.id = std::string("00000000-0000-4000-8000-00000000000") + c;
      s.token_hash = std::string(32, c);
      s.created_at = s.last_used_at = 1000 * (c - '0');
      s.expires_at = 1'000'000;
      out.load(s);
    }
    return out;
  }();
  return b;
}
} // namespace

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
  // The sessions list: a page, or the one invalid-cursor error; a cursor it
  // hands out leads to the next page.
  for (size_t limit : {1, 2, 50}) {
    auto page = book().page(5000, session_rules{}, limit, s, "");
    if (!page) {
      FUZZ_CHECK(page.err().code == errc::invalid_request && page.err().fields.count("cursor") == 1);
      continue;
    }
    FUZZ_CHECK(page->items.size() <= limit);
    if (page->next_cursor) FUZZ_CHECK(book().page(5000, session_rules{}, limit, *page->next_cursor, ""));
  }
  // Everything we encode decodes back.
  FUZZ_CHECK(base64url_decode(base64url_encode(s)) == std::string(s));
  FUZZ_CHECK(base64_decode_unpadded(base64_encode_unpadded(s)) == std::string(s));
  auto hex = hex_encode(s);
  FUZZ_CHECK(hex.size() == 2 * s.size());
  return 0;
}
