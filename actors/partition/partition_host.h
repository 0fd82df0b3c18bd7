#pragma once
// The partition host: one actor per partition owned by this node (riak_core's
// vnode master, in miniature). It maps user ids to live user actors, spawns
// them on first use, delegates each user_request to the user's actor (the
// reply goes straight from the user actor to the requester), and retires them
// when they ask to passivate.
//
// Single writer per user: a passivating actor is monitored until it has
// terminated; requests that arrive meanwhile are parked and delegated to the
// fresh actor, which loads state only after the old one has written its last
// change.
//
// It also answers partition-wide scans (admin search, stats) from the store.
#include <caf/fwd.hpp>
#include <memory>

#include "actors/env.h"

namespace roster {

/// Spawns the host of `partition`.
caf::actor spawn_partition_host(caf::actor_system& sys, std::shared_ptr<actor_env> env, uint16_t partition);

} // namespace roster
