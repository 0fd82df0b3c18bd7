#include "domain/validation.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <utility>

namespace roster {

namespace {

/// Decodes the code point at s[i] and advances i past it; for a byte that does
/// not start a valid (shortest-form, non-surrogate, ≤ U+10FFFF) sequence,
/// returns nullopt and advances i by one byte.
std::optional<char32_t> next_code_point(std::string_view s, size_t& i) {
  auto u = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = u(i);
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t len;
  char32_t cp;
  if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
  else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
  else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
  else { ++i; return std::nullopt; }
  if (i + len > s.size()) { ++i; return std::nullopt; }
  for (size_t k = 1; k < len; ++k) {
    if ((u(i + k) & 0xc0) != 0x80) { ++i; return std::nullopt; }
    cp = (cp << 6) | (u(i + k) & 0x3f);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||  // overlong
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++i;
    return std::nullopt;
  }
  i += len;
  return cp;
}

/// Unicode 15.0 general category Cf, as closed ranges (DerivedGeneralCategory.txt).
constexpr std::pair<char32_t, char32_t> format_ranges[] = {
  {0x00AD, 0x00AD},    // SOFT HYPHEN
  {0x0600, 0x0605},    // ARABIC NUMBER SIGN .. ARABIC NUMBER MARK ABOVE
  {0x061C, 0x061C},    // ARABIC LETTER MARK
  {0x06DD, 0x06DD},    // ARABIC END OF AYAH
  {0x070F, 0x070F},    // SYRIAC ABBREVIATION MARK
  {0x0890, 0x0891},    // ARABIC POUND / PIASTRE MARK ABOVE
  {0x08E2, 0x08E2},    // ARABIC DISPUTED END OF AYAH
  {0x180E, 0x180E},    // MONGOLIAN VOWEL SEPARATOR
  {0x200B, 0x200F},    // ZERO WIDTH SPACE, ZWNJ, ZWJ, LRM, RLM
  {0x202A, 0x202E},    // LRE, RLE, PDF, LRO, RLO
  {0x2060, 0x2064},    // WORD JOINER .. INVISIBLE PLUS
  {0x2066, 0x206F},    // LRI, RLI, FSI, PDI, deprecated format characters
  {0xFEFF, 0xFEFF},    // ZERO WIDTH NO-BREAK SPACE (BOM)
  {0xFFF9, 0xFFFB},    // INTERLINEAR ANNOTATION ANCHOR .. TERMINATOR
  {0x110BD, 0x110BD},  // KAITHI NUMBER SIGN
  {0x110CD, 0x110CD},  // KAITHI NUMBER SIGN ABOVE
  {0x13430, 0x1343F},  // EGYPTIAN HIEROGLYPH format controls
  {0x1BCA0, 0x1BCA3},  // SHORTHAND FORMAT controls
  {0x1D173, 0x1D17A},  // MUSICAL SYMBOL BEGIN BEAM .. END PHRASE
  {0xE0001, 0xE0001},  // LANGUAGE TAG
  {0xE0020, 0xE007F},  // TAG SPACE .. CANCEL TAG
};

/// Code points that render as nothing or as blank space: Unicode Zs, Zl, Zp,
/// and the blank-looking letters and symbols (Hangul fillers, braille blank).
bool is_blank_code_point(char32_t cp) {
  switch (cp) {
    case 0x0020: case 0x00A0: case 0x1680: case 0x202F: case 0x205F: case 0x3000:  // Zs
    case 0x2028: case 0x2029:                                                      // Zl, Zp
    case 0x115F: case 0x1160: case 0x3164: case 0xFFA0:                            // Hangul fillers
    case 0x2800:                                                                   // BRAILLE PATTERN BLANK
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;  // EN QUAD .. HAIR SPACE (Zs)
  }
}

} // namespace

bool is_control_code_point(char32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }

bool is_format_code_point(char32_t cp) {
  for (auto [lo, hi] : format_ranges) {
    if (cp < lo) return false;  // the table is sorted
    if (cp <= hi) return true;
  }
  return false;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();)
    if (!next_code_point(s, i)) return false;
  return true;
}

std::string log_safe(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  auto byte_escape = [&](unsigned b) {
    out += "\\x";
    out.push_back(hex[(b >> 4) & 0xf]);
    out.push_back(hex[b & 0xf]);
  };
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    auto cp = next_code_point(s, i);
    if (!cp) byte_escape(static_cast<unsigned char>(s[start]));  // not UTF-8
    else if (*cp == '\\') out += "\\\\";
    else if (*cp == '\n') out += "\\n";
    else if (*cp == '\r') out += "\\r";
    else if (*cp == '\t') out += "\\t";
    else if (*cp < 0x80 && is_control_code_point(*cp)) byte_escape(*cp);
    else if (is_control_code_point(*cp) || is_format_code_point(*cp) || *cp == 0x2028 || *cp == 0x2029) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(*cp));
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

bool has_control_chars(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == 0x7f) return true;
    // C1 (U+0080..U+009F) is C2 80..C2 9F in UTF-8.
    if (u == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9f)
      return true;
  }
  return false;
}

std::string utf8_clean(std::string_view s, size_t max_bytes) {
  static constexpr std::string_view replacement = "\xef\xbf\xbd";  // U+FFFD
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size() && valid_utf8(s.substr(i, len));
    std::string_view piece = ok ? s.substr(i, len) : replacement;
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
    i += ok ? len : 1;
  }
  return out;
}

size_t json_depth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[': case '{': max_depth = std::max(max_depth, ++depth); break;
      case ']': case '}': if (depth > 0) --depth; break;
      default: break;
    }
  }
  return max_depth;
}

std::string check_email(std::string_view email, const limits& l) {
  if (email.empty()) return "is required";
  if (email.size() > l.email_max) return "must be at most 254 characters";
  if (!valid_utf8(email) || has_control_chars(email)) return "contains invalid characters";
  auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return "is not a valid email address";
  auto domain = email.substr(at + 1);
  if (domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.')
    return "is not a valid email address";
  if (std::any_of(email.begin(), email.end(), [](char c) { return c == ' ' || c == ','; }))
    return "is not a valid email address";
  if (email.substr(0, at).find('@') != std::string_view::npos) return "is not a valid email address";
  return {};
}

std::string check_phone(std::string_view phone) {
  if (phone.empty()) return "is required";
  auto digits = phone.substr(1);
  bool shaped = phone.front() == '+' && digits.size() >= 8 && digits.size() <= 15 && digits.front() != '0' &&
                std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  return shaped ? std::string() : "must be an E.164 number: '+' and 8 to 15 digits, e.g. +14155550123";
}

std::string check_username(std::string_view u, const limits& l) {
  if (u.size() < l.username_min || u.size() > l.username_max)
    return "must be 3 to 32 characters";
  for (char c : u) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
      return "may contain only letters, digits, '_', '.' and '-'";
  }
  if (username_tag(u).empty()) return "must contain a letter or digit";
  return {};
}

std::string check_display_name(std::string_view name, const limits& l) {
  if (!valid_utf8(name)) return "is not valid UTF-8";
  bool visible = false;
  for (size_t i = 0; i < name.size();) {
    char32_t cp = *next_code_point(name, i);
    if (is_control_code_point(cp)) return "contains control characters";
    if (is_format_code_point(cp)) return "contains invisible formatting characters";
    if (cp == 0x2028 || cp == 0x2029) return "contains line separators";
    if (!is_blank_code_point(cp)) visible = true;
  }
  auto n = utf8_length(name);
  if (n < l.display_name_min || n > l.display_name_max) return "must be 1 to 64 characters";
  if (!visible) return "must contain a visible character";
  return {};
}

std::string check_password(std::string_view p, const limits& l) {
  if (p.size() < l.password_min) return "must be at least 8 bytes";
  if (p.size() > l.password_max) return "must be at most 256 bytes";
  if (p.find('\0') != std::string_view::npos) return "must not contain NUL bytes";
  if (is_common_password(p)) return "is too common";
  return {};
}

std::string check_url(std::string_view url) {
  if (url.empty()) return {};
  if (url.size() > 2048) return "must be at most 2048 characters";
  if (!(url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0)) return "must be an http(s) URL";
  if (has_control_chars(url) || url.find(' ') != std::string_view::npos) return "is not a valid URL";
  return {};
}

std::string check_lang(std::string_view lang) {
  if (lang.empty()) return {};
  if (lang.size() > 35) return "must be a BCP 47 language tag";
  for (char c : lang)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return "must be a BCP 47 language tag";
  return {};
}

std::string normalize_email(std::string_view email) {
  std::string out(email);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string username_tag(std::string_view username) {
  std::string out;
  out.reserve(username.size());
  for (char c : username) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    switch (l) {
      case '_': case '.': case '-': continue;
      case '0': out.push_back('o'); break;
      case '1': case 'i': out.push_back('l'); break;
      case '5': out.push_back('s'); break;
      default: out.push_back(l);
    }
  }
  return out;
}

} // namespace roster
