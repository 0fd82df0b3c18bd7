#include "http/head.h"

#include <algorithm>
#include <cctype>
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

} // namespace

head_check check_head(std::string_view buf, size_t max_head, size_t max_body) {
  head_check out;
  // The end of the head: an empty line (CRLF CRLF, or bare LFs as httplib
  // also accepts).
  size_t end = std::string_view::npos, sep = 0;
  for (size_t i = 0; i + 1 < buf.size() && i < max_head + 4; ++i) {
    if (buf[i] != '\n') continue;
    if (buf[i + 1] == '\n') {
      end = i + 2;
      sep = 2;
      break;
    }
    if (buf[i + 1] == '\r' && i + 2 < buf.size() && buf[i + 2] == '\n') {
      end = i + 3;
      sep = 3;
      break;
    }
  }
  (void)sep;
  auto head = buf.substr(0, end == std::string_view::npos ? std::min(buf.size(), max_head + 1) : end);
  for (size_t i = 0; i < head.size(); ++i) {
    auto c = static_cast<unsigned char>(head[i]);
    // A CR must start a line end (it may be the last byte received so far).
    bool line_end = c == '\n' || (c == '\r' && (i + 1 == head.size() || head[i + 1] == '\n'));
    if ((c < 0x20 && c != '\t' && !line_end) || c == 0x7f) {
      out.state = head_check::bad_bytes;
      return out;
    }
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
  // The headers that decide how much body follows.
  size_t content_length = 0, lengths = 0;
  bool unknown_length = false;
  size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    size_t next = head.find('\n', pos + 1);
    auto line = head.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1);
    if (iequals_prefix(line, "content-length:")) {
      ++lengths;
      auto v = trim(line.substr(15));
      if (v.empty() || v.size() > 12 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
        unknown_length = true;  // httplib's own checks answer it
      else content_length = std::stoull(std::string(v));
    } else if (iequals_prefix(line, "transfer-encoding:")) {
      unknown_length = true;  // refused by the server (411) without reading a body
    } else if (iequals_prefix(line, "expect:") && iequals_prefix(trim(line.substr(7)), "100-continue")) {
      out.expect_continue = static_cast<size_t>(line.data() - buf.data());
    }
    pos = next;
  }
  if (lengths > 1) {
    out.state = head_check::bad_bytes;  // two lengths: a smuggling attempt
    return out;
  }
  // A body too large (or of unknown length) is not waited for: the server
  // refuses it from the head alone and closes the connection.
  size_t body = unknown_length || content_length > max_body ? 0 : content_length;
  if (buf.size() < end + body) return out;
  out.state = head_check::ready;
  out.request_bytes = end + body;
  return out;
}

} // namespace roster::http
