#pragma once
// actor_directory: the live user actors of one node, by user id. Node-local;
// one per node, a member of actor_env (actors/env.h).
#include <array>
#include <caf/actor_addr.hpp>
#include <caf/actor_control_block.hpp>
#include <mutex>
#include <string>
#include <unordered_map>

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

} // namespace roster
