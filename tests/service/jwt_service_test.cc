// service/jwt_service.h against a fake router whose "index actor" keeps one
// key set for every node (jwt::maintain in its turn, like on_jwt_keyset):
// nodes share keys, a rotation reaches a node that has not refreshed yet
// through the unknown-kid refetch, verified tokens are remembered.
#include "service/jwt_service.h"

#include <gtest/gtest.h>

#include "base/crypto.h"
#include "domain/session_book.h"

using namespace roster;

namespace {

constexpr millis t0 = 1'800'000'000'000;
const std::string uid = "0b0f9c7e-2c55-4d0e-9a54-7f3f0a1c2d3e";
const std::string sid = "5a1e2f3d-9c8b-4a7f-8e6d-1c2b3a4f5e6d";

/// One shared key set, as the index partition of "jwt:keys" keeps it.
struct fake_index : router_port {
  jwt::key_set set;
  millis now = t0;
  int calls = 0;
  bool down = false;
  result<user_reply> send_user(std::string_view, user_op, std::string, const client_info&) override {
    return make_error(errc::internal, "not used");
  }
  result<index_reply> call_index(index_op op) override {
    ++calls;
    if (down) return make_error(errc::partition_unavailable, "down");
    auto* k = std::get_if<jwt_keyset>(&op);
    if (!k || k->key != jwt_keyset_key) return make_error(errc::internal, "unexpected op");
    jwt::rotation_rules r;
    r.ttl = k->ttl;
    jwt::maintain(set, now, r, k->rotate);
    return index_reply{{}, jwt::encode_key_set(set)};
  }
};

jwt_service::options opts(millis refresh = 60'000) {
  jwt_service::options o;
  o.ttl = 15 * 60'000;
  o.refresh = refresh;
  return o;
}

std::string kid_of(const std::string& token) {
  auto h = nlohmann::json::parse(*base64url_decode(token.substr(0, token.find('.'))));
  return h["kid"];
}

}  // namespace

TEST(JwtService, NodesShareOneKeySetAndVerifyEachOthersTokens) {
  fake_index idx;
  jwt_service a(idx, opts()), b(idx, opts());
  auto ja = a.jwks(t0), jb = b.jwks(t0);
  ASSERT_TRUE(ja && jb);
  EXPECT_EQ(*ja, *jb);
  EXPECT_EQ(idx.set.keys.size(), 1u);
  EXPECT_EQ(ja->find("\"d\""), std::string::npos);  // never a private key
  auto m = a.mint(uid, sid, t0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->expires_at, (t0 / 1000 + 900) * 1000);
  auto v = b.verify(m->token, t0 + 1000);
  ASSERT_TRUE(v) << v.err().message;
  EXPECT_EQ(v->uid16, *uuid_from_string(uid));
  EXPECT_EQ(v->session_key, jwt_session_key(sid));
}

TEST(JwtService, VerifiedTokensAreRememberedUntilTheyExpire) {
  fake_index idx;
  jwt_service a(idx, opts());
  auto m = a.mint(uid, sid, t0);
  ASSERT_TRUE(m);
  ASSERT_TRUE(a.verify(m->token, t0));
  idx.down = true;  // a remembered token needs nothing from the store
  EXPECT_TRUE(a.verify(m->token, t0 + 10'000));
  auto late = a.verify(m->token, t0 + 900'000 + jwt::leeway_s * 1000);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.err().code, errc::session_expired);
}

TEST(JwtService, BadTokensAreUnauthorized) {
  fake_index idx;
  jwt_service a(idx, opts());
  auto m = a.mint(uid, sid, t0);
  ASSERT_TRUE(m);
  auto t = m->token;
  auto tampered = t;
  tampered[t.rfind('.') + 5] = tampered[t.rfind('.') + 5] == 'A' ? 'B' : 'A';
  auto none = base64url_encode(R"({"alg":"none","typ":"JWT"})") + t.substr(t.find('.'), t.rfind('.') - t.find('.')) + ".";
  for (auto& bad : {tampered, none, std::string("x.y.z"), std::string("nonsense")}) {
    auto v = a.verify(bad, t0);
    ASSERT_FALSE(v) << bad;
    EXPECT_EQ(v.err().code, errc::unauthorized) << bad;
  }
}

TEST(JwtService, ARotationReachesANodeThroughTheUnknownKidRefetch) {
  fake_index idx;
  millis hour = 3600'000;
  jwt_service a(idx, opts(hour)), b(idx, opts(hour));  // no periodic refresh within the test
  auto before = a.mint(uid, sid, t0);
  ASSERT_TRUE(before);
  ASSERT_TRUE(b.verify(before->token, t0));
  idx.now = t0 + 1000;
  auto rotated = a.rotate(t0 + 1000);
  ASSERT_TRUE(rotated);
  EXPECT_EQ(idx.set.keys.size(), 2u);
  // After publish_ahead, node a signs with the next key; b has never seen it.
  millis later = t0 + 1000 + jwt::rotation_rules{}.publish_ahead + 1000;
  idx.now = later;
  auto after = a.mint(uid, sid, later);
  ASSERT_TRUE(after);
  EXPECT_NE(kid_of(after->token), kid_of(before->token));
  int calls = idx.calls;
  auto v = b.verify(after->token, later);
  ASSERT_TRUE(v) << v.err().message;
  EXPECT_EQ(idx.calls, calls + 1);
  // The old key's token still verifies on both (fresh copies, not the cache).
  jwt_service c(idx, opts(hour));
  EXPECT_TRUE(c.verify(before->token, later));
  // An unknown kid asks again at most once a second.
  auto forged = base64url_encode(R"({"alg":"EdDSA","typ":"JWT","kid":"nope"})") +
                after->token.substr(after->token.find('.'));
  calls = idx.calls;
  EXPECT_FALSE(b.verify(forged, later + 2000));
  EXPECT_FALSE(b.verify(forged, later + 2100));
  EXPECT_FALSE(b.verify(forged, later + 2200));
  EXPECT_EQ(idx.calls, calls + 1);
}

TEST(JwtService, AStoreThatDoesNotAnswerKeepsTheKeysWeHave) {
  fake_index idx;
  jwt_service a(idx, opts());
  idx.down = true;
  auto none = a.jwks(t0);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.err().code, errc::partition_unavailable);
  idx.down = false;
  auto first = a.jwks(t0);
  ASSERT_TRUE(first);
  idx.down = true;
  auto stale = a.jwks(t0 + 120'000);  // due for a refresh that fails: the old set is served
  ASSERT_TRUE(stale);
  EXPECT_EQ(*stale, *first);
  EXPECT_TRUE(a.mint(uid, sid, t0 + 120'000));
}
