// The order of messages between the partition host and its user actors,
// on CAF's deterministic scheduler (scheduler.policy = testing): nothing runs
// until the test says so, one message at a time, and timers fire only when
// the test triggers them. No sleeps: each test sets up exactly the
// interleaving it is about.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/partition/partition_host.h"
#include "actors/read_path.h"
#include "base/crypto.h"
#include "domain/user.h"
#include "persistence/keys.h"
#include "persistence/store.h"

namespace roster {
namespace {

using nlohmann::json;

caf::actor_system_config& deterministic(caf::actor_system_config& cfg) {
  register_actor_types(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  return cfg;
}

class ActorOrder : public ::testing::Test {
 protected:
  std::unique_ptr<store> db = make_memory_store();
  caf::actor_system_config cfg;
  caf::actor_system sys{deterministic(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys, true};
  std::shared_ptr<actor_env> env = make_env();
  partition_host_hdl host = spawn_partition_host(sys, env, 0);
  std::string uid16 = new_uuid_bytes();

  std::shared_ptr<actor_env> make_env() {
    auto e = std::make_shared<actor_env>();
    e->db = db.get();
    e->partitions = 1;
    e->credential = "member";
    // Every idle sweep that fires finds every actor idle: the test decides
    // when it fires.
    e->idle_passivation = 0;
    return e;
  }

  ~ActorOrder() override {
    self->send_exit(host, caf::exit_reason::user_shutdown);
    sched.run();
  }

  user_request request(user_op op, std::string token_hash = {}) {
    user_request req;
    req.user_id = uid16;
    req.token_hash = std::move(token_hash);
    req.credential = "member";
    req.op = std::move(op);
    return req;
  }

  /// The reply waiting in the test's mailbox (after sched.run()).
  result<user_reply> reply() {
    result<user_reply> out = make_error(errc::internal, "no reply");
    self->receive([&](user_reply& r) { out = std::move(r); }, [&](caf::error& e) { out = from_caf(e); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return out;
  }

  /// Creates the user with a device session; returns the token.
  std::string create() {
    user_record rec;
    rec.id = uuid_to_string(uid16);
    rec.device_ids = {"device-0001"};
    self->send(host, request(create_user{rec, "device"}));
    sched.run();
    auto r = reply();
    EXPECT_TRUE(r);
    if (!r) return {};
    return json::parse(std::get<signed_in>(r->value).session)["token"];
  }

  caf::actor live_actor() { return caf::actor_cast<caf::actor>(env->directory.find(uid16)); }
};

TEST_F(ActorOrder, ARequestDuringRetirementIsParkedAndServedByTheNextActor) {
  auto token = create();
  auto first = live_actor();
  ASSERT_TRUE(first);
  EXPECT_EQ(env->counters.user_actor_spawns.load(), 1);

  // The host's idle sweep fires and asks the actor, which finds itself idle
  // and asks its host to retire it...
  ASSERT_GE(sched.trigger_timeouts(), 1u);
  ASSERT_TRUE(sched.prioritize(host));
  sched.run_once();
  ASSERT_TRUE(sched.prioritize(first));
  sched.run_once();
  // ...and the host takes it out of its table and tells it to stop.
  ASSERT_TRUE(sched.prioritize(host));
  sched.run_once();
  EXPECT_FALSE(live_actor());

  // A request arrives before the old actor has terminated: the host parks it
  // (a new actor now could read the store before the old one's last write).
  self->send(host, request(authenticate{}, sha256(token)));
  ASSERT_TRUE(sched.prioritize(host));
  sched.run_once();
  EXPECT_EQ(env->counters.user_actor_spawns.load(), 1);

  // The old actor stops; only its down message lets the host spawn the next
  // one, which serves the parked request.
  sched.run();
  auto r = reply();
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(json::parse(std::get<view>(r->value).json)["id"], uuid_to_string(uid16));
  EXPECT_EQ(env->counters.user_actor_spawns.load(), 2);
  EXPECT_EQ(env->counters.live_user_actors.load(), 1);
  EXPECT_NE(live_actor(), first);
}

TEST_F(ActorOrder, AnIdleActorIsRetiredAndTheNextRequestReloadsItsUser) {
  auto token = create();
  sched.trigger_timeouts();
  sched.run();
  EXPECT_EQ(env->counters.live_user_actors.load(), 0);
  EXPECT_EQ(env->counters.user_actor_passivations.load(), 1);
  self->send(host, request(authenticate{}, sha256(token)));
  sched.run();
  EXPECT_TRUE(reply());
  EXPECT_EQ(env->counters.live_user_actors.load(), 1);
}

TEST_F(ActorOrder, TheIdleSweepLeavesAnActorThatServedRecently) {
  env->idle_passivation = 60'000;
  create();
  auto first = live_actor();
  // The sweep fires (one timer for the partition, none per actor) and finds
  // the actor's last request a moment ago: it is not even asked.
  ASSERT_EQ(sched.trigger_timeouts(), 1u);
  sched.run();
  EXPECT_EQ(live_actor(), first);
  EXPECT_EQ(env->counters.user_actor_passivations.load(), 0);
  // The sweep is armed again while the partition has live actors; once the
  // actor looks idle, the next sweep retires it.
  env->idle_passivation = 0;
  ASSERT_EQ(sched.trigger_timeouts(), 1u);
  sched.run();
  EXPECT_FALSE(live_actor());
  EXPECT_EQ(env->counters.user_actor_passivations.load(), 1);
  // The sweep that retired it was armed again (the actor was still live
  // then); it finds no live actor and arms no other.
  EXPECT_EQ(sched.trigger_timeouts(), 1u);
  sched.run();
  EXPECT_EQ(sched.trigger_timeouts(), 0u);
}

TEST_F(ActorOrder, AnActorAskedWhetherItIsIdleCountsTheReadsTheRouterAnsweredForIt) {
  // The actor alone, with this test as its host and owning its activity slot.
  env->idle_passivation = 60'000;
  auto slot = std::make_shared<activity_slot>();
  auto me = caf::actor_cast<passivation_sink>(self);
  auto a = spawn_user_actor(self.ptr(), env, me, 0, uid16, slot);
  env->directory.insert(uid16, caf::actor_cast<caf::strong_actor_ptr>(a));
  user_record rec;
  rec.id = uuid_to_string(uid16);
  rec.device_ids = {"device-0001"};
  self->send(a, request(create_user{rec, "device"}));
  sched.run();
  auto created = reply();
  ASSERT_TRUE(created);
  auto hash = sha256(std::string(json::parse(std::get<signed_in>(created->value).session)["token"]));
  self->send(a, request(authenticate{}, hash));
  sched.run();
  ASSERT_TRUE(reply());
  // Its slot says it served nothing for ages, but the router has just
  // answered a read from what it published: asked, it stays...
  EXPECT_TRUE(slot->publishing.load());
  slot->last.store(0);
  ASSERT_TRUE(cached_read(*env, uid16, hash, 0));
  self->send(a, idle_atom_v);
  sched.run();
  bool asked_to_retire = false;
  self->receive([&](passivate_atom, const std::string&) { asked_to_retire = true; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  EXPECT_FALSE(asked_to_retire);
  // ...and its slot now carries that read, so the next sweep leaves it be.
  EXPECT_GT(slot->last.load(), 0);
  EXPECT_TRUE(slot->publishing.load());  // the answer is still valid: it stays
  // Idle for real. Only its host may ask: an idle_atom from anyone else is
  // ignored...
  env->idle_passivation = 0;
  caf::anon_send(a, idle_atom_v);
  sched.run();
  self->receive([&](passivate_atom, const std::string&) { asked_to_retire = true; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  EXPECT_FALSE(asked_to_retire);
  // ...and asked by its host, it asks to be retired.
  self->send(a, idle_atom_v);
  sched.run();
  self->receive([&](passivate_atom, const std::string& who) { asked_to_retire = who == uid16; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  EXPECT_TRUE(asked_to_retire);
  env->directory.erase(uid16, a.address());
  self->send(a, stop_atom_v);
  sched.run();
}

TEST_F(ActorOrder, AnActorAskedWhileBusyTakesBackOnlyItsExpiredAnswers) {
  // Sessions' reads published by the actor alone, this test as its host.
  env->idle_passivation = 60'000;
  auto slot = std::make_shared<activity_slot>();
  auto a = spawn_user_actor(self.ptr(), env, caf::actor_cast<passivation_sink>(self), 0, uid16, slot);
  env->directory.insert(uid16, caf::actor_cast<caf::strong_actor_ptr>(a));
  user_record rec;
  rec.id = uuid_to_string(uid16);
  rec.device_ids = {"device-0001"};
  self->send(a, request(create_user{rec, "device"}));
  sched.run();
  auto created = reply();
  ASSERT_TRUE(created);
  auto first = sha256(std::string(json::parse(std::get<signed_in>(created->value).session)["token"]));
  self->send(a, request(login_finish{"device", std::nullopt, 0}));
  sched.run();
  auto second_login = reply();
  ASSERT_TRUE(second_login);
  auto second = sha256(std::string(json::parse(std::get<signed_in>(second_login->value).session)["token"]));
  for (auto& h : {first, second}) {
    self->send(a, request(authenticate{}, h));
    sched.run();
    ASSERT_TRUE(reply());
  }
  ASSERT_EQ(env->reads.size(), 2u);
  // The first session's answer has expired (its valid_until passed); the
  // second is still served.
  const_cast<read_cache::entry&>(*env->reads.find(first)).valid_until = 0;
  self->send(a, idle_atom_v);
  sched.run();
  EXPECT_FALSE(env->reads.find(first));
  EXPECT_TRUE(cached_read(*env, uid16, second, 0));
  EXPECT_TRUE(slot->publishing.load());
  // Once that one has expired too, nothing is left and the slot says so:
  // the sweep stops asking.
  const_cast<read_cache::entry&>(*env->reads.find(second)).valid_until = 0;
  self->send(a, idle_atom_v);
  sched.run();
  EXPECT_EQ(env->reads.size(), 0u);
  EXPECT_FALSE(slot->publishing.load());
  bool asked_to_retire = false;
  self->receive([&](passivate_atom, const std::string&) { asked_to_retire = true; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  EXPECT_FALSE(asked_to_retire);  // busy a moment ago: not idle
  env->directory.erase(uid16, a.address());
  self->send(a, stop_atom_v);
  sched.run();
}

TEST_F(ActorOrder, AnActorThatDiesWithoutAskingIsForgottenAndTheNextRequestRespawnsIt) {
  auto token = create();
  auto first = live_actor();
  ASSERT_TRUE(first);
  self->send_exit(first, caf::exit_reason::kill);
  sched.run();
  EXPECT_FALSE(live_actor());
  EXPECT_EQ(env->counters.live_user_actors.load(), 0);
  EXPECT_EQ(env->counters.user_actor_passivations.load(), 1);
  self->send(host, request(authenticate{}, sha256(token)));
  sched.run();
  EXPECT_TRUE(reply());
  EXPECT_EQ(env->counters.user_actor_spawns.load(), 2);
  EXPECT_TRUE(live_actor());
  EXPECT_NE(live_actor(), first);
}

TEST_F(ActorOrder, AnUnknownUserIsRetiredRightAfterItsAnswer) {
  self->send(host, request(get_public{}));
  sched.run();
  auto r = reply();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::not_found);
  EXPECT_EQ(env->counters.live_user_actors.load(), 0);  // at once: no timer needed
}

TEST_F(ActorOrder, PublishedReadsAreWithdrawnBeforeAChangeRuns) {
  auto token = create();
  auto hash = sha256(token);
  self->send(host, request(authenticate{}, hash));
  sched.run();
  ASSERT_TRUE(reply());
  ASSERT_TRUE(cached_read(*env, uid16, hash, 0));  // the router may answer the next read itself
  // A change is queued; before it runs, the cached answer still stands...
  profile_patch patch;
  patch.display_name = "Renamed";
  self->send(live_actor(), request(update_profile{patch, false}, hash));
  EXPECT_TRUE(cached_read(*env, uid16, hash, 0));
  // ...and once the actor takes the change up, the answer is gone before the
  // change is acknowledged.
  sched.run();
  EXPECT_FALSE(cached_read(*env, uid16, hash, 0));
  auto r = reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(std::get<profile_updated>(r->value).user)["display_name"], "Renamed");
}

TEST_F(ActorOrder, RetirementWithdrawsEveryPublishedRead) {
  auto token = create();
  auto hash = sha256(token);
  self->send(host, request(authenticate{}, hash));
  sched.run();
  ASSERT_TRUE(reply());
  ASSERT_TRUE(cached_read(*env, uid16, hash, 0));
  sched.trigger_timeouts();
  sched.run();
  EXPECT_FALSE(cached_read(*env, uid16, hash, 0));
  EXPECT_EQ(env->reads.size(), 0u);
}

TEST_F(ActorOrder, SealingRetiresEveryLiveActorOfThePartition) {
  create();
  ASSERT_EQ(env->counters.live_user_actors.load(), 1);
  self->send(host, seal_atom_v);
  sched.run();
  EXPECT_EQ(env->counters.live_user_actors.load(), 0);
  EXPECT_FALSE(live_actor());
}

// A report is durable once the reporter's actor stored it with its intent.
// If that actor stops while the delivery to the reported user is in flight
// (its partition is sealed for a handoff), the request is answered 202 with
// the report, not "moving": the router would file it a second time at the
// next owner.
TEST_F(ActorOrder, AReportWaitingForItsDeliveryIsAnsweredAcceptedWhenItsActorStops) {
  auto token = create();
  // The reported user's host never answers: the delivery stays in flight
  // (its timeout fires only when the test says).
  env->host_of = [this](uint16_t) { return caf::actor_cast<caf::strong_actor_ptr>(self); };
  std::string other = new_uuid_bytes();
  self->send(host, request(file_report{other, "spam", "bot"}, sha256(token)));
  sched.run();
  // (The delivery waits in this test's mailbox, unanswered: taking it out
  // would answer it.)
  EXPECT_FALSE(reply());  // the client still waits
  self->send(host, seal_atom_v);
  sched.run();
  auto r = reply();
  ASSERT_TRUE(r) << r.err().message;
  auto body = json::parse(std::get<view>(r->value).json);
  EXPECT_EQ(body["user_id"], uuid_to_string(other));
  EXPECT_EQ(body["category"], "spam");
  // The report waits in the store as an intent, for the next actor to deliver.
  size_t intents = 0;
  (void)db->scan_prefix(keys::intents_of_user(0, uid16), [&](std::string_view, std::string_view) {
    ++intents;
    return true;
  });
  EXPECT_EQ(intents, 1u);
}

} // namespace
} // namespace roster
