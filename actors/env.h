#pragma once
// actor_env: what every actor of a node shares. Created by the router before
// any actor is spawned and kept alive (shared_ptr) until the last actor quits.
#include <atomic>
#include <caf/fwd.hpp>
#include <functional>
#include <memory>

#include "config/config.h"
#include "domain/throttle.h"
#include "domain/user.h"
#include "persistence/store.h"

namespace roster {

struct actor_env {
  store* db = nullptr;  // owned by main; outlives the actor system
  uint32_t partitions = 256;
  std::string node_name;
  session_policy sessions;
  throttle_policy login_throttle;
  millis idle_passivation = 5 * 60'000;
  millis claim_ttl = 30'000;  // an unconfirmed index claim older than this is repaired
  bool require_activation = false;
  size_t max_sessions_per_user = 100;

  /// The partition host that owns a partition (set by the router).
  std::function<caf::actor(uint16_t partition)> host_of;

  // Counters read by /metrics and /debug/actors.
  std::atomic<int64_t> live_user_actors{0};
  std::atomic<int64_t> user_actor_spawns{0};
  std::atomic<int64_t> user_actor_passivations{0};
};

/// Partition of a user id (16 raw bytes) and of an index key.
uint16_t partition_of_user(std::string_view uid16, uint32_t partitions);
uint16_t partition_of_index_key(std::string_view key, uint32_t partitions);

} // namespace roster
