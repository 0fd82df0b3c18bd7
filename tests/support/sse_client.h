#pragma once
// Test support: a plain-socket client of GET /v1/events that reads the
// Server-Sent Events a node writes, one frame at a time, with a deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "base/clock.h"

namespace roster::testing {

struct sse_event {
  std::string id, event, data;
};

class sse_client {
 public:
  /// Connects and sends the request; `headers` e.g. {"Authorization", "Bearer ..."}.
  sse_client(int port, const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
    for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    req += "\r\n";
    (void)::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
  }
  ~sse_client() { close(); }
  sse_client(const sse_client&) = delete;
  sse_client& operator=(const sse_client&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  /// The status of the answer (0 if none within the deadline); the head's
  /// headers are in `headers`, a JSON error body (non-200) in `body`.
  int status(int timeout_ms = 5000) {
    if (status_) return status_;
    auto end = buf_.find("\r\n\r\n");
    while (end == std::string::npos && fill(timeout_ms)) end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) return 0;
    auto head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    status_ = std::stoi(head.substr(9, 3));
    size_t at = head.find("\r\n");
    while (at != std::string::npos && at + 2 < head.size()) {
      auto next = head.find("\r\n", at + 2);
      auto line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto k = line.substr(0, colon);
        for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        headers[k] = line.substr(colon + 2);
      }
      at = next;
    }
    if (status_ != 200) {
      auto len = headers.count("content-length") ? std::stoul(headers["content-length"]) : 0;
      while (buf_.size() < len && fill(timeout_ms)) {
      }
      body = buf_.substr(0, len);
    }
    return status_;
  }

  /// The next event (comments skipped), or nullopt when none arrives within
  /// `timeout_ms` or the server closed the stream (then `closed()`).
  std::optional<sse_event> next(int timeout_ms = 5000) {
    if (status(timeout_ms) != 200) return std::nullopt;
    auto deadline = now_ms() + timeout_ms;
    for (;;) {
      auto end = buf_.find("\n\n");
      while (end != std::string::npos) {
        auto frame = buf_.substr(0, end);
        buf_.erase(0, end + 2);
        sse_event e;
        bool any = false;
        size_t at = 0;
        while (at <= frame.size()) {
          auto nl = frame.find('\n', at);
          auto line = frame.substr(at, nl == std::string::npos ? std::string::npos : nl - at);
          if (line.rfind("id: ", 0) == 0) e.id = line.substr(4), any = true;
          else if (line.rfind("event: ", 0) == 0) e.event = line.substr(7), any = true;
          else if (line.rfind("data: ", 0) == 0) e.data = line.substr(6), any = true;
          if (nl == std::string::npos) break;
          at = nl + 1;
        }
        if (any && !e.event.empty()) return e;
        end = buf_.find("\n\n");
      }
      auto left = deadline - now_ms();
      if (left <= 0 || !fill(static_cast<int>(left))) return std::nullopt;
    }
  }

  /// True once the server has closed the connection.
  bool closed() const { return eof_; }
  /// Waits up to `timeout_ms` for the server to close the connection.
  bool wait_closed(int timeout_ms = 5000) {
    auto deadline = now_ms() + timeout_ms;
    while (!eof_ && now_ms() < deadline) fill(static_cast<int>(deadline - now_ms()));
    return eof_;
  }

  std::map<std::string, std::string> headers;
  std::string body;

 private:
  bool fill(int timeout_ms) {
    if (fd_ < 0 || eof_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char chunk[4096];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  int status_ = 0;
  bool eof_ = false;
  std::string buf_;
};

} // namespace roster::testing
