// Throttles under attack (hardening issue, items 2 and 4), over real HTTP
// against build/roster: parallel password guessing from one and from many
// addresses, password change and deletion, lockout of unknown logins, hashing
// only after the registration's claims, and the per-address [limits].
//
// Many addresses on one machine: the whole of 127.0.0.0/8 is loopback on
// Linux, so the client binds its socket to 127.0.0.N before connecting and the
// server sees that address as the client's.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

/// One HTTP/1.1 request from source address `from` (127.0.0.N), on a fresh
/// connection closed after the response. `sent` is incremented once the
/// request is written. Headers in the response are keyed in lowercase.
response request_from(const roster_server& s, const std::string& from, const std::string& method,
                      const std::string& path, const json& body = nullptr, const httplib::Headers& headers = {},
                      std::atomic<int>* sent = nullptr) {
  response out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(s.port()));
  ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
    ::close(fd);
    return out;
  }
  std::string payload = body.is_null() ? std::string() : body.dump();
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!payload.empty()) req += "Content-Type: application/json\r\n";
  req += "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload;
  for (size_t off = 0; off < req.size();) {
    auto n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return out;
    }
    off += static_cast<size_t>(n);
  }
  if (sent) ++*sent;
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos) return out;
  out.status = std::atoi(raw.c_str() + 9);
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    auto eol = raw.find("\r\n", line);
    auto colon = raw.find(':', line);
    if (colon != std::string::npos && colon < eol) {
      std::string name = raw.substr(line, colon - line);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      auto value = raw.substr(colon + 1, eol - colon - 1);
      value.erase(0, value.find_first_not_of(' '));
      out.headers.emplace(name, value);
    }
    line = eol + 2;
  }
  out.raw = raw.substr(head_end + 4);
  out.body = json::parse(out.raw, nullptr, false);
  return out;
}

/// 127.0.0.N for N in 2..254.
std::string addr(int n) { return "127.0.0." + std::to_string(2 + n % 253); }

std::string code_of(const response& r) {
  return r.body.is_object() && r.body.contains("error") ? r.body["error"].value("code", "") : "";
}

/// A 429 as SPEC §2 has it: rate_limited with a Retry-After of whole seconds.
void expect_throttled(const response& r, const std::string& what) {
  EXPECT_EQ(r.status, 429) << what << ": " << r.raw;
  EXPECT_EQ(code_of(r), "rate_limited") << what;
  auto retry = r.header("retry-after");
  EXPECT_FALSE(retry.empty()) << what;
  if (!retry.empty()) EXPECT_GE(std::stoi(retry), 1) << what;
}

constexpr int max_failed_logins = 5;  // auth.max_failed_logins default

struct guess_counts {
  int unauthorized = 0, throttled = 0, other = 0;
  int right_status = 0;
};

/// 100 concurrent logins to `login`, 99 wrong and one right (sent after 90
/// wrong ones are on the wire), each from `from(i)`.
guess_counts parallel_guesses(const roster_server& s, const std::string& login, const std::string& right,
                              const std::function<std::string(int)>& from) {
  constexpr int n = 100, right_at = 97;
  std::vector<response> results(n);
  std::atomic<int> sent{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      bool is_right = i == right_at;
      if (is_right)
        while (sent < 90) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      json body = {{"login", login}, {"password", is_right ? right : "wrong-guess-" + std::to_string(i)}};
      results[i] = request_from(s, from(i), "POST", "/v1/sessions/password", body, {}, is_right ? nullptr : &sent);
    });
  go = true;
  for (auto& t : threads) t.join();
  guess_counts c;
  for (int i = 0; i < n; ++i) {
    auto& r = results[i];
    if (i == right_at) c.right_status = r.status;
    if (r.status == 401 && code_of(r) == "invalid_credentials") ++c.unauthorized;
    else if (r.status == 429) {
      ++c.throttled;
      expect_throttled(r, "guess " + std::to_string(i));
    } else if (i != right_at) {
      ++c.other;
      ADD_FAILURE() << "guess " << i << ": " << r.status << " " << r.raw;
    }
  }
  return c;
}

TEST(Throttle, ParallelGuessesFromOneAddressStopAtTheLimit) {
  roster_server s;
  ASSERT_EQ(s.register_user("victim@example.com", "victim", "right-horse-42").status, 201);
  auto c = parallel_guesses(s, "victim@example.com", "right-horse-42", [](int) { return std::string("127.0.0.1"); });
  // Every 401 is one Argon2id verification of a wrong guess: never more than the limit.
  EXPECT_LE(c.unauthorized, max_failed_logins);
  EXPECT_GE(c.unauthorized, 1);
  EXPECT_EQ(c.unauthorized + c.throttled, 99 + (c.right_status == 429 ? 1 : 0));
  EXPECT_EQ(c.right_status, 429) << "the right password, sent after the lock, must not log in";
  // still locked, from this address and for this account
  expect_throttled(s.login("victim@example.com", "right-horse-42"), "right password after the guesses");
}

TEST(Throttle, ParallelGuessesFromManyAddressesStopAtTheLimit) {
  roster_server s;
  ASSERT_EQ(s.register_user("target@example.com", "target", "right-horse-42").status, 201);
  // one guess per address: the address throttle never trips, the account's must
  auto c = parallel_guesses(s, "target", "right-horse-42", [](int i) { return addr(i); });
  EXPECT_LE(c.unauthorized, max_failed_logins);
  EXPECT_GE(c.unauthorized, 1);
  EXPECT_EQ(c.right_status, 429) << "the right password, sent after the lock, must not log in";
  expect_throttled(request_from(s, addr(200), "POST", "/v1/sessions/password",
                                {{"login", "TARGET"}, {"password", "right-horse-42"}}),
                   "right password from a fresh address");
}

TEST(Throttle, PasswordChangeIsThrottledPerAccount) {
  roster_server s;
  auto reg = s.register_user("changer@example.com", "changer", "right-horse-42");
  ASSERT_EQ(reg.status, 201);
  std::string token = reg.body["session"]["token"];
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  // each wrong guess from another address: the account's throttle must stop them
  for (int i = 0; i < max_failed_logins; ++i) {
    auto r = request_from(s, addr(i), "PUT", "/v1/account/password",
                          {{"current_password", "wrong-guess-" + std::to_string(i)}, {"new_password", "next-horse-77"}}, auth);
    EXPECT_EQ(r.status, 401) << r.raw;
    EXPECT_EQ(code_of(r), "invalid_credentials");
  }
  auto right = request_from(s, addr(50), "PUT", "/v1/account/password",
                            {{"current_password", "right-horse-42"}, {"new_password", "next-horse-77"}}, auth);
  expect_throttled(right, "password change with the right password after the limit");
  // the same lock guards the login (one failure count per account) ...
  expect_throttled(request_from(s, addr(51), "POST", "/v1/sessions/password",
                                {{"login", "changer"}, {"password", "right-horse-42"}}),
                   "login after failed password changes");
  // ... and the password did not change
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200);
}

TEST(Throttle, AccountDeletionIsThrottledUnderConcurrency) {
  roster_server s;
  auto reg = s.register_user("leaver@example.com", "leaver", "right-horse-42");
  ASSERT_EQ(reg.status, 201);
  std::string token = reg.body["session"]["token"];
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  constexpr int n = 30;
  std::vector<response> results(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      results[i] = request_from(s, addr(i), "DELETE", "/v1/account", {{"password", "wrong-guess-" + std::to_string(i)}}, auth);
    });
  for (auto& t : threads) t.join();
  int unauthorized = 0;
  for (auto& r : results) {
    if (r.status == 401) ++unauthorized;
    else expect_throttled(r, "parallel wrong deletion");
  }
  EXPECT_LE(unauthorized, max_failed_logins);
  EXPECT_GE(unauthorized, 1);
  expect_throttled(request_from(s, addr(100), "DELETE", "/v1/account", {{"password", "right-horse-42"}}, auth),
                   "deletion with the right password after the limit");
  EXPECT_EQ(s.as(token, "GET", "/v1/account").status, 200) << "the account must still exist";
}

TEST(Throttle, LockoutLooksTheSameForKnownAndUnknownLogins) {
  roster_server s;
  ASSERT_EQ(s.register_user("known@example.com", "known_one", "right-horse-42").status, 201);
  // each from its own address, so that the address throttle plays no part
  auto lock_out = [&](const std::string& login, const std::string& from) {
    for (int i = 0; i < max_failed_logins; ++i) {
      auto r = request_from(s, from, "POST", "/v1/sessions/password", {{"login", login}, {"password", "wrong-guess-1"}});
      EXPECT_EQ(r.status, 401) << login << " " << r.raw;
    }
    return request_from(s, from, "POST", "/v1/sessions/password", {{"login", login}, {"password", "wrong-guess-1"}});
  };
  auto known = lock_out("known@example.com", "127.0.0.2");
  auto unknown = lock_out("ghost@example.com", "127.0.0.3");
  expect_throttled(known, "known login");
  expect_throttled(unknown, "unknown login");
  EXPECT_EQ(known.status, unknown.status);
  EXPECT_EQ(known.raw, unknown.raw);
  auto a = std::stoi(known.header("retry-after")), b = std::stoi(unknown.header("retry-after"));
  EXPECT_LE(std::abs(a - b), 1) << a << " vs " << b;
  // the lock is on the normalised login (the index key), from any address
  expect_throttled(request_from(s, "127.0.0.4", "POST", "/v1/sessions/password",
                                {{"login", "GHOST@Example.COM"}, {"password", "x-whatever-1"}}),
                   "unknown login spelled otherwise");
  expect_throttled(request_from(s, "127.0.0.5", "POST", "/v1/sessions/password",
                                {{"login", "KNOWN@example.com"}, {"password", "right-horse-42"}}),
                   "known login spelled otherwise");
  // other logins from those addresses are still served
  EXPECT_EQ(request_from(s, "127.0.0.6", "POST", "/v1/sessions/password",
                         {{"login", "other@example.com"}, {"password", "wrong-guess-1"}})
                .status,
            401);
}

TEST(Throttle, RegistrationClaimsBeforeHashingAndHasAnAddressBudget) {
  // A deliberately slow hash (≈ 0.5 s), so that skipping it shows.
  roster_server s({{"ROSTER_AUTH_ARGON2_MEMORY_KIB", "65536"},
                   {"ROSTER_AUTH_ARGON2_ITERATIONS", "16"},
                   {"ROSTER_LIMITS_REGISTRATIONS_PER_MINUTE", "5"}});
  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t0) { return std::chrono::duration<double, std::milli>(clock::now() - t0).count(); };
  auto t0 = clock::now();
  ASSERT_EQ(s.register_user("taken@example.com", "first_one").status, 201);
  double fresh = ms_since(t0);
  double taken = 1e9;
  for (int i = 0; i < 3; ++i) {
    auto t1 = clock::now();
    auto r = s.register_user("TAKEN@example.com", "second_" + std::to_string(i));
    taken = std::min(taken, ms_since(t1));
    EXPECT_EQ(r.status, 409) << r.raw;
    EXPECT_EQ(code_of(r), "email_taken");
  }
  // The taken email is refused before any Argon2id work.
  EXPECT_LT(taken * 4, fresh) << "fresh registration " << fresh << " ms, taken email " << taken << " ms";
  // A failed claim released the username claimed with it.
  EXPECT_EQ(s.call("GET", "/v1/usernames/second_0").body["available"], true);
  // 5 per minute from this address: 1 + 3 above, one more, then 429
  EXPECT_EQ(s.register_user("taken@example.com", "third_one").status, 409);
  expect_throttled(s.register_user("free@example.com", "free_one"), "sixth registration from one address");
  // another address has its own budget (a taken email: no slow hash needed)
  EXPECT_EQ(request_from(s, "127.0.0.9", "POST", "/v1/accounts",
                         {{"email", "taken@example.com"}, {"password", "correct-horse-9"}})
                .status,
            409);
}

TEST(Throttle, DeviceAnonymousAndLookupBudgetsPerAddress) {
  roster_server s({{"ROSTER_LIMITS_DEVICE_LOGINS_PER_MINUTE", "3"},
                   {"ROSTER_LIMITS_ANONYMOUS_LOGINS_PER_MINUTE", "2"},
                   {"ROSTER_LIMITS_USERNAME_LOOKUPS_PER_MINUTE", "10"}});
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "device-budget-" + std::to_string(i)}}).status, 201);
  expect_throttled(s.call("POST", "/v1/sessions/device", {{"device_id", "device-budget-0"}}), "fourth device login");
  EXPECT_EQ(request_from(s, "127.0.0.7", "POST", "/v1/sessions/device", {{"device_id", "device-budget-0"}}).status, 201);

  auto anon = s.call("POST", "/v1/sessions/anonymous");
  ASSERT_EQ(anon.status, 201);
  EXPECT_EQ(s.call("POST", "/v1/sessions/anonymous").status, 201);
  expect_throttled(s.call("POST", "/v1/sessions/anonymous"), "third anonymous login");
  EXPECT_EQ(request_from(s, "127.0.0.7", "POST", "/v1/sessions/anonymous").status, 201);

  // GET /v1/users?usernames= spends one lookup per name from the budget of
  // GET /v1/usernames/{name}
  EXPECT_EQ(s.call("GET", "/v1/users?usernames=a_one,a_two,a_three,a_four,a_five,a_six,a_seven,a_eight").status, 200);
  EXPECT_EQ(s.call("GET", "/v1/usernames/b_one").status, 200);
  EXPECT_EQ(s.call("GET", "/v1/usernames/b_two").status, 200);
  expect_throttled(s.call("GET", "/v1/usernames/b_three"), "eleventh lookup");
  expect_throttled(s.call("GET", "/v1/users?usernames=c_one"), "batch lookup past the budget");
  auto other = request_from(s, "127.0.0.8", "GET", "/v1/users?usernames=d_one,d_two,d_three,d_four,d_five,d_six");
  EXPECT_EQ(other.status, 200) << other.raw;
  expect_throttled(request_from(s, "127.0.0.8", "GET", "/v1/users?usernames=e_one,e_two,e_three,e_four,e_five"),
                   "a batch larger than what is left");
  // ids are random, nothing to enumerate: not counted
  std::string id = anon.body["user"]["id"];
  auto by_id = s.call("GET", "/v1/users?ids=" + id);
  EXPECT_EQ(by_id.status, 200);
  EXPECT_EQ(by_id.body["items"].size(), 1u);
}

} // namespace
