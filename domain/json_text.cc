#include "domain/json_text.h"

#include <charconv>

namespace roster {

namespace {

/// Whether `s` is valid UTF-8 (no overlongs, surrogates or code points past
/// U+10FFFF), as nlohmann's serializer decides it.
bool valid_utf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) { ++i; continue; }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return false;
    i += len;
  }
  return true;
}

} // namespace

void json_text::separate() {
  if (!after_key_ && need_comma_) out_ += ',';
  after_key_ = false;
  need_comma_ = true;
}

json_text& json_text::open(char c) {
  separate();
  out_ += c;
  need_comma_ = false;
  return *this;
}

json_text& json_text::close(char c) {
  out_ += c;
  need_comma_ = true;
  return *this;
}

json_text& json_text::key(std::string_view k) {
  if (need_comma_) out_ += ',';
  need_comma_ = false;
  string(k);
  out_ += ':';
  after_key_ = true;
  need_comma_ = false;
  return *this;
}

json_text& json_text::string(std::string_view s) {
  separate();
  if (!valid_utf8(s)) {
    out_ += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return *this;
  }
  out_ += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\b': out_ += "\\b"; break;
      case '\f': out_ += "\\f"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      default:
        if (c < 0x20) {
          out_ += "\\u00";
          out_ += "0123456789abcdef"[c >> 4];
          out_ += "0123456789abcdef"[c & 15];
        } else {
          out_ += ch;
        }
    }
  }
  out_ += '"';
  return *this;
}

json_text& json_text::number(int64_t v) {
  separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

json_text& json_text::boolean(bool v) {
  separate();
  out_ += v ? "true" : "false";
  return *this;
}

json_text& json_text::null() {
  separate();
  out_ += "null";
  return *this;
}

json_text& json_text::value(const nlohmann::json& v) {
  separate();
  out_ += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return *this;
}

} // namespace roster
