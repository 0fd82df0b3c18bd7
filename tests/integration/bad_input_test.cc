// Hostile and malformed input: each gets the documented JSON error, and the
// node keeps serving its users afterwards.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <random>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string error_code(const response& r) {
  return r.body.is_object() && r.body.contains("error") ? r.body["error"]["code"].get<std::string>() : "";
}

/// Sends raw bytes on a fresh connection and returns what came back.
std::string send_raw(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos && out.find("}}") != std::string::npos) break;
  }
  ::close(fd);
  return out;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(s.register_user("sam@example.com", "sam").status, 201); }
  void TearDown() override {
    // After every abuse: still alive, and the existing user still logs in.
    EXPECT_EQ(s.call("GET", "/healthz").status, 200);
    EXPECT_EQ(s.login("sam").status, 201);
  }
  roster_server s;
};

TEST_F(BadInput, MalformedJson) {
  auto r = s.raw("POST", "/v1/accounts", "{\"email\": ", "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "invalid_json");
  EXPECT_EQ(error_code(s.raw("POST", "/v1/sessions/password", "[1,2]", "application/json")), "invalid_request");
  EXPECT_EQ(error_code(s.raw("POST", "/v1/sessions/password", "\"str\"", "application/json")), "invalid_request");
}

TEST_F(BadInput, WrongTypes) {
  auto r = s.call("POST", "/v1/sessions/password", {{"login", 12}, {"password", {{"a", 1}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["fields"]["login"], "must be a string");
  EXPECT_EQ(r.body["error"]["fields"]["password"], "must be a string");
  auto m = s.call("POST", "/v1/accounts", {{"email", "m@example.com"}, {"password", "correct-horse-9"}, {"metadata", "x"}});
  EXPECT_EQ(m.status, 400);
  EXPECT_TRUE(m.body["error"]["fields"].contains("metadata"));
}

TEST_F(BadInput, DeeplyNestedJson) {
  std::string deep(50'000, '[');
  auto r = s.raw("POST", "/v1/accounts", deep, "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "invalid_json");
  std::string obj;
  for (int i = 0; i < 5000; ++i) obj += "{\"a\":";
  EXPECT_EQ(s.raw("POST", "/v1/accounts", obj, "application/json").status, 400);
}

TEST_F(BadInput, OversizedBodyIsRefusedBeforeItIsRead) {
  std::string big(200'000, 'x');
  auto r = s.raw("POST", "/v1/accounts", big, "application/json");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(error_code(r), "payload_too_large");
  // A lying Content-Length with no body behind it is refused at once too.
  auto raw = send_raw(s.port(), "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                "Content-Length: 999999999\r\n\r\n");
  EXPECT_NE(raw.find("413"), std::string::npos) << raw;
  auto chunked = send_raw(s.port(), "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_NE(chunked.find("411"), std::string::npos) << chunked;
  EXPECT_NE(chunked.find("length_required"), std::string::npos) << chunked;
}

TEST_F(BadInput, InvalidUtf8AndNulBytes) {
  auto r = s.raw("POST", "/v1/accounts", "{\"email\":\"\xff\xfe@x.com\",\"password\":\"correct-horse-9\"}",
                 "application/json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_code(r), "invalid_request");
  auto overlong = s.raw("POST", "/v1/accounts", "{\"username\":\"\xc0\xaf\"}", "application/json");
  EXPECT_EQ(overlong.status, 400);
  auto nul = s.raw("POST", "/v1/accounts",
                   "{\"email\":\"a\\u0000b@x.com\",\"username\":\"nul\\u0000\",\"display_name\":\"a\\u0000\","
                   "\"password\":\"correct-horse-9\"}",
                   "application/json");
  EXPECT_EQ(nul.status, 400);
  EXPECT_EQ(nul.body["error"]["fields"].size(), 3u) << nul.raw;
  auto raw_nul = s.raw("POST", "/v1/accounts", std::string("{\"email\":\"a\0b\"}", 15), "application/json");
  EXPECT_EQ(raw_nul.status, 400);
}

TEST_F(BadInput, HugeHeadersAndUnknownRoutes) {
  auto r = s.call("GET", "/v1/account", nullptr, {{"X-Huge", std::string(20'000, 'h')}});
  EXPECT_EQ(r.status, 431);  // SPEC §2: header block 8 KiB
  EXPECT_EQ(error_code(r), "invalid_request");
  auto nf = s.call("GET", "/v1/no/such/thing");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(error_code(nf), "not_found");
  auto ma = s.call("PUT", "/v1/accounts", nlohmann::json::object());
  EXPECT_EQ(ma.status, 405);
  EXPECT_EQ(error_code(ma), "method_not_allowed");
  EXPECT_NE(ma.header("Allow").find("POST"), std::string::npos);
  auto garbage = send_raw(s.port(), "\x01\x02\x03 garbage\r\n\r\n");
  EXPECT_TRUE(garbage.empty() || garbage.find("400") != std::string::npos) << garbage;
}

TEST_F(BadInput, WrongContentTypeAndRequestIdEcho) {
  auto r = s.raw("POST", "/v1/sessions/password", "login=sam&password=x", "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(error_code(r), "unsupported_media_type");
  auto echo = s.call("GET", "/healthz", nullptr, {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(echo.header("X-Request-Id"), "abc-123");
  auto err = s.call("GET", "/nope", nullptr, {{"X-Request-Id", "err-9"}});
  EXPECT_EQ(err.header("X-Request-Id"), "err-9");
}

TEST_F(BadInput, RandomBodiesNeverCrashTheNode) {
  std::mt19937 rng(42);
  const char* paths[] = {"/v1/accounts", "/v1/sessions/password", "/v1/sessions/device", "/v1/sessions/anonymous"};
  const std::string alphabet = "{}[]\":,0123456789abcdefnulltrue\\u\xff\x00 ";
  for (int i = 0; i < 200; ++i) {
    std::string body;
    size_t len = rng() % 300;
    for (size_t k = 0; k < len; ++k) body.push_back(alphabet[rng() % alphabet.size()]);
    auto r = s.raw("POST", paths[i % 4], body, "application/json");
    ASSERT_TRUE(r.status == 400 || r.status == 201 || r.status == 401 || r.status == 409 || r.status == 429)
      << r.status << " " << r.raw;
    if (r.status >= 400) EXPECT_FALSE(error_code(r).empty()) << r.raw;
  }
}

} // namespace
