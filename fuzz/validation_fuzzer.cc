// The field rules of SPEC §2 on arbitrary bytes: every check_*, the UTF-8
// helpers (and utf8_clean, which the User-Agent header goes through), JSON depth, email normalisation and the username tag, with the
// properties the callers rely on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/validation.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s(reinterpret_cast<const char*>(data), size);
  limits l;

  bool utf8 = valid_utf8(s);
  if (utf8) FUZZ_CHECK(utf8_length(s) <= s.size());
  (void)has_control_chars(s);
  FUZZ_CHECK(json_depth(s) <= s.size());

  if (check_email(s, l).empty()) {
    FUZZ_CHECK(s.size() <= l.email_max && utf8 && !has_control_chars(s));
    FUZZ_CHECK(s.find('@') != std::string_view::npos);
  }
  auto lower = normalize_email(s);
  FUZZ_CHECK(lower.size() == s.size() && normalize_email(lower) == lower);

  auto tag = username_tag(s);
  FUZZ_CHECK(tag.size() <= s.size() && username_tag(tag) == tag);
  if (check_username(s, l).empty()) {
    FUZZ_CHECK(s.size() >= l.username_min && s.size() <= l.username_max && !tag.empty());
  }
  if (check_display_name(s, l).empty()) {
    FUZZ_CHECK(utf8 && !has_control_chars(s));
    auto n = utf8_length(s);
    FUZZ_CHECK(n >= l.display_name_min && n <= l.display_name_max);
  }
  if (check_password(s, l).empty()) {
    FUZZ_CHECK(s.size() >= l.password_min && s.size() <= l.password_max && !is_common_password(s));
  }
  if (check_url(s).empty() && !s.empty()) FUZZ_CHECK(s.rfind("http", 0) == 0 && !has_control_chars(s));
  if (check_lang(s).empty()) FUZZ_CHECK(s.size() <= 35);

  for (size_t max : {size_t{0}, size_t{3}, size_t{512}, s.size()}) {
    auto clean = utf8_clean(s, max);
    FUZZ_CHECK(valid_utf8(clean) && clean.size() <= max);
    if (utf8 && s.size() <= max) FUZZ_CHECK(clean == s);
  }
  return 0;
}
