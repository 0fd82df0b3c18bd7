#pragma once
// actor_env: what every actor of a node shares. Created by the router before
// any actor is spawned and kept alive (shared_ptr) until the last actor quits.
#include <array>
#include <atomic>
#include <caf/actor_addr.hpp>
#include <caf/actor_control_block.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "config/config.h"
#include "base/clock.h"
#include "domain/throttle.h"
#include "domain/user.h"
#include "persistence/fenced_store.h"
#include "persistence/store.h"

namespace roster {

/// Live user actors by user id, so the router can send straight to a user's
/// actor without a hop through its partition host. Written only by partition
/// hosts (insert on spawn, erase before retiring); read by router threads.
/// A handle read here may belong to an actor that has just terminated: the
/// request then fails at once with request_receiver_down and the router falls
/// back to the host, which never runs two actors for one user.
class actor_directory {
 public:
  /// The live actor of a user (a user_actor_hdl), or null.
  caf::strong_actor_ptr find(const std::string& uid16) {
    auto& s = shard(uid16);
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.actors.find(uid16);
    return it == s.actors.end() ? caf::strong_actor_ptr{} : it->second;
  }
  void insert(const std::string& uid16, caf::strong_actor_ptr a) {
    auto& s = shard(uid16);
    std::lock_guard<std::mutex> lock(s.mutex);
    s.actors[uid16] = std::move(a);
  }
  void erase(const std::string& uid16, const caf::actor_addr& only_if) {
    auto& s = shard(uid16);
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.actors.find(uid16);
    if (it != s.actors.end() && it->second && it->second->address() == only_if) s.actors.erase(it);
  }
  void clear() {
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mutex);
      s.actors.clear();
    }
  }

 private:
  struct shard_t {
    std::mutex mutex;
    std::unordered_map<std::string, caf::strong_actor_ptr> actors;
  };
  shard_t& shard(const std::string& uid16) {
    // uid16 is random: its first byte spreads evenly.
    return shards_[static_cast<unsigned char>(uid16.empty() ? 0 : uid16[0]) % shards_.size()];
  }
  std::array<shard_t, 64> shards_;
};

/// Answers to GET /v1/account published by user actors, by session token
/// hash, so the router can serve the hottest read on the HTTP thread without a
/// round trip through the actor (two thread hand-offs, most of its cost).
///
/// The rules that keep it exact (actors/user/user_actor.cc):
///  - only a user's actor publishes its entries, right after it authenticated
///    the session; an entry is valid for at most `ttl`, and never past the
///    session's absolute or idle expiry;
///  - the actor withdraws all of its user's entries before it handles any
///    other request and when it stops, so a change (logout, block, password
///    change, profile edit, deletion, handoff) is never acknowledged while an
///    answer from before it can still be served;
///  - the router serves an entry only while its publisher is the user's live
///    actor in the directory (hosts erase it before retiring the actor), so
///    an entry can never outlive the actor that would have withdrawn it;
///  - every answer served records its time in the entry; the actor folds it
///    into the session's last use and its idle clock, and it sees every
///    session in use at least once per `ttl` anyway.
class read_cache {
 public:
  struct entry {
    std::string uid16;
    std::string token_hash;  // the session it answers for
    caf::actor_addr actor;  // the publisher: served only while it is the user's live actor
    millis valid_until = 0;
    std::string body;
    /// When the router last served it: the actor folds this into the
    /// session's last use (idle expiry) and its own idle clock.
    mutable std::atomic<millis> last_hit{0};
  };
  static constexpr millis ttl = 10'000;

  std::shared_ptr<const entry> find(const std::string& token_hash) {
    auto& s = shard(token_hash);
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.entries.find(token_hash);
    return it == s.entries.end() ? nullptr : it->second;
  }
  void publish(const std::string& token_hash, std::shared_ptr<const entry> e) {
    auto& s = shard(token_hash);
    std::lock_guard<std::mutex> lock(s.mutex);
    s.entries[token_hash] = std::move(e);
  }
  void withdraw(const std::string& token_hash) {
    auto& s = shard(token_hash);
    std::lock_guard<std::mutex> lock(s.mutex);
    s.entries.erase(token_hash);
  }
  size_t size() {
    size_t n = 0;
    for (auto& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mutex);
      n += s.entries.size();
    }
    return n;
  }

 private:
  struct shard_t {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const entry>> entries;
  };
  shard_t& shard(const std::string& token_hash) {
    // A SHA-256 digest: its first byte spreads evenly.
    return shards_[static_cast<unsigned char>(token_hash.empty() ? 0 : token_hash[0]) % shards_.size()];
  }
  std::array<shard_t, 64> shards_;
};

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
  /// node's partition host, or the owner's gateway (set by the router; a
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
    if (!hit || hit->uid16 != uid16) return nullptr;
    auto now = now_ms();
    auto live = directory.find(uid16);
    if (now >= hit->valid_until || !live || live->address() != hit->actor) return nullptr;
    hit->last_hit.store(now, std::memory_order_relaxed);
    cached_reads.fetch_add(1, std::memory_order_relaxed);
    return hit;
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

/// Partition of a user id (16 raw bytes) and of an index key.
uint16_t partition_of_user(std::string_view uid16, uint32_t partitions);
uint16_t partition_of_index_key(std::string_view key, uint32_t partitions);

} // namespace roster
