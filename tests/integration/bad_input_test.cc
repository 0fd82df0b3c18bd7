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

// Path and query parameters that are not what they should be: 404 for an id
// that cannot name anything, 400 invalid_request with `fields` for a bad
// query value, never 500.
TEST_F(BadInput, SessionIdsInPaths) {
  auto token = s.login("sam").body["session"]["token"].get<std::string>();
  for (const char* id : {"%ff", "%00", "%ff%fe%00", "not-a-uuid", "current%0a", "..",
                         "00000000-0000-4000-8000-00000000000g", "00000000-0000-4000-8000-000000000000"}) {
    for (const char* method : {"GET", "DELETE"}) {
      auto r = s.as(token, method, std::string("/v1/sessions/") + id);
      EXPECT_EQ(r.status, 404) << method << " " << id << " " << r.raw;
      EXPECT_EQ(error_code(r), "not_found") << method << " " << id;
    }
  }
  EXPECT_EQ(s.as(token, "GET", "/v1/sessions/current").status, 200);
  EXPECT_EQ(s.as(token, "GET", "/v1/sessions/Current").status, 404);
  // Without a session: 401 first, whatever the id.
  EXPECT_EQ(s.call("GET", "/v1/sessions/%ff").status, 401);
  EXPECT_EQ(s.as(token, "GET", "/v1/sessions").status, 200) << "the session still works";
}

TEST_F(BadInput, Cursors) {
  auto token = s.login("sam").body["session"]["token"].get<std::string>();
  for (const char* path : {"/v1/sessions", "/v1/account/logs"}) {
    for (const char* cursor : {"%00%ff", "%ff", "a%0ab", "has%20space", "%2B%2F%3D", "x%00"}) {
      auto r = s.as(token, "GET", std::string(path) + "?cursor=" + cursor);
      EXPECT_EQ(r.status, 400) << path << " cursor=" << cursor << " " << r.raw;
      EXPECT_EQ(error_code(r), "invalid_request");
      EXPECT_TRUE(r.body["error"]["fields"].contains("cursor")) << path << " cursor=" << cursor << " " << r.raw;
    }
    // Well-formed, but not one we handed out (no such session; not a log position).
    auto r = s.as(token, "GET", std::string(path) + "?cursor=AAAA");
    EXPECT_EQ(r.status, 400) << path << " " << r.raw;
    EXPECT_TRUE(r.body["error"]["fields"].contains("cursor")) << path << " " << r.raw;
    auto too_long = s.as(token, "GET", std::string(path) + "?cursor=" + std::string(200, 'A'));
    EXPECT_EQ(too_long.status, 400) << path;
    EXPECT_EQ(s.as(token, "GET", std::string(path) + "?cursor=").status, 200) << "an empty cursor is the first page";
  }
}

// Routes that take no body check one sent anyway rather than ignore it: a
// client's mistake is told, and nothing is done.
TEST_F(BadInput, ABodySentToARouteThatTakesNoneMustBeEmpty) {
  auto token = s.login("sam").body["session"]["token"].get<std::string>();
  auto other = s.call("POST", "/v1/sessions/anonymous").body["user"]["id"].get<std::string>();
  httplib::Headers auth{{"Authorization", "Bearer " + token}};
  for (const char* method : {"POST", "DELETE"}) {
    for (std::string path : {"/v1/friends/" + other, "/v1/blocks/" + other}) {
      auto garbage = s.raw(method, path, "{{{not json", "application/json", auth);
      EXPECT_EQ(garbage.status, 400) << method << " " << path << " " << garbage.raw;
      EXPECT_EQ(error_code(garbage), "invalid_json") << garbage.raw;
      auto bad_utf8 = s.raw(method, path, "\xff\xfe", "application/json", auth);
      EXPECT_EQ(bad_utf8.status, 400) << bad_utf8.raw;
      auto fields = s.raw(method, path, R"({"evil":1})", "application/json", auth);
      EXPECT_EQ(fields.status, 400) << fields.raw;
      EXPECT_EQ(fields.body["error"]["fields"]["evil"], "unknown field") << fields.raw;
      EXPECT_EQ(s.raw(method, path, "a=b", "text/plain", auth).status, 415);
    }
  }
  // Nothing of it happened.
  auto friends = s.as(token, "GET", "/v1/friends");
  EXPECT_EQ(friends.body["items"].size(), 0u) << friends.raw;
  EXPECT_EQ(s.as(token, "GET", "/v1/blocks").body["items"].size(), 0u);
  // An empty object is no body at all.
  EXPECT_EQ(s.raw("POST", "/v1/friends/" + other, "{}", "application/json", auth).status, 200);
  EXPECT_EQ(s.raw("POST", "/v1/sessions/jwt", R"({"ttl":60})", "application/json", auth).status, 400);
}

// A decoded newline in a path reaches the route table: an invalid metadata
// key is its 400, not a 404 from the HTTP library.
TEST_F(BadInput, ANewlineInAPathIsTheParametersError) {
  auto token = s.login("sam").body["session"]["token"].get<std::string>();
  auto r = s.raw("PUT", "/v1/account/metadata/a%0a", R"({"value":1})", "application/json",
                 {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_TRUE(r.body["error"]["fields"].contains("key")) << r.raw;
  EXPECT_EQ(s.call("GET", "/v1/users/abc%0a").status, 404);
}

// Answers the edge makes from a head it refuses carry a request id too.
TEST_F(BadInput, EdgeRefusalsCarryARequestId) {
  for (std::string length : {"-1", "99999999999999999999999"}) {
    auto raw = send_raw(s.port(), "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  "Content-Length: " + length + "\r\n\r\n");
    EXPECT_NE(raw.find(" 400 "), std::string::npos) << raw;
    EXPECT_NE(raw.find("X-Request-Id: "), std::string::npos) << raw;
  }
  auto big = send_raw(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'h') + "\r\n\r\n");
  EXPECT_NE(big.find(" 431 "), std::string::npos) << big.substr(0, 200);
  EXPECT_NE(big.find("X-Request-Id: "), std::string::npos) << big.substr(0, 200);
}

TEST_F(BadInput, PaginationValues) {
  auto token = s.login("sam").body["session"]["token"].get<std::string>();
  for (const char* v : {"0", "201", "-1", "abc", "%ff", "%00", "+5", "%205", "5%20", "5%0a", "1e2", "99999999999", ""}) {
    for (const char* path : {"/v1/sessions", "/v1/account/logs"}) {
      auto r = s.as(token, "GET", std::string(path) + "?limit=" + v);
      EXPECT_EQ(r.status, 400) << path << " limit=" << v << " " << r.raw;
      EXPECT_TRUE(r.body["error"]["fields"].contains("limit")) << path << " limit=" << v << " " << r.raw;
    }
  }
  for (const char* q : {"page=0", "page=%ff", "page=x", "page_size=0", "page_size=201", "page_size=%00"}) {
    auto r = s.admin("GET", std::string("/v1/admin/users?") + q);
    EXPECT_EQ(r.status, 400) << q << " " << r.raw;
    std::string field(q, std::string_view(q).find('='));
    EXPECT_TRUE(r.body["error"]["fields"].contains(field)) << q << " " << r.raw;
  }
  for (const char* q : {"q=%ff%fe", "q=a%00b", "q=a%0ab"}) {
    auto r = s.admin("GET", std::string("/v1/admin/users?") + q);
    EXPECT_EQ(r.status, 400) << q << " " << r.raw;
    EXPECT_TRUE(r.body["error"]["fields"].contains("q")) << q << " " << r.raw;
  }
  auto long_q = s.admin("GET", "/v1/admin/users?q=" + std::string(300, 'a'));
  EXPECT_TRUE(long_q.body["error"]["fields"].contains("q")) << long_q.raw;
  for (const char* d : {"0", "x", "%ff", "3651"}) {
    auto r = s.admin("GET", std::string("/v1/admin/stats?days=") + d);
    EXPECT_EQ(r.status, 400) << d << " " << r.raw;
    EXPECT_TRUE(r.body["error"]["fields"].contains("days")) << d;
  }
  EXPECT_EQ(s.as(token, "GET", "/v1/sessions?limit=7").status, 200);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users?page=2&page_size=7").status, 200);
}

TEST_F(BadInput, UserIdsInPaths) {
  auto id = s.login("sam").body["user"]["id"].get<std::string>();
  for (const char* bad : {"%ff", "%00", "not-a-uuid", "%0a", "00000000-0000-4000-8000-00000000000%ff"}) {
    std::string b(bad);
    auto pub = s.call("GET", "/v1/users/" + b);
    EXPECT_EQ(pub.status, 404) << b << " " << pub.raw;
    EXPECT_EQ(error_code(pub), "not_found");
    for (auto [method, path] : std::initializer_list<std::pair<const char*, std::string>>{
           {"GET", "/v1/admin/users/" + b},
           {"PATCH", "/v1/admin/users/" + b},
           {"DELETE", "/v1/admin/users/" + b},
           {"POST", "/v1/admin/users/" + b + "/block"},
           {"POST", "/v1/admin/users/" + b + "/activate"},
           {"DELETE", "/v1/admin/users/" + b + "/sessions"},
           {"GET", "/debug/users/" + b}}) {
      auto r = s.admin(method, path, method == std::string("PATCH") ? json{{"display_name", "X"}} : json(nullptr));
      EXPECT_EQ(r.status, 404) << method << " " << path << " " << r.raw;
      EXPECT_EQ(error_code(r), "not_found") << method << " " << path;
    }
  }
  // The lists omit ids that name nobody; a missing or doubled selector names the field.
  auto some = s.call("GET", "/v1/users?ids=%ff," + id + ",%00,zz");
  ASSERT_EQ(some.status, 200) << some.raw;
  EXPECT_EQ(some.body["items"].size(), 1u);
  auto names = s.call("GET", "/v1/users?usernames=%ff%fe,sam");
  ASSERT_EQ(names.status, 200) << names.raw;
  EXPECT_EQ(names.body["items"].size(), 1u);
  auto neither = s.call("GET", "/v1/users");
  EXPECT_EQ(neither.status, 400);
  EXPECT_TRUE(neither.body["error"]["fields"].contains("ids")) << neither.raw;
  auto both = s.call("GET", "/v1/users?ids=" + id + "&usernames=sam");
  EXPECT_EQ(both.status, 400);
  EXPECT_FALSE(both.body["error"]["fields"].empty()) << both.raw;
  auto name = s.call("GET", "/v1/usernames/%ff%00");
  EXPECT_EQ(name.status, 400) << name.raw;
  EXPECT_TRUE(name.body["error"]["fields"].contains("name")) << name.raw;
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + id).status, 200) << "the real user is untouched";
}

TEST_F(BadInput, UserAgentsThatAreNotText) {
  // Control characters in a header: refused by the edge (http/edge.h).
  EXPECT_EQ(s.call("POST", "/v1/sessions/password", {{"login", "sam"}, {"password", "correct-horse-9"}},
                   {{"User-Agent", std::string("a\x01" "b\x1b[2J")}})
              .status,
            400);
  // Not UTF-8, and a long one whose 512-byte cut falls inside a two-byte
  // character: logins work, and the sessions list shows them valid.
  for (std::string ua : {std::string("bot\xff\xfe"), "x" + [] {
                           std::string e;
                           for (int i = 0; i < 600; ++i) e += "\xC3\xA9";  // é
                           return e;
                         }()}) {
    auto r = s.call("POST", "/v1/sessions/password", {{"login", "sam"}, {"password", "correct-horse-9"}},
                    {{"User-Agent", ua}});
    ASSERT_EQ(r.status, 201) << r.raw;
    auto token = r.body["session"]["token"].get<std::string>();
    auto mine = s.as(token, "GET", "/v1/sessions?limit=200");
    ASSERT_EQ(mine.status, 200) << mine.raw;
    auto logs = s.as(token, "GET", "/v1/account/logs?limit=200");
    ASSERT_EQ(logs.status, 200) << logs.raw;
    bool found = false;
    for (auto& item : mine.body["items"]) {
      if (!item.value("current", false)) continue;
      found = true;
      auto shown = item["user_agent"].get<std::string>();
      EXPECT_LE(shown.size(), 512u);
      for (char ch : shown) EXPECT_FALSE(static_cast<unsigned char>(ch) < 0x20) << shown;
    }
    EXPECT_TRUE(found) << mine.raw;
  }
}

TEST_F(BadInput, DisplayNamesWithControlOrInvisibleCharacters) {
  const std::string rlo = "\xE2\x80\xAE" "gnp.exe";    // U+202E RIGHT-TO-LEFT OVERRIDE
  const std::string zwsp = "ad\xE2\x80\x8Bmin";         // U+200B ZERO WIDTH SPACE
  const std::string bom_only = "\xEF\xBB\xBF";           // only U+FEFF
  const std::string nel = "two\xC2\x85lines";            // U+0085, a C1 control
  const std::string blank = "\xE3\x80\x80\xE3\x80\x80";  // ideographic spaces only
  auto field_error = [](const response& r) {
    return r.status == 400 && r.body["error"]["code"] == "invalid_request" &&
           r.body["error"]["fields"].contains("display_name");
  };
  for (auto& bad : {rlo, zwsp, bom_only, nel, blank}) {
    EXPECT_TRUE(field_error(s.call("POST", "/v1/accounts", {{"username", "dn_user"}, {"password", "correct-horse-9"},
                                                            {"display_name", bad}})))
      << bad;
    EXPECT_TRUE(field_error(s.call("POST", "/v1/sessions/device",
                                   {{"device_id", "device-dn-0001"}, {"display_name", bad}})))
      << bad;
    EXPECT_TRUE(field_error(s.call("POST", "/v1/sessions/anonymous", {{"display_name", bad}}))) << bad;
  }
  auto login = s.login("sam");
  auto token = login.body["session"]["token"].get<std::string>();
  auto id = login.body["user"]["id"].get<std::string>();
  for (auto& bad : {rlo, zwsp, bom_only, nel, blank}) {
    EXPECT_TRUE(field_error(s.as(token, "PATCH", "/v1/account", {{"display_name", bad}}))) << bad;
    EXPECT_TRUE(field_error(s.admin("PATCH", "/v1/admin/users/" + id, {{"display_name", bad}}))) << bad;
  }
  // Nothing was created or changed, and a real name with accents and a
  // right-to-left script still goes through.
  EXPECT_EQ(s.login("dn_user").status, 401);
  auto ok = s.as(token, "PATCH", "/v1/account", {{"display_name", "Zoë \xD8\xB3\xD8\xA7\xD8\xB1\xD8\xA9"}});
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["display_name"], "Zoë \xD8\xB3\xD8\xA7\xD8\xB1\xD8\xA9");
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
