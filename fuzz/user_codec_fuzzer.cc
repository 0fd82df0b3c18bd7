// The storage encoding of users and sessions (domain/user_codec.cc), in both
// directions. The first byte picks the mode:
//   0: decode_user(bytes)     — what the user actor reads back from the store
//   1: decode_session(bytes)
//   2: a session_record built from the bytes → encode_session → decode_session
//   3: a user_record built from the bytes → encode_user → decode_user
// Decoding must never throw or crash and must reach a fixed point after one
// round; encoding must never throw and must round-trip exactly for UTF-8 text.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "domain/user.h"
#include "domain/user_codec.h"
#include "domain/user_views.h"
#include "domain/validation.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

namespace {

bool same(const session_record& a, const session_record& b) {
  return a.id == b.id && a.token_hash == b.token_hash && a.method == b.method && a.created_at == b.created_at &&
         a.last_used_at == b.last_used_at && a.expires_at == b.expires_at &&
         a.authenticated_at == b.authenticated_at && a.ip == b.ip && a.user_agent == b.user_agent;
}

bool same(const user_record& a, const user_record& b) {
  return a.id == b.id && a.email == b.email && a.username == b.username && a.display_name == b.display_name &&
         a.avatar_url == b.avatar_url && a.lang == b.lang && a.metadata == b.metadata &&
         a.password_hash == b.password_hash && a.device_ids == b.device_ids &&
         a.email_verified == b.email_verified && a.pending_activation == b.pending_activation &&
         a.blocked == b.blocked && a.login_methods == b.login_methods && a.created_at == b.created_at &&
         a.updated_at == b.updated_at && a.last_login_at == b.last_login_at && a.last_seen_at == b.last_seen_at &&
         a.failed_logins == b.failed_logins;
}

millis some_time(FuzzedDataProvider& in) { return in.ConsumeIntegral<millis>(); }

void decoded_user(std::string_view bytes) {
  auto u = decode_user(bytes);
  if (!u) return;
  auto once = encode_user(*u);
  auto back = decode_user(once);
  FUZZ_CHECK(back && same(*u, *back) && encode_user(*back) == once);
  (void)own_view(*u).dump();
  (void)public_view(*u, false).dump();
  (void)admin_view(*u, 3, 0).dump();
  (void)index_keys_of(*u);
  (void)status_gate(*u, 0);
}

void decoded_session(std::string_view bytes) {
  auto s = decode_session(bytes);
  if (!s) return;
  auto once = encode_session(*s);
  auto back = decode_session(once);
  FUZZ_CHECK(back && same(*s, *back) && encode_session(*back) == once);
  (void)session_view(*s, true).dump();
  (void)session_state(*s, 1'764'300'000'000, session_policy{});
}

void built_session(FuzzedDataProvider& in) {
  session_record s;
  s.id = in.ConsumeRandomLengthString(40);
  s.token_hash = in.ConsumeBytesAsString(32);
  s.method = in.ConsumeRandomLengthString(16);
  s.created_at = some_time(in);
  s.last_used_at = some_time(in);
  s.expires_at = some_time(in);
  s.authenticated_at = some_time(in);
  s.ip = in.ConsumeRandomLengthString(46);
  s.user_agent = in.ConsumeRandomLengthString(600);
  auto bytes = encode_session(s);  // must not throw, whatever the header bytes were
  auto back = decode_session(bytes);
  FUZZ_CHECK(back.has_value());
  bool text = valid_utf8(s.id) && valid_utf8(s.method) && valid_utf8(s.ip) && valid_utf8(s.user_agent);
  if (text) FUZZ_CHECK(same(s, *back));
  // Replies dump views with the default (throwing) handler: what was decoded
  // from the store is always UTF-8, as the HTTP edge cleans what it stores.
  (void)session_view(*back, false).dump();
}

void built_user(FuzzedDataProvider& in) {
  user_record u;
  u.id = in.ConsumeRandomLengthString(40);
  u.email = in.ConsumeRandomLengthString(64);
  u.username = in.ConsumeRandomLengthString(40);
  u.display_name = in.ConsumeRandomLengthString(80);
  u.avatar_url = in.ConsumeRandomLengthString(80);
  u.lang = in.ConsumeRandomLengthString(20);
  u.password_hash = in.ConsumeRandomLengthString(100);
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n) u.device_ids.push_back(in.ConsumeRandomLengthString(40));
  u.email_verified = in.ConsumeBool();
  u.pending_activation = in.ConsumeBool();
  u.blocked = in.ConsumeBool();
  for (int n = in.ConsumeIntegralInRange(0, 3); n > 0; --n) u.login_methods.push_back(in.ConsumeRandomLengthString(20));
  u.created_at = some_time(in);
  u.updated_at = some_time(in);
  u.last_login_at = some_time(in);
  u.last_seen_at = some_time(in);
  for (int n = in.ConsumeIntegralInRange(0, 5); n > 0; --n) u.failed_logins.push_back(some_time(in));
  auto bytes = encode_user(u);
  auto back = decode_user(bytes);
  FUZZ_CHECK(back.has_value());
  bool text = valid_utf8(u.id) && valid_utf8(u.email) && valid_utf8(u.username) && valid_utf8(u.display_name) &&
              valid_utf8(u.avatar_url) && valid_utf8(u.lang) && valid_utf8(u.password_hash);
  for (auto& d : u.device_ids) text = text && valid_utf8(d);
  for (auto& m : u.login_methods) text = text && valid_utf8(m);
  if (text) FUZZ_CHECK(same(u, *back));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  FuzzedDataProvider in(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: decoded_user(rest); break;
    case 1: decoded_session(rest); break;
    case 2: built_session(in); break;
    case 3: built_user(in); break;
  }
  return 0;
}
