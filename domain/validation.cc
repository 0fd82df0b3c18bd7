#include "domain/validation.h"

#include <algorithm>
#include <cctype>

namespace roster {

bool valid_utf8(std::string_view s) {
  auto u = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = u(i);
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((u(i + k) & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (u(i + k) & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
      return false;  // overlong
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

size_t utf8_length(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  }));
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
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
  if (has_control_chars(name)) return "contains control characters";
  auto n = utf8_length(name);
  if (n < l.display_name_min || n > l.display_name_max) return "must be 1 to 64 characters";
  if (std::all_of(name.begin(), name.end(), [](char c) { return c == ' '; }))
    return "must not be blank";
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
