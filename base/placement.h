#pragma once
// Placement: which partition a user or an index key lives in. Pure functions
// of the id and the partition count (fixed when the data dir is created), the
// same on every node and at every start: never change them, it would move
// every record. Which node serves a partition is the cluster view's business
// (cluster/view.h, cluster/ring.h).
//
// Callers: the router and gateway (cluster/), the index actor (it sends a
// user's requests to that user's partition host), the account workflows.
#include <cstdint>
#include <string_view>

#include "base/siphash.h"

namespace roster {

/// Partition of a user id (16 raw bytes). REQUIRES: partitions > 0.
inline uint16_t partition_of_user(std::string_view uid16, uint32_t partitions) {
  return static_cast<uint16_t>(placement_hash(uid16) % partitions);
}

/// Partition of an index key ("<kind>:<normalised value>"). REQUIRES: partitions > 0.
inline uint16_t partition_of_index_key(std::string_view key, uint32_t partitions) {
  return static_cast<uint16_t>(placement_hash(key) % partitions);
}

} // namespace roster
