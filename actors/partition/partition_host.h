#pragma once
// The partition host: one actor per partition owned by this node (riak_core's
// vnode master, in miniature). It maps user ids to live user actors, spawns
// them on first use, delegates each user_request for that user to it (the
// reply goes straight from the user actor to the requester), and retires them
// when they ask to passivate.
//
// Single writer per user: a passivating actor is monitored until it has
// terminated; requests that arrive meanwhile are parked and delegated to the
// fresh actor, which loads state only after the old one has written its last
// change.
//
// It also answers partition-wide scans (admin search, stats) from the store
// (actors/partition/partition_protocol.h).
#include <caf/typed_actor.hpp>
#include <memory>
#include <string>

#include "actors/env.h"
#include "actors/partition/partition_protocol.h"
#include "actors/user/user_actor.h"

namespace roster {

using partition_host_hdl =
    caf::typed_actor<caf::replies_to<user_request>::with<user_reply>, caf::replies_to<scan_request>::with<scan_reply>,
                     caf::reacts_to<passivate_atom, std::string>, caf::reacts_to<seal_atom>, caf::reacts_to<idle_atom>,
                     caf::replies_to<stats_atom>::with<std::string>, caf::reacts_to<resume_atom>>;

/// Spawns the host of `partition`.
partition_host_hdl spawn_partition_host(caf::actor_system& sys, std::shared_ptr<actor_env> env, uint16_t partition);

} // namespace roster
