// The actors behind the router, on a real CAF actor system (real threads) with
// the in-memory store: concurrency (claims racing, requests across many
// passivations), the index protocol and its repair, the fence, failing reads.
// Message order on its own is tested deterministically in actor_order_test.cc.
#include <gtest/gtest.h>

#include "tests/support/stored.h"

#include <atomic>
#include <filesystem>
#include <unistd.h>
#include <thread>

#include "cluster/membership.h"
#include "cluster/operator_views.h"
#include "cluster/router.h"
#include "cluster/runtime.h"
#include "service/accounts.h"
#include "base/crypto.h"
#include "base/siphash.h"
#include "domain/social.h"
#include "domain/user_codec.h"
#include "persistence/keys.h"
#include <caf/all.hpp>

#include "actors/moderation/moderation_actor.h"
#include "actors/notify/notify_actor.h"
#include "domain/outbox.h"
#include "actors/partition/partition_host.h"
#include "domain/moderation.h"
#include "actors/wire.h"
#include "cluster/node_protocol.h"
#include "persistence/fenced_store.h"

namespace roster {
namespace {

using nlohmann::json;

node_config small_config() {
  node_config c;
  c.cluster.partitions = 8;
  c.admin.keys = {"test-admin-key-0123456789"};
  c.actors.idle_passivation = 200;
  c.auth.argon2_memory_kib = 64;  // fast hashes: these tests are about actors
  c.auth.argon2_iterations = 1;
  return c;
}

/// One single node, wired as main.cc wires it.
struct single_node {
  node_runtime runtime;
  membership members{runtime};
  router route{runtime};
  operator_views views{runtime, members, route};
  single_node(const node_config& cfg, store& db) : runtime(cfg, db) { members.start(); }
};

template <class T>
errc code_of(const result<T>& r) {
  return r ? errc::ok : r.err().code;
}
std::string message_of(const error& e) { return std::string(errc_name(e.code)) + ": " + e.message; }
template <class T>
std::string message_of(const result<T>& r) {
  return r ? std::string("ok") : message_of(r.err());
}
/// The token of a signed-in reply.
std::string token_of(const signed_in& s) { return json::parse(s.session)["token"]; }

class Actors : public ::testing::Test {
 protected:
  std::unique_ptr<store> db = make_memory_store();
  node_config cfg = small_config();
  single_node node{cfg, *db};
  router& route = node.route;
  operator_views& views = node.views;
  accounts acc{route, cfg.auth};
};

TEST_F(Actors, CreateAuthenticateAndWriteThrough) {
  registration in;
  in.email = "a@b.co";
  in.password = "correct-horse-9";
  auto r = acc.register_account(in, {"1.2.3.4", "test"});
  ASSERT_TRUE(r) << message_of(r);
  std::string token = token_of(*r);
  auto uid16 = *user_id_of_token(token);
  auto me = route.call_user(uid16, authenticate{}, sha256(token));
  ASSERT_TRUE(me) << message_of(me);
  EXPECT_EQ(json::parse(me->json)["email"], "a@b.co");
  // The record is in the store under the user's partition.
  auto p = route.partition_of_user(uid16);
  EXPECT_TRUE(testing::stored(db->get(keys::user_record(p, uid16))));
  EXPECT_EQ(code_of(route.call_user(uid16, authenticate{}, sha256("wrong"))), errc::unauthorized);
}

// Passivation order (idle retirement, parking, reload) is tested on the
// deterministic scheduler in actor_order_test.cc.

TEST(Wire, ErrorDetailsCrossTheMailboxAndErrorsWithoutThemKeepTheirForm) {
  error banned = make_error(errc::account_banned, "account is banned");
  banned.details = R"({"expires_at":null,"reason":"cheating"})";
  auto back = from_caf(to_caf(banned));
  EXPECT_EQ(back.code, errc::account_banned);
  EXPECT_EQ(back.message, "account is banned");
  EXPECT_EQ(back.details, banned.details);

  error plain = make_error(errc::invalid_request, "invalid fields");
  plain.fields["reason"] = "is required";
  auto caf_plain = to_caf(plain);
  EXPECT_TRUE((caf_plain.context().match_elements<std::string, std::map<std::string, std::string>, int64_t>()));
  auto plain_back = from_caf(caf_plain);
  EXPECT_EQ(plain_back.fields, plain.fields);
  EXPECT_TRUE(plain_back.details.empty());
}

TEST(ActorsOnAFailingStore, AReadErrorIsNeverTakenForAbsence) {
  auto mem = make_memory_store();
  testing::faulty_store db(*mem);
  node_config cfg = small_config();
  single_node node{cfg, db};
  router& route = node.route;
  operator_views& views = node.views;
  accounts acc{route, cfg.auth};
  registration in;
  in.email = "held@b.co";
  in.password = "correct-horse-9";
  auto r = acc.register_account(in, {"1.2.3.4", "test"});
  ASSERT_TRUE(r) << message_of(r);
  std::string token = token_of(*r);
  auto uid16 = *user_id_of_token(token);
  for (int i = 0; i < 100 && views.live_user_actors() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(views.live_user_actors(), 0);

  db.failing = true;
  // The user's record cannot be read: a retryable 503, not "no such user"
  // and not "bad token"; nothing is created in its place.
  auto me = route.call_user(uid16, authenticate{}, sha256(token));
  EXPECT_EQ(code_of(me), errc::partition_unavailable) << message_of(me);
  EXPECT_EQ(code_of(route.call_user(uid16, admin_get{})), errc::partition_unavailable);
  // The email's index entry cannot be read: a claim is not granted (it would
  // steal the key), a lookup does not say "free".
  auto uid = uuid_to_string(new_uuid_bytes());
  EXPECT_EQ(code_of(route.call_index(claim_key{email_key("held@b.co"), uid})), errc::partition_unavailable);
  EXPECT_EQ(code_of(route.call_index(lookup_key{email_key("held@b.co")})), errc::partition_unavailable);

  db.failing = false;
  // Reads work again: the same user, untouched, and the key still its own.
  for (int i = 0; i < 100 && views.live_user_actors() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto again = route.call_user(uid16, authenticate{}, sha256(token));
  ASSERT_TRUE(again) << message_of(again);
  EXPECT_EQ(json::parse(again->json)["email"], "held@b.co");
  EXPECT_EQ(code_of(route.call_index(claim_key{email_key("held@b.co"), uid})), errc::already_exists);
}

TEST_F(Actors, RequestsDuringPassivationAreNotLost) {
  auto r = acc.anonymous_login(std::nullopt, {});
  ASSERT_TRUE(r);
  std::string token = token_of(*r);
  auto uid16 = *user_id_of_token(token);
  // Hammer the user across many passivation cycles: every request answers.
  for (int i = 0; i < 40; ++i) {
    profile_patch change;
    change.metadata = json{{"n", i}};
    auto patch = route.call_user(uid16, update_profile{change, false}, sha256(token));
    ASSERT_TRUE(patch) << message_of(patch);
    std::this_thread::sleep_for(std::chrono::milliseconds(i % 2 ? 230 : 1));
  }
  auto me = route.call_user(uid16, authenticate{}, sha256(token));
  ASSERT_TRUE(me);
  EXPECT_EQ(json::parse(me->json)["metadata"]["n"], 39);
}

TEST_F(Actors, IndexClaimsAreExclusiveUnderConcurrency) {
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] {
      auto uid = uuid_to_string(new_uuid_bytes());
      if (route.call_index(claim_key{"email:race@x.co", uid})) ++wins;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins, 1);
}

TEST_F(Actors, StaleClaimOfAUserThatNeverWasIsRepaired) {
  // A claim whose user write never happened: pending, expired, no user.
  auto ghost = uuid_to_string(new_uuid_bytes());
  auto key = std::string("email:ghost@x.co");
  auto p = static_cast<uint16_t>(placement_hash(key) % 8);
  write_batch b;
  b.put(keys::index_entry(p, key), json{{"user_id", ghost}, {"state", "pending"}, {"expires_at", 1}}.dump());
  ASSERT_TRUE(db->write(b));
  EXPECT_EQ(code_of(route.call_index(lookup_key{key})), errc::not_found);
  registration in;
  in.email = "ghost@x.co";
  in.password = "correct-horse-9";
  EXPECT_TRUE(acc.register_account(in, {}));
}

TEST_F(Actors, PendingClaimWhoseUserExistsIsConfirmedNotStolen) {
  registration in;
  in.email = "real@x.co";
  in.password = "correct-horse-9";
  auto r = acc.register_account(in, {});
  ASSERT_TRUE(r);
  auto uid = json::parse(r->user)["id"].get<std::string>();
  // Simulate a crash between the user write and the confirm.
  auto key = std::string("email:real@x.co");
  auto p = static_cast<uint16_t>(placement_hash(key) % 8);
  write_batch b;
  b.put(keys::index_entry(p, key), json{{"user_id", uid}, {"state", "pending"}, {"expires_at", 1}}.dump());
  ASSERT_TRUE(db->write(b));
  in.password = "another-pass-1";
  auto second = acc.register_account(in, {});
  EXPECT_EQ(code_of(second), errc::email_taken);
  auto found = route.call_index(lookup_key{key});
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user_id, uid);
}

TEST_F(Actors, ScatterReachesEveryPartition) {
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(acc.anonymous_login(std::string("guest"), {}));
  auto stats = route.scatter(count_users{});
  ASSERT_EQ(stats.size(), 1u);  // one member
  EXPECT_EQ(stats[0].counts.users, 20);
  auto found = route.scatter(search_users{"GUEST"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].items.size(), 20u);
}

} // namespace
} // namespace roster

namespace roster {
namespace {

TEST_F(Actors, SecurityLogIsBounded) {
  auto r = acc.anonymous_login(std::nullopt, {});
  ASSERT_TRUE(r);
  auto uid16 = *user_id_of_token(token_of(*r));
  for (int i = 0; i < 1300; ++i) ASSERT_TRUE(route.call_user(uid16, login_failed{}));
  size_t entries = 0;
  db->scan_prefix(keys::logs_prefix(route.partition_of_user(uid16), uid16), [&](std::string_view, std::string_view) {
    ++entries;
    return true;
  });
  EXPECT_GT(entries, 900u);
  EXPECT_LE(entries, 1000u + 64u);
}

// The account's throttle in its actor: a password check is reserved by
// login_begin and counts until login_failed / login_finish resolves it, so
// checks started at once (from any node) cannot pass auth.max_failed_logins.
TEST_F(Actors, LoginBeginReservesChecksOnTheAccount) {
  registration in;
  in.email = "reserve@b.co";
  in.password = "correct-horse-9";
  auto r = acc.register_account(in, {"1.2.3.4", "test"});
  ASSERT_TRUE(r) << message_of(r);
  auto uid16 = *user_id_of_token(token_of(*r));
  std::vector<uint64_t> ids;
  for (int i = 0; i < cfg.auth.max_failed_logins; ++i) {
    auto b = route.call_user(uid16, login_begin{});
    ASSERT_TRUE(b) << message_of(b);
    ids.push_back(b->reservation);
  }
  auto busy = route.call_user(uid16, login_begin{});
  ASSERT_EQ(code_of(busy), errc::rate_limited);
  EXPECT_GE(busy.err().retry_after, 1);
  // a finished login frees its slot (and clears the failures)
  auto finish = route.call_user(uid16, login_finish{"password", std::nullopt, ids[0]});
  ASSERT_TRUE(finish) << message_of(finish);
  auto again = route.call_user(uid16, login_begin{});
  ASSERT_TRUE(again) << message_of(again);
  ids[0] = again->reservation;
  // every check fails: reservations become failures, the account is locked
  for (auto id : ids) ASSERT_TRUE(route.call_user(uid16, login_failed{"password", id}));
  auto locked = route.call_user(uid16, login_begin{});
  ASSERT_EQ(code_of(locked), errc::rate_limited);
  EXPECT_GE(locked.err().retry_after, 29);
  // and the lock guards the login workflow itself
  EXPECT_EQ(code_of(acc.password_login("reserve@b.co", "correct-horse-9", {"5.6.7.8", "test"})), errc::rate_limited);
}

// The write fence seen by the actors: a partition this node does not serve
// answers "moving" (retryable, nothing done), and a live user actor whose
// partition is revoked under it can no longer write.
TEST_F(Actors, FencedPartitionAnswersMovingAndWritesNothing) {
  auto r = acc.anonymous_login(std::nullopt, {});
  ASSERT_TRUE(r);
  std::string token = token_of(*r);
  auto uid16 = *user_id_of_token(token);
  auto p = route.partition_of_user(uid16);

  // A second actor system over the same store, as another node would be.
  caf::actor_system_config cfg2;
  register_actor_types(cfg2);
  caf::actor_system sys{cfg2};
  fenced_store fence(*db, 8);
  auto env = std::make_shared<actor_env>();
  env->db = &fence;
  env->fence = &fence;
  env->partitions = 8;
  env->sessions = session_policy{cfg.auth.session_ttl, cfg.auth.session_idle_ttl, cfg.auth.sudo_window};
  env->credential = "member-credential";
  auto host = spawn_partition_host(sys, env, p);
  env->host_of = [host](uint16_t) { return caf::actor_cast<caf::strong_actor_ptr>(host); };
  caf::scoped_actor self{sys};
  auto ask = [&](user_op op, std::string credential = "member-credential") -> result<user_reply> {
    user_request req;
    req.credential = std::move(credential);
    req.op = std::move(op);
    req.user_id = uid16;
    req.token_hash = sha256(token);
    result<user_reply> out = make_error(errc::internal, "no reply");
    self->request(host, std::chrono::seconds(5), req).receive([&](user_reply& x) { out = std::move(x); },
                                                              [&](caf::error& e) { out = from_caf(e); });
    return out;
  };
  auto moving = ask(authenticate{});
  ASSERT_EQ(code_of(moving), errc::partition_moving) << message_of(moving);
  EXPECT_EQ(moving.err().retry_after, 1);

  fence.grant(p, 1);
  // Without this node's credential (a stranger on the cluster port), nothing
  // is done, whatever the operation.
  for (user_op op : {user_op{authenticate{}}, user_op{login_finish{"device", std::nullopt, 0}}, user_op{admin_get{}}}) {
    auto refused = ask(op, "");
    EXPECT_EQ(code_of(refused), errc::forbidden) << message_of(refused);
    EXPECT_EQ(code_of(ask(op, "member-credentiaL")), errc::forbidden);
  }
  EXPECT_EQ(env->counters.refused_messages.load(), 6);
  EXPECT_EQ(env->counters.live_user_actors.load(), 0);
  ASSERT_TRUE(ask(authenticate{}));
  EXPECT_EQ(env->counters.live_user_actors.load(), 1);
  fence.revoke(p, 2);
  profile_patch change;
  change.metadata = json{{"fenced", true}};
  auto patch = ask(update_profile{change, false});
  EXPECT_EQ(code_of(patch), errc::partition_moving) << message_of(patch);
  auto rec = decode_user(*testing::stored(db->get(keys::user_record(p, uid16))));
  ASSERT_TRUE(rec);
  EXPECT_FALSE(rec->metadata.contains("fenced"));
  // Sealing retires the live actors of the partition.
  self->send(host, seal_atom_v);
  for (int i = 0; i < 100 && env->counters.live_user_actors.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(env->counters.live_user_actors.load(), 0);
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
}

// -- the social graph's protocol gaps (issue 12; docs/architecture.md "The social graph") --

/// Two signed-in guests, `lo` owning their pair (the lower raw id).
struct guest {
  std::string uid16, token;
};
std::pair<guest, guest> two_guests(accounts& acc) {
  guest g[2];
  for (auto& x : g) {
    auto r = acc.anonymous_login(std::nullopt, {});
    EXPECT_TRUE(r) << message_of(r);
    if (!r) return {};
    x.token = token_of(*r);
    x.uid16 = *user_id_of_token(x.token);
  }
  if (g[1].uid16 < g[0].uid16) std::swap(g[0], g[1]);
  return {g[0], g[1]};
}

/// What `me` sees of `other` in its friends list ("" when not listed,
/// "error" when the list fails).
std::string seen(router& route, const guest& me, const guest& other) {
  auto r = route.call_user(me.uid16, list_social{"", false, 200, ""}, sha256(me.token));
  if (!r) return "error " + message_of(r.err());
  auto list = json::parse(r->json);  // (not a temporary: the loop refers into it)
  for (auto& i : list["items"])
    if (i["user"]["id"] == uuid_to_string(other.uid16)) return i["state"];
  return "";
}

/// Waits (≤ 3 s) until `me` sees `want` of `other`; returns what it saw.
std::string seen_within(router& route, const guest& me, const guest& other, const std::string& want) {
  std::string got;
  for (int i = 0; i < 60 && (got = seen(route, me, other)) != want; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return got;
}

// A forward that reaches the owner after its deadline (its requester gave up
// and told its client so) is refused and changes nothing.
TEST_F(Actors, AForwardPastItsDeadlineIsRefused) {
  auto [lo, hi] = two_guests(acc);
  ASSERT_FALSE(lo.uid16.empty());
  peer_decide late{hi.uid16, static_cast<uint8_t>(social::op::invite), 0, "hi", "", "", now_ms() - 1};
  auto r = route.call_user(lo.uid16, late);
  EXPECT_EQ(code_of(r), errc::partition_unavailable) << message_of(r);
  EXPECT_EQ(seen(route, lo, hi), "");
  // In time, the same forward is decided.
  peer_decide on_time = late;
  on_time.deadline = now_ms() + 5000;
  auto ok = route.call_user(lo.uid16, on_time);
  ASSERT_TRUE(ok) << message_of(ok);
  EXPECT_EQ(ok->version, 1u);
  EXPECT_EQ(seen(route, lo, hi), "invite_received");
}

// The other half is ahead of its owner (the owner's partition restored from
// an older backup): it answers its version, and the owner goes on from above
// it, so that both halves agree again.
TEST_F(Actors, AnOwnerBehindTheOtherHalfCatchesUp) {
  auto [lo, hi] = two_guests(acc);
  ASSERT_FALSE(lo.uid16.empty());
  social::half ahead;
  ahead.pair.version = 10;
  ahead.pair.f = social::friendship::friends;
  write_batch b;
  b.put(keys::edge(route.partition_of_user(hi.uid16), hi.uid16, lo.uid16), social::encode_half(ahead));
  ASSERT_TRUE(db->write(b).ok());
  ASSERT_EQ(seen(route, hi, lo), "friend");
  auto r = route.call_user(lo.uid16, social_change{hi.uid16, static_cast<uint8_t>(social::op::invite)}, sha256(lo.token));
  ASSERT_TRUE(r) << message_of(r);
  EXPECT_EQ(seen_within(route, hi, lo, "invite_received"), "invite_received");
  EXPECT_EQ(seen(route, lo, hi), "invite_sent");
}

// A user record that cannot be decoded is not an absent user: the owner's
// delivery to it fails and is retried, and nothing is dropped as "gone".
TEST_F(Actors, AnUndecodableUserIsNotTakenForGone) {
  auto [lo, hi] = two_guests(acc);
  ASSERT_FALSE(lo.uid16.empty());
  for (int i = 0; i < 100 && views.live_user_actors() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(views.live_user_actors(), 0);
  auto record_key = keys::user_record(route.partition_of_user(hi.uid16), hi.uid16);
  auto record = db->get(record_key);
  ASSERT_TRUE(record && record->has_value());
  write_batch garbage;
  garbage.put(record_key, "{not a record");
  ASSERT_TRUE(db->write(garbage).ok());

  auto r = route.call_user(lo.uid16, social_change{hi.uid16, static_cast<uint8_t>(social::op::invite)}, sha256(lo.token));
  ASSERT_TRUE(r) << message_of(r);  // decided; the delivery waits
  EXPECT_EQ(json::parse(r->json)["state"], "invite_sent");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a retry or two
  EXPECT_EQ(seen(route, lo, hi), "invite_sent");
  EXPECT_TRUE(testing::stored(db->get(keys::intent(route.partition_of_user(lo.uid16), lo.uid16, hi.uid16))));

  write_batch repair;
  repair.put(record_key, **record);
  ASSERT_TRUE(db->write(repair).ok());
  EXPECT_EQ(seen_within(route, hi, lo, "invite_received"), "invite_received");
  EXPECT_EQ(seen(route, lo, hi), "invite_sent");
}

// An invite its owner decided, whose answer the requester could not store
// (its write failed: it answered 500), still counts against the requester's
// limit until its half arrives: a second invite at the limit is refused, and
// once the halves agree the requester has no more invites than its limit.
TEST(ActorsOnAFailingStore, AnInviteWhoseAnswerWasLostCountsAgainstTheLimit) {
  auto mem = make_memory_store();
  testing::faulty_store db(*mem);
  node_config cfg = small_config();
  cfg.social.max_friends = 1;
  single_node node{cfg, db};
  router& route = node.route;
  accounts acc{route, cfg.auth};
  std::vector<guest> g(3);
  for (auto& x : g) {
    auto r = acc.anonymous_login(std::nullopt, {});
    ASSERT_TRUE(r) << message_of(r);
    x.token = token_of(*r);
    x.uid16 = *user_id_of_token(x.token);
  }
  std::sort(g.begin(), g.end(), [](const guest& a, const guest& b) { return a.uid16 < b.uid16; });
  auto& hi = g[2];  // owns neither pair: its invites are forwarded
  auto invite = [&](const guest& to) {
    return route.call_user(hi.uid16, social_change{to.uid16, static_cast<uint8_t>(social::op::invite)}, sha256(hi.token));
  };
  db.write_fail_prefix = keys::user_prefix(route.partition_of_user(hi.uid16), hi.uid16);
  db.failing_writes = true;
  auto first = invite(g[0]);
  EXPECT_FALSE(first) << "the requester's write failed, yet it answered";
  auto second = invite(g[1]);
  EXPECT_EQ(code_of(second), errc::limit_reached) << message_of(second);
  db.failing_writes = false;
  // The owner's delivery (retried every second) brings the first invite.
  EXPECT_EQ(seen_within(route, hi, g[0], "invite_sent"), "invite_sent");
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // any other delivery too
  EXPECT_EQ(seen(route, hi, g[1]), "");
  EXPECT_EQ(seen(route, g[1], hi), "");
}

/// One node's actor system over a fenced in-memory store of 8 partitions, all
/// fenced until granted: for the actors that follow the fence. The system is
/// the last member: it stops its actors before the store goes.
struct fenced_node {
  std::unique_ptr<store> db = make_memory_store();
  fenced_store fence{*db, 8};
  std::shared_ptr<actor_env> env = [this] {
    auto e = std::make_shared<actor_env>();
    e->db = &fence;
    e->fence = &fence;
    e->partitions = 8;
    e->credential = "member-credential";
    return e;
  }();
  caf::actor_system_config cfg;
  bool registered = (register_actor_types(cfg), true);
  caf::actor_system sys{cfg};
};

// A partition that leaves this node and comes back between two looks of the
// queue actor is read again: another node may have changed its entries while
// it was away (it used to keep the entries it held from before).
TEST(ModerationQueueActor, APartitionThatLeftAndCameBackIsReadAgain) {
  fenced_node node;
  auto& sys = node.sys;
  auto& fence = node.fence;
  auto env = node.env;
  auto stored_entry = [&](std::string uid16, uint64_t version, uint64_t pending) {
    moderation::entry e;
    e.user_id = "00000000-0000-0000-0000-00000000000" + std::to_string(version);
    e.username = "u" + std::to_string(version);
    e.version = version;
    e.pending = pending;
    e.reporters["r"] = 1000;
    e.first_at = e.latest_at = 1000;
    write_batch b;
    b.put(keys::queue_entry(2, uid16), moderation::encode_entry(e));
    ASSERT_TRUE(fence.import(b));
  };
  auto queue = spawn_moderation_actor(sys, env);
  caf::scoped_actor self{sys};
  auto view = [&] {
    scan_request req;
    req.credential = "member-credential";
    req.op = moderation_queue{"pending", 10};
    scan_reply out;
    self->request(queue, std::chrono::seconds(5), req).receive([&](scan_reply& r) { out = std::move(r); },
                                                               [&](caf::error&) { out.matched = 999; });
    return out;
  };
  stored_entry(std::string(16, 'a'), 1, 1);  // before the grant: the actor's first tick may come at any time
  fence.grant(2, 1);
  EXPECT_EQ(view().matched, 1u);
  // Away, with no look in between: another owner adds a user's entry; back
  // at a later epoch. Only the grant count tells.
  fence.revoke(2, 2);
  stored_entry(std::string(16, 'b'), 2, 3);
  fence.grant(2, 3);
  EXPECT_EQ(view().matched, 2u);
  fence.revoke(2, 4);
  EXPECT_EQ(view().matched, 0u);
  self->send_exit(queue, caf::exit_reason::user_shutdown);
}

// The same for the notification sender: an entry another owner added while
// the partition was away is sent once it is back (it used to wait for a
// restart).
TEST(NotificationSender, APartitionThatLeftAndCameBackIsReadAgain) {
  fenced_node node;
  auto& sys = node.sys;
  auto& fence = node.fence;
  auto env = node.env;
  char tmpl[] = "/tmp/roster-notify-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  delivery_config dc;
  dc.messages_dir = dir + "/messages";
  auto pool = std::make_shared<sender_pool>(dc, 1);
  const uint16_t p = 2;
  auto add = [&](const std::string& to) {
    outbox_entry e;
    e.id = new_outbox_id(now_ms(), p);
    e.kind = outbox_kind::email;
    e.user_id = "00000000-0000-0000-0000-000000000001";
    e.to = to;
    e.subject = "s";
    e.text = "t";
    e.purpose = "email_code";
    e.created_at = e.next_at = now_ms();
    write_batch b;
    b.put(keys::outbox_entry(p, e.id), encode_outbox(e));
    EXPECT_TRUE(fence.import(b));
    return dc.messages_dir + "/" + outbox_id_text(e.id) + ".eml.txt";
  };
  auto arrives = [](const std::string& path) {
    for (int i = 0; i < 100; ++i) {
      if (::access(path.c_str(), F_OK) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  };
  fence.grant(p, 1);
  auto first = add("a@example.com");
  auto sender = spawn_notify_actor(sys, env, pool, retry_policy{3, 100, 200}, 4);
  EXPECT_TRUE(arrives(first));
  // Away and back between two of its fence checks (500 ms apart).
  fence.revoke(p, 2);
  auto second = add("b@example.com");
  fence.grant(p, 3);
  EXPECT_TRUE(arrives(second));
  caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
  pool->stop();
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace roster
