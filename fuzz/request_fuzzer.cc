// A request body as the HTTP layer receives it: parse_json_object (UTF-8,
// nesting depth, JSON, object), then the profile patch of PATCH /v1/account
// (user) and of the admin PATCH (allow_email), applied to a user whose record
// is then encoded and decoded as the user actor stores it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/request.h"
#include "domain/user.h"
#include "domain/user_codec.h"
#include "domain/user_views.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto j = parse_json_object(body);
  if (!j) {
    auto code = j.err().code;
    FUZZ_CHECK(code == errc::invalid_request || code == errc::invalid_json);
    return 0;
  }
  FUZZ_CHECK(j->is_object());
  FUZZ_CHECK(json_depth(body) <= limits{}.json_max_depth);
  for (bool allow_email : {false, true}) {
    auto patch = parse_profile_patch(*j, allow_email);
    if (!patch) {
      FUZZ_CHECK(patch.err().code == errc::invalid_request);
      continue;
    }
    FUZZ_CHECK(!patch->empty());
    FUZZ_CHECK(allow_email || !patch->email);
    user_record u;
    u.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    u.email = "someone@example.com";
    u.metadata = json{{"level", 3}, {"team", "red"}};
    auto applied = apply_profile_patch(u, *patch, 1'764'300'000'000);
    if (!applied.ok()) continue;
    if (patch->display_name) FUZZ_CHECK(check_display_name(u.display_name).empty());
    if (patch->username) FUZZ_CHECK(check_username(u.username).empty());
    FUZZ_CHECK(check_metadata(u.metadata).empty());
    // What the actor then does with the record: store it, show it.
    auto bytes = encode_user(u);
    auto back = decode_user(bytes);
    FUZZ_CHECK(back && encode_user(*back) == bytes);
    (void)own_view(u).dump();
    (void)public_view(u, true).dump();
  }
  return 0;
}
