#pragma once
// The index actor: one per partition, guarding the unique keys (email,
// username tag, device id) that hash to it. Protocol of SPEC §1
// (actors/index/index_protocol.h):
//
//   claim_key(key, uid)  → a pending entry with an expiry (claim_ttl)
//   [caller writes the user]
//   confirm_key(key, uid) → the entry becomes permanent
//   release_key(key, uid) → removed, if uid still holds it
//   lookup_key(key)       → the holder's id, or not_found
//
// Repair: a pending claim past its expiry, or any entry met by a conflicting
// claim, is checked with the holder's user actor (holds_key). If the holder
// really has the key, a pending entry is confirmed and the claimant gets
// already_exists; if not, the stale entry is dropped and the claim proceeds.
// The check is an asynchronous request: this actor never blocks on a reply.
#include <caf/typed_actor.hpp>
#include <memory>

#include "actors/env.h"
#include "actors/index/index_protocol.h"

namespace roster {

using index_actor_hdl = caf::typed_actor<caf::replies_to<index_request>::with<index_reply>>;

/// Spawns the index actor of `partition`.
index_actor_hdl spawn_index_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env, uint16_t partition);

} // namespace roster
