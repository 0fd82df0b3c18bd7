#pragma once
// The protocols of the node actor (membership, views, handoffs) and of the
// gateway (requests routed from other nodes), in the shape of the actor
// protocols of actors/: a message struct per operation with typed fields,
// typed replies, errors as caf::errors of errc (to_caf / from_caf,
// actors/wire.h), and a typed handle per actor.
//
//   node actor (node_actor_hdl), published on cluster.listen:
//     hello_atom                              → nonce (text)
//     join_request{nonce, proof, who}         → join_reply{view}   (from a joiner)
//     admit_request{credential, who}          → join_reply{view}   (a member relays a join)
//     view_update{credential, view, nodes, gateways}  (the coordinator's view)
//     leave_request{credential, name}         → leave_reply{leaving, partitions_to_move, epoch}
//     handoff_order{credential, partition, to}        (coordinator → source)
//     seal_partition{credential, partition}   → bool   (its own handoff sender)
//     unseal_partition{credential, partition}         (coordinator → source)
//     partition_moved{credential, partition, to}      (sender → source → coordinator)
//     handoff_failed{credential, partition}           (sender → source → coordinator)
//     handoff_chunk{credential, partition, reset, blob} → done  (sender → target)
//     tick_atom                                       (its own timer)
//   gateway (gateway_hdl):
//     user_request                            → user_reply
//     (forward_user_atom, hops, user_request) → user_reply   (a stale table's hop)
//     index_request, (forward_index_atom, hops, index_request) → index_reply
//     scan_request                            → scan_reply   (every partition it serves)
//     (stats_atom, credential)                → node_stats
//
// Member-to-member messages carry the member credential as their first field
// (actor_env::credential): a stranger on the cluster port can name the node
// actor, and any actor whose handle crossed the wire, so every handler checks
// it. A joiner has no credential yet: it proves it knows cluster.secret
// (join_proof over a nonce from hello_atom).
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "actors/index/index_protocol.h"
#include "actors/partition/partition_protocol.h"
#include "actors/user/user_protocol.h"
#include "actors/wire.h"
#include "cluster/view.h"

namespace roster {

struct node_stats;
struct join_request;
struct admit_request;
struct join_reply;
struct view_update;
struct leave_request;
struct leave_reply;
struct handoff_order;
struct seal_partition;
struct unseal_partition;
struct partition_moved;
struct handoff_failed;
struct handoff_chunk;

} // namespace roster

// The block comes first: the handles below name its atoms, and the messages
// carry the handles. Only top-level message types need an ID: member_info,
// cluster_view (inspect() below) and the handles (CAF's own) travel inside.
CAF_BEGIN_TYPE_ID_BLOCK(roster_node, 450)
  CAF_ADD_TYPE_ID(roster_node, (roster::node_stats))
  CAF_ADD_TYPE_ID(roster_node, (roster::join_request))
  CAF_ADD_TYPE_ID(roster_node, (roster::admit_request))
  CAF_ADD_TYPE_ID(roster_node, (roster::join_reply))
  CAF_ADD_TYPE_ID(roster_node, (roster::view_update))
  CAF_ADD_TYPE_ID(roster_node, (roster::leave_request))
  CAF_ADD_TYPE_ID(roster_node, (roster::leave_reply))
  CAF_ADD_TYPE_ID(roster_node, (roster::handoff_order))
  CAF_ADD_TYPE_ID(roster_node, (roster::seal_partition))
  CAF_ADD_TYPE_ID(roster_node, (roster::unseal_partition))
  CAF_ADD_TYPE_ID(roster_node, (roster::partition_moved))
  CAF_ADD_TYPE_ID(roster_node, (roster::handoff_failed))
  CAF_ADD_TYPE_ID(roster_node, (roster::handoff_chunk))
  CAF_ADD_ATOM(roster_node, roster, hello_atom, "hello")
  CAF_ADD_ATOM(roster_node, roster, tick_atom, "tick")
  CAF_ADD_ATOM(roster_node, roster, forward_user_atom, "fwduser")
  CAF_ADD_ATOM(roster_node, roster, forward_index_atom, "fwdindex")
CAF_END_TYPE_ID_BLOCK(roster_node)

namespace roster {

using gateway_hdl = caf::typed_actor<
    caf::replies_to<user_request>::with<user_reply>,
    caf::replies_to<forward_user_atom, int32_t, user_request>::with<user_reply>,
    caf::replies_to<index_request>::with<index_reply>,
    caf::replies_to<forward_index_atom, int32_t, index_request>::with<index_reply>,
    caf::replies_to<scan_request>::with<scan_reply>, caf::replies_to<stats_atom, std::string>::with<node_stats>>;

using node_actor_hdl = caf::typed_actor<
    caf::replies_to<hello_atom>::with<std::string>, caf::replies_to<join_request>::with<join_reply>,
    caf::replies_to<admit_request>::with<join_reply>, caf::reacts_to<view_update>,
    caf::replies_to<leave_request>::with<leave_reply>, caf::reacts_to<handoff_order>,
    caf::replies_to<seal_partition>::with<bool>, caf::reacts_to<unseal_partition>, caf::reacts_to<partition_moved>,
    caf::reacts_to<handoff_failed>, caf::replies_to<handoff_chunk>::with<done>, caf::reacts_to<tick_atom>>;

// -- gateway ----------------------------------------------------------------------

/// One node's actor figures; /debug/actors adds up every member's.
struct node_stats {
  std::string node;
  int64_t user_actors = 0, user_actor_spawns = 0, user_actor_passivations = 0;
  uint64_t read_cache_entries = 0;
  int64_t reads_answered_from_cache = 0, refused_messages = 0;
  uint32_t partitions_served = 0;
  uint64_t scheduler_threads = 0;
  int64_t outbox_depth = 0, outbox_in_flight = 0, outbox_dead = 0, outbox_oldest_age_ms = 0;
  int64_t moderation_depth = 0, moderation_flagged = 0, moderation_reports = 0;
};

// -- node actor: membership -------------------------------------------------------

/// A node that asks to be admitted: its member entry (name and addresses; the
/// coordinator sets state and seq), its partition count (must be the
/// cluster's), and the handles the members will use.
struct joiner {
  member_info info;
  uint32_t partitions = 0;
  node_actor_hdl node;
  gateway_hdl gateway;
};

/// From a joiner, through any member: proof = join_proof(cluster.secret,
/// nonce, who.info.name), the nonce from that member's hello_atom.
struct join_request {
  std::string nonce;
  std::string proof;
  joiner who;
};

/// A member that checked a join asks the coordinator to admit it (the
/// joiner's own message would carry a sender the coordinator does not trust).
struct admit_request {
  std::string credential;
  joiner who;
};

/// The view the joiner was admitted into.
struct join_reply {
  cluster_view view;
};

/// The coordinator's view, sent to every member of the old and new view, with
/// the node actor and gateway of each of view.members (by index; null when
/// unknown).
struct view_update {
  std::string credential;
  cluster_view view;
  std::vector<node_actor_hdl> nodes;
  std::vector<gateway_hdl> gateways;
};

/// Member `name` asks to hand off its partitions and leave.
struct leave_request {
  std::string credential;
  std::string name;
};

struct leave_reply {
  std::string leaving;
  uint32_t partitions_to_move = 0;
  uint64_t epoch = 0;  // of the view that starts the departure
};

// -- node actor: handoffs (cluster/handoff_manager.h) -----------------------------

/// Coordinator → owner: hand `partition` to member `to`.
struct handoff_order {
  std::string credential;
  uint32_t partition = 0;
  std::string to;
};

/// A handoff sender → its node actor: close the partition for the last
/// writes. → true once sealed; false unless a sender of that node runs for it.
struct seal_partition {
  std::string credential;
  uint32_t partition = 0;
};

/// Coordinator → owner: reopen a sealed partition (its move was retargeted).
struct unseal_partition {
  std::string credential;
  uint32_t partition = 0;
};

/// A handoff sender → its node actor → the coordinator: `to` has the partition.
struct partition_moved {
  std::string credential;
  uint32_t partition = 0;
  std::string to;
};

/// A handoff sender → its node actor → the coordinator: the handoff gave up;
/// the partition stays with its owner.
struct handoff_failed {
  std::string credential;
  uint32_t partition = 0;
};

/// A handoff sender → the target's node actor: puts and deletes of the
/// partition's keys (cluster/chunk.h); with `reset`, the target first drops
/// its copy of the partition. → done once applied.
struct handoff_chunk {
  std::string credential;
  uint32_t partition = 0;
  bool reset = false;
  std::string blob;
};

// -- inspect() ------------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_stats& x) {
  return f(caf::meta::type_name("node_stats"), x.node, x.user_actors, x.user_actor_spawns, x.user_actor_passivations,
           x.read_cache_entries, x.reads_answered_from_cache, x.refused_messages, x.partitions_served,
           x.scheduler_threads, x.outbox_depth, x.outbox_in_flight, x.outbox_dead, x.outbox_oldest_age_ms,
           x.moderation_depth, x.moderation_flagged, x.moderation_reports);
}

/// The state travels as its number; an unknown one is refused on arrival.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  auto state = static_cast<uint8_t>(x.state);
  auto check = caf::meta::load_callback([&]() -> caf::error {
    if (state > static_cast<uint8_t>(member_state::leaving))
      return caf::make_error(caf::sec::invalid_argument, "unknown member state");
    x.state = static_cast<member_state>(state);
    return caf::none;
  });
  return f(caf::meta::type_name("member_info"), x.name, x.http, x.cluster, state, check, x.seq);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(caf::meta::type_name("cluster_view"), x.epoch, x.partitions, x.next_seq, x.members, x.owners, x.targets);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, joiner& x) {
  return f(caf::meta::type_name("joiner"), x.info, x.partitions, x.node, x.gateway);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_request& x) {
  return f(caf::meta::type_name("join_request"), x.nonce, x.proof, x.who);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admit_request& x) {
  return f(caf::meta::type_name("admit_request"), x.credential, x.who);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_reply& x) {
  return f(caf::meta::type_name("join_reply"), x.view);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, view_update& x) {
  return f(caf::meta::type_name("view_update"), x.credential, x.view, x.nodes, x.gateways);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, leave_request& x) {
  return f(caf::meta::type_name("leave_request"), x.credential, x.name);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, leave_reply& x) {
  return f(caf::meta::type_name("leave_reply"), x.leaving, x.partitions_to_move, x.epoch);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_order& x) {
  return f(caf::meta::type_name("handoff_order"), x.credential, x.partition, x.to);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, seal_partition& x) {
  return f(caf::meta::type_name("seal_partition"), x.credential, x.partition);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unseal_partition& x) {
  return f(caf::meta::type_name("unseal_partition"), x.credential, x.partition);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_moved& x) {
  return f(caf::meta::type_name("partition_moved"), x.credential, x.partition, x.to);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_failed& x) {
  return f(caf::meta::type_name("handoff_failed"), x.credential, x.partition);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, handoff_chunk& x) {
  return f(caf::meta::type_name("handoff_chunk"), x.credential, x.partition, x.reset, x.blob);
}

} // namespace roster
