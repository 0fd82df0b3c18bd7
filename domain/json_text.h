#pragma once
// json_text: writes JSON straight to text, for the few objects built on every
// request (the user's own view, a session's view, the stored user and session
// records). Building an nlohmann DOM and dumping it cost a device login about
// a tenth of its CPU (docs/performance.md); this writes the same bytes as
// nlohmann's dump() (strings escaped alike; invalid UTF-8 replaced by U+FFFD
// as dump with error_handler_t::replace does), without the tree.
//
// The caller writes an object's keys in sorted order, as nlohmann's std::map
// objects print them (the stored records are compared byte for byte).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace roster {

class json_text {
 public:
  explicit json_text(size_t reserve = 512) { out_.reserve(reserve); }

  json_text& open_object() { return open('{'); }
  json_text& close_object() { return close('}'); }
  json_text& open_array() { return open('['); }
  json_text& close_array() { return close(']'); }
  /// The next member's key; its value follows.
  json_text& key(std::string_view k);

  json_text& string(std::string_view s);
  json_text& number(int64_t v);
  json_text& boolean(bool v);
  json_text& null();
  /// A value that is already JSON text (written by a json_text), as is.
  json_text& raw(std::string_view json);
  /// A value as nlohmann prints it (invalid UTF-8 replaced).
  json_text& value(const nlohmann::json& v);
  /// null for an empty string, else the string.
  json_text& nullable(std::string_view s) { return s.empty() ? null() : string(s); }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  json_text& open(char c);
  json_text& close(char c);
  void separate();
  /// `s` as a JSON string literal.
  void escaped(std::string_view s);

  std::string out_;
  bool need_comma_ = false;  // a value precedes in the open container
  bool after_key_ = false;   // a key was written; its value comes next
};

} // namespace roster
