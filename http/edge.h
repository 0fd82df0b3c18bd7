#pragma once
// The HTTP edge: every connection's bytes are read by one epoll thread until
// a whole request (head and body) is in memory, and only then does a worker
// thread take the connection, run the request through cpp-httplib's parser
// and our handlers, and hand the connection back for the next request. So a
// slow or idle client holds a few KiB of buffer and no thread, and the
// limits below are enforced before anything is buffered beyond them:
//
//  - the head (request line and headers) must arrive within `head_timeout`
//    (408, closed) and fit in `max_head` bytes (431, closed, having read at
//    most max_head + one read);
//  - a head with a control character (NUL, CR alone, ...) other than the line
//    ends and tabs is refused (400), as are two Content-Length headers;
//  - at most `max_connections` open connections, `max_per_address` from one
//    client address (429 with Retry-After, closed);
//  - idle keep-alive connections are closed after `idle_timeout`;
//  - pipelined requests are answered in order: bytes after one request are
//    the start of the next.
//
// Thread-safety: adopt() and stop() may be called from any thread.
#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "http/head.h"

namespace roster::http {

class worker_pool;

/// For a handler that keeps its connection (an event stream): called on the
/// worker thread while the request runs, it makes the edge write nothing of
/// httplib's answer and, once the handler returns, hand the socket to `fn`,
/// which owns it from then on (the edge's connection caps stop counting it);
/// with -1 when the client pipelined more requests after this one (the
/// connection is closed: they would never be answered).
/// False when the request is not running on the edge (the HTTPS front end
/// keeps httplib's own connection loop): then nothing is taken.
bool take_connection(std::function<void(int fd)> fn);
/// Whether take_connection would take the connection of the request running
/// on this thread.
bool can_take_connection();

/// The Authorization header of the request running on this thread, when the
/// edge lifted it out of the head: a request's one Authorization line is not
/// given to httplib's parser (which reads a head byte by byte and URL-decodes
/// every value: a long token, a JWT, costs several times a session token's
/// parse), and its value, trimmed and not decoded, is here instead. Valid
/// while the request runs. nullopt when the request has no such line, several
/// (httplib then sees all of them), or does not run on the edge (HTTPS).
std::optional<std::string_view> lifted_authorization();

struct edge_limits {
  millis head_timeout = 10'000;
  millis idle_timeout = 5'000;
  millis io_timeout = 5'000;  // a worker's read or write of one connection
  size_t max_head = 8192;
  size_t max_body = 65536;
  int64_t max_connections = 20'000;
  int64_t max_per_address = 256;
};

/// Figures for /metrics and tests.
struct edge_stats {
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> refused_over_cap{0};
  std::atomic<int64_t> head_timeouts{0};
  std::atomic<int64_t> heads_too_large{0};
  std::atomic<int64_t> bad_heads{0};
};

class edge {
 public:
  /// Runs one request read from `s`; sets `closed` when the connection must
  /// end after it. Returns false when the connection is broken.
  using serve_fn = std::function<bool(httplib::Stream& s, bool& closed)>;

  edge(edge_limits limits, serve_fn serve, worker_pool& pool);
  ~edge();

  /// Takes a newly accepted connection (closing it when over a cap).
  void adopt(int fd);
  /// Closes every connection the reader holds and stops it.
  void stop();

  const edge_stats& stats() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace roster::http
