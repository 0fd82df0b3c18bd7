#pragma once
// Input rules of SPEC §2: pure functions, no I/O. Each returns an empty string
// when the value is acceptable, or a short problem text for the "fields" map.
#include <cstddef>
#include <string>
#include <string_view>

namespace roster {

struct limits {
  size_t display_name_min = 1, display_name_max = 64;
  size_t username_min = 3, username_max = 32;
  size_t email_max = 254;
  size_t password_min = 8, password_max = 256;
  size_t metadata_value_max = 4096;
  size_t metadata_keys_max = 64;  // per user, user keys; internal keys count apart
  size_t json_max_depth = 32;
};

bool valid_utf8(std::string_view s);
/// Number of Unicode code points (assumes valid UTF-8).
size_t utf8_length(std::string_view s);
/// True if `s` holds a control character: C0, DEL, or C1 (UTF-8 C2 80..C2 9F).
bool has_control_chars(std::string_view s);
/// `s` as valid UTF-8 of at most `max_bytes` bytes: each invalid byte becomes
/// U+FFFD, and the text is cut at a character boundary. For text we store and
/// echo but do not validate, such as the User-Agent header (JSON encoding
/// throws on invalid UTF-8).
std::string utf8_clean(std::string_view s, size_t max_bytes);

/// True for Unicode control characters: C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F).
bool is_control_code_point(char32_t cp);
/// True for Unicode general category Cf (format characters: soft hyphen, zero
/// width space and joiners, bidirectional overrides and isolates, BOM, tags...),
/// from the table in validation.cc (Unicode 15).
bool is_format_code_point(char32_t cp);

/// `s` made safe for one log line: control characters (C0, DEL, C1), format
/// characters (Cf, e.g. U+202E), U+2028/U+2029 and bytes that are not valid
/// UTF-8 become escapes (`\n`, `\r`, `\t`, `\xHH` for bytes and ASCII
/// controls, `\u{HHHH}` for the others) and a backslash becomes `\\`, so a
/// logged value can neither forge a line nor hide or reorder what follows it.
/// Every user-supplied value that reaches spdlog goes through this.
std::string log_safe(std::string_view s);

/// Maximum nesting depth of arrays/objects in a JSON text, computed without
/// recursion (so a hostile 1 MB "[[[[..." cannot overflow the parser's stack).
size_t json_depth(std::string_view text);

std::string check_email(std::string_view email, const limits& l = {});
std::string check_username(std::string_view username, const limits& l = {});
std::string check_display_name(std::string_view name, const limits& l = {});
std::string check_password(std::string_view password, const limits& l = {});
std::string check_url(std::string_view url);
std::string check_lang(std::string_view lang);
/// A phone number in E.164: '+', a country code not starting with 0, 8 to 15
/// digits in all, nothing else (no spaces or dashes: the number is its own
/// unique key).
std::string check_phone(std::string_view phone);

/// Lowercased email: the unique key for emails.
std::string normalize_email(std::string_view email);

/// The username tag: lowercased, look-alikes folded (0→o, 1→l, i→l, 5→s) and
/// `_ . -` removed, so "Tk421" and "tk42l" share one tag.
std::string username_tag(std::string_view username);

/// True if `password` is in the bundled list of common passwords.
bool is_common_password(std::string_view password);

} // namespace roster
