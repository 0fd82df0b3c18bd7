#pragma once
// The payload of one handoff message: a run of puts and deletes of one
// partition's keys, in a flat length-prefixed encoding
//   [op: 'p' | 'd'][key len: u32 BE][key][value len: u32 BE][value]   (value only for 'p')
// Pure functions; decode() rejects anything malformed as a whole.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roster::chunk {

struct entry {
  std::string key;
  std::optional<std::string> value;  // nullopt = delete
};

void append(std::string& out, std::string_view key, const std::optional<std::string_view>& value);
std::optional<std::vector<entry>> decode(std::string_view blob);

} // namespace roster::chunk
