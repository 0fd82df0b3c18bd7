#pragma once
// The notification sender: one per node (SPEC §1, §5). It drains the outbox
// (keys P 'o' id16, persistence/keys.h) of the partitions its node owns:
//
//   a partition becomes served ──scan its outbox──▶ pending entries queued by due time
//   a user actor commits entries ──outbox_added──▶ queued
//   due, and fewer than outbox.in_flight sends running ──▶ read the entry, hand it to a
//        sender thread (delivery/sender_pool.h) ──outbox_sent──▶
//          ok:     the entry is deleted
//          failed: attempts+1, next try after backoff with jitter (domain/outbox.h),
//                  or a dead letter after outbox.max_attempts; written back
//   a partition stops being served (handed off) ──▶ its entries are dropped from memory:
//        the new owner's sender scans and sends them
//
// Every state change is a fenced write: after a handoff the old owner cannot
// touch the entry. A send whose result cannot be written is sent again by
// whoever owns the partition next: delivery is at least once, and each
// delivery carries the entry's id for the receiver to de-duplicate.
// Figures (depth, in flight, dead letters, oldest pending) go to
// env->counters for /debug/actors and /metrics.
#include <memory>

#include <caf/fwd.hpp>

#include "actors/env.h"
#include "actors/notify/notify_protocol.h"
#include "delivery/sender_pool.h"

namespace roster {

notify_hdl spawn_notify_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env, std::shared_ptr<sender_pool> pool,
                              retry_policy retry, size_t in_flight);

} // namespace roster
