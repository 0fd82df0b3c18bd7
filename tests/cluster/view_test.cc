#include "cluster/door.h"
#include "cluster/view.h"

#include <gtest/gtest.h>

#include "tests/support/stored.h"

#include "cluster/chunk.h"

#include <set>

namespace roster {
namespace {

TEST(ClusterDoor, ClosesSilentConnectionsAndTheNewestBeyondTheCap) {
  door_policy p{3, 10'000};
  std::vector<door_connection> open = {{1, 100, 200}, {2, 50, 10'001}, {3, 300, 0}, {4, 200, 9'999}, {5, 400, 10}};
  auto closed = door_closes(open, p);
  std::set<uint64_t> got(closed.begin(), closed.end());
  // 2 is silent too long; of the other four, the newest (5) is beyond the cap of 3.
  EXPECT_EQ(got, (std::set<uint64_t>{2, 5}));
  EXPECT_TRUE(door_closes({{1, 0, 500}, {2, 0, 500}}, p).empty());
}


member_info member(const std::string& name) { return {name, "127.0.0.1:1", "127.0.0.1:2", member_state::up, 0}; }

uint32_t targeted(const cluster_view& v, const std::string& name) {
  return static_cast<uint32_t>(std::count(v.targets.begin(), v.targets.end(), name));
}

TEST(ClusterView, FounderOwnsEverythingAndCoordinates) {
  auto v = founding_view(member("a"), 64);
  EXPECT_EQ(v.epoch, 1u);
  EXPECT_EQ(v.owned_by("a"), 64u);
  EXPECT_EQ(v.coordinator(), "a");
  EXPECT_TRUE(v.moves().empty());
}

TEST(ClusterView, JoinTargetsAShareOnlyToTheJoinerUntilMovesComplete) {
  auto v = admit(admit(founding_view(member("a"), 64), member("b")), member("c"));
  // Nothing is owned by b or c until handed off; targets are balanced.
  EXPECT_EQ(v.owned_by("a"), 64u);
  EXPECT_TRUE(targeted(v, "a") == 21 || targeted(v, "a") == 22);
  EXPECT_TRUE(targeted(v, "c") == 21 || targeted(v, "c") == 22);
  auto epoch = v.epoch;
  for (auto& mv : v.moves()) v = complete_move(v, mv.partition);
  EXPECT_TRUE(v.moves().empty());
  EXPECT_GT(v.epoch, epoch);
  auto before = v.owners;
  v = admit(v, member("d"));
  for (auto& mv : v.moves()) {
    EXPECT_EQ(mv.to, "d");  // none between the old members
    v = complete_move(v, mv.partition);
  }
  EXPECT_EQ(v.owned_by("d"), 16u);
  int moved = 0;
  for (size_t p = 0; p < before.size(); ++p) moved += before[p] != v.owners[p];
  EXPECT_EQ(moved, 16);
}

TEST(ClusterView, RestartedMemberKeepsItsPartitions) {
  auto v = admit(founding_view(member("a"), 32), member("b"));
  for (auto& mv : v.moves()) v = complete_move(v, mv.partition);
  v = mark(v, "b", member_state::down);
  EXPECT_EQ(v.find("b")->state, member_state::down);
  EXPECT_EQ(v.owned_by("b"), 16u);  // no failover
  EXPECT_TRUE(v.moves().empty());
  auto seq = v.find("b")->seq;
  v = admit(v, member("b"));
  EXPECT_EQ(v.find("b")->state, member_state::up);
  EXPECT_EQ(v.find("b")->seq, seq);
  EXPECT_TRUE(v.moves().empty());
}

TEST(ClusterView, LeaveMovesOnlyTheLeaversPartitionsThenDropsIt) {
  auto v = admit(admit(founding_view(member("a"), 30), member("b")), member("c"));
  for (auto& mv : v.moves()) v = complete_move(v, mv.partition);
  auto before = v.owners;
  v = begin_leave(v, "b");
  EXPECT_EQ(v.find("b")->state, member_state::leaving);
  EXPECT_EQ(v.coordinator(), "a");
  for (auto& mv : v.moves()) {
    EXPECT_EQ(mv.from, "b");
    v = complete_move(v, mv.partition);
  }
  EXPECT_EQ(v.find("b"), nullptr);
  for (size_t p = 0; p < before.size(); ++p)
    if (before[p] != "b") EXPECT_EQ(v.owners[p], before[p]);
  EXPECT_EQ(v.owned_by("a") + v.owned_by("c"), 30u);
}

TEST(ClusterView, CoordinatorIsTheLongestStandingMemberThatIsUp) {
  auto v = admit(admit(founding_view(member("z"), 8), member("a")), member("m"));
  EXPECT_EQ(v.coordinator(), "z");
  v = mark(v, "z", member_state::down);
  EXPECT_EQ(v.coordinator(), "a");
}

TEST(ClusterView, JsonRoundTripAndRejectsMalformed) {
  auto v = admit(founding_view(member("a"), 16), member("b"));
  auto back = cluster_view::from_json(v.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to_json(), v.to_json());
  auto j = v.to_json();
  j["owners"].erase(0);
  EXPECT_FALSE(cluster_view::from_json(j));
  EXPECT_FALSE(cluster_view::from_json(nlohmann::json::array()));
  j = v.to_json();
  j["members"][0]["state"] = "sleeping";
  EXPECT_FALSE(cluster_view::from_json(j));
}

TEST(HandoffChunk, RoundTripsPutsAndDeletes) {
  std::string blob;
  std::string binary("\x00\xff\x01", 3);
  chunk::append(blob, "k1", std::string_view("v1"));
  chunk::append(blob, binary, std::nullopt);
  chunk::append(blob, "k3", std::string_view(""));
  auto entries = chunk::decode(blob);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].key, "k1");
  EXPECT_EQ(*(*entries)[0].value, "v1");
  EXPECT_EQ((*entries)[1].key, binary);
  EXPECT_FALSE((*entries)[1].value);
  EXPECT_EQ(*(*entries)[2].value, "");
  EXPECT_TRUE(chunk::decode("")->empty());
}

TEST(HandoffChunk, RejectsTruncatedOrUnknownInput) {
  std::string blob;
  chunk::append(blob, "key", std::string_view("value"));
  for (size_t n = 1; n < blob.size(); ++n) EXPECT_FALSE(chunk::decode(blob.substr(0, n))) << n;
  EXPECT_FALSE(chunk::decode("x"));
  EXPECT_FALSE(chunk::decode(std::string("p\xff\xff\xff\xff", 5)));
}

} // namespace
} // namespace roster

namespace roster {
namespace {

TEST(ClusterView, MajorityReachable) {
  auto v = admit(admit(founding_view(member("a"), 8), member("b")), member("c"));
  auto only = [](std::set<std::string> s) { return [s](const std::string& n) { return s.count(n) > 0; }; };
  EXPECT_TRUE(majority_reachable(v, only({"a", "b", "c"})));
  EXPECT_TRUE(majority_reachable(v, only({"a", "b"})));
  EXPECT_FALSE(majority_reachable(v, only({"c"})));
  auto two = admit(founding_view(member("a"), 8), member("b"));
  EXPECT_FALSE(majority_reachable(two, only({"a"})));  // one of two is no majority
  EXPECT_TRUE(majority_reachable(founding_view(member("a"), 8), only({"a"})));
}

} // namespace
} // namespace roster

#include "cluster/handoff.h"
#include "persistence/keys.h"

namespace roster {
namespace {

TEST(HandoffReceive, ResetsThenAppliesAndRefusesForeignKeys) {
  auto inner = make_memory_store();
  fenced_store fence(*inner, 4);
  write_batch stale;
  stale.put(keys::index_entry(2, "email:old@x.y"), "old");
  stale.put(keys::index_entry(3, "email:other@x.y"), "keep");
  ASSERT_TRUE(fence.import(stale));

  std::string blob;
  chunk::append(blob, keys::index_entry(2, "email:new@x.y"), std::string_view("new"));
  auto r = receive_chunk(fence, 2, true, blob);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_FALSE(testing::stored(inner->get(keys::index_entry(2, "email:old@x.y"))));  // reset dropped the stale copy
  EXPECT_EQ(*testing::stored(inner->get(keys::index_entry(2, "email:new@x.y"))), "new");
  EXPECT_EQ(*testing::stored(inner->get(keys::index_entry(3, "email:other@x.y"))), "keep");

  std::string foreign;
  chunk::append(foreign, keys::index_entry(2, "email:a@x.y"), std::string_view("a"));
  chunk::append(foreign, keys::index_entry(3, "email:b@x.y"), std::string_view("b"));
  EXPECT_EQ(receive_chunk(fence, 2, true, foreign).err().code, errc::invalid_request);
  EXPECT_TRUE(testing::stored(inner->get(keys::index_entry(2, "email:new@x.y"))));  // refused whole, nothing reset
  EXPECT_FALSE(testing::stored(inner->get(keys::index_entry(2, "email:a@x.y"))));
  EXPECT_EQ(receive_chunk(fence, 2, false, "garbage").err().code, errc::invalid_request);

  std::string del;
  chunk::append(del, keys::index_entry(2, "email:new@x.y"), std::nullopt);
  ASSERT_TRUE(receive_chunk(fence, 2, false, del).ok());
  EXPECT_FALSE(testing::stored(inner->get(keys::index_entry(2, "email:new@x.y"))));
}

} // namespace
} // namespace roster
