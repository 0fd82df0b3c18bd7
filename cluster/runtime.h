#pragma once
// The node runtime: the CAF actor system of one node and the actors that
// exist before membership starts. It puts the write fence in front of the
// store, builds the services every actor shares (actor_env: policies, the
// member credential, the live-actor directory, the read cache), and spawns
// one partition host and one index actor per partition and this node's
// gateway. Membership (cluster/membership.h) adds the node actor on top; the
// router, operator views and online backup use it.
//
// main.cc creates it right after opening the store and stops it last, before
// the store closes. The header hides CAF behind a pimpl so that main.cc
// includes no <caf/...>; system() and context() hand the internals to the
// other rooms of cluster/.
//
// Thread-safety: every member may be called from any thread; stop() from one
// thread at a time. Lifetime: `db` must outlive the runtime; everything built
// on it (membership, router, views, backup) must stop before it does.
#include <memory>

#include "config/config.h"
#include "persistence/store.h"

namespace caf {
class actor_system;
} // namespace caf

namespace roster {

struct cluster_context;

class node_runtime {
 public:
  /// Starts the actor system (with CAF's middleman when cluster.listen is
  /// set, over mutual TLS when certificates are configured) and spawns the
  /// partition hosts, index actors and gateway. Nothing is routed until
  /// membership has adopted a first view.
  node_runtime(const node_config& cfg, store& db);
  ~node_runtime();
  node_runtime(const node_runtime&) = delete;
  node_runtime& operator=(const node_runtime&) = delete;

  const node_config& config() const;
  /// True when this node talks to others (cluster.listen is set).
  bool clustered() const;
  /// True when node links use mutual TLS (certificates are configured).
  bool tls() const;
  /// True once stop() has begun.
  bool stopped() const;

  /// Stops every actor of this node (partition hosts, index actors, gateway
  /// and node actor), empties the routing table, and waits until all actors,
  /// handoff senders included, have finished. Idempotent. Stop the router
  /// and membership first (main.cc does).
  void stop();

  /// For cluster/ only: the actor system.
  caf::actor_system& system();
  /// For cluster/ only: the state this node's actors and rooms share
  /// (cluster/context.h).
  const std::shared_ptr<cluster_context>& context() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace roster
