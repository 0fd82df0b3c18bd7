#pragma once
// The user actor: one per live user, on the node that owns the user's
// partition. Spawned on demand by the partition host, which delegates every
// user_request for that user to it (protocol: actors/user/user_protocol.h).
//
//   spawn ──load record+sessions──▶ serving ──idle `idle_passivation`──▶ passivating ──stop──▶ quit
//                                      │  (or: user absent / deleted)  ▲
//                                      └──────────────────────────────┘
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

/// Spawns a user actor (used by the partition host and by tests). The actor
/// stores the time of every request it serves in `activity` (relaxed; null:
/// a slot of its own), which the host's idle sweep reads; it asks to be
/// retired when the host's idle_atom finds it idle for idle_passivation.
user_actor_hdl spawn_user_actor(caf::local_actor* parent, std::shared_ptr<actor_env> env, passivation_sink host,
                                uint16_t partition, std::string uid16,
                                std::shared_ptr<std::atomic<millis>> activity = nullptr);

} // namespace roster
