#pragma once
// uid_key: a user id (16 raw bytes) held inline, for the per-live-user maps
// of the partition hosts and the directory and for the user actor's state.
// A std::string of 16 bytes is one past libstdc++'s small-string buffer
// (15): each copy would allocate a 32-byte chunk, and a node kept its hash
// beside it. With this key a map node is next + key + value (no cached hash:
// the hash is cheap) and nothing else on the heap.
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace roster {

struct uid_key {
  std::array<char, 16> bytes{};

  uid_key() = default;
  /// The first 16 bytes of `uid16` (zero-padded if shorter; callers check
  /// the length of ids from outside, see valid()).
  explicit uid_key(std::string_view uid16) { std::memcpy(bytes.data(), uid16.data(), std::min<size_t>(uid16.size(), 16)); }

  /// True for a user id as stored: exactly 16 bytes.
  static bool valid(std::string_view uid16) { return uid16.size() == 16; }

  std::string_view view() const { return {bytes.data(), bytes.size()}; }
  std::string str() const { return std::string(view()); }
  friend bool operator==(const uid_key& a, const uid_key& b) { return a.bytes == b.bytes; }
  friend bool operator!=(const uid_key& a, const uid_key& b) { return !(a == b); }
};

/// User ids are random (UUID v4): folding their two halves spreads them.
struct uid_key_hash {
  size_t operator()(const uid_key& k) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, k.bytes.data(), 8);
    std::memcpy(&b, k.bytes.data() + 8, 8);
    return static_cast<size_t>(a ^ (b * 0x9E3779B97F4A7C15ull));
  }
};

} // namespace roster
