#pragma once
// The stream relay: one per node; hands what user actors send for this node's
// open event streams (actors/stream/stream_protocol.h) to them, after checking
// the member credential.
#include <memory>

#include <caf/fwd.hpp>

#include "actors/env.h"
#include "actors/stream/stream_protocol.h"

namespace roster {

stream_relay_hdl spawn_stream_relay(caf::actor_system& sys, std::shared_ptr<actor_env> env, std::shared_ptr<stream_sink> sink);

} // namespace roster
