// Per-key metadata with visibility over real HTTP: who sees what (stranger,
// self, admin; friends come with the social graph), internal keys, limits,
// the PATCH /v1/account path and records from before visibility.
#include <gtest/gtest.h>

#include "base/crypto.h"
#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

struct player {
  std::string id, token;
};

player make_player(const roster_server& s, const std::string& name) {
  auto r = s.register_user(name + "@example.com", name);
  EXPECT_EQ(r.status, 201) << r.raw;
  return {r.body["user"]["id"], r.body["session"]["token"]};
}

/// Ann has one key of each visibility (and an admin's internal one).
void give_keys(const roster_server& s, const player& ann) {
  ASSERT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/level", {{"value", 7}}).status, 200);
  ASSERT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/team", {{"value", "red"}, {"visibility", "friends"}}).status, 200);
  ASSERT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/notes", {{"value", {{"a", 1}}}, {"visibility", "private"}}).status,
            200);
  ASSERT_EQ(s.admin("PUT", "/v1/admin/users/" + ann.id + "/metadata/risk", {{"value", "low"}}).status, 200);
}

TEST(Metadata, PutGetDeleteOwnKey) {
  roster_server s;
  auto ann = make_player(s, "ann");
  auto put = s.as(ann.token, "PUT", "/v1/account/metadata/team", {{"value", "red"}, {"visibility", "private"}});
  ASSERT_EQ(put.status, 200) << put.raw;
  EXPECT_EQ(put.body, (json{{"key", "team"}, {"value", "red"}, {"visibility", "private"}}));
  auto got = s.as(ann.token, "GET", "/v1/account/metadata/team");
  ASSERT_EQ(got.status, 200) << got.raw;
  EXPECT_EQ(got.body["visibility"], "private");
  // Default visibility: public; a PUT replaces value and visibility.
  ASSERT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/team", {{"value", "blue"}}).status, 200);
  EXPECT_EQ(s.as(ann.token, "GET", "/v1/account/metadata/team").body,
            (json{{"key", "team"}, {"value", "blue"}, {"visibility", "public"}}));
  auto all = s.as(ann.token, "GET", "/v1/account/metadata");
  ASSERT_EQ(all.status, 200) << all.raw;
  EXPECT_EQ(all.body["items"].size(), 1u);
  EXPECT_TRUE(all.body["next_cursor"].is_null());
  EXPECT_EQ(s.as(ann.token, "DELETE", "/v1/account/metadata/team").status, 204);
  EXPECT_EQ(s.as(ann.token, "GET", "/v1/account/metadata/team").status, 404);
  EXPECT_EQ(s.as(ann.token, "DELETE", "/v1/account/metadata/team").status, 404);
}

TEST(Metadata, EachCallerSeesWhatTheRuleAllows) {
  roster_server s;
  auto ann = make_player(s, "ann");
  auto bob = make_player(s, "bob");
  give_keys(s, ann);
  auto path = "/v1/users/" + ann.id + "/metadata";

  // A stranger, signed in or not: public keys only.
  auto anon = s.call("GET", path);
  ASSERT_EQ(anon.status, 200) << anon.raw;
  EXPECT_EQ(anon.body, (json{{"user_id", ann.id}, {"metadata", {{"level", 7}}}}));
  EXPECT_EQ(s.as(bob.token, "GET", path).body["metadata"], (json{{"level", 7}}));
  // Self: every key of theirs, never the internal one.
  EXPECT_EQ(s.as(ann.token, "GET", path).body["metadata"],
            (json{{"level", 7}, {"notes", {{"a", 1}}}, {"team", "red"}}));
  // A friend: public and friends keys, not private ones. An invite is not
  // enough, and the friendship ending takes them away again.
  ASSERT_EQ(s.as(bob.token, "POST", "/v1/friends/" + ann.id).status, 200);
  EXPECT_EQ(s.as(bob.token, "GET", path).body["metadata"], (json{{"level", 7}}));
  ASSERT_EQ(s.as(ann.token, "POST", "/v1/friends/" + bob.id).body["state"], "friend");
  EXPECT_EQ(s.as(bob.token, "GET", path).body["metadata"], (json{{"level", 7}, {"team", "red"}}));
  EXPECT_EQ(s.as(bob.token, "GET", "/v1/metadata?user_ids=" + ann.id).body["items"][0]["metadata"],
            (json{{"level", 7}, {"team", "red"}}));
  ASSERT_EQ(s.as(bob.token, "DELETE", "/v1/friends/" + ann.id).status, 204);
  EXPECT_EQ(s.as(bob.token, "GET", path).body["metadata"], (json{{"level", 7}}));

  // Public profiles show public keys only; the own account every own key.
  EXPECT_EQ(s.call("GET", "/v1/users/" + ann.id).body["metadata"], (json{{"level", 7}}));
  EXPECT_EQ(s.call("GET", "/v1/users?ids=" + ann.id).body["items"][0]["metadata"], (json{{"level", 7}}));
  auto me = s.as(ann.token, "GET", "/v1/account");
  EXPECT_EQ(me.body["metadata"], (json{{"level", 7}, {"notes", {{"a", 1}}}, {"team", "red"}}));
  EXPECT_EQ(me.raw.find("risk"), std::string::npos);

  // Admin: every key, with visibilities, and the internal ones apart.
  auto admin = s.admin("GET", "/v1/admin/users/" + ann.id);
  ASSERT_EQ(admin.status, 200) << admin.raw;
  EXPECT_EQ(admin.body["metadata"].size(), 3u);
  EXPECT_EQ(admin.body["metadata_visibility"]["team"], "friends");
  EXPECT_EQ(admin.body["internal_metadata"], (json{{"risk", "low"}}));

  // A bad token is 401, not a stranger's view.
  EXPECT_EQ(s.as("not-a-token", "GET", path).status, 401);
  EXPECT_EQ(s.call("GET", "/v1/users/00000000-0000-4000-8000-000000000000/metadata").status, 404);
}

TEST(Metadata, InternalKeysStayHiddenFromTheUser) {
  roster_server s;
  auto ann = make_player(s, "ann");
  give_keys(s, ann);
  EXPECT_EQ(s.as(ann.token, "GET", "/v1/account/metadata/risk").status, 404);
  auto logs = s.as(ann.token, "GET", "/v1/account/logs?limit=200");
  ASSERT_EQ(logs.status, 200) << logs.raw;
  EXPECT_EQ(logs.raw.find("risk"), std::string::npos) << logs.raw;  // the admin's change left no trace there
  EXPECT_NE(logs.raw.find("metadata_set"), std::string::npos) << logs.raw;  // the user's own changes do
  auto all = s.as(ann.token, "GET", "/v1/account/metadata");
  EXPECT_EQ(all.raw.find("risk"), std::string::npos) << all.raw;
  // The user can neither set an internal key nor touch the admin's: their
  // own key of that name is another key.
  auto internal = s.as(ann.token, "PUT", "/v1/account/metadata/risk", {{"value", 1}, {"visibility", "internal"}});
  EXPECT_EQ(internal.status, 400);
  EXPECT_TRUE(internal.body["error"]["fields"].contains("visibility"));
  EXPECT_EQ(s.as(ann.token, "DELETE", "/v1/account/metadata/risk").status, 404);
  ASSERT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/risk", {{"value", "mine"}}).status, 200);
  EXPECT_EQ(s.as(ann.token, "PATCH", "/v1/account", {{"metadata", {{"risk", nullptr}}}}).status, 200);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + ann.id).body["internal_metadata"], (json{{"risk", "low"}}));
  // Admin-only routes need the admin key; visibility there can only be internal.
  EXPECT_EQ(s.call("PUT", "/v1/admin/users/" + ann.id + "/metadata/x", {{"value", 1}}).status, 401);
  EXPECT_EQ(s.admin("PUT", "/v1/admin/users/" + ann.id + "/metadata/x", {{"value", 1}, {"visibility", "public"}}).status,
            400);
  EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + ann.id + "/metadata/risk").status, 204);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + ann.id).body["internal_metadata"], json::object());
}

TEST(Metadata, BatchReadOmitsHiddenAndUnknown) {
  roster_server s;
  auto ann = make_player(s, "ann");
  auto bob = make_player(s, "bob");
  give_keys(s, ann);
  ASSERT_EQ(s.as(bob.token, "PUT", "/v1/account/metadata/level", {{"value", 2}}).status, 200);
  std::string ids = ann.id + ",00000000-0000-4000-8000-000000000000,not-a-uuid," + bob.id;
  auto r = s.call("GET", "/v1/metadata?user_ids=" + ids + "&keys=level,team,nope,risk");
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["items"].size(), 2u) << r.raw;
  EXPECT_EQ(r.body["items"][0], (json{{"user_id", ann.id}, {"metadata", {{"level", 7}}}}));
  EXPECT_EQ(r.body["items"][1], (json{{"user_id", bob.id}, {"metadata", {{"level", 2}}}}));
  // As ann: her own friends key shows, bob's keys as a stranger's.
  auto mine = s.as(ann.token, "GET", "/v1/metadata?user_ids=" + ann.id + "," + bob.id + "&keys=team");
  EXPECT_EQ(mine.body["items"][0]["metadata"], (json{{"team", "red"}}));
  EXPECT_EQ(mine.body["items"][1]["metadata"], json::object());
  // Limits on the query.
  EXPECT_EQ(s.call("GET", "/v1/metadata").status, 400);
  EXPECT_EQ(s.call("GET", "/v1/metadata?user_ids=" + ann.id + "&keys=BAD").status, 400);
  std::string many;
  for (int i = 0; i < 101; ++i) many += (i ? "," : "") + ann.id;
  auto over = s.call("GET", "/v1/metadata?user_ids=" + many);
  EXPECT_EQ(over.status, 400);
  EXPECT_TRUE(over.body["error"]["fields"].contains("user_ids"));
}

TEST(Metadata, LimitsAre400) {
  roster_server s;
  auto ann = make_player(s, "ann");
  auto bad_key = s.as(ann.token, "PUT", "/v1/account/metadata/Not.Lower", {{"value", 1}});
  EXPECT_EQ(bad_key.status, 400);
  EXPECT_TRUE(bad_key.body["error"]["fields"].contains("key"));
  EXPECT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/" + std::string(65, 'k'), {{"value", 1}}).status, 400);
  auto big = s.as(ann.token, "PUT", "/v1/account/metadata/big", {{"value", std::string(5000, 'x')}});
  EXPECT_EQ(big.status, 400);
  EXPECT_TRUE(big.body["error"]["fields"].contains("value"));
  EXPECT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/k", {{"value", nullptr}}).status, 400);
  EXPECT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/k", {{"value", 1}, {"visibility", "everyone"}}).status, 400);
  EXPECT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/k", {{"value", 1}, {"colour", "red"}}).status, 400);
  // 64 keys per user, whatever their visibility.
  for (int i = 0; i < 64; ++i)
    ASSERT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/k" + std::to_string(i),
                   {{"value", i}, {"visibility", i % 2 ? "private" : "public"}})
                  .status,
              200);
  auto over = s.as(ann.token, "PUT", "/v1/account/metadata/one_more", {{"value", 1}});
  EXPECT_EQ(over.status, 400) << over.raw;
  EXPECT_TRUE(over.body["error"]["fields"].contains("key"));
  EXPECT_EQ(s.as(ann.token, "PATCH", "/v1/account", {{"metadata", {{"one_more", 1}}}}).status, 400);
  EXPECT_EQ(s.as(ann.token, "PUT", "/v1/account/metadata/k1", {{"value", "replaced"}}).status, 200);
}

// PATCH /v1/account {metadata} and registration write public keys in the
// record's flat `metadata` object, the form of every record written before
// visibility existed (tests/domain/metadata_test.cc checks those bytes): a
// data dir keeps them, as public keys, across a restart.
TEST(Metadata, FlatMetadataFromBeforeVisibilityStaysPublicAcrossARestart) {
  roster_server s;
  auto r = s.call("POST", "/v1/accounts",
                  {{"email", "old@example.com"}, {"password", "correct-horse-9"}, {"metadata", {{"level", 3}}}});
  ASSERT_EQ(r.status, 201) << r.raw;
  std::string id = r.body["user"]["id"], token = r.body["session"]["token"];
  ASSERT_EQ(s.as(token, "PATCH", "/v1/account", {{"metadata", {{"title", "Knight"}}}}).status, 200);
  ASSERT_EQ(s.as(token, "PUT", "/v1/account/metadata/secret", {{"value", 1}, {"visibility", "private"}}).status, 200);
  s.stop();
  s.start();
  EXPECT_EQ(s.call("GET", "/v1/users/" + id).body["metadata"], (json{{"level", 3}, {"title", "Knight"}}));
  auto level = s.as(token, "GET", "/v1/account/metadata/level");
  ASSERT_EQ(level.status, 200) << level.raw;
  EXPECT_EQ(level.body["visibility"], "public");
  EXPECT_EQ(s.as(token, "GET", "/v1/account/metadata/secret").body["visibility"], "private");
  // PATCH sets public keys (a private key named in it becomes public) and null removes.
  ASSERT_EQ(s.as(token, "PATCH", "/v1/account", {{"metadata", {{"secret", 2}, {"level", nullptr}}}}).status, 200);
  EXPECT_EQ(s.call("GET", "/v1/users/" + id).body["metadata"], (json{{"secret", 2}, {"title", "Knight"}}));
}

// -- GET /v1/users/search ------------------------------------------------------------

/// Every page of a search, following next_cursor; the usernames in order.
std::vector<std::string> all_pages(const roster_server& s, const std::string& q, int limit) {
  std::vector<std::string> names;
  std::string cursor;
  for (int i = 0; i < 50; ++i) {
    auto r = s.call("GET", "/v1/users/search?q=" + q + "&limit=" + std::to_string(limit) +
                               (cursor.empty() ? "" : "&cursor=" + cursor));
    EXPECT_EQ(r.status, 200) << r.raw;
    if (r.status != 200) break;
    EXPECT_LE(r.body["items"].size(), static_cast<size_t>(limit));
    for (auto& item : r.body["items"]) names.push_back(item["username"]);
    if (r.body["next_cursor"].is_null()) break;
    cursor = r.body["next_cursor"];
  }
  return names;
}

TEST(UserSearch, PrefixFoldedLikeTagsPaginatedWithoutEmails) {
  roster_server s;
  for (auto* name : {"Tk421", "tk_500", "tkarl", "Bob", "tkz", "t.k.ai"}) make_player(s, name);
  auto r = s.call("GET", "/v1/users/search?q=TK");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.body["next_cursor"].is_null());
  EXPECT_EQ(r.body["partial"], false);
  // Sorted by tag: tk421 → tk42l, tk_500 → tksoo, tkarl, t.k.ai → tkal, tkz.
  std::vector<std::string> names;
  for (auto& item : r.body["items"]) {
    names.push_back(item["username"]);
    EXPECT_FALSE(item.contains("email")) << item.dump();
    EXPECT_TRUE(item.contains("display_name"));
    EXPECT_TRUE(item.contains("metadata"));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Tk421", "t.k.ai", "tkarl", "tk_500", "tkz"}));
  EXPECT_EQ(r.raw.find("@example.com"), std::string::npos);
  // The query folds like a tag: "T-K4" and "tk4" find Tk421; "tki" finds "tkl..." (i → l).
  EXPECT_EQ(s.call("GET", "/v1/users/search?q=T-K4").body["items"].size(), 1u);
  EXPECT_EQ(s.call("GET", "/v1/users/search?q=tk42i").body["items"][0]["username"], "Tk421");
  EXPECT_EQ(s.call("GET", "/v1/users/search?q=zz").body["items"].size(), 0u);
  // Pages of two follow each other without gaps or repeats.
  EXPECT_EQ(all_pages(s, "tk", 2), names);
  EXPECT_EQ(all_pages(s, "tk", 1), names);
}

TEST(UserSearch, BadQueriesAre400AndSearchesAreRateLimited) {
  roster_server s(env{{"ROSTER_LIMITS_USERNAME_LOOKUPS_PER_MINUTE", "5"}});
  for (auto* q : {"", "a", "a_", "an%20n", "ann!"}) {
    auto r = s.call("GET", std::string("/v1/users/search?q=") + q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.raw;
    EXPECT_TRUE(r.body["error"]["fields"].contains("q")) << r.raw;
  }
  auto r = s.call("GET", "/v1/users/search?q=an&limit=0");
  EXPECT_EQ(r.status, 429);  // the budget of 5 is spent by the five above
  EXPECT_FALSE(r.header("Retry-After").empty());
}

TEST(UserSearch, CursorMustBelongToTheSearch) {
  roster_server s;
  make_player(s, "ann1");
  make_player(s, "ann2");
  auto first = s.call("GET", "/v1/users/search?q=ann&limit=1");
  ASSERT_EQ(first.status, 200) << first.raw;
  ASSERT_TRUE(first.body["next_cursor"].is_string()) << first.raw;
  std::string cursor = first.body["next_cursor"];
  EXPECT_EQ(s.call("GET", "/v1/users/search?q=bob&cursor=" + cursor).status, 400);
  EXPECT_EQ(s.call("GET", "/v1/users/search?q=ann&cursor=!!").status, 400);
  // Of the query's prefix, but not a tag this search could hand out.
  for (std::string not_a_tag : {std::string("ann\0", 4), std::string("ann\n"), "ann" + std::string(90, '\xff'), std::string("annA")}) {
    auto r = s.call("GET", "/v1/users/search?q=ann&cursor=" + roster::base64url_encode(not_a_tag));
    EXPECT_EQ(r.status, 400) << r.raw;
    EXPECT_TRUE(r.body["error"]["fields"].contains("cursor")) << r.raw;
  }
  EXPECT_EQ(s.call("GET", "/v1/users/search?q=ann&limit=201").status, 400);
  auto second = s.call("GET", "/v1/users/search?q=ann&limit=1&cursor=" + cursor);
  ASSERT_EQ(second.status, 200) << second.raw;
  // By tag: "ann2" sorts before "annl" (ann1 folded).
  EXPECT_EQ(first.body["items"][0]["username"], "ann2");
  EXPECT_EQ(second.body["items"][0]["username"], "ann1");
  EXPECT_TRUE(second.body["next_cursor"].is_null());
}

} // namespace
