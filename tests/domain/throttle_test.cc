#include "domain/throttle.h"

#include <gtest/gtest.h>

#include "domain/clock.h"

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

TEST(Throttle, IpThrottleCountsPerAddress) {
  ip_throttle t({2, 60'000, 10'000});
  t.record_failure("1.1.1.1", 0);
  EXPECT_EQ(t.check("1.1.1.1", 1), 0);
  t.record_failure("1.1.1.1", 1);
  EXPECT_GT(t.check("1.1.1.1", 2), 0);
  EXPECT_EQ(t.check("2.2.2.2", 2), 0);
}

TEST(Throttle, RateWindow) {
  rate_window w(2, 1000);
  EXPECT_EQ(w.acquire("a", 0), 0);
  EXPECT_EQ(w.acquire("a", 1), 0);
  EXPECT_EQ(w.acquire("a", 2), 998);
  EXPECT_EQ(w.acquire("b", 2), 0);
  EXPECT_EQ(w.acquire("a", 1000), 0);
}

TEST(Clock, FormatAndParse) {
  EXPECT_EQ(format_time(1'764'041'400'123), "2025-11-25T03:30:00.123Z");
  EXPECT_EQ(parse_time("2025-11-25T03:30:00.123Z"), 1'764'041'400'123);
  EXPECT_EQ(parse_time("2025-11-25T03:30:00Z"), 1'764'041'400'000);
  EXPECT_FALSE(parse_time("yesterday"));
  EXPECT_EQ(parse_duration("30d"), 30LL * 86'400'000);
  EXPECT_EQ(parse_duration("20m"), 1'200'000);
  EXPECT_EQ(parse_duration("500ms"), 500);
  EXPECT_FALSE(parse_duration("5 minutes"));
  EXPECT_FALSE(parse_duration("m"));
}

} // namespace
} // namespace roster
