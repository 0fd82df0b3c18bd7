#pragma once
// Handoff: moving one partition from its owner A to its next owner B (in the
// manner of riak_core's handoff sender and receiver).
//
// The sender runs on its own (detached) thread, so the node actor never
// blocks on the network:
//   1. A tracks the keys written to p, range-scans p and sends it to B in
//      chunks (the first one tells B to clear its copy of p);
//   2. A sends the keys written meanwhile, in rounds, until few are left;
//   3. A seals p: revokes its write fence (waiting for writes in flight) and
//      retires p's user actors; requests for p now answer "moving";
//   4. A sends the last writes; B has everything A acknowledged;
//   5. the coordinator switches owners[p] to B (new epoch); B opens its fence
//      for p, A drops its copy. Routers that still send p to A are forwarded.
#include <caf/fwd.hpp>
#include <memory>
#include <string>

#include "cluster/node_protocol.h"
#include "cluster/context.h"

namespace roster {

/// Runs the handoff of partition `p` to member `to` (node actor `target`),
/// then tells this node's node actor `node`: partition_moved{p, to}, or
/// handoff_failed{p} with p left here. Spawn with caf::detached.
void handoff_sender(caf::blocking_actor* self, std::shared_ptr<cluster_context> ctx, node_actor_hdl node,
                    node_actor_hdl target, uint32_t p, std::string to);

/// Applies one chunk of partition `p` arriving at its next owner: with
/// `reset`, first drops whatever this node holds of p. A malformed chunk, or
/// one with a key outside p, is refused whole.
status receive_chunk(fenced_store& fence, uint32_t p, bool reset, const std::string& blob);

} // namespace roster
