#pragma once
// The data directory: <dir>/roster.json (format version, partition count,
// created_at) and <dir>/db (RocksDB). The partition count is fixed when the
// directory is created; opening with another count is refused.
#include <cstdint>
#include <string>

#include "domain/errc.h"

namespace roster {
class store;
}

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

struct backup_info {
  std::string path;  // absolute
  uint64_t files = 0;
  uint64_t bytes = 0;
};

/// Writes a consistent copy of data dir `dir`, whose store `db` is open, into
/// `to`: a RocksDB checkpoint (memtables flushed first, so every write
/// acknowledged before the call is in it; hard links where `to` is on the same
/// filesystem) plus roster.json. The result is a data dir a node can start
/// from. `to` must be absolute (or is made so against the working directory),
/// must not exist, and its parent must. Errors: invalid_request (bad path),
/// already_exists, internal (the checkpoint failed; a partial `to` is removed).
result<backup_info> write_backup(store& db, const std::string& dir, const std::string& to);

} // namespace roster
