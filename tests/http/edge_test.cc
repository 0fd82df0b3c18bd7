// The edge's pure rule (check_head) and the worker pool's growth and shrink.
#include "http/edge.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "http/worker_pool.h"

namespace roster::http {
namespace {

constexpr size_t head = 8192, body = 65536;

TEST(CheckHead, WaitsForAWholeRequest) {
  EXPECT_EQ(check_head("GET / HTTP/1.1\r\nHost: x\r\n", head, body).state, head_check::incomplete);
  auto get = check_head("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next", head, body);
  EXPECT_EQ(get.state, head_check::ready);
  EXPECT_EQ(get.request_bytes, 27u);  // the rest is the next request
  std::string post = "POST /v1/x HTTP/1.1\r\ncontent-LENGTH: 5\r\n\r\n";
  EXPECT_EQ(check_head(post + "abc", head, body).state, head_check::incomplete);
  auto whole = check_head(post + "abcdeGET", head, body);
  EXPECT_EQ(whole.state, head_check::ready);
  EXPECT_EQ(whole.request_bytes, post.size() + 5);
}

TEST(CheckHead, OnlyFramingEveryParserReadsAlikePasses) {
  auto state = [](const std::string& h) { return check_head(h, head, body).state; };
  EXPECT_EQ(state("GET / HTTP/1.1\nHost: x\n\n"), head_check::bad_bytes);      // bare LF
  EXPECT_EQ(state("GET / HTTP/1.1\r\nHost: x\r\n\n"), head_check::bad_bytes);  // bare LF at the end
  EXPECT_EQ(state("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), head_check::bad_bytes);  // space before the colon
  EXPECT_EQ(state("GET / HTTP/1.1\r\nA: b\r\n  folded\r\n\r\n"), head_check::bad_bytes);
  EXPECT_EQ(state("GET / HTTP/1.1\r\nno colon\r\n\r\n"), head_check::bad_bytes);
  for (auto len : {"+5", "%35", "-1", "5 5", "0x5", "0000000000005", ""})
    EXPECT_EQ(state(std::string("POST / HTTP/1.1\r\nContent-Length: ") + len + "\r\n\r\nabcde"), head_check::bad_bytes)
        << len;
  EXPECT_EQ(state("POST / HTTP/1.1\r\nContent-Length:  000000000005 \r\n\r\nabcde"), head_check::ready);
}

TEST(CheckHead, RefusesOversizeHeadsAtTheLimit) {
  std::string line = "GET / HTTP/1.1\r\nX-Long: " + std::string(head, 'a');
  EXPECT_EQ(check_head(line, head, body).state, head_check::too_large);
  EXPECT_EQ(check_head(line.substr(0, head - 10), head, body).state, head_check::incomplete);
  EXPECT_EQ(check_head(line + "\r\n\r\n", head, body).state, head_check::too_large);
}

TEST(CheckHead, RefusesControlCharactersAndTwoLengths) {
  EXPECT_EQ(check_head(std::string("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26), head, body).state, head_check::bad_bytes);
  EXPECT_EQ(check_head("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", head, body).state, head_check::bad_bytes);
  EXPECT_EQ(check_head("GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", head, body).state, head_check::bad_bytes);
  EXPECT_EQ(check_head("GET / HTTP/1.1\r\nA: b\tc\r\n\r\n", head, body).state, head_check::ready);
  // A CR may end what has arrived so far: its LF is still on the way.
  EXPECT_EQ(check_head("GET / HTTP/1.1\r\nA: b\r", head, body).state, head_check::incomplete);
  // Even before the head is complete.
  EXPECT_EQ(check_head(std::string("GET / HTTP/1.1\r\nA: \0", 21), head, body).state, head_check::bad_bytes);
  EXPECT_EQ(check_head("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", head, body).state,
            head_check::bad_bytes);
}

TEST(CheckHead, FindsAControlCharacterAtEveryPositionOfALongLine) {
  // The scan skips eight bytes at a time: a bad byte anywhere in a word, and
  // every byte value, is still seen.
  std::string prefix = "GET / HTTP/1.1\r\nAuthorization: Bearer ";
  std::string token(96, 'x');
  for (int v = 0; v < 256; ++v) {
    bool bad = (v < 0x20 && v != '\t') || v == 0x7f;
    for (size_t at = 0; at < 24; ++at) {
      auto t = token;
      t[at] = static_cast<char>(v);
      auto got = check_head(prefix + t + "\r\n\r\n", head, body).state;
      if (v == '\r') EXPECT_EQ(got, head_check::bad_bytes);  // a CR not followed by LF
      else EXPECT_EQ(got, bad ? head_check::bad_bytes : head_check::ready) << v << " at " << at;
    }
  }
}

TEST(CheckHead, FindsTheOneAuthorizationLine) {
  std::string h = "GET /v1/account HTTP/1.1\r\nHost: x\r\naUTHORIZATION: \t Bearer abc.def \r\nAccept: */*\r\n\r\n";
  auto c = check_head(h, head, body);
  ASSERT_EQ(c.state, head_check::ready);
  EXPECT_EQ(h.substr(c.auth_value, c.auth_value_size), "Bearer abc.def");
  EXPECT_EQ(h.substr(c.auth_line, c.auth_line_end - c.auth_line), "aUTHORIZATION: \t Bearer abc.def \r\n");
  // None, or two: nothing is lifted (httplib sees them all).
  for (auto other : {"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET / HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n"}) {
    auto n = check_head(other, head, body);
    EXPECT_EQ(n.state, head_check::ready);
    EXPECT_EQ(n.auth_line_end, 0u) << other;
  }
}

TEST(CheckHead, DoesNotWaitForBodiesTheServerRefuses) {
  // Too large, or framed otherwise: dispatched on the head alone (413 / 411),
  // and the connection closes after the answer.
  for (auto h : {"POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\nGET", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0"}) {
    auto c = check_head(h, head, body);
    EXPECT_EQ(c.state, head_check::ready) << h;
    EXPECT_TRUE(c.body_unread) << h;
    EXPECT_EQ(c.request_bytes, std::string(h).find("\r\n\r\n") + 4);
  }
  EXPECT_FALSE(check_head("POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", head, body).body_unread);
}

TEST(CheckHead, FindsExpectContinue) {
  std::string h = "POST / HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n";
  auto c = check_head(h, head, body);
  EXPECT_EQ(c.state, head_check::incomplete);
  EXPECT_TRUE(c.head_complete);
  EXPECT_EQ(h.substr(c.expect_continue, 7), "Expect:");
}

TEST(WorkerPool, GrowsForABurstAndShrinksAfterIt) {
  worker_pool pool(2, 64, std::chrono::milliseconds(100));
  std::atomic<int> running{0}, finished{0};
  std::atomic<bool> release{false};
  for (int i = 0; i < 40; ++i)
    pool.enqueue([&] {
      ++running;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++finished;
    });
  for (int i = 0; i < 500 && running < 40; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(running.load(), 40);  // every job got a thread of its own
  EXPECT_GE(pool.threads(), 40u);
  release = true;
  for (int i = 0; i < 300 && pool.threads() > 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(finished.load(), 40);
  EXPECT_EQ(pool.threads(), 2u);  // back to the minimum
  pool.shutdown();
  EXPECT_EQ(pool.threads(), 0u);
}

} // namespace
} // namespace roster::http
