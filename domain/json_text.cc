#include "domain/json_text.h"

#include <charconv>

#include "domain/validation.h"

namespace roster {

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
  escaped(k);
  out_ += ':';
  after_key_ = true;
  need_comma_ = false;
  return *this;
}

json_text& json_text::string(std::string_view s) {
  separate();
  escaped(s);
  return *this;
}

void json_text::escaped(std::string_view s) {
  // Invalid UTF-8 (the same rule as nlohmann's: no overlongs, surrogates or
  // code points past U+10FFFF) goes to nlohmann, which replaces it.
  if (!valid_utf8(s)) {
    out_ += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
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

json_text& json_text::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

json_text& json_text::value(const nlohmann::json& v) {
  separate();
  out_ += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return *this;
}

} // namespace roster
