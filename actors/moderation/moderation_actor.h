#pragma once
// The moderation-queue actor: one per node (SPEC §1, §4). It keeps the queue
// entries (domain/moderation.h, keys P 'm' uid16) of the partitions its node
// serves, by reported user:
//
//   a partition becomes served ──scan its P 'm' range──▶ entries in memory
//        (at start and after a handoff in; never a scan of every user)
//   a user actor commits a report or a decision ──queue_changed──▶ entry replaced
//   a partition stops being served (handed off) ──▶ its entries dropped: the
//        new owner's queue actor reads them from the partition it received
//   GET /v1/admin/moderation/queue ──gateway──scan_request{moderation_queue}──▶
//        this node's matching entries in queue order (flagged, then pending
//        reports, newest), at most `limit`; the HTTP handler merges the nodes'
//
// Whether a user is flagged depends on the time (moderation.flag_window), so
// it is computed when the queue is read and every tick for the counters
// (queue depth and flagged, for /debug/actors and /metrics).
#include <memory>

#include <caf/fwd.hpp>

#include "actors/env.h"
#include "actors/moderation/moderation_protocol.h"

namespace roster {

moderation_hdl spawn_moderation_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env);

} // namespace roster
