#pragma once
// actor_directory: the live user actors of one node, by user id. Node-local;
// one per node, a member of actor_env (actors/env.h).
#include <array>
#include <caf/actor_addr.hpp>
#include <caf/actor_control_block.hpp>
#include <mutex>
#include <string>
#include <unordered_map>

#include "actors/uid_key.h"

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
  caf::strong_actor_ptr find(std::string_view uid16) {
    if (!uid_key::valid(uid16)) return {};
    uid_key k{uid16};
    auto& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.actors.find(k);
    return it == s.actors.end() ? caf::strong_actor_ptr{} : it->second;
  }
  void insert(std::string_view uid16, caf::strong_actor_ptr a) { insert(uid_key{uid16}, std::move(a)); }
  void insert(const uid_key& k, caf::strong_actor_ptr a) {
    auto& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    s.actors[k] = std::move(a);
  }
  void erase(std::string_view uid16, const caf::actor_addr& only_if) { erase(uid_key{uid16}, only_if); }
  void erase(const uid_key& k, const caf::actor_addr& only_if) {
    auto& s = shard(k);
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.actors.find(k);
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
    // 16-byte keys inline: one 32-byte node per live user, nothing else.
    std::unordered_map<uid_key, caf::strong_actor_ptr, uid_key_hash> actors;
  };
  shard_t& shard(const uid_key& k) {
    // uid16 is random: its first byte spreads evenly.
    return shards_[static_cast<unsigned char>(k.bytes[0]) % shards_.size()];
  }
  std::array<shard_t, 64> shards_;
};

} // namespace roster
