#pragma once
// read_cache: answers to GET /v1/account that user actors publish for the
// router and gateway to serve. Node-local; one per node, a member of
// actor_env (actors/env.h), which also holds the check that serves an entry
// (actor_env::cached_read).
#include <array>
#include <atomic>
#include <caf/actor_addr.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/clock.h"

namespace roster {

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

} // namespace roster
