#pragma once
// read_cache: answers to GET /v1/account that user actors publish for the
// router and gateway to serve. Node-local; one per node, a member of
// actor_env (actors/env.h), which also holds the check that serves an entry
// (actors/read_path.h).
#include <array>
#include <atomic>
#include <caf/actor_addr.hpp>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "actors/uid_key.h"
#include "base/clock.h"

namespace roster {

/// A session's token hash (SHA-256, 32 raw bytes) held inline: the read
/// cache's key and its entries' field, without a heap string each.
struct token_key {
  std::array<char, 32> bytes{};

  token_key() = default;
  /// The first 32 bytes of `hash` (zero-padded if shorter; see valid()).
  explicit token_key(std::string_view hash) { std::memcpy(bytes.data(), hash.data(), std::min<size_t>(hash.size(), 32)); }
  static bool valid(std::string_view hash) { return hash.size() == 32; }
  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  friend bool operator==(const token_key& a, const token_key& b) { return a.bytes == b.bytes; }
};

/// A digest: any 8 of its bytes spread evenly.
struct token_key_hash {
  size_t operator()(const token_key& k) const noexcept {
    uint64_t h;
    std::memcpy(&h, k.bytes.data() + 8, 8);
    return static_cast<size_t>(h);
  }
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
///    session in use at least once per `ttl` anyway;
///  - an actor that has been quiet for `ttl` takes back its expired answers
///    when its host's idle sweep asks (actors/partition/partition_host.cc), so
///    a body is not held for a user who no longer reads.
class read_cache {
 public:
  // One per published answer: the body, ~100 bytes of fields (no other heap)
  // and a 64-byte node in the map.
  struct entry {
    uid_key uid16;
    token_key token_hash;  // the session it answers for
    caf::actor_addr actor;  // the publisher: served only while it is the user's live actor
    millis valid_until = 0;
    std::string body;
    /// When the router last served it: the actor folds this into the
    /// session's last use (idle expiry) and its own idle clock.
    mutable std::atomic<millis> last_hit{0};
  };
  static constexpr millis ttl = 10'000;

  std::shared_ptr<const entry> find(std::string_view token_hash) {
    if (!token_key::valid(token_hash)) return nullptr;
    token_key k{token_hash};
    auto& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.entries.find(k);
    return it == s.entries.end() ? nullptr : it->second;
  }
  /// Publishes `e` under its token hash, replacing what was there.
  void publish(std::shared_ptr<const entry> e) {
    auto k = e->token_hash;
    auto& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    s.entries[k] = std::move(e);
  }
  void withdraw(const token_key& k) {
    auto& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    s.entries.erase(k);
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
    std::unordered_map<token_key, std::shared_ptr<const entry>, token_key_hash> entries;
  };
  shard_t& shard(const token_key& k) {
    // A SHA-256 digest: its first byte spreads evenly.
    return shards_[static_cast<unsigned char>(k.bytes[0]) % shards_.size()];
  }
  std::array<shard_t, 64> shards_;
};

} // namespace roster
