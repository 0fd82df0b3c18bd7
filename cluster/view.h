#pragma once
// The cluster view: who the members are and which node owns which partition,
// versioned by one epoch. Pure data and rules (no CAF, no I/O), unit-tested
// in tests/cluster/view_test.cc.
//
// The coordinator (the longest-standing member that is up) is the only node
// that changes the view; it bumps the epoch on every change and sends the
// whole view to every member, which adopts any view with a higher epoch.
//
//   owners[p]  the node that serves partition p now (one per partition);
//   targets[p] where p is going: rebalance() over the staying members. A
//              partition with owners[p] != targets[p] is handed off by its
//              owner; complete_move() switches the owner afterwards.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace roster {

enum class member_state { up, down, leaving };
std::string_view to_string(member_state s);

struct member_info {
  std::string name;
  std::string http;     // HTTP listen address (for operators)
  std::string cluster;  // node-to-node listen address
  member_state state = member_state::up;
  uint64_t seq = 0;     // admission order: lower = longer-standing
};

struct partition_move {
  uint32_t partition;
  std::string from, to;
};

struct cluster_view {
  uint64_t epoch = 0;
  uint32_t partitions = 0;
  uint64_t next_seq = 1;
  std::vector<member_info> members;
  std::vector<std::string> owners;
  std::vector<std::string> targets;

  const member_info* find(const std::string& name) const;
  member_info* find(const std::string& name);
  /// The member that coordinates changes: the longest-standing one that is
  /// not down (and, given `reachable`, reachable). "" if there is none.
  std::string coordinator(const std::function<bool(const std::string&)>& reachable = {}) const;
  /// Partitions whose owner differs from their target.
  std::vector<partition_move> moves() const;
  uint32_t owned_by(const std::string& name) const;
  /// Whether owners and targets have one entry per partition: a view read
  /// from the disk or received from a peer is used only then.
  bool well_formed() const;

  nlohmann::json to_json() const;
  static std::optional<cluster_view> from_json(const nlohmann::json& j);
};

/// True when more than half of the view's members are reachable: the
/// coordinator changes the view only then, so that a node cut off from the
/// others (or a minority side of a network split) never bumps the epoch.
bool majority_reachable(const cluster_view& v, const std::function<bool(const std::string&)>& reachable);

/// A view with one member owning every partition (a new cluster), epoch 1.
cluster_view founding_view(const member_info& self, uint32_t partitions);

/// Admits `m`: a new member gets its share of partitions as targets; a known
/// member (a restart) is marked up with its new addresses. Bumps the epoch.
cluster_view admit(cluster_view v, member_info m);
/// Marks a member up or down (no partition moves: a down node keeps its
/// partitions until it returns). Bumps the epoch.
cluster_view mark(cluster_view v, const std::string& name, member_state s);
/// Starts the departure of `name`: its partitions are targeted elsewhere.
cluster_view begin_leave(cluster_view v, const std::string& name);
/// Partition `p` has been handed to its target: switch the owner. Members
/// that are leaving and own nothing any more are removed. Bumps the epoch.
cluster_view complete_move(cluster_view v, uint32_t p);

} // namespace roster
