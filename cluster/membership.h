#pragma once
// The membership client of one node: how this node enters the cluster and
// stays in it. start() spawns the node actor (cluster/node_actor.cc) and
//   - on a single node, founds a cluster of one;
//   - on a cluster node, publishes the node actor on cluster.listen and
//     founds a cluster (no seeds), or joins through cluster.seeds and the
//     members of its last stored view (hello → proof of cluster.secret →
//     admission), or, after a whole-cluster restart, resumes the last view as
//     its longest-standing member;
//   - then runs two threads: the keeper, which knocks again on the door of a
//     member this node has lost its link to (so it is admitted again), and
//     the door, which sweeps silent and surplus connections off the cluster
//     port (cluster/door.h).
// The view protocol itself (admission, epochs, monitors, handoffs) runs in
// the node actor; this class only starts it and talks to it.
//
// Thread-safety: start() and stop() from one thread; the other members from
// any. Lifetime: the runtime must outlive this object; stop() (or the
// destructor) before the runtime stops.
#include <cstdint>
#include <functional>
#include <memory>

#include <string>

#include "base/errc.h"

namespace roster {

class node_runtime;

class membership {
 public:
  /// Does nothing until start().
  explicit membership(node_runtime& rt);
  ~membership();
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// Starts this node's membership and returns once it is admitted (alone,
  /// founding, resuming or joined: blocks up to 60 s while no seed admits
  /// it). Throws std::runtime_error when the cluster refuses this node, no
  /// seed admits it in time, cluster.secret is missing, the cluster port
  /// cannot be opened, or this node's stored view cannot be read.
  void start();

  /// Asks the cluster to hand off every partition of this node; once they
  /// have all moved, the on_left callback runs (main stops the node). The
  /// value is the coordinator's answer (JSON: leaving, partitions_to_move,
  /// epoch); invalid_request on a single node.
  result<std::string> leave();
  /// `fn` runs once, on an actor thread, when this node has left the cluster.
  void on_left(std::function<void()> fn);

  /// The node-to-node port (0 when not clustered).
  uint16_t cluster_port() const;
  /// How many connections the door has closed (for /debug/cluster).
  int64_t connections_closed_by_door() const;

  /// Stops the keeper and door threads. Idempotent. The node actor stops
  /// with the runtime.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace roster
