#pragma once
// The user actor: one per live user, on the node that owns the user's
// partition. Spawned on demand by the partition host, which delegates every
// user_request for that user to it (protocol: actors/user/user_protocol.h).
//
//   spawn ──load record+sessions──▶ serving ──idle `idle_passivation`──▶ passivating ──stop──▶ quit
//                                      │  (or: user absent / deleted)  ▲
//                                      └──────────────────────────────┘
//
// Idleness is judged without a timer per actor: the actor keeps its
// activity_slot current and the partition host's one sweep asks (idle_atom).
//
// It holds the record, sessions and counters in memory, serialises every
// change to its user, and writes each change through to the store as ONE
// write_batch before replying: nothing is acknowledged before it is stored.
// It never waits on another actor.
#include <atomic>
#include <caf/typed_actor.hpp>
#include <memory>
#include <string>

#include "actors/env.h"
#include "actors/user/user_protocol.h"

namespace roster {

/// Whatever answers user_requests: a user actor, a partition host, or a
/// node's gateway (which hands them to its partition host).
using user_endpoint = caf::typed_actor<caf::replies_to<user_request>::with<user_reply>>;

/// Where a user actor asks to be retired: its partition host.
using passivation_sink = caf::typed_actor<caf::reacts_to<passivate_atom, std::string>>;

using user_actor_hdl = caf::typed_actor<caf::replies_to<user_request>::with<user_reply>, caf::reacts_to<stop_atom>,
                                        caf::reacts_to<idle_atom>>;

/// What a user actor tells its partition host's idle sweep, without a
/// message: written by the actor only, read by the host (both relaxed).
struct activity_slot {
  std::atomic<millis> last{0};          // when it last served a request (unix ms)
  std::atomic<bool> publishing{false};  // it holds answers in the read cache
};

/// Spawns a user actor (used by the partition host and by tests). The actor
/// keeps `activity` current (null: a slot of its own). When its host sends
/// idle_atom it asks to be retired if it has served nothing (read-cache hits
/// included) for idle_passivation, and otherwise takes back its published
/// answers that have expired.
user_actor_hdl spawn_user_actor(caf::local_actor* parent, std::shared_ptr<actor_env> env, passivation_sink host,
                                uint16_t partition, std::string uid16,
                                std::shared_ptr<activity_slot> activity = nullptr);

} // namespace roster
