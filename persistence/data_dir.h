#pragma once
// The data directory: <dir>/roster.json (format version, partition count,
// created_at) and <dir>/db (RocksDB). The partition count is fixed when the
// directory is created; opening with another count is refused.
#include <cstdint>
#include <string>

#include "base/errc.h"

namespace roster {
class store;
}

namespace roster {

constexpr int data_format_version = 1;

struct data_dir_info {
  int format_version = data_format_version;
  uint32_t partitions = 256;
};

/// Creates the directory (0700, with db/ 0700) and its roster.json (0600) if
/// missing; otherwise checks that the recorded format and partition count
/// match. Either way the directory and db/ are made 0700: it holds password
/// hashes. Returns the recorded info.
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
/// The copy is owner-only: directories 0700, files 0600.
result<backup_info> write_backup(store& db, const std::string& dir, const std::string& to);

/// Where an online backup asked for `to` may go: `to` must be absolute, have
/// no `..` component, and its parent, with symlinks resolved, must be an
/// existing directory inside `root` (admin.backup_root, also resolved).
/// Returns the resolved target (parent resolved + last name; write_backup then
/// refuses it if anything, even a dangling symlink, is there). Errors:
/// forbidden (empty root: online backups are off; root missing),
/// invalid_request with fields.to.
result<std::string> resolve_backup_target(const std::string& root, const std::string& to);

} // namespace roster
