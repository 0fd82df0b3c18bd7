#include "http/edge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/crypto.h"
#include "http/worker_pool.h"

namespace roster::http {

namespace {

/// How long a worker that has answered a request waits for the connection's
/// next one before handing the connection back to the reader. Measured with
/// bench/run.sh (GET /v1/account, wrk -c64, one run each): 0 ms → 0.63 of the
/// floor, p99 5.5 ms; 2 ms → 0.77, p99 17.7 ms (waits that just miss pay the
/// hand-off as well); 10 ms → 1.03, p99 4.9 ms. A client can hold a worker
/// this long only by sending requests this often.
constexpr millis next_request_wait = 10;

/// The answer the reader sends by itself before closing a connection.
std::string canned(int status, const char* reason, const char* code, const std::string& message, bool retry = false) {
  std::string body = R"({"error":{"code":")" + std::string(code) + R"(","message":")" + message + "\"}}";
  // A head the edge refuses is not parsed: the id is always a new one
  // (SPEC §2: every response carries X-Request-Id).
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nX-Request-Id: " +
                    hex_encode(random_bytes(12)) + "\r\n";
  if (retry) out += "Retry-After: 1\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

std::string peer_address(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return {};
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&a)->sin_addr, text, sizeof text);
  else if (a.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&a)->sin6_addr, text, sizeof text);
  return text;
}

/// httplib's view of a connection on a worker: reads come from the one
/// request the reader framed (`frame` bytes of `buf`) and never from the
/// socket, so a worker never waits for a client; past the frame it reads an
/// end of stream. Writes wait for the socket until `deadline` (one budget for
/// the worker's whole turn on the connection, not per write).
/// Set while a worker runs a request from the edge; `taker` by take_connection.
thread_local bool on_edge_worker = false;
thread_local std::function<void(int)> taker;
/// The running request's Authorization value, lifted out by the edge.
thread_local std::optional<std::string_view> lifted;

class framed_stream final : public httplib::Stream {
 public:
  /// [hole, hole_end) of the frame is left out of what httplib reads (the
  /// lifted Authorization line).
  framed_stream(int fd, const std::string& buf, size_t frame, size_t hole, size_t hole_end, const std::string& ip,
                millis deadline)
      : fd_(fd), buf_(buf), frame_(std::min(frame, buf.size())), hole_(hole), hole_end_(std::min(hole_end, frame_)),
        ip_(ip), deadline_(deadline) {}

  bool is_readable() const override { return pos_ < frame_; }
  bool is_writable() const override { return wait_writable(); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == hole_ && hole_ < hole_end_) pos_ = hole_end_;
    auto n = std::min(size, (pos_ < hole_ && hole_ < hole_end_ ? hole_ : frame_) - pos_);
    if (n == 1) *ptr = buf_[pos_];  // httplib reads a head byte by byte
    else std::copy_n(buf_.data() + pos_, n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (taker) return static_cast<ssize_t>(size);  // the connection is taken: its new owner writes
    size_t done = 0;
    while (done < size) {
      auto n = ::send(fd_, ptr + done, size - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_writable()) continue;
      return -1;  // gone, or not reading: the connection ends
    }
    return static_cast<ssize_t>(done);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = ip_;
    port = 0;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip.clear();
    port = 0;
  }
  socket_t socket() const override { return fd_; }

  /// Whether the request was read exactly to the end of its frame.
  bool consumed_frame() const { return pos_ == frame_; }

 private:
  bool wait_writable() const {
    for (;;) {
      auto left = deadline_ - now_ms();
      if (left <= 0) return false;
      pollfd p{fd_, POLLOUT, 0};
      int n = ::poll(&p, 1, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      return n > 0 && (p.revents & POLLOUT);
    }
  }

  int fd_;
  const std::string& buf_;
  size_t frame_, hole_, hole_end_, pos_ = 0;
  const std::string& ip_;
  millis deadline_;
};

} // namespace

struct edge::impl : std::enable_shared_from_this<edge::impl> {
  struct conn {
    int fd = -1;
    std::string ip;
    std::string buf;
    millis since = 0;       // accepted, handed back, or first byte of the head
    bool waiting_head = false;  // some bytes of a head have arrived
    bool kept_alive = false;    // has served a request already
    size_t frame = 0;           // dispatched: the bytes of the request to run
    head_check framing;         // dispatched: check_head's reading of the frame
    bool close_after = false;   // dispatched: a body follows that is no request
    bool await_writable = false;  // answers are queued unread: wait until the client reads
  };

  edge_limits limits;
  serve_fn serve;
  worker_pool& pool;
  edge_stats stats;
  int epoll_fd = -1, wake_fd = -1;
  std::thread reader;
  std::atomic<bool> stopping{false};

  std::mutex mutex;  // guards incoming and per_address
  std::vector<conn> incoming;
  std::unordered_map<std::string, int64_t> per_address;

  std::unordered_map<int, conn> conns;  // the reader thread's only

  impl(edge_limits l, serve_fn s, worker_pool& p) : limits(l), serve(std::move(s)), pool(p) {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
  }

  ~impl() {
    ::close(epoll_fd);
    ::close(wake_fd);
  }

  void wake() {
    uint64_t one = 1;
    (void)::write(wake_fd, &one, sizeof one);
  }

  void hand_to_reader(conn c) {
    if (stopping) {  // the reader may have taken its last batch
      close_conn(c);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      incoming.push_back(std::move(c));
    }
    wake();
  }

  void close_conn(conn& c, const std::string& last_words = {}) {
    if (c.fd < 0) return;
    if (!last_words.empty()) {
      (void)::send(c.fd, last_words.data(), last_words.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      // Closing with unread bytes would reset the connection and could
      // destroy the answer before the client reads it: end our side, and
      // drop what has arrived.
      ::shutdown(c.fd, SHUT_WR);
      char sink[4096];
      for (int i = 0; i < 16 && ::recv(c.fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
      }
    }
    ::close(c.fd);
    c.fd = -1;
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = per_address.find(c.ip); it != per_address.end() && --it->second <= 0) per_address.erase(it);
    stats.open.fetch_sub(1, std::memory_order_relaxed);
  }

  /// The connection leaves the edge without being closed (take_connection).
  void release(conn& c) {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = per_address.find(c.ip); it != per_address.end() && --it->second <= 0) per_address.erase(it);
    stats.open.fetch_sub(1, std::memory_order_relaxed);
  }

  void adopt(int fd) {
    auto ip = peer_address(fd);
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto& mine = per_address[ip];
      if (stopping || stats.open.load() >= limits.max_connections || mine >= limits.max_per_address) {
        if (mine == 0) per_address.erase(ip);
        stats.refused_over_cap.fetch_add(1, std::memory_order_relaxed);
        auto no = canned(429, "Too Many Requests", "rate_limited", "too many open connections", true);
        (void)::send(fd, no.data(), no.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        ::close(fd);
        return;
      }
      ++mine;
      stats.open.fetch_add(1, std::memory_order_relaxed);
    }
    int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    conn c;
    c.fd = fd;
    c.ip = std::move(ip);
    c.since = now_ms();
    hand_to_reader(std::move(c));
  }

  /// On a worker: serves the requests buffered on `c`, then hands it back.
  /// One turn has one write budget (io_timeout) for all its answers, so a
  /// client that pipelines and reads slowly cannot hold a worker.
  void work(conn c) {
    auto deadline = now_ms() + limits.io_timeout;
    for (;;) {
      bool closed = false, ok = false, exact = false;
      {
        auto& f = c.framing;
        framed_stream s(c.fd, c.buf, c.frame, f.auth_line, f.auth_line_end, c.ip, deadline);
        if (f.auth_line_end) lifted = std::string_view(c.buf).substr(f.auth_value, f.auth_value_size);
        on_edge_worker = true;
        try {
          ok = serve(s, closed);
        } catch (const std::exception& e) {
          spdlog::error("http: a request failed outside its handler: {}", e.what());
        }
        on_edge_worker = false;
        lifted.reset();
        exact = s.consumed_frame();
      }
      if (taker) {  // an event stream: the socket has a new owner
        auto fn = std::move(taker);
        taker = nullptr;
        if (c.buf.size() > c.frame) {  // a request pipelined after it would never be answered
          close_conn(c);
          fn(-1);
          return;
        }
        int fd = c.fd;
        c.fd = -1;
        release(c);
        fn(fd);
        return;
      }
      // A request answered without reading all of its frame (refused before
      // its body), or followed by a body the edge did not frame: what follows
      // is not a request, so the connection ends here.
      if (!ok || closed || !exact || c.close_after || stopping) {
        close_conn(c);
        return;
      }
      c.buf.erase(0, c.frame);
      c.kept_alive = true;
      // A busy client sends its next request right after our answer: wait
      // next_request_wait for it here rather than pay two thread hand-offs
      // through the reader (the hot path of a keep-alive connection).
      if (c.buf.empty() && !read_soon(c)) {
        close_conn(c);
        return;
      }
      auto next = check_head(c.buf, limits.max_head, limits.max_body);
      if (next.state == head_check::ready) {  // pipelined: answer in order...
        pollfd p{c.fd, POLLOUT, 0};
        if (now_ms() < deadline && ::poll(&p, 1, 0) > 0 && (p.revents & POLLOUT)) {
          c.frame = next.request_bytes;
          c.framing = next;
          c.close_after = next.body_unread;
          continue;
        }
        // ...but not for a client that does not read its answers: the
        // reader waits (without a worker) until it does, io_timeout at most.
        c.await_writable = true;
      }
      c.since = now_ms();
      c.waiting_head = !c.buf.empty();
      hand_to_reader(std::move(c));
      return;
    }
  }

  /// Reads what arrives on `c` within next_request_wait (at most one
  /// request's worth). False when the peer has closed.
  bool read_soon(conn& c) {
    pollfd p{c.fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(next_request_wait)) <= 0) return true;
    char chunk[16384];
    auto n = ::recv(c.fd, chunk, std::min(sizeof chunk, limits.max_head + limits.max_body + 1), 0);
    if (n > 0) c.buf.append(chunk, static_cast<size_t>(n));
    return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
  }

  void dispatch(conn c) {
    auto self = shared_from_this();
    // The pool's jobs are std::function (copyable): share the connection.
    auto box = std::make_shared<conn>(std::move(c));
    pool.enqueue([self, box] { self->work(std::move(*box)); });
  }

  /// The bytes of `c` changed: dispatch, refuse, or keep waiting. Returns
  /// false when `c` left the reader.
  bool examine(conn& c) {
    auto chk = check_head(c.buf, limits.max_head, limits.max_body);
    switch (chk.state) {
      case head_check::incomplete:
        if (chk.head_complete && chk.expect_continue) {
          // The client waits for our go-ahead before it sends the body: give
          // it here, and rename the header (same length) so httplib does not
          // answer it a second time.
          static const char go[] = "HTTP/1.1 100 Continue\r\n\r\n";
          (void)::send(c.fd, go, sizeof go - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
          c.buf.replace(chk.expect_continue, 6, "X-Expc");
        }
        if (!c.waiting_head && !c.buf.empty()) {
          c.waiting_head = true;
          // A new connection's head is due head_timeout after the accept; a
          // kept-alive one's, after its first byte.
          if (c.kept_alive) c.since = now_ms();
        }
        return true;
      case head_check::ready:
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
        c.frame = chk.request_bytes;
        c.framing = chk;
        c.close_after = chk.body_unread;
        dispatch(std::move(c));
        return false;
      case head_check::too_large:
        stats.heads_too_large.fetch_add(1, std::memory_order_relaxed);
        close_conn(c, canned(431, "Request Header Fields Too Large", "invalid_request",
                             "header block over " + std::to_string(limits.max_head) + " bytes"));
        return false;
      case head_check::bad_bytes:
        stats.bad_heads.fetch_add(1, std::memory_order_relaxed);
        close_conn(c, canned(400, "Bad Request", "invalid_request",
                             "malformed request head (control character, or two Content-Length headers)"));
        return false;
    }
    return true;
  }

  void take_incoming() {
    uint64_t n;
    while (::read(wake_fd, &n, sizeof n) > 0) {
    }
    std::vector<conn> batch;
    {
      std::lock_guard<std::mutex> lock(mutex);
      batch.swap(incoming);
    }
    for (auto& c : batch) {
      if (stopping) {
        close_conn(c);
        continue;
      }
      epoll_event ev{};
      ev.events = c.await_writable ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
      ev.data.fd = c.fd;
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        close_conn(c);
        continue;
      }
      int fd = c.fd;
      auto& mine = conns[fd] = std::move(c);
      // Bytes that came with it (the start of a pipelined request) may
      // already decide its fate.
      if (!mine.await_writable && !mine.buf.empty() && !examine(mine)) conns.erase(fd);
    }
  }

  void on_readable(int fd) {
    auto it = conns.find(fd);
    if (it == conns.end()) return;
    auto& c = it->second;
    // Read at most one byte past what a whole request may be.
    size_t cap = limits.max_head + limits.max_body + 1;
    char chunk[16384];
    bool gone = false;
    for (;;) {
      if (c.buf.size() > cap) break;
      auto want = std::min(sizeof chunk, cap + 1 - c.buf.size());
      auto n = ::recv(fd, chunk, want, 0);
      if (n > 0) {
        c.buf.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      // The peer has stopped sending (a client may half-close after its
      // request): what it sent is still served, or refused with a reason.
      gone = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
      break;
    }
    if (!examine(c)) {
      conns.erase(it);
      return;
    }
    if (gone) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      close_conn(c);
      conns.erase(it);
    }
  }

  /// The client has read some answers: back to reading its requests (the
  /// next one is already buffered).
  void on_writable(std::unordered_map<int, conn>::iterator it) {
    auto& c = it->second;
    c.await_writable = false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = c.fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
    if (!examine(c)) conns.erase(it);
  }

  void sweep_timeouts() {
    auto now = now_ms();
    for (auto it = conns.begin(); it != conns.end();) {
      auto& c = it->second;
      bool expired = false;
      std::string words;
      if (c.await_writable) {
        expired = now - c.since > limits.io_timeout;  // not reading its answers
      } else if (c.waiting_head) {
        if (now - c.since > limits.head_timeout) {
          expired = true;
          stats.head_timeouts.fetch_add(1, std::memory_order_relaxed);
          words = canned(408, "Request Timeout", "invalid_request",
                         "the request did not arrive within " + std::to_string(limits.head_timeout / 1000) + " s");
        }
      } else if (now - c.since > (c.kept_alive ? limits.idle_timeout : limits.head_timeout)) {
        expired = true;  // idle: close without a word, as HTTP/1.1 allows
      }
      if (!expired) {
        ++it;
        continue;
      }
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
      close_conn(c, words);
      it = conns.erase(it);
    }
  }

  void run() {
    std::vector<epoll_event> events(512);
    auto last_sweep = now_ms();
    while (!stopping) {
      int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        int fd = events[static_cast<size_t>(i)].data.fd;
        if (fd == wake_fd) take_incoming();
        else if (auto it = conns.find(fd); it != conns.end() && it->second.await_writable) on_writable(it);
        else on_readable(fd);
      }
      if (auto now = now_ms(); now - last_sweep >= 100) {
        take_incoming();
        sweep_timeouts();
        last_sweep = now;
      }
    }
    take_incoming();
    for (auto& [fd, c] : conns) close_conn(c);
    conns.clear();
  }
};

bool can_take_connection() { return on_edge_worker; }

std::optional<std::string_view> lifted_authorization() { return lifted; }

bool take_connection(std::function<void(int fd)> fn) {
  if (!on_edge_worker) return false;
  taker = std::move(fn);
  return true;
}

edge::edge(edge_limits limits, serve_fn serve, worker_pool& pool)
    : impl_(std::make_shared<impl>(limits, std::move(serve), pool)) {
  impl_->reader = std::thread([i = impl_] { i->run(); });
}

edge::~edge() { stop(); }

void edge::adopt(int fd) { impl_->adopt(fd); }

void edge::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->wake();
  if (impl_->reader.joinable()) impl_->reader.join();
}

const edge_stats& edge::stats() const { return impl_->stats; }

} // namespace roster::http
