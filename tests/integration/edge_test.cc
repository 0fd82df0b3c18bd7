// The HTTP edge under slow, huge and odd clients (http/edge.h): the real
// node on loopback, many client addresses (127.0.x.y), raw sockets.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

/// A connected socket from source address `from` (any 127.x.y.z), or -1.
int connect_from(int port, const std::string& from = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{}, server{};
  local.sin_family = server.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  server.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/// Everything the server sends until it closes (or 5 s of silence).
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

/// Sends `bytes` (stopping quietly if the server closes) and returns its answer.
std::string exchange(int port, const std::string& bytes) {
  int fd = connect_from(port);
  if (fd < 0) return {};
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  auto out = read_all(fd);
  ::close(fd);
  return out;
}

int status_of(const std::string& response) {
  return response.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(response.c_str() + 9) : 0;
}

/// Streams `total` bytes of one endless header line (or, with `lines`, of
/// 100-byte header lines) until the server closes; returns the answer.
std::string flood_head(int port, size_t total, bool lines) {
  int fd = connect_from(port);
  if (fd < 0) return {};
  std::string start = "GET /v1/account HTTP/1.1\r\nHost: x\r\nX-Flood: ";
  ::send(fd, start.data(), start.size(), MSG_NOSIGNAL);
  std::string chunk(1 << 16, 'a');
  if (lines)
    for (size_t i = 98; i < chunk.size(); i += 100) chunk[i] = '\r', chunk[i + 1] = '\n';
  size_t sent = 0;
  while (sent < total) {
    auto n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // the server has closed the connection
    sent += static_cast<size_t>(n);
  }
  auto out = read_all(fd);
  ::close(fd);
  return out;
}

class Edge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Thousands of sockets: lift the soft descriptor limit (the node, started
    // from here, inherits it; it also lifts its own).
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
};

TEST_F(Edge, SlowClientsFromManyAddressesDoNotDelayOthers) {
  roster_server s(env{{"ROSTER_HTTP_HEAD_TIMEOUT", "10s"}});
  auto token = s.call("POST", "/v1/sessions/anonymous").body["session"]["token"].get<std::string>();
  rlimit r{};
  ::getrlimit(RLIMIT_NOFILE, &r);
  // 2,500 slow connections from 250 addresses (10 each), fewer if this
  // machine allows fewer descriptors.
  size_t slow = std::min<size_t>(2500, r.rlim_cur > 600 ? (r.rlim_cur - 300) / 2 : 100);
  std::vector<int> fds;
  for (size_t i = 0; i < slow; ++i) {
    auto from = "127.0.1." + std::to_string(2 + i % 250);
    int fd = connect_from(s.port(), from);
    ASSERT_GE(fd, 0) << "connection " << i;
    ::send(fd, "GET /v1/account HTTP/1.1\r\n", 26, MSG_NOSIGNAL);
    fds.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::thread drip([&] {
    // One header line every 3 s on every slow connection.
    while (!done) {
      for (int fd : fds) ::send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL | MSG_DONTWAIT);
      for (int i = 0; i < 30 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Meanwhile a normal client reads its account for 12 s.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(12);
  int reads = 0;
  double worst = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto t0 = std::chrono::steady_clock::now();
    auto me = s.as(token, "GET", "/v1/account");
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    worst = std::max(worst, secs);
    ASSERT_EQ(me.status, 200) << "read " << reads << " under " << slow << " slow connections: " << me.raw;
    ++reads;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  done = true;
  drip.join();
  EXPECT_LT(worst, 5.0) << "slowest read " << worst << " s";
  EXPECT_GT(reads, 100);
  // The slow ones were cut at the head deadline with a 408.
  auto answer = read_all(fds.front());
  EXPECT_EQ(status_of(answer), 408) << answer;
  for (int fd : fds) ::close(fd);
  RecordProperty("slow_connections", static_cast<int>(slow));
  RecordProperty("worst_read_ms", static_cast<int>(worst * 1000));
}

TEST_F(Edge, HugeHeadLinesAndBlocksAreRefusedWithoutBuffering) {
  roster_server s;
  s.call("GET", "/healthz");
  auto before = s.rss_kib();
  auto line = flood_head(s.port(), size_t{1} << 30, false);  // a 1 GiB header line
  EXPECT_EQ(status_of(line), 431) << line.substr(0, 200);
  EXPECT_NE(line.find("\"invalid_request\""), std::string::npos);
  auto block = flood_head(s.port(), size_t{64} << 20, true);  // a 64 MiB header block
  EXPECT_EQ(status_of(block), 431) << block.substr(0, 200);
  // 200 headers of 1 KiB: over the 8 KiB head limit of SPEC §2.
  httplib::Headers many;
  for (int i = 0; i < 200; ++i) many.emplace("X-H" + std::to_string(i), std::string(1000, 'v'));
  EXPECT_EQ(s.call("GET", "/healthz", nullptr, many).status, 431);
  auto grown = s.rss_kib() - before;
  EXPECT_LT(grown, 16 * 1024) << "RSS grew by " << grown << " KiB";
  EXPECT_EQ(s.call("GET", "/healthz").status, 200);
}

TEST_F(Edge, ControlCharactersInTheHeadAreRefused) {
  roster_server s;
  auto token = s.call("POST", "/v1/sessions/anonymous").body["session"]["token"].get<std::string>();
  std::string nul = "GET /v1/account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token;
  nul += std::string(1, '\0') + "junk\r\n\r\n";
  EXPECT_EQ(status_of(exchange(s.port(), nul)), 400);
  EXPECT_EQ(status_of(exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n")), 400);
  EXPECT_EQ(status_of(exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: \x1b[31m\r\n\r\n")), 400);
  // Two lengths: a request-smuggling attempt.
  EXPECT_EQ(status_of(exchange(s.port(), "POST /v1/sessions/anonymous HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                         "application/json\r\nContent-Length: 2\r\nContent-Length: 0\r\n\r\n{}")),
            400);
  // The same token with clean bytes works.
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200);
}

TEST_F(Edge, ABodyThatWasRefusedIsNeverRunAsARequest) {
  roster_server s;
  std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  auto len = std::to_string(get.size());
  // Refused before its body is read (415, 413, 411), or framed in a way two
  // parsers could read differently: one answer, then the connection closes.
  for (std::string attack : {"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 len + "\r\n\r\n" + get,
                             "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             "Content-Length: 70000\r\n\r\n" + get,
                             "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                 std::to_string(get.size()) + "\r\n" + get + "\r\n0\r\n\r\n" + get,
                             "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: " + len + "\n\r\n" + get,
                             "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: +" + len + "\r\n\r\n" + get,
                             "GET /healthz HTTP/1.1\r\nHost: x\r\n\n" + get}) {
    auto out = exchange(s.port(), attack);
    EXPECT_GE(status_of(out), 400) << attack;
    EXPECT_EQ(out.find("{\"status\":\"ok\"}"), std::string::npos) << "smuggled request answered:\n" << out;
  }
}

TEST_F(Edge, PipelinedRequestsAreAnsweredInOrder) {
  roster_server s;
  auto token = s.call("POST", "/v1/sessions/anonymous").body["session"]["token"].get<std::string>();
  std::string one = "GET /v1/account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\nX-Request-Id: r1\r\n\r\n";
  std::string two = "POST /v1/sessions/anonymous HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\nX-Request-Id: r2\r\n\r\n{}";
  std::string three = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: r3\r\nConnection: close\r\n\r\n";
  auto out = exchange(s.port(), one + two + three);
  auto r1 = out.find("X-Request-Id: r1"), r2 = out.find("X-Request-Id: r2"), r3 = out.find("X-Request-Id: r3");
  ASSERT_NE(r1, std::string::npos) << out;
  ASSERT_NE(r2, std::string::npos) << out;
  ASSERT_NE(r3, std::string::npos) << out;
  EXPECT_LT(r1, r2);
  EXPECT_LT(r2, r3);
  EXPECT_EQ(status_of(out), 200);
  EXPECT_NE(out.find("HTTP/1.1 201"), std::string::npos);
}

TEST_F(Edge, EachPipelinedRequestIsAuthorizedByItsOwnHeader) {
  // The edge lifts a request's one Authorization line out of what httplib
  // parses: the lifted value must be that request's, however it is spelled,
  // and a request with two lines (httplib reads the first) or none is as before.
  roster_server s;
  auto a = s.call("POST", "/v1/sessions/anonymous").body, b = s.call("POST", "/v1/sessions/anonymous").body;
  auto ta = a["session"]["token"].get<std::string>(), tb = b["session"]["token"].get<std::string>();
  auto jwt = s.as(tb, "POST", "/v1/sessions/jwt").body["token"].get<std::string>();
  std::string one = "GET /v1/account HTTP/1.1\r\nHost: x\r\nAUTHORIZATION:\t Bearer " + ta + " \r\nX-Request-Id: r1\r\n\r\n";
  std::string two = "GET /v1/account HTTP/1.1\r\nauthorization: Bearer " + jwt + "\r\nX-Request-Id: r2\r\n\r\n";
  std::string three = "GET /v1/account HTTP/1.1\r\nX-Request-Id: r3\r\n\r\n";
  std::string four = "GET /v1/account HTTP/1.1\r\nAuthorization: Bearer " + ta + "\r\nAuthorization: Bearer " + tb +
                     "\r\nX-Request-Id: r4\r\nConnection: close\r\n\r\n";
  auto out = exchange(s.port(), one + two + three + four);
  auto answer = [&](const std::string& id) {
    auto at = out.find("X-Request-Id: " + id);
    auto start = out.rfind("HTTP/1.1 ", at);
    auto next = out.find("HTTP/1.1 ", at);
    return out.substr(start, next == std::string::npos ? std::string::npos : next - start);
  };
  auto r1 = answer("r1"), r2 = answer("r2"), r3 = answer("r3"), r4 = answer("r4");
  EXPECT_EQ(status_of(r1), 200) << out;
  EXPECT_NE(r1.find(a["user"]["id"].get<std::string>()), std::string::npos) << r1;
  EXPECT_EQ(status_of(r2), 200) << out;
  EXPECT_NE(r2.find(b["user"]["id"].get<std::string>()), std::string::npos) << r2;
  EXPECT_EQ(status_of(r3), 401) << out;
  EXPECT_EQ(status_of(r4), 200) << out;
  EXPECT_NE(r4.find(a["user"]["id"].get<std::string>()), std::string::npos) << r4;
}

TEST_F(Edge, ConnectionsPerAddressAreCapped) {
  roster_server s(env{{"ROSTER_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "5"}});
  std::vector<int> held;
  for (int i = 0; i < 5; ++i) held.push_back(connect_from(s.port(), "127.0.3.7"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int sixth = connect_from(s.port(), "127.0.3.7");
  ASSERT_GE(sixth, 0);
  auto answer = read_all(sixth);
  EXPECT_EQ(status_of(answer), 429) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos);
  ::close(sixth);
  // Other addresses are not affected; freeing a slot lets the address in again.
  EXPECT_EQ(s.call("GET", "/healthz").status, 200);
  auto metrics = s.call("GET", "/metrics").raw;
  EXPECT_NE(metrics.find("roster_http_edge{figure=\"refused_over_cap\"} 1"), std::string::npos) << metrics;
  ::close(held.back());
  held.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int again = connect_from(s.port(), "127.0.3.7");
  std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ::send(again, get.data(), get.size(), MSG_NOSIGNAL);
  EXPECT_EQ(status_of(read_all(again)), 200);
  ::close(again);
  for (int fd : held) ::close(fd);
}

TEST_F(Edge, BodiesMustBeJson) {
  roster_server s;
  EXPECT_EQ(s.raw("POST", "/v1/sessions/anonymous", "{}", "text/plain").status, 415);
  auto none = exchange(s.port(), "POST /v1/sessions/anonymous HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                 "Connection: close\r\n\r\n{}");
  EXPECT_EQ(status_of(none), 415) << none;
  EXPECT_NE(none.find("unsupported_media_type"), std::string::npos);
  EXPECT_EQ(s.raw("POST", "/v1/sessions/anonymous", "{}", "Application/JSON; charset=utf-8").status, 201);
  EXPECT_EQ(s.raw("POST", "/v1/sessions/anonymous", "", "text/plain").status, 201);  // no body, nothing to type
}

TEST_F(Edge, ExpectContinueGetsOneGoAhead) {
  roster_server s;
  int fd = connect_from(s.port());
  std::string head = "POST /v1/sessions/anonymous HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
  ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  char buf[256];
  auto n = ::recv(fd, buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
  ::send(fd, "{}", 2, MSG_NOSIGNAL);
  auto rest = read_all(fd);
  ::close(fd);
  EXPECT_EQ(status_of(rest), 201) << rest;
  EXPECT_EQ(rest.find("100 Continue"), std::string::npos);
}

} // namespace
