#pragma once
// The edge's framing rule (http/edge.h), pure: how much of a connection's
// bytes make one whole request, and whether they must be refused. No
// sockets, no httplib: unit-tested and fuzzed (fuzz/head_fuzzer.cc).
#include <cstddef>
#include <string_view>

namespace roster::http {

/// What the bytes received so far on a connection amount to (the pure rule):
/// lines must end in CRLF; a control character, a bare CR or LF, a folded
/// line, a space before a colon, a Content-Length that is not 1–12 digits, or
/// two of them → bad_bytes; a head over max_head → too_large.
struct head_check {
  enum state_t { incomplete, ready, too_large, bad_bytes } state = incomplete;
  size_t request_bytes = 0;     // ready: head + body
  size_t expect_continue = 0;   // ready/incomplete: offset of an "Expect" header name, 0 = none
  bool head_complete = false;
  bool body_unread = false;     // a body follows that is not part of request_bytes: close after
  // ready: the request's one Authorization line (0, 0 when it has none or
  // several): [auth_line, auth_line_end) is the line with its CRLF,
  // [auth_value, auth_value + auth_value_size) its value, trimmed. The edge
  // lifts it out of what httplib parses (http/edge.h).
  size_t auth_line = 0, auth_line_end = 0, auth_value = 0, auth_value_size = 0;
};
head_check check_head(std::string_view buf, size_t max_head, size_t max_body);

} // namespace roster::http
