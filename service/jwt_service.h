#pragma once
// JWTs for game servers on one node (SPEC §3; domain/jwt.h has the token
// and key-set rules). The node signs with, and publishes, the cluster's key
// set, which the index partition of "jwt:keys" keeps (index op jwt_keyset:
// the first node to ask creates it, rotations happen in that actor's turn).
// Each node caches the set and asks again every `refresh` and, at most once
// a second, when a token names a kid it does not know. With jwt.key_file set
// the node signs with that key instead; it is published beside the set.
//
// Verified tokens are remembered (by SHA-256 of the token, never the token)
// until they expire, so a read with a JWT does not pay an Ed25519
// verification each time. Whether the session behind it is still alive is
// the user actor's question, asked on every use (jwt_session_key).
#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/router_port.h"
#include "domain/jwt.h"

namespace roster {

struct minted_jwt {
  std::string token;
  millis expires_at = 0;
};

/// Who a verified JWT speaks for: the user (16 raw bytes) and the token
/// hash to hand the user actor (jwt_session_key of the session id).
struct jwt_identity {
  std::string uid16;
  std::string session_key;
};

class jwt_service {
 public:
  struct options {
    millis ttl = 15 * 60'000;
    std::optional<jwt::key> file_key;  // jwt.key_file's key (read_key_file); none: the cluster's set
    millis refresh = 60'000;
  };
  jwt_service(router_port& route, options o);
  /// jwt.key_file: an Ed25519 private key in PEM; throws std::runtime_error
  /// naming the problem (read at start, before the node joins anything).
  static jwt::key read_key_file(const std::string& path);

  /// A token for session `session_id` (uuid text) of user `user_id` (uuid text).
  result<minted_jwt> mint(const std::string& user_id, const std::string& session_id, millis now);
  /// The JWKS document's text.
  result<std::string> jwks(millis now);
  /// Checks a bearer JWT (signature, alg, kid, exp, claims): unauthorized,
  /// session_expired (exp passed), or partition_unavailable (no key set yet).
  result<jwt_identity> verify(std::string_view token, millis now);

  /// Forces a rotation of the cluster's key set (the next key signs after
  /// jwt::rotation_rules::publish_ahead) and refreshes this node's copy.
  result<std::string> rotate(millis now);

 private:
  struct snapshot {
    jwt::key_set set;
    millis fetched_at = 0;
    std::string jwks_text;
  };
  result<std::shared_ptr<const snapshot>> current(millis now, bool force = false, bool rotate = false);
  result<std::shared_ptr<const snapshot>> fetch(millis now, bool rotate);

  router_port& route_;
  options opt_;
  std::optional<jwt::key> file_key_;
  std::shared_ptr<const snapshot> snap_;  // std::atomic_load / atomic_store
  std::mutex fetch_mu_;
  std::atomic<millis> last_forced_{0};

  struct cached {
    std::string uid16;
    std::string session_key;
    int64_t exp = 0;  // seconds
  };
  /// Looks a token up as the string_view it arrives as (no copy, no
  /// digest): the map holds only tokens whose signature was checked, and a
  /// hit needs every byte equal.
  struct token_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct shard {
    std::mutex mu;
    std::unordered_map<std::string, cached, token_hash, std::equal_to<>> map;  // by the token
  };
  static constexpr size_t shards = 16;
  static constexpr size_t shard_cap = 4096;
  std::array<shard, shards> cache_;
};

} // namespace roster
