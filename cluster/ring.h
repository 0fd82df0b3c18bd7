#pragma once
// Placement: which node owns which partition. Pure functions over a versioned
// table (no CAF, no I/O), in the manner of riak_core's chash/ring: the
// membership actor of the cluster (issue 3) will own the current table and
// call rebalance() when members join or leave.
//
// Guarantees of rebalance(prev, members):
//   - every partition has exactly one owner, a member;
//   - balance: each member owns floor(P/N) or ceil(P/N) partitions;
//   - minimal movement: a partition moves only if its owner left or owns
//     more than its share, and only to a member that owns less than its share
//     (so on a join, partitions move only to the joiner; on a leave, only the
//     leaver's partitions move);
//   - deterministic: the same inputs give the same table on every node.
#include <cstdint>
#include <string>
#include <vector>

namespace roster {

struct partition_table {
  uint64_t epoch = 0;               // bumped by every change
  std::vector<std::string> owners;  // owners[p] = member name ("" = unassigned)

  /// Partitions owned by `member`.
  std::vector<uint32_t> owned_by(const std::string& member) const;
};

/// The next table for `members` (any order, duplicates ignored; must not be
/// empty), moving as few partitions as the guarantees above allow.
partition_table rebalance(const partition_table& prev, std::vector<std::string> members, uint32_t partitions);

/// Number of partitions whose owner differs between two tables of one size.
uint32_t moved_partitions(const partition_table& a, const partition_table& b);

} // namespace roster
