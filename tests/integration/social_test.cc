// Friends and blocks over HTTP on one node (issue 12 item 3, SPEC §4):
// every endpoint and error, both halves of each pair, deletion. The cluster
// cases (owners on different nodes, a node killed while a change waits for
// it) are in cluster_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

struct player {
  std::string id, token;
};

player guest(const roster_server& s) {
  auto r = s.call("POST", "/v1/sessions/anonymous");
  EXPECT_EQ(r.status, 201) << r.raw;
  return {r.body["user"]["id"], r.body["session"]["token"]};
}

/// The state `me` sees of `other` in GET /v1/friends ("" when not listed).
std::string state_of(const roster_server& s, const player& me, const player& other) {
  auto r = s.as(me.token, "GET", "/v1/friends");
  EXPECT_EQ(r.status, 200) << r.raw;
  for (auto& i : r.body["items"])
    if (i["user"]["id"] == other.id) return i["state"];
  return "";
}

/// Waits (up to 3 s) until `me` sees `want` for `other`: the other half of a
/// pair is written a moment after the initiator's answer at most.
std::string eventually(const roster_server& s, const player& me, const player& other, const std::string& want) {
  std::string got;
  for (int i = 0; i < 60; ++i) {
    got = state_of(s, me, other);
    if (got == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return got;
}

TEST(Social, InviteAcceptRemoveFromBothSides) {
  roster_server s;
  auto a = guest(s), b = guest(s);
  auto sent = s.as(a.token, "POST", "/v1/friends/" + b.id);
  ASSERT_EQ(sent.status, 200) << sent.raw;
  EXPECT_EQ(sent.body["state"], "invite_sent");
  EXPECT_EQ(sent.body["user"]["id"], b.id);
  EXPECT_EQ(eventually(s, b, a, "invite_received"), "invite_received");
  // Sending again changes nothing.
  EXPECT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).body["state"], "invite_sent");
  auto accepted = s.as(b.token, "POST", "/v1/friends/" + a.id);
  ASSERT_EQ(accepted.status, 200) << accepted.raw;
  EXPECT_EQ(accepted.body["state"], "friend");
  EXPECT_EQ(eventually(s, a, b, "friend"), "friend");
  auto friends = s.as(a.token, "GET", "/v1/friends?state=friend");
  ASSERT_EQ(friends.body["items"].size(), 1u) << friends.raw;
  EXPECT_EQ(s.as(a.token, "GET", "/v1/friends?state=invite_sent").body["items"].size(), 0u);
  EXPECT_EQ(s.as(b.token, "DELETE", "/v1/friends/" + a.id).status, 204);
  EXPECT_EQ(eventually(s, a, b, ""), "");
  EXPECT_EQ(state_of(s, b, a), "");
}

TEST(Social, MutualInvitesMakeFriendsAndDeclineOrCancelEndInvites) {
  roster_server s;
  auto a = guest(s), b = guest(s), c = guest(s);
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 200);
  ASSERT_EQ(s.as(b.token, "POST", "/v1/friends/" + a.id).body["state"], "friend");
  // c invites a; a declines. a invites c; a cancels.
  ASSERT_EQ(s.as(c.token, "POST", "/v1/friends/" + a.id).status, 200);
  EXPECT_EQ(eventually(s, a, c, "invite_received"), "invite_received");
  EXPECT_EQ(s.as(a.token, "DELETE", "/v1/friends/" + c.id).status, 204);
  EXPECT_EQ(eventually(s, c, a, ""), "");
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + c.id).status, 200);
  EXPECT_EQ(s.as(a.token, "DELETE", "/v1/friends/" + c.id).status, 204);
  EXPECT_EQ(eventually(s, c, a, ""), "");
}

TEST(Social, ABlockEndsTheFriendshipAndStopsInvites) {
  roster_server s;
  auto a = guest(s), b = guest(s);
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 200);
  ASSERT_EQ(s.as(b.token, "POST", "/v1/friends/" + a.id).status, 200);
  auto blocked = s.as(b.token, "POST", "/v1/blocks/" + a.id);
  ASSERT_EQ(blocked.status, 200) << blocked.raw;
  EXPECT_EQ(blocked.body["state"], "blocked");
  // a no longer sees b at all; b sees the block only.
  EXPECT_EQ(eventually(s, a, b, ""), "");
  EXPECT_EQ(state_of(s, b, a), "blocked");
  auto blocks = s.as(b.token, "GET", "/v1/blocks");
  ASSERT_EQ(blocks.body["items"].size(), 1u) << blocks.raw;
  EXPECT_EQ(blocks.body["items"][0]["user"]["id"], a.id);
  EXPECT_EQ(s.as(a.token, "GET", "/v1/blocks").body["items"].size(), 0u);
  auto refused = s.as(a.token, "POST", "/v1/friends/" + b.id);
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(refused.body["error"]["code"], "forbidden");
  // The blocker cannot invite either, until it unblocks.
  EXPECT_EQ(s.as(b.token, "POST", "/v1/friends/" + a.id).status, 403);
  EXPECT_EQ(s.as(b.token, "DELETE", "/v1/blocks/" + a.id).status, 204);
  EXPECT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 200);
}

TEST(Social, BadTargetsAndMissingSessions) {
  roster_server s;
  auto a = guest(s);
  auto self = s.as(a.token, "POST", "/v1/friends/" + a.id);
  EXPECT_EQ(self.status, 400) << self.raw;
  EXPECT_TRUE(self.body["error"]["fields"].contains("user_id")) << self.raw;
  EXPECT_EQ(s.as(a.token, "POST", "/v1/blocks/" + a.id).status, 400);
  for (auto id : {"00000000-0000-4000-8000-000000000000", "ffffffff-ffff-4fff-8fff-ffffffffffff"}) {
    EXPECT_EQ(s.as(a.token, "POST", std::string("/v1/friends/") + id).status, 404) << id;
    EXPECT_EQ(s.as(a.token, "POST", std::string("/v1/blocks/") + id).status, 404) << id;
    EXPECT_EQ(s.as(a.token, "DELETE", std::string("/v1/friends/") + id).status, 404) << id;
  }
  EXPECT_EQ(s.as(a.token, "POST", "/v1/friends/not-a-uuid").status, 404);
  EXPECT_EQ(s.call("POST", "/v1/friends/" + a.id).status, 401);
  EXPECT_EQ(s.call("GET", "/v1/blocks").status, 401);
  EXPECT_EQ(s.call("GET", "/v1/friends?state=enemy").status, 401);  // who asks comes first
  EXPECT_EQ(s.as(a.token, "GET", "/v1/friends?state=enemy").status, 400);
  EXPECT_EQ(s.as(a.token, "GET", "/v1/friends?limit=0").status, 400);
  EXPECT_EQ(s.as(a.token, "GET", "/v1/friends?cursor=zz%21").status, 400);
}

// An invite or a block to an id of nobody answers 404 and writes nothing:
// no half, no intent, no security-log entry. (The highest id makes the
// caller the pair's owner, which decides and writes; the lowest makes it the
// one that asks the owner.)
TEST(Social, AnInviteOrBlockToNobodyWritesNothing) {
  roster_server s;
  auto a = guest(s);
  auto logs = [&] {
    auto r = s.as(a.token, "GET", "/v1/account/logs?limit=200");
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body["items"];
  };
  auto before = logs();
  for (auto id : {"ffffffff-ffff-4fff-8fff-ffffffffffff", "00000000-0000-4000-8000-000000000000"})
    for (auto path : {"/v1/friends/", "/v1/blocks/"}) {
      EXPECT_EQ(s.as(a.token, "POST", std::string(path) + id).status, 404) << path << id;
      EXPECT_EQ(s.as(a.token, "DELETE", std::string(path) + id).status, 404) << path << id;
    }
  EXPECT_EQ(logs(), before);
  EXPECT_EQ(s.as(a.token, "GET", "/v1/friends").body["items"].size(), 0u);
  EXPECT_EQ(s.as(a.token, "GET", "/v1/blocks").body["items"].size(), 0u);
  // Nothing was kept as "gone" either: the same ids answer the same again.
  EXPECT_EQ(s.as(a.token, "POST", "/v1/blocks/ffffffff-ffff-4fff-8fff-ffffffffffff").status, 404);
  EXPECT_EQ(logs(), before);
}

TEST(Social, TheFriendLimitCountsFriendsAndSentInvites) {
  roster_server s(env{{"ROSTER_SOCIAL_MAX_FRIENDS", "2"}});
  auto a = guest(s), b = guest(s), c = guest(s), d = guest(s);
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 200);
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + c.id).status, 200);
  auto over = s.as(a.token, "POST", "/v1/friends/" + d.id);
  EXPECT_EQ(over.status, 409) << over.raw;
  EXPECT_EQ(over.body["error"]["code"], "limit_reached");
  // Invites received do not count: d can still invite a, but a cannot accept.
  ASSERT_EQ(s.as(d.token, "POST", "/v1/friends/" + a.id).status, 200);
  EXPECT_EQ(s.as(a.token, "POST", "/v1/friends/" + d.id).status, 409);
  // Cancelling one makes room.
  EXPECT_EQ(s.as(a.token, "DELETE", "/v1/friends/" + c.id).status, 204);
  EXPECT_EQ(s.as(a.token, "POST", "/v1/friends/" + d.id).body["state"], "friend");
}

TEST(Social, PagesAreOrderedAndComplete) {
  roster_server s;
  auto a = guest(s);
  std::set<std::string> invited;
  for (int i = 0; i < 7; ++i) {
    auto p = guest(s);
    ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + p.id).status, 200);
    invited.insert(p.id);
  }
  std::set<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto r = s.as(a.token, "GET", "/v1/friends?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_LE(r.body["items"].size(), 3u);
    for (auto& i : r.body["items"]) EXPECT_TRUE(seen.insert(i["user"]["id"]).second) << "listed twice";
    if (r.body["next_cursor"].is_null()) break;
    cursor = r.body["next_cursor"];
  }
  EXPECT_EQ(seen, invited);
}

TEST(Social, DeletingAnAccountRemovesItFromTheOtherSide) {
  roster_server s;
  auto a = guest(s), b = guest(s), c = guest(s);
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 200);
  ASSERT_EQ(s.as(b.token, "POST", "/v1/friends/" + a.id).status, 200);
  ASSERT_EQ(s.as(c.token, "POST", "/v1/friends/" + b.id).status, 200);
  ASSERT_EQ(s.as(b.token, "DELETE", "/v1/account").status, 204);
  EXPECT_EQ(eventually(s, a, b, ""), "");
  EXPECT_EQ(eventually(s, c, b, ""), "");
  EXPECT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 404);
}

TEST(Social, PairsSurviveARestart) {
  roster_server s;
  auto a = guest(s), b = guest(s);
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 200);
  ASSERT_EQ(s.as(b.token, "POST", "/v1/friends/" + a.id).status, 200);
  EXPECT_EQ(eventually(s, a, b, "friend"), "friend");
  s.kill9();
  s.start();
  EXPECT_EQ(state_of(s, a, b), "friend");
  EXPECT_EQ(state_of(s, b, a), "friend");
}

} // namespace
