#pragma once
// The user actor: one per live user, on the node that owns the user's
// partition. Spawned on demand by the partition host, which delegates every
// user_request for that user to it.
//
//   spawn ──load record+sessions──▶ serving ──idle `idle_passivation`──▶ passivating ──stop──▶ quit
//                                      │  (or: user absent / deleted)  ▲
//                                      └──────────────────────────────┘
//
// It holds the record, sessions and counters in memory, serialises every
// change to its user, and writes each change through to the store as ONE
// write_batch before replying: nothing is acknowledged before it is stored.
// It never waits on another actor.
#include <caf/fwd.hpp>
#include <memory>
#include <string>

#include "actors/env.h"

namespace roster {

/// Spawns a user actor (used by the partition host and by tests).
caf::actor spawn_user_actor(caf::local_actor* parent, std::shared_ptr<actor_env> env, caf::actor host,
                            uint16_t partition, std::string uid16);

} // namespace roster
