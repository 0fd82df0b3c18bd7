#pragma once
// The counters a node's actors keep for /metrics and /debug/actors. Relaxed
// atomics: figures for operators, not for decisions.
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
};

} // namespace roster
