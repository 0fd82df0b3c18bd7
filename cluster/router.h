#pragma once
// The router: the one door from http/ to the actors (SPEC §1). Every request
// goes through it, even on one node: it maps a user id or an index key to its
// partition, the partition to the owning node's actor, and waits (on the
// calling HTTP worker thread, never inside an actor) for the typed reply.
//
// On a single node this node owns all partitions. The header hides CAF
// behind a pimpl so that http/ never includes <caf/...>.
//
// Thread-safety: every public member may be called from any thread.
// Lifetime: `db` must outlive the router; stop() (or the destructor) stops
// all actors before returning.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "actors/index/index_protocol.h"
#include "actors/partition/partition_protocol.h"
#include "actors/user/user_protocol.h"
#include "config/config.h"
#include "domain/request.h"
#include "persistence/store.h"

namespace roster {

class router {
 public:
  /// Starts the actors and this node's membership: alone, or by joining the
  /// cluster of cfg.cluster.seeds (blocks until admitted). Throws
  /// std::runtime_error when the cluster refuses the node or cannot be reached.
  router(const node_config& cfg, store& db);
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Sends operation `op` to the actor of user `uid16` (16 raw bytes) and
  /// waits for its typed reply (reply_of<Op>, actors/user/user_protocol.h).
  /// A partition between owners is retried; an unreachable owner or a
  /// timeout gives partition_unavailable with Retry-After.
  template <class Op>
  result<reply_of_t<Op>> call_user(std::string_view uid16, Op op, std::string token_hash = {},
                                   const client_info& ci = {}) {
    auto r = send_user(uid16, user_op{std::move(op)}, std::move(token_hash), ci);
    if (!r) return r.err();
    if (auto* v = std::get_if<reply_of_t<Op>>(&r->value)) return std::move(*v);
    return make_error(errc::internal, "unexpected reply");
  }
  /// The untyped form of call_user.
  result<user_reply> send_user(std::string_view uid16, user_op op, std::string token_hash, const client_info& ci);

  /// Sends an index operation to the index actor owning its key.
  result<index_reply> call_index(index_op op);

  /// Runs a scan on every partition (one request per member, in parallel)
  /// and returns each member's answer. Members that could not answer (down,
  /// or the request failed) are named in `missing`: their partitions are not
  /// in the result.
  std::vector<scan_reply> scatter(scan_op op, std::vector<std::string>* missing = nullptr);

  /// Operator views.
  nlohmann::json debug_actors();
  nlohmann::json debug_cluster();
  /// One user's partition, owner and actor state, without waking a passivated
  /// actor: `{user_id, partition, owner, live, exists, ...}`. `exists` is false
  /// for an id with no user record; null, with `error` naming the code, when
  /// the owner could not answer (down, or the partition is moving).
  nlohmann::json debug_user(std::string_view uid16);

  int64_t live_user_actors() const;
  /// Cluster figures for /metrics: epoch, members_up, members_down,
  /// partitions_served (here), handoffs_pending (cluster-wide), handoffs_outgoing.
  std::map<std::string, uint64_t> cluster_stats() const;
  /// Size figures of this node's store (for /metrics); empty if it is not open.
  std::map<std::string, uint64_t> store_stats() const;
  uint32_t partitions() const;
  uint16_t partition_of_user(std::string_view uid16) const;
  const std::string& node_name() const;
  /// True once every owned partition has its actors (readiness).
  bool ready() const;

  /// Asks the cluster to hand off every partition of this node; once they
  /// have all moved, the on_left callback runs (main stops the node).
  result<std::string> leave();
  void on_left(std::function<void()> fn);
  /// Writes a consistent copy of this node's data dir into the new directory
  /// `to` on this node's filesystem (see write_backup) while the node serves.
  /// `to` must resolve inside admin.backup_root (resolve_backup_target): an
  /// empty root refuses every target (forbidden). One at a time; the reply
  /// says what was written and what the node owned.
  result<std::string> backup(const std::string& to);
  /// The node-to-node port (0 when not clustered).
  uint16_t cluster_port() const;

  /// Stops every actor and waits for them. Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace roster
