// The metadata visibility rule, the per-key rules and the storage of keys
// with visibility (including records written before visibility existed).
#include "domain/metadata.h"

#include <gtest/gtest.h>

#include "domain/user.h"
#include "domain/user_codec.h"
#include "domain/user_views.h"
#include "tests/support/sample_user.h"

namespace roster {
namespace {

TEST(Metadata, MaySeeIsTheVisibilityTable) {
  struct row {
    visibility v;
    bool self, friend_, other, admin;
  };
  for (auto [v, self, fr, other, admin] : {row{visibility::public_, true, true, true, true},
                                           row{visibility::friends, true, true, false, true},
                                           row{visibility::private_, true, false, false, true},
                                           row{visibility::internal, false, false, false, true}}) {
    SCOPED_TRACE(std::string(visibility_name(v)));
    EXPECT_EQ(may_see(v, relation::self), self);
    EXPECT_EQ(may_see(v, relation::friend_), fr);
    EXPECT_EQ(may_see(v, relation::other), other);
    EXPECT_EQ(may_see(v, relation::admin), admin);
  }
}

TEST(Metadata, VisibilityNamesRoundTrip) {
  for (auto v : {visibility::public_, visibility::friends, visibility::private_, visibility::internal})
    EXPECT_EQ(visibility_from_name(visibility_name(v)), v);
  EXPECT_FALSE(visibility_from_name("Public"));
  EXPECT_FALSE(visibility_from_name(""));
}

TEST(Metadata, KeyAndValueLimits) {
  EXPECT_TRUE(check_metadata_key("level_2.x-y").empty());
  EXPECT_FALSE(check_metadata_key("").empty());
  EXPECT_FALSE(check_metadata_key("Level").empty());
  EXPECT_FALSE(check_metadata_key(std::string(65, 'a')).empty());
  EXPECT_TRUE(check_metadata_key(std::string(64, 'a')).empty());
  EXPECT_TRUE(check_metadata_value(std::string(4000, 'x')).empty());
  EXPECT_FALSE(check_metadata_value(std::string(4095, 'x')).empty());  // 4097 bytes with its quotes
}

TEST(Metadata, EachViewShowsWhatItsReaderMaySee) {
  auto u = testing::sample_user();  // level: 4, public
  ASSERT_TRUE(user_metadata_put(u, "team", "red", visibility::friends));
  ASSERT_TRUE(user_metadata_put(u, "secret", 42, visibility::private_));
  ASSERT_TRUE(internal_metadata_put(u, "risk", "high"));
  EXPECT_EQ(visible_metadata(u, relation::other), (json{{"level", 4}}));
  EXPECT_EQ(visible_metadata(u, relation::friend_), (json{{"level", 4}, {"team", "red"}}));
  EXPECT_EQ(visible_metadata(u, relation::self), (json{{"level", 4}, {"team", "red"}, {"secret", 42}}));
  std::vector<std::string> only{"team", "nope"};
  EXPECT_EQ(visible_metadata(u, relation::self, &only), (json{{"team", "red"}}));
  EXPECT_EQ(visible_metadata(u, relation::other, &only), json::object());

  EXPECT_EQ(public_view(u, false)["metadata"], (json{{"level", 4}}));
  EXPECT_EQ(own_view(u)["metadata"], (json{{"level", 4}, {"team", "red"}, {"secret", 42}}));
  EXPECT_FALSE(own_view(u).dump().find("risk") != std::string::npos);
  auto admin = admin_view(u, 0, 0);
  EXPECT_EQ(admin["internal_metadata"], (json{{"risk", "high"}}));
  EXPECT_EQ(admin["metadata_visibility"]["secret"], "private");
  EXPECT_EQ(admin["metadata_visibility"]["level"], "public");
}

TEST(Metadata, AKeyMovesBetweenVisibilitiesAndCountsOnce) {
  user_record u;
  ASSERT_TRUE(user_metadata_put(u, "k", 1, visibility::private_));
  ASSERT_TRUE(user_metadata_put(u, "k", 2, visibility::public_));
  EXPECT_EQ(user_metadata_count(u), 1u);
  EXPECT_EQ(user_metadata_get(u, "k")->vis, visibility::public_);
  EXPECT_EQ(user_metadata_get(u, "k")->value, 2);
  ASSERT_TRUE(user_metadata_put(u, "k", 3, visibility::friends));
  EXPECT_EQ(user_metadata_count(u), 1u);
  EXPECT_FALSE(u.metadata.contains("k"));
  EXPECT_TRUE(user_metadata_remove(u, "k"));
  EXPECT_FALSE(user_metadata_remove(u, "k"));
  EXPECT_FALSE(user_metadata_get(u, "k"));
}

TEST(Metadata, PerUserKeyLimitCountsEveryVisibilityButNotInternal) {
  limits l;
  l.metadata_keys_max = 3;
  user_record u;
  ASSERT_TRUE(user_metadata_put(u, "a", 1, visibility::public_, l));
  ASSERT_TRUE(user_metadata_put(u, "b", 1, visibility::friends, l));
  ASSERT_TRUE(user_metadata_put(u, "c", 1, visibility::private_, l));
  auto over = user_metadata_put(u, "d", 1, visibility::public_, l);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.err().code, errc::invalid_request);
  EXPECT_TRUE(over.err().fields.count("key"));
  EXPECT_TRUE(user_metadata_put(u, "c", 2, visibility::public_, l));  // replacing is fine
  EXPECT_TRUE(internal_metadata_put(u, "x", 1, l));
  EXPECT_EQ(user_metadata_count(u), 3u);
}

TEST(Metadata, InternalKeysAreAnotherNameSpace) {
  user_record u;
  ASSERT_TRUE(internal_metadata_put(u, "level", "admin's"));
  EXPECT_FALSE(user_metadata_get(u, "level"));  // the user cannot learn it exists
  ASSERT_TRUE(user_metadata_put(u, "level", 1, visibility::public_));
  EXPECT_FALSE(user_metadata_remove(u, "nope"));
  EXPECT_TRUE(user_metadata_remove(u, "level"));
  EXPECT_EQ(u.internal_metadata, (json{{"level", "admin's"}}));
  EXPECT_TRUE(internal_metadata_remove(u, "level"));
}

TEST(Metadata, PatchSetsPublicKeysAndNullRemovesAnyUserKey) {
  user_record u;
  ASSERT_TRUE(user_metadata_put(u, "secret", 1, visibility::private_));
  ASSERT_TRUE(internal_metadata_put(u, "note", 1));
  auto p = parse_profile_patch({{"metadata", {{"secret", nullptr}, {"level", 3}, {"note", nullptr}}}}, false);
  ASSERT_TRUE(p);
  ASSERT_TRUE(apply_profile_patch(u, *p, 1));
  EXPECT_EQ(visible_metadata(u, relation::self), (json{{"level", 3}}));
  EXPECT_EQ(u.internal_metadata, (json{{"note", 1}}));  // a user's patch never touches internal keys
  // Over the key limit: the patch fails as a whole.
  limits l;
  l.metadata_keys_max = 2;
  ASSERT_TRUE(user_metadata_put(u, "b", 1, visibility::friends, l));
  profile_patch two;
  two.metadata = json{{"c", 1}, {"d", 1}};
  auto before = u.metadata;
  auto r = apply_profile_patch(u, two, 2, l);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.err().fields.count("metadata"));
  EXPECT_EQ(u.metadata, before);
  // Removals count first: swapping a key for another at the limit is fine.
  profile_patch swap;
  swap.metadata = json{{"a_new", 1}, {"level", nullptr}};
  ASSERT_TRUE(apply_profile_patch(u, swap, 3, l));
  EXPECT_EQ(visible_metadata(u, relation::self), (json{{"a_new", 1}, {"b", 1}}));
}

// The migration rule: a record stored before visibility existed holds one
// flat "metadata" object; it opens with every key public, and its bytes are
// what this build writes for such a record (no rewrite is needed).
TEST(Metadata, OldFormatRecordOpensWithPublicKeys) {
  std::string old = R"({"avatar_url":"","created_at":1,"device_ids":[],"display_name":"Ann","email":"a@example.com",)"
                    R"("email_verified":false,"failed_logins":[],"id":"0b1e5f2c-7d4a-4c3e-9f00-112233445566","lang":"",)"
                    R"("last_login_at":0,"last_seen_at":0,"metadata":{"level":4,"title":"x"},"password_hash":"",)"
                    R"("status":"active","updated_at":1,"username":"ann"})";
  auto u = decode_user(old);
  ASSERT_TRUE(u);
  EXPECT_EQ(user_metadata_get(*u, "level")->vis, visibility::public_);
  EXPECT_EQ(user_metadata_get(*u, "title")->value, "x");
  EXPECT_EQ(visible_metadata(*u, relation::other), (json{{"level", 4}, {"title", "x"}}));
  EXPECT_TRUE(u->hidden_metadata.empty());
  EXPECT_TRUE(u->internal_metadata.empty());
  EXPECT_EQ(encode_user(*u), old);
}

TEST(Metadata, HiddenAndInternalKeysRoundTripThroughTheCodec) {
  auto u = testing::sample_user();
  ASSERT_TRUE(user_metadata_put(u, "team", "red", visibility::friends));
  ASSERT_TRUE(user_metadata_put(u, "secret", json{{"a", 1}}, visibility::private_));
  ASSERT_TRUE(internal_metadata_put(u, "risk", "high"));
  auto text = encode_user(u);
  auto back = decode_user(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(user_metadata_items(*back), user_metadata_items(u));
  EXPECT_EQ(back->internal_metadata, u.internal_metadata);
  // An older binary reads "metadata" only: it holds the public keys alone.
  EXPECT_EQ(json::parse(text)["metadata"], (json{{"level", 4}}));
}

TEST(Metadata, AnUnreadableHiddenVisibilityStaysHidden) {
  auto u = decode_user(R"({"id":"x","metadata":{},"metadata_hidden":{"k":{"value":1,"visibility":"bogus"}}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(user_metadata_get(*u, "k")->vis, visibility::private_);
  EXPECT_EQ(visible_metadata(*u, relation::other), json::object());
}

} // namespace
} // namespace roster
