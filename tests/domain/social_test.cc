// The social graph's rule (domain/social.h): what each operation does to a
// pair, as each side sees it, and the stored forms.
#include "domain/social.h"

#include <gtest/gtest.h>

namespace roster::social {
namespace {

constexpr size_t max = 1000;

pair_state run(pair_state p, bool lo, op o, size_t count = 0, millis now = 100) {
  auto r = decide(p, lo, o, count, max, now);
  EXPECT_TRUE(r) << (r ? "" : r.err().message);
  return r ? *r : p;
}

TEST(SocialRule, InviteThenAcceptFromTheOtherSide) {
  for (bool lo : {true, false}) {
    auto p = run({}, lo, op::invite);
    EXPECT_EQ(state_for(p, lo), "invite_sent");
    EXPECT_EQ(state_for(p, !lo), "invite_received");
    EXPECT_EQ(p.version, 1u);
    EXPECT_EQ(p.updated_at, 100);
    EXPECT_TRUE(counts_for(p, lo));
    EXPECT_FALSE(counts_for(p, !lo));  // an invite received does not count
    auto f = run(p, !lo, op::invite, 0, 200);
    EXPECT_EQ(state_for(f, lo), "friend");
    EXPECT_EQ(state_for(f, !lo), "friend");
    EXPECT_EQ(f.version, 2u);
    EXPECT_TRUE(counts_for(f, lo) && counts_for(f, !lo));
  }
}

TEST(SocialRule, RepeatsChangeNothingAndKeepTheVersion) {
  auto p = run({}, true, op::invite);
  EXPECT_EQ(run(p, true, op::invite), p);
  auto f = run(p, false, op::invite);
  EXPECT_EQ(run(f, true, op::invite), f);
  EXPECT_EQ(run(f, false, op::invite), f);
  EXPECT_EQ(run({}, true, op::remove), pair_state{});
  EXPECT_EQ(run({}, true, op::unblock), pair_state{});
}

TEST(SocialRule, RemoveEndsFriendshipsAndInvitesFromEitherSide) {
  auto f = run(run({}, true, op::invite), false, op::invite);
  for (bool lo : {true, false}) {
    auto gone = run(f, lo, op::remove, 0, 300);
    EXPECT_TRUE(gone.empty());
    EXPECT_EQ(gone.version, f.version + 1);  // the tombstone keeps counting
    EXPECT_EQ(state_for(gone, lo), "");
  }
  auto inv = run({}, true, op::invite);
  EXPECT_TRUE(run(inv, true, op::remove).empty());   // cancel
  EXPECT_TRUE(run(inv, false, op::remove).empty());  // decline
}

TEST(SocialRule, ABlockEndsTheFriendshipAndStopsInvitesBothWays) {
  auto f = run(run({}, true, op::invite), false, op::invite);
  auto b = run(f, false, op::block);
  EXPECT_EQ(b.f, friendship::none);
  EXPECT_TRUE(blocks(b, false));
  EXPECT_TRUE(blocked_by(b, true));
  EXPECT_EQ(state_for(b, false), "blocked");
  EXPECT_EQ(state_for(b, true), "");  // the blocked side sees nothing
  EXPECT_FALSE(b.empty());
  for (bool lo : {true, false}) {
    auto r = decide(b, lo, op::invite, 0, max, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.err().code, errc::forbidden);
  }
  // Both may block; lifting one block leaves the other.
  auto both = run(b, true, op::block);
  auto one = run(both, false, op::unblock);
  EXPECT_TRUE(one.lo_blocks);
  EXPECT_FALSE(one.hi_blocks);
  EXPECT_EQ(decide(one, false, op::invite, 0, max, 1).err().code, errc::forbidden);
  auto none = run(one, true, op::unblock);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(state_for(run(none, false, op::invite), false), "invite_sent");
}

TEST(SocialRule, TheLimitStopsOnlyWhatWouldAddOne) {
  auto r = decide({}, true, op::invite, max, max, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::limit_reached);
  auto inv = run({}, false, op::invite);
  EXPECT_EQ(decide(inv, true, op::invite, max, max, 1).err().code, errc::limit_reached);  // accepting adds one
  EXPECT_TRUE(decide(inv, false, op::invite, max, max, 1));  // a repeat adds nothing
  EXPECT_TRUE(decide(inv, true, op::remove, max, max, 1));
  EXPECT_TRUE(decide(inv, true, op::block, max, max, 1));
}

TEST(SocialRule, HalvesAndIntentsRoundTrip) {
  half h{run({}, true, op::invite, 0, 1234), {"ann", "Ann", "https://a.example/a.png"}};
  auto back = decode_half(encode_half(h));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pair, h.pair);
  EXPECT_EQ(back->peer.username, "ann");
  EXPECT_EQ(back->peer.avatar_url, "https://a.example/a.png");
  intent in{h.pair, true};
  auto i = decode_intent(encode_intent(in));
  ASSERT_TRUE(i);
  EXPECT_EQ(i->pair, in.pair);
  EXPECT_TRUE(i->gone);
  for (auto bad : {"", "[]", "{\"f\":9}", "{\"f\":\"x\"}", "{\"f\":1,\"v\":\"x\"}", "not json"}) {
    EXPECT_FALSE(decode_half(bad)) << bad;
    EXPECT_FALSE(decode_intent(bad)) << bad;
  }
  EXPECT_FALSE(op_from(0));
  EXPECT_FALSE(op_from(5));
  EXPECT_EQ(op_from(3), op::block);
}

} // namespace
} // namespace roster::social
