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

#include "actors/partition/partition_protocol.h"
#include "cluster/router_port.h"

namespace roster {

class node_runtime;

class router final : public router_port {
 public:
  explicit router(node_runtime& rt);
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// router_port: send to the owner of the user's or the key's partition; a
  /// partition between owners is retried; an unreachable owner or a timeout
  /// gives partition_unavailable with Retry-After.
  result<user_reply> send_user(std::string_view uid16, user_op op, std::string token_hash,
                               const client_info& ci) override;
  result<index_reply> call_index(index_op op) override;

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
