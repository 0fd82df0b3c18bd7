#include "http/head.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>

namespace roster::http {

namespace {

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

/// Whether any of the 8 bytes at `p` is below 0x20 or is 0x7f (the bit
/// tricks "hasless" and "haszero" of Sean Anderson's Bit Twiddling Hacks).
bool has_control(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, sizeof x);
  constexpr uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  auto below_space = (x - ones * 0x20) & ~x & highs;
  auto y = x ^ (ones * 0x7f);
  auto del = (y - ones) & ~y & highs;
  return (below_space | del) != 0;
}

} // namespace

head_check check_head(std::string_view buf, size_t max_head, size_t max_body) {
  head_check out;
  auto refuse = [&] {
    out.state = head_check::bad_bytes;
    return out;
  };
  // Lines end with CRLF, and only so: the edge, not the parser behind it,
  // decides where a request ends, so nothing that two parsers might read
  // differently (a bare LF or CR, a control character, a folded line) passes.
  size_t end = std::string_view::npos;
  size_t limit = std::min(buf.size(), max_head + 1);
  for (size_t i = 0; i < limit; ++i) {
    // Eight bytes at a time while none is a control character or DEL (most
    // of a head: a long token costs little), then byte by byte.
    while (i + 8 <= limit && !has_control(buf.data() + i)) i += 8;
    if (i == limit) break;
    auto c = static_cast<unsigned char>(buf[i]);
    if (c == '\r') {
      if (i + 1 == buf.size()) break;  // its LF is still on the way
      if (buf[i + 1] != '\n') return refuse();
      if (i + 3 < buf.size() && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
        end = i + 4;
        break;
      }
      ++i;  // past the LF
      continue;
    }
    if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f) return refuse();
  }
  if (end == std::string_view::npos) {
    out.state = buf.size() > max_head ? head_check::too_large : head_check::incomplete;
    return out;
  }
  if (end > max_head) {
    out.state = head_check::too_large;
    return out;
  }
  out.head_complete = true;
  auto head = buf.substr(0, end);
  // The header lines (after the request line), each "name: value".
  size_t content_length = 0, lengths = 0, authorizations = 0;
  bool unframed = false;
  size_t pos = head.find("\r\n") + 2;
  while (pos + 2 < head.size()) {
    size_t next = head.find("\r\n", pos);
    auto line = head.substr(pos, next - pos);
    pos = next + 2;
    auto colon = line.find(':');
    // No name, a folded continuation line, or space before the colon:
    // parsers disagree on these (RFC 9112 §5.1, §5.2).
    if (colon == 0 || colon == std::string_view::npos || line.front() == ' ' || line.front() == '\t' ||
        line[colon - 1] == ' ' || line[colon - 1] == '\t')
      return refuse();
    if (iequals_prefix(line, "content-length:")) {
      ++lengths;
      auto v = trim(line.substr(15));
      if (v.empty() || v.size() > 12 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return refuse();
      content_length = std::stoull(std::string(v));
    } else if (iequals_prefix(line, "authorization:")) {
      if (++authorizations == 1) {
        auto v = trim(line.substr(14));
        out.auth_line = static_cast<size_t>(line.data() - buf.data());
        out.auth_line_end = out.auth_line + line.size() + 2;
        out.auth_value = static_cast<size_t>(v.data() - buf.data());
        out.auth_value_size = v.size();
      }
    } else if (iequals_prefix(line, "transfer-encoding:")) {
      unframed = true;  // refused by the server (411) from the head alone
    } else if (iequals_prefix(line, "expect:") && iequals_prefix(trim(line.substr(7)), "100-continue")) {
      out.expect_continue = static_cast<size_t>(line.data() - buf.data());
    }
  }
  if (lengths > 1) return refuse();  // two lengths: a smuggling attempt
  if (authorizations != 1) out.auth_line = out.auth_line_end = out.auth_value = out.auth_value_size = 0;
  // A body too large, or framed otherwise, is not waited for: the server
  // refuses it from the head alone, and the connection then closes (its
  // bytes are not a request).
  out.body_unread = unframed || content_length > max_body;
  size_t body = out.body_unread ? 0 : content_length;
  if (buf.size() < end + body) return out;
  out.state = head_check::ready;
  out.request_bytes = end + body;
  return out;
}

} // namespace roster::http
