#include "cluster/ring.h"

#include <gtest/gtest.h>

#include <map>

namespace roster {
namespace {

std::map<std::string, size_t> counts(const partition_table& t) {
  std::map<std::string, size_t> c;
  for (auto& o : t.owners) ++c[o];
  return c;
}

TEST(Ring, OneNodeOwnsEverything) {
  auto t = rebalance({}, {"node-1"}, 256);
  EXPECT_EQ(t.epoch, 1u);
  EXPECT_EQ(t.owned_by("node-1").size(), 256u);
}

TEST(Ring, BalancedAndDeterministic) {
  auto a = rebalance({}, {"c", "a", "b"}, 256);
  auto b = rebalance({}, {"b", "c", "a", "a"}, 256);
  EXPECT_EQ(a.owners, b.owners);
  for (auto& [m, n] : counts(a)) {
    EXPECT_FALSE(m.empty());
    EXPECT_TRUE(n == 85 || n == 86) << m << " " << n;
  }
}

TEST(Ring, JoinMovesAboutOneNthOnlyToTheJoiner) {
  auto three = rebalance(rebalance({}, {"a"}, 256), {"a", "b", "c"}, 256);
  auto four = rebalance(three, {"a", "b", "c", "d"}, 256);
  EXPECT_EQ(four.epoch, three.epoch + 1);
  EXPECT_EQ(four.owned_by("d").size(), 64u);
  EXPECT_EQ(moved_partitions(three, four), 64u);
  for (uint32_t p = 0; p < 256; ++p)
    if (three.owners[p] != four.owners[p]) EXPECT_EQ(four.owners[p], "d") << p;
  for (auto& [m, n] : counts(four)) EXPECT_EQ(n, 64u) << m;
}

TEST(Ring, LeaveMovesOnlyTheLeaversPartitions) {
  auto four = rebalance({}, {"a", "b", "c", "d"}, 256);
  auto three = rebalance(four, {"a", "b", "d"}, 256);
  for (uint32_t p = 0; p < 256; ++p)
    if (four.owners[p] != three.owners[p]) EXPECT_EQ(four.owners[p], "c") << p;
  EXPECT_EQ(moved_partitions(four, three), 64u);
  for (auto& [m, n] : counts(three)) EXPECT_TRUE(n == 85 || n == 86) << m << " " << n;
}

TEST(Ring, UnevenCountsStayWithinOne) {
  partition_table t;
  for (auto members : {std::vector<std::string>{"a"}, {"a", "b"}, {"a", "b", "c"}, {"a", "b", "c", "d", "e"},
                       {"b", "c", "e"}, {"b", "c", "e", "f", "g", "h", "i"}}) {
    auto next = rebalance(t, members, 100);
    auto c = counts(next);
    size_t lo = 100, hi = 0;
    for (auto& [m, n] : c) {
      EXPECT_NE(std::find(members.begin(), members.end(), m), members.end()) << m;
      lo = std::min(lo, n);
      hi = std::max(hi, n);
    }
    EXPECT_LE(hi - lo, 1u);
    t = next;
  }
}

} // namespace
} // namespace roster
