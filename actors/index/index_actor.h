#pragma once
// The index actor: one per partition, guarding the unique keys (email,
// username tag, device id) that hash to it. Protocol of SPEC §1:
//
//   claim(key, uid)  → a pending entry with an expiry (claim_ttl)
//   [caller writes the user]
//   confirm(key, uid) → the entry becomes permanent
//   release(key, uid) → removed, if uid still holds it
//
// Repair: a pending claim past its expiry, or any entry met by a conflicting
// claim, is checked with the holder's user actor (holds_key). If the holder
// really has the key, a pending entry is confirmed and the claimant gets
// already_exists; if not, the stale entry is dropped and the claim proceeds.
// The check is an asynchronous request: this actor never blocks on a reply.
#include <caf/fwd.hpp>
#include <memory>

#include "actors/env.h"

namespace roster {

/// Spawns the index actor of `partition`.
caf::actor spawn_index_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env, uint16_t partition);

} // namespace roster
