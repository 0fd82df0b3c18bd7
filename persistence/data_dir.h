#pragma once
// The data directory: <dir>/roster.json (format version, partition count,
// created_at) and <dir>/db (RocksDB). The partition count is fixed when the
// directory is created; opening with another count is refused.
#include <cstdint>
#include <string>

#include "domain/errc.h"

namespace roster {

constexpr int data_format_version = 1;

struct data_dir_info {
  int format_version = data_format_version;
  uint32_t partitions = 256;
};

/// Creates the directory and its roster.json if missing; otherwise checks that
/// the recorded format and partition count match. Returns the recorded info.
result<data_dir_info> prepare_data_dir(const std::string& dir, uint32_t partitions);

inline std::string db_path(const std::string& dir) { return dir + "/db"; }

} // namespace roster
