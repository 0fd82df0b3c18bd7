// The order of messages between the partition host and its user actors,
// on CAF's deterministic scheduler (scheduler.policy = testing): nothing runs
// until the test says so, one message at a time, and timers fire only when
// the test triggers them. No sleeps: each test sets up exactly the
// interleaving it is about.
#include <gtest/gtest.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/partition/partition_host.h"
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
    // Every idle timer that fires finds its actor idle: the test decides
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
  EXPECT_EQ(env->user_actor_spawns.load(), 1);

  // The idle timer fires: the actor asks its host to retire it...
  ASSERT_GE(sched.trigger_timeouts(), 1u);
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
  EXPECT_EQ(env->user_actor_spawns.load(), 1);

  // The old actor stops; only its down message lets the host spawn the next
  // one, which serves the parked request.
  sched.run();
  auto r = reply();
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(json::parse(std::get<view>(r->value).json)["id"], uuid_to_string(uid16));
  EXPECT_EQ(env->user_actor_spawns.load(), 2);
  EXPECT_EQ(env->live_user_actors.load(), 1);
  EXPECT_NE(live_actor(), first);
}

TEST_F(ActorOrder, AnIdleActorIsRetiredAndTheNextRequestReloadsItsUser) {
  auto token = create();
  sched.trigger_timeouts();
  sched.run();
  EXPECT_EQ(env->live_user_actors.load(), 0);
  EXPECT_EQ(env->user_actor_passivations.load(), 1);
  self->send(host, request(authenticate{}, sha256(token)));
  sched.run();
  EXPECT_TRUE(reply());
  EXPECT_EQ(env->live_user_actors.load(), 1);
}

TEST_F(ActorOrder, AnUnknownUserIsRetiredRightAfterItsAnswer) {
  self->send(host, request(get_public{}));
  sched.run();
  auto r = reply();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::not_found);
  EXPECT_EQ(env->live_user_actors.load(), 0);  // at once: no timer needed
}

TEST_F(ActorOrder, PublishedReadsAreWithdrawnBeforeAChangeRuns) {
  auto token = create();
  auto hash = sha256(token);
  self->send(host, request(authenticate{}, hash));
  sched.run();
  ASSERT_TRUE(reply());
  ASSERT_TRUE(env->cached_read(uid16, hash, 0));  // the router may answer the next read itself
  // A change is queued; before it runs, the cached answer still stands...
  profile_patch patch;
  patch.display_name = "Renamed";
  self->send(live_actor(), request(update_profile{patch, false}, hash));
  EXPECT_TRUE(env->cached_read(uid16, hash, 0));
  // ...and once the actor takes the change up, the answer is gone before the
  // change is acknowledged.
  sched.run();
  EXPECT_FALSE(env->cached_read(uid16, hash, 0));
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
  ASSERT_TRUE(env->cached_read(uid16, hash, 0));
  sched.trigger_timeouts();
  sched.run();
  EXPECT_FALSE(env->cached_read(uid16, hash, 0));
  EXPECT_EQ(env->reads.size(), 0u);
}

TEST_F(ActorOrder, SealingRetiresEveryLiveActorOfThePartition) {
  create();
  ASSERT_EQ(env->live_user_actors.load(), 1);
  self->send(host, seal_atom_v);
  sched.run();
  EXPECT_EQ(env->live_user_actors.load(), 0);
  EXPECT_FALSE(live_actor());
}

} // namespace
} // namespace roster
