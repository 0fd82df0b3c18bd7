#include "domain/throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/clock.h"

namespace roster {
namespace {

TEST(Throttle, LocksAfterMaxFailuresWithExponentialBackoff) {
  throttle_policy p{5, 15 * 60'000, 30'000};
  std::vector<millis> f = {1000, 2000, 3000, 4000};
  EXPECT_EQ(lockout_remaining(f, 5000, p), 0);
  f.push_back(5000);
  EXPECT_EQ(lockout_remaining(f, 5000, p), 30'000);
  EXPECT_EQ(lockout_remaining(f, 35'000, p), 0);
  f.push_back(35'000);
  EXPECT_EQ(lockout_remaining(f, 35'000, p), 60'000);  // doubled
  for (int i = 0; i < 30; ++i) f.push_back(36'000);
  EXPECT_LE(lockout_remaining(f, 36'000, p), p.window);  // capped
  // failures outside the window no longer count
  EXPECT_EQ(lockout_remaining({1, 2, 3, 4, 5}, 1 + p.window, p), 0);
}

TEST(Throttle, AttemptsInFlightCountTowardsTheLimit) {
  throttle_policy p{3, 60'000, 10'000, 30'000};
  EXPECT_EQ(attempt_wait({}, 0, 0, p), 0);
  EXPECT_EQ(attempt_wait({}, 2, 0, p), 0);
  EXPECT_EQ(attempt_wait({}, 3, 0, p), busy_wait);  // three checks running: a fourth waits
  EXPECT_EQ(attempt_wait({100}, 2, 200, p), busy_wait);
  EXPECT_EQ(attempt_wait({100}, 1, 200, p), 0);
  // locked: the lock's remaining time, whatever is in flight
  EXPECT_EQ(attempt_wait({100, 200, 300}, 0, 300, p), 10'000);
  EXPECT_EQ(attempt_wait({100, 200, 300}, 5, 1300, p), 9'000);
  // the lock has run out: one probe at a time
  EXPECT_EQ(attempt_wait({100, 200, 300}, 0, 10'300, p), 0);
  EXPECT_EQ(attempt_wait({100, 200, 300}, 1, 10'300, p), busy_wait);
  // failures outside the window no longer count
  EXPECT_EQ(attempt_wait({100, 200, 300}, 2, 60'301, p), 0);
}

TEST(Throttle, PendingAttemptsResolveByIdAndExpire) {
  pending_attempts a;
  auto first = a.add(1000);
  auto second = a.add(2000);
  EXPECT_NE(first, second);
  EXPECT_EQ(a.live(2000, 30'000), 2u);
  EXPECT_TRUE(a.resolve(first));
  EXPECT_FALSE(a.resolve(first));  // once only
  EXPECT_EQ(a.live(2000, 30'000), 1u);
  EXPECT_EQ(a.live(32'000, 30'000), 0u);  // a lost reservation stops counting
  EXPECT_FALSE(a.resolve(second));
  EXPECT_TRUE(a.empty());
  // a successor (e.g. a respawned actor) does not reuse the ids
  pending_attempts b;
  EXPECT_NE(b.add(40'000), second);
}

TEST(Throttle, LoginGuardCountsChecksInFlightAgainstTheAccountsFailures) {
  throttle_policy p{3, 60'000, 10'000, 30'000};
  login_guard g;
  std::vector<millis> failures = {100};  // as stored in the user record
  auto a = g.begin(failures, 1000, p);
  auto b = g.begin(failures, 1000, p);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  auto busy = g.begin(failures, 1000, p);  // one failure + two in flight = the limit
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.err().code, errc::rate_limited);
  EXPECT_EQ(busy.err().retry_after, 1);
  g.finish(*a);  // right password: the slot is free, the failure still counts
  auto c = g.begin(failures, 1000, p);
  ASSERT_TRUE(c);
  g.failed(*b, failures, 2000, p);
  EXPECT_EQ(failures, (std::vector<millis>{100, 2000}));
  g.failed(*c, failures, 3000, p);  // the third failure locks the account
  auto locked = g.begin(failures, 3000, p);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.err().retry_after, 10);
  // failed() prunes what left the window before it adds.
  g.finish(12345);  // unknown: ignored
  g.failed(999, failures, 61'500, p);
  EXPECT_EQ(failures, (std::vector<millis>{2000, 3000, 61'500}));
  // A failure ends its check: the slot it held is free again.
  login_guard f;
  std::vector<millis> fs;
  auto x = f.begin(fs, 0, p);
  ASSERT_TRUE(x && f.begin(fs, 0, p));
  f.failed(*x, fs, 10, p);
  EXPECT_TRUE(f.begin(fs, 10, p));  // one failure + two in flight: the limit, not beyond
  EXPECT_FALSE(f.begin(fs, 10, p));
  // A reservation never resolved stops counting after reservation_ttl.
  std::vector<millis> none;
  login_guard h;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h.begin(none, 0, p));
  EXPECT_FALSE(h.begin(none, 29'999, p));
  EXPECT_TRUE(h.begin(none, 30'000, p));
}

TEST(Throttle, ConcurrentReservationsNeverExceedTheLimit) {
  // 100 guesses reserved at once: only max_failures may run.
  attempt_throttle t({5, 60'000, 30'000, 30'000});
  int admitted = 0;
  for (int i = 0; i < 100; ++i) admitted += t.reserve("email:a@example.com", 1000) == 0 ? 1 : 0;
  EXPECT_EQ(admitted, 5);
  for (int i = 0; i < 5; ++i) t.fail("email:a@example.com", 1010);
  // five failures: locked for base_lockout, the right password included
  EXPECT_EQ(t.reserve("email:a@example.com", 1010), 30'000);
  EXPECT_EQ(t.reserve("email:b@example.com", 1010), 0);  // other keys are free
  // after the lock, one probe at a time; its failure doubles the lock
  EXPECT_EQ(t.reserve("email:a@example.com", 31'010), 0);
  EXPECT_EQ(t.reserve("email:a@example.com", 31'010), busy_wait);
  t.fail("email:a@example.com", 31'020);
  EXPECT_EQ(t.reserve("email:a@example.com", 31'020), 60'000);
}

TEST(Throttle, SuccessReleasesAndMayForgetFailures) {
  attempt_throttle t({2, 60'000, 10'000, 30'000});
  ASSERT_EQ(t.reserve("ip", 0), 0);
  t.fail("ip", 0);
  ASSERT_EQ(t.reserve("ip", 1), 0);
  EXPECT_EQ(t.reserve("ip", 1), busy_wait);  // one failure + one in flight = the limit
  t.succeed("ip");                           // right password: the slot is free again...
  ASSERT_EQ(t.reserve("ip", 2), 0);          // ...but the failure still counts
  EXPECT_EQ(t.reserve("ip", 2), busy_wait);
  t.succeed("ip", /*forget_failures=*/true);
  ASSERT_EQ(t.reserve("ip", 3), 0);
  ASSERT_EQ(t.reserve("ip", 3), 0);
  // reservations never resolved stop counting after reservation_ttl
  EXPECT_EQ(t.reserve("ip", 4), busy_wait);
  EXPECT_EQ(t.reserve("ip", 30'004), 0);
}

TEST(Throttle, ReserveIsThreadSafe) {
  attempt_throttle t({5, 60'000, 30'000, 30'000});
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j)
        if (t.reserve("k", 1000) == 0) ++admitted;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted, 5);
}

TEST(Throttle, ThrottledErrorRoundsUpToWholeSeconds) {
  auto e = throttled_error(1);
  EXPECT_EQ(e.code, errc::rate_limited);
  EXPECT_EQ(e.retry_after, 1);
  EXPECT_EQ(throttled_error(30'000).retry_after, 30);
  EXPECT_EQ(throttled_error(30'001).retry_after, 31);
  EXPECT_EQ(throttled_error(0).retry_after, 1);
}

TEST(Throttle, RateWindow) {
  rate_window w(2, 1000);
  EXPECT_EQ(w.acquire("a", 0), 0);
  EXPECT_EQ(w.acquire("a", 1), 0);
  EXPECT_EQ(w.acquire("a", 2), 998);
  EXPECT_EQ(w.acquire("b", 2), 0);
  EXPECT_EQ(w.acquire("a", 1000), 0);
}

TEST(Throttle, RateWindowCountsUnitsAndZeroMeansNoLimit) {
  rate_window w(120, 60'000);
  EXPECT_EQ(w.acquire("ip", 0, 100), 0);  // a batch of 100 names
  EXPECT_GT(w.acquire("ip", 1, 21), 0);   // 121 > 120: refused, nothing counted
  EXPECT_EQ(w.acquire("ip", 1, 20), 0);
  EXPECT_GT(w.acquire("ip", 2), 0);
  // more units than the limit: needs a fresh window to itself
  rate_window small(3, 1000);
  EXPECT_EQ(small.acquire("ip", 0, 50), 0);
  EXPECT_GT(small.acquire("ip", 1), 0);
  rate_window off(0, 1000);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(off.acquire("ip", 0, 100), 0);
}

TEST(Clock, FormatAndParse) {
  EXPECT_EQ(format_time(1'764'041'400'123), "2025-11-25T03:30:00.123Z");
  EXPECT_EQ(parse_time("2025-11-25T03:30:00.123Z"), 1'764'041'400'123);
  EXPECT_EQ(parse_time("2025-11-25T03:30:00Z"), 1'764'041'400'000);
  EXPECT_FALSE(parse_time("yesterday"));
  // Days a month does not have and leap seconds are refused, not moved on.
  EXPECT_EQ(parse_time("2028-02-29T00:00:00Z"), parse_time("2028-02-28T00:00:00Z").value() + 86'400'000);
  EXPECT_EQ(parse_time("2000-02-29T00:00:00Z").has_value(), true);
  for (auto bad : {"2030-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2030-02-30T00:00:00Z", "2030-04-31T00:00:00Z",
                   "2030-01-01T23:59:60Z", "2030-13-01T00:00:00Z", "2030-01-00T00:00:00Z", "2030-01-01T24:00:00Z",
                   "+030-01-01T00:00:00Z", "2030-1-01T00:00:00Z", "2030-01-01 00:00:00Z", "2030-01-01T00:00:00",
                   "2030-01-01T00:00:00.Z", " 2030-01-01T00:00:00Z"})
    EXPECT_FALSE(parse_time(bad)) << bad;
  EXPECT_EQ(parse_duration("30d"), 30LL * 86'400'000);
  EXPECT_EQ(parse_duration("20m"), 1'200'000);
  EXPECT_EQ(parse_duration("500ms"), 500);
  EXPECT_FALSE(parse_duration("5 minutes"));
  EXPECT_FALSE(parse_duration("m"));
}

} // namespace
} // namespace roster
