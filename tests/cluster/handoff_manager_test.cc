// The coordinator's side of the handoff manager: which pending moves are
// handed to their sources, and when. Pure bookkeeping: no actor system.
#include "cluster/handoff_manager.h"

#include <gtest/gtest.h>

namespace roster {
namespace {

member_info member(const std::string& name) { return {name, "127.0.0.1:1", "127.0.0.1:2", member_state::up, 0}; }

bool anyone(const std::string&) { return true; }

/// A joins alone with 16 partitions, then B: eight moves from A to B.
cluster_view two_members() { return admit(founding_view(member("a"), 16), member("b")); }

TEST(HandoffManager, DispatchesAtMostTwoMovesPerSourceUntilTheySettle) {
  auto v = two_members();
  ASSERT_EQ(v.moves().size(), 8u);
  handoff_manager h;
  auto first = h.dispatch(v, anyone);
  ASSERT_EQ(first.size(), handoff_manager::max_per_source);
  for (auto& mv : first) {
    EXPECT_EQ(mv.from, "a");
    EXPECT_EQ(mv.to, "b");
  }
  EXPECT_TRUE(h.dispatch(v, anyone).empty());  // a is busy
  h.settled(first[0].partition);
  auto next = h.dispatch(v, anyone);
  // The settled move is pending again (the view still has it) and free to go.
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(next[0].partition, first[1].partition);
}

TEST(HandoffManager, SkipsUnreachableMembersAndTargetsMarkedDown) {
  auto v = two_members();
  handoff_manager h;
  EXPECT_TRUE(h.dispatch(v, [](const std::string& n) { return n != "b"; }).empty());
  EXPECT_TRUE(h.dispatch(mark(v, "b", member_state::down), anyone).empty());
  EXPECT_EQ(h.dispatch(v, anyone).size(), handoff_manager::max_per_source);
}

TEST(HandoffManager, ASourceThatGoesDownFreesItsMoves) {
  auto v = two_members();
  handoff_manager h;
  ASSERT_EQ(h.dispatch(v, anyone).size(), handoff_manager::max_per_source);
  h.source_down("b");  // not a source: nothing changes
  EXPECT_TRUE(h.dispatch(v, anyone).empty());
  h.source_down("a");
  EXPECT_EQ(h.dispatch(v, anyone).size(), handoff_manager::max_per_source);
}

TEST(HandoffManager, SourceBookkeeping) {
  handoff_manager h;
  // Nothing runs: a reopen is honoured, a failure report is not ours.
  EXPECT_TRUE(h.unseal(3));
  EXPECT_FALSE(h.failed(3));
  EXPECT_FALSE(h.sealed(3));
  EXPECT_FALSE(h.handed_off(3));
}

} // namespace
} // namespace roster
