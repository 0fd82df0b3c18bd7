#pragma once
// actor_env: the services every actor of a node shares: the store and its
// write fence, the policies, the directory of live user actors
// (actors/directory.h), the read cache (actors/read_cache.h), the member
// credential and the counters. Created by the node runtime
// (cluster/runtime.cc) before any actor is spawned and kept alive
// (shared_ptr) until the last actor quits.
#include <atomic>
#include <caf/actor_addr.hpp>
#include <caf/actor_control_block.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/directory.h"
#include "actors/read_cache.h"
#include "actors/user/user_protocol.h"
#include "config/config.h"
#include "base/clock.h"
#include "base/placement.h"  // for the actors that route (the index actor reaches a user's host)
#include "domain/throttle.h"
#include "domain/user.h"
#include "persistence/fenced_store.h"
#include "persistence/store.h"

namespace roster {

struct actor_env {
  store* db = nullptr;  // owned by main; outlives the actor system
  /// The write fence in front of `db` (the same object), or null when the
  /// store is not fenced (unit tests): then every partition is served here.
  fenced_store* fence = nullptr;
  uint32_t partitions = 256;
  std::string node_name;
  session_policy sessions;
  throttle_policy login_throttle;
  millis idle_passivation = 5 * 60'000;
  millis claim_ttl = 30'000;  // an unconfirmed index claim older than this is repaired
  size_t max_sessions_per_user = 100;
  size_t max_log_entries = 1000;  // per user; older security-log entries are pruned

  actor_directory directory;
  read_cache reads;

  /// Proof carried by every request envelope (user_request, index_request,
  /// scan_request) and every member-to-member message: derived from
  /// cluster.secret on a cluster node (every member computes the same), 32
  /// random bytes on a single node. Actors act on a message only if it
  /// carries it: a stranger that reaches the cluster port and names an actor
  /// by id cannot make it do anything (docs/cluster.md, "Who can talk to a
  /// node"). Set before any actor is spawned, then read-only.
  std::string credential;
  /// True if `presented` is this node's credential (constant time); else
  /// counts and logs the refusal (at most one log line per second) naming
  /// `where` and the sender's node.
  bool accept(const std::string& presented, const char* where, const caf::strong_actor_ptr& sender);

  /// Where a user_request for a partition goes from inside an actor: this
  /// node's partition host, or the owner's gateway (set by the node runtime; a
  /// user_endpoint, null when the owner is unknown or down).
  std::function<caf::strong_actor_ptr(uint16_t partition)> host_of;

  /// True while this node owns partition `p` and may serve and write it.
  bool serving(uint16_t p) const { return !fence || fence->writable(p); }
  /// The answer published for this user's session (read_cache), if it is
  /// valid now, partition `p` is served here and its publisher is still the
  /// user's live actor; records the hit. Null otherwise: ask the actor.
  std::shared_ptr<const read_cache::entry> cached_read(const std::string& uid16, const std::string& token_hash,
                                                       uint16_t p) {
    if (token_hash.empty() || !serving(p)) return nullptr;
    auto hit = reads.find(token_hash);
    if (!hit || hit->uid16.view() != uid16) return nullptr;
    auto now = now_ms();
    auto live = directory.find(uid16);
    if (now >= hit->valid_until || !live || live->address() != hit->actor) return nullptr;
    hit->last_hit.store(now, std::memory_order_relaxed);
    cached_reads.fetch_add(1, std::memory_order_relaxed);
    return hit;
  }
  /// The one cached-read fast path (the router's for local requests, the
  /// gateway's for requests from other nodes): the answer to `req` from the
  /// read cache if it is a read the cache holds (authenticate, i.e. GET
  /// /v1/account) and cached_read() finds it valid. Nullopt: ask the actor.
  std::optional<user_reply> cached_answer(const user_request& req, uint16_t p) {
    if (!std::holds_alternative<authenticate>(req.op)) return std::nullopt;
    auto hit = cached_read(req.user_id, req.token_hash, p);
    if (!hit) return std::nullopt;
    return user_reply{view{hit->body}};
  }
  /// How many partitions this node serves now.
  uint32_t partitions_served() const {
    uint32_t n = 0;
    for (uint32_t p = 0; p < partitions; ++p) n += serving(static_cast<uint16_t>(p)) ? 1 : 0;
    return n;
  }

  // Counters read by /metrics and /debug/actors.
  std::atomic<int64_t> live_user_actors{0};
  std::atomic<int64_t> user_actor_spawns{0};
  std::atomic<int64_t> user_actor_passivations{0};
  std::atomic<int64_t> cached_reads{0};  // GET /v1/account answered from `reads`
  std::atomic<int64_t> refused_messages{0};  // without the credential (accept())
  std::atomic<millis> last_refusal_log{0};
};

} // namespace roster
