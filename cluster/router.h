#pragma once
// The router: the one door from http/ and service/ to the actors (SPEC §1).
// Every request goes through it, even on one node: it maps a user id or an
// index key to its partition (base/placement.h), the partition to its owner
// in the routing snapshot, and sends to the local actor or to the owner
// node's gateway, then waits (on the calling HTTP worker thread, never inside
// an actor) for the typed reply. A partition between owners (partition_moving:
// the request was not run) is sent again with the newest table for up to 5 s.
//
// On a single node this node owns all partitions. The router's own state
// (the actor system, the pool of blocking actors) is behind a pimpl.
//
// Thread-safety: every public member may be called from any thread.
// Lifetime: the runtime must outlive the router; stop() (or the destructor)
// before the runtime stops. Requests answer partition_unavailable until
// membership has adopted a first view.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/index/index_protocol.h"
#include "actors/partition/partition_protocol.h"
#include "actors/user/user_protocol.h"
#include "domain/request.h"

namespace roster {

class node_runtime;

class router {
 public:
  explicit router(node_runtime& rt);
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

  uint32_t partitions() const;
  uint16_t partition_of_user(std::string_view uid16) const;

  /// Drops the pooled blocking actors. Idempotent; a later request makes a
  /// new one.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace roster
