// The HTTP edge's framing rule (http/head.h): the bytes a client sends before
// any parser sees them. check_head() must never read past the end; a ready
// request lies within what was received, its head holds no control
// character and no line end but CRLF, and more bytes after it never change
// where it ends (pipelining relies on that); a head within the limit is never
// called too large. A lifted Authorization line is a whole line of the head.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "http/head.h"

using namespace roster::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t max_head = 512, max_body = 2048;
  std::string buf(reinterpret_cast<const char*>(data), size);
  auto c = check_head(buf, max_head, max_body);
  if (c.state == head_check::ready) {
    FUZZ_CHECK(c.request_bytes <= buf.size());
    FUZZ_CHECK(c.head_complete);
    auto head_end = buf.find("\r\n\r\n") + 4;
    FUZZ_CHECK(head_end <= c.request_bytes && head_end <= max_head);
    for (size_t i = 0; i < head_end; ++i) {
      auto ch = static_cast<unsigned char>(buf[i]);
      FUZZ_CHECK(ch >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r');
      FUZZ_CHECK(ch != 0x7f);
      // Lines end in CRLF and only so.
      if (ch == '\r') FUZZ_CHECK(buf[i + 1] == '\n');
      if (ch == '\n') FUZZ_CHECK(i > 0 && buf[i - 1] == '\r');
    }
    if (!c.body_unread) FUZZ_CHECK(c.request_bytes - head_end <= max_body);
    // The lifted Authorization line is one whole header line of the head,
    // its value inside it.
    if (c.auth_line_end) {
      FUZZ_CHECK(c.auth_line > 0 && buf.compare(c.auth_line - 2, 2, "\r\n") == 0);
      FUZZ_CHECK(c.auth_line_end <= head_end - 2 && buf.compare(c.auth_line_end - 2, 2, "\r\n") == 0);
      FUZZ_CHECK(c.auth_line < c.auth_value && c.auth_value + c.auth_value_size <= c.auth_line_end - 2);
    }
    auto more = check_head(buf + "GET / HTTP/1.1\r\n", max_head, max_body);
    FUZZ_CHECK(more.state == head_check::ready && more.request_bytes == c.request_bytes);
  }
  if (c.state == head_check::too_large) FUZZ_CHECK(buf.size() > max_head);
  if (c.expect_continue) FUZZ_CHECK(c.expect_continue + 7 <= buf.size());
  return 0;
}
