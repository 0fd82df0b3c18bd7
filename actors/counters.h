#pragma once
// The counters a node's actors keep for /metrics and /debug/actors. Relaxed
// atomics: figures for operators, not for decisions.
#include <algorithm>
#include <atomic>
#include <cstdint>

#include "base/clock.h"

namespace roster {

struct actor_counters {
  std::atomic<int64_t> live_user_actors{0};
  std::atomic<int64_t> user_actor_spawns{0};
  std::atomic<int64_t> user_actor_passivations{0};
  std::atomic<int64_t> cached_reads{0};      // GET /v1/account answered from the read cache
  std::atomic<int64_t> refused_messages{0};  // without the credential (actor_env::accept)
  std::atomic<millis> last_refusal_log{0};
  // The notification sender (actors/notify/notify_actor.h).
  std::atomic<int64_t> outbox_depth{0};      // pending entries of the partitions served (queued or in flight)
  std::atomic<int64_t> outbox_in_flight{0};
  std::atomic<int64_t> outbox_dead{0};       // dead letters stored in the partitions served
  std::atomic<millis> outbox_oldest_at{0};   // creation time of the oldest pending entry; 0: none
  std::atomic<int64_t> outbox_sent{0};       // deliveries that succeeded, since start
  std::atomic<int64_t> outbox_failures{0};   // attempts that failed, since start
  // The moderation-queue actor (actors/moderation/moderation_actor.h).
  std::atomic<int64_t> moderation_depth{0};    // users with pending reports in the partitions served
  std::atomic<int64_t> moderation_flagged{0};  // of them, flagged by the rule now
  std::atomic<int64_t> moderation_reports{0};  // pending reports in the partitions served
};

/// How long the oldest pending outbox entry has waited (ms; 0: none).
inline int64_t outbox_oldest_age(const actor_counters& c, millis now) {
  auto at = c.outbox_oldest_at.load(std::memory_order_relaxed);
  return at == 0 ? 0 : std::max<int64_t>(0, now - at);
}

} // namespace roster
