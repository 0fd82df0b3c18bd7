#pragma once
// SipHash-2-4 with a fixed key: the stable hash that places users and index
// keys in partitions. Never change the key: it would move every record.
#include <cstdint>
#include <string_view>

namespace roster {

uint64_t siphash24(uint64_t k0, uint64_t k1, std::string_view data);

/// The placement hash: SipHash-2-4 under Roster's fixed key.
uint64_t placement_hash(std::string_view data);

} // namespace roster
