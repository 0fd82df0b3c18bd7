// The wire form of the node actor's messages: a view and its members cross
// the binary serializer whole, and a member state the enum does not have is
// refused on arrival instead of misread.
#include "cluster/node_protocol.h"

#include <caf/all.hpp>
#include <gtest/gtest.h>

namespace roster {
namespace {

struct NodeWire : ::testing::Test {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};

  template <class T>
  std::vector<char> save(T x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    EXPECT_FALSE(sink(x));
    return buf;
  }
  template <class T>
  caf::error load(const std::vector<char>& buf, T& x) {
    caf::binary_deserializer source{sys, buf};
    return source(x);
  }
};

TEST_F(NodeWire, AViewUpdateRoundTrips) {
  member_info a{"a", "127.0.0.1:8080", "127.0.0.1:9090", member_state::up, 1};
  auto v = begin_leave(admit(founding_view(a, 8), {"b", "127.0.0.1:8081", "127.0.0.1:9091", member_state::up, 0}), "a");
  view_update sent{"credential", v, {node_actor_hdl{}, node_actor_hdl{}}, {gateway_hdl{}, gateway_hdl{}}};
  view_update got;
  ASSERT_FALSE(load(save(sent), got));
  EXPECT_EQ(got.credential, "credential");
  EXPECT_EQ(got.view.to_json(), v.to_json());
  EXPECT_EQ(got.view.find("a")->state, member_state::leaving);
  EXPECT_EQ(got.nodes.size(), 2u);
  EXPECT_EQ(got.gateways.size(), 2u);
}

TEST_F(NodeWire, AnUnknownMemberStateIsRefused) {
  auto buf = save(member_info{"a", "", "", member_state::leaving, 7});
  member_info got;
  ASSERT_FALSE(load(buf, got));
  EXPECT_EQ(got.state, member_state::leaving);
  auto& state = buf[buf.size() - 9];  // the byte before the 8-byte seq
  state = 1;
  ASSERT_FALSE(load(buf, got));
  EXPECT_EQ(got.state, member_state::down);
  state = 9;
  EXPECT_TRUE(load(buf, got));
}

} // namespace
} // namespace roster
