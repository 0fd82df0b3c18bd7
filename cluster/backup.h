#pragma once
// Online backup: a consistent copy of this node's data dir (a RocksDB
// checkpoint, persistence/data_dir.h write_backup) taken while the node
// serves, into a new directory under admin.backup_root on this node's
// filesystem. The offline backup of a stopped node is `roster backup
// --data-dir` (main.cc).
//
// Thread-safety: take() may be called from any thread; one backup runs at a
// time (others wait). Lifetime: the runtime must outlive it.
#include <mutex>
#include <string>

#include "base/errc.h"

namespace roster {

class node_runtime;

class online_backup {
 public:
  explicit online_backup(node_runtime& rt);

  /// Writes the backup into the new directory `to`, which must resolve
  /// inside admin.backup_root (resolve_backup_target): an empty root refuses
  /// every target (forbidden). The value (JSON) says what was written (path,
  /// files, bytes, time) and what the node owned (epoch, partitions, handoffs
  /// in progress).
  result<std::string> take(const std::string& to);

 private:
  node_runtime& rt_;
  std::mutex mutex_;  // one checkpoint at a time
};

} // namespace roster
