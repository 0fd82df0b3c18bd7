#pragma once
// The router: the one door from http/ and service/ to the actors (SPEC §1).
// Every request goes through it, even on one node: it maps a user id or an
// index key to its partition (base/placement.h), the partition to its owner
// in the routing snapshot, and sends to the local actor or to the owner
// node's gateway, then waits (on the calling HTTP worker thread, never inside
// an actor) for the reply. A "moving" reply (a partition in handoff) is sent
// again with the newest table for up to 5 s.
//
// On a single node this node owns all partitions. The header hides CAF
// behind a pimpl so that http/ never includes <caf/...>.
//
// Thread-safety: every public member may be called from any thread.
// Lifetime: the runtime must outlive the router; stop() (or the destructor)
// before the runtime stops. Requests answer partition_unavailable until
// membership has adopted a first view.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/messages.h"

namespace roster {

class node_runtime;

struct client_info {
  std::string ip;
  std::string user_agent;
};

class router {
 public:
  explicit router(node_runtime& rt);
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Sends `op` to the actor of user `uid16` (16 raw bytes) and waits for the
  /// reply. A timeout gives partition_unavailable with Retry-After.
  reply call_user(std::string_view uid16, user_op op, std::string token_hash = {}, std::string args = {},
                  const client_info& ci = {});

  /// Sends an index operation to the index actor owning `key`.
  reply call_index(index_op op, const std::string& key, const std::string& uid_text = {});

  /// Runs a scan on every partition (one request per member, in parallel)
  /// and returns all items. Members that could not answer (down, or the
  /// request failed) are named in `missing`: their partitions are not in the
  /// result.
  std::vector<std::string> scatter(scan_op op, const std::string& args, std::vector<std::string>* missing = nullptr);

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
