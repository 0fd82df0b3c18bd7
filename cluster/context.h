#pragma once
// What the rooms of one node (runtime, membership, router, operator views,
// backup), its node actor and its gateway share (internal to cluster/;
// includes CAF). The node runtime creates it and spawns the actors it names.
//
// The routing snapshot is immutable and swapped as a whole by the node actor
// whenever it adopts a view or sees a member go down; router threads load it
// once per request (an atomic shared_ptr), so a request never sees half a
// table.
#include <caf/all.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>

#include "actors/env.h"
#include "actors/index/index_actor.h"
#include "actors/partition/partition_host.h"
#include "cluster/node_protocol.h"
#include "cluster/view.h"
#include "config/config.h"
#include "persistence/fenced_store.h"

namespace roster {

struct member_route {
  std::string name;
  node_actor_hdl node;  // the published node actor (membership, handoff)
  gateway_hdl gateway;  // where requests for its partitions go
  bool up = false;
};

struct route_snapshot {
  uint64_t epoch = 0;
  int self = -1;             // index of this node in `members`; -1 until admitted
  std::vector<int> owner;    // by partition: index into `members`, -1 = none
  std::vector<member_route> members;
  cluster_view view;         // the view it was built from

  /// The owner of partition p, or null when it has none (not admitted yet).
  const member_route* owner_of(uint32_t p) const {
    int i = p < owner.size() ? owner[p] : -1;
    return i < 0 ? nullptr : &members[static_cast<size_t>(i)];
  }
  bool mine(uint32_t p) const { return p < owner.size() && owner[p] >= 0 && owner[p] == self; }
};

struct handoff_progress {
  std::string to;
  std::string phase;  // copying | catching_up | sealed | done
  uint64_t keys = 0, bytes = 0;
  millis started_at = 0;
};

struct cluster_context {
  node_config config;
  std::shared_ptr<actor_env> env;
  fenced_store* fence = nullptr;
  std::vector<partition_host_hdl> hosts;  // by partition
  std::vector<index_actor_hdl> indexes;   // by partition
  gateway_hdl gateway;                    // this node's
  node_actor_hdl node;                    // this node's node actor

  /// Replaces the routing snapshot (the node actor only).
  void publish(std::shared_ptr<const route_snapshot> s) {
    routes_.store(std::move(s), std::memory_order_release);
    routes_version_.fetch_add(1, std::memory_order_acq_rel);
  }
  /// The current snapshot, shared.
  std::shared_ptr<const route_snapshot> snapshot() const { return routes_.load(std::memory_order_acquire); }
  /// The current snapshot for a request on this thread, without touching a
  /// shared reference count: valid until this thread's next call. (96 HTTP
  /// threads copying one shared_ptr per request make its count a hot spot.)
  const route_snapshot& current() const {
    struct cache {
      uint64_t context = 0, version = 0;
      std::shared_ptr<const route_snapshot> snap;
    };
    thread_local cache c;
    auto v = routes_version_.load(std::memory_order_acquire);
    if (c.context != id_ || c.version != v || !c.snap) {
      c.snap = routes_.load(std::memory_order_acquire);
      c.context = id_;
      c.version = v;
    }
    return *c.snap;
  }

  /// Called once when this node has left the cluster (its partitions moved).
  std::function<void()> on_left;

  std::mutex progress_mutex;
  std::map<uint32_t, handoff_progress> outgoing;  // this node's handoffs as source
  std::vector<nlohmann::json> finished;           // the last few, newest last

  const std::string& self_name() const { return config.node_name; }

 private:
  static uint64_t next_id() {
    static std::atomic<uint64_t> n{0};
    return ++n;
  }
  const uint64_t id_ = next_id();
  std::atomic<std::shared_ptr<const route_snapshot>> routes_{std::make_shared<const route_snapshot>()};
  std::atomic<uint64_t> routes_version_{1};
};

/// Spawns this node's gateway: it serves requests that other nodes' routers
/// (and index actors) send for partitions this node owns, and forwards ones
/// that reached it with a stale table.
gateway_hdl spawn_gateway(caf::actor_system& sys, std::shared_ptr<cluster_context> ctx);

/// Spawns this node's node actor (membership, views, handoffs). `initial`
/// is the view to start from when this node founds (or alone re-founds) a
/// cluster; without it the node waits to be admitted.
node_actor_hdl spawn_node_actor(caf::actor_system& sys, std::shared_ptr<cluster_context> ctx,
                                std::optional<cluster_view> initial);

/// HMAC-SHA256(secret, nonce ‖ name), hex: a joiner's proof that it knows
/// cluster.secret without sending it.
std::string join_proof(const std::string& secret, const std::string& nonce, const std::string& name);

} // namespace roster
