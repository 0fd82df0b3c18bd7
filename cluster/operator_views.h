#pragma once
// Operator views: what /debug/*, /metrics and /readyz show of this node and
// its cluster. Read-only: the counters and tables of the runtime, the routing
// snapshot and handoff progress, and (for the cluster-wide figures) one stats
// request to every member's gateway. No view wakes a passivated actor.
//
// Thread-safety: every member may be called from any thread. Lifetime: the
// runtime, membership and router must outlive it.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace roster {

class membership;
class node_runtime;
class router;

class operator_views {
 public:
  operator_views(node_runtime& rt, const membership& members, router& route);

  /// /debug/actors: user actor figures of every member (unreachable ones
  /// named), this node's busy partitions and mailbox totals.
  nlohmann::json debug_actors();
  /// /debug/cluster: members, the partition table as owner ranges, handoffs
  /// in progress and recent ones, link security and refusals.
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
  /// The notification sender's figures (for /metrics): depth, in_flight,
  /// dead_letters, oldest_pending_age_seconds, sent_total, failures_total.
  std::map<std::string, uint64_t> outbox_stats() const;
  /// This node's moderation queue: depth, flagged, pending_reports.
  std::map<std::string, uint64_t> moderation_stats() const;
  const std::string& node_name() const;
  /// The partitions this node owns and serves now (all of them on a single
  /// node; about P/N in a cluster of N; fewer while it hands some off).
  uint32_t partitions_owned() const;
  /// True once every owned partition has its actors (readiness).
  bool ready() const;

 private:
  node_runtime& rt_;
  const membership& members_;
  router& route_;
};

} // namespace roster
