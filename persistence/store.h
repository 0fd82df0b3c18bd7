#pragma once
// The store interface: an ordered byte-key/byte-value map with atomic batches.
//
// Operation: every key of partitioned data starts with the 2-byte big-endian
// partition number (see keys.h), so one partition is one contiguous key range.
// Concurrency: implementations are thread-safe; a write_batch is applied
// atomically. Durability: when opened with sync_writes, `write` returns only
// after the batch is on disk (fsync); otherwise after it is in the OS (WAL
// written, survives a process crash, not a power loss).
// Only rocksdb_store.cc includes <rocksdb/...>.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/errc.h"

namespace roster {

/// A list of puts and deletes applied atomically by store::write.
class write_batch {
 public:
  struct op {
    bool is_delete;
    std::string key;
    std::string value;
  };
  void put(std::string key, std::string value) { ops_.push_back({false, std::move(key), std::move(value)}); }
  void remove(std::string key) { ops_.push_back({true, std::move(key), {}}); }
  const std::vector<op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }

 private:
  std::vector<op> ops_;
};

/// A point read: the value, nullopt when the key is absent, or an error when
/// the read itself failed (I/O, corruption). Never confuse the last two: an
/// absent key may be claimed or deleted, a failed read must not be.
using read_result = result<std::optional<std::string>>;

class store {
 public:
  virtual ~store() = default;

  /// The value at `key`, absent, or the read's error.
  virtual read_result get(std::string_view key) = 0;

  /// One lookup per key, same order.
  virtual std::vector<read_result> multi_get(const std::vector<std::string>& keys) = 0;

  /// Applies the batch atomically. An error means nothing was applied.
  virtual status write(const write_batch& batch) = 0;

  /// Visits keys in [begin, end) in order until `fn` returns false.
  /// An empty `end` means "to the end of the key space". An error means the
  /// iteration stopped early because a read failed: what `fn` saw is a prefix
  /// of the range, not all of it.
  virtual status scan(std::string_view begin, std::string_view end,
                      const std::function<bool(std::string_view key, std::string_view value)>& fn) = 0;

  /// A consistent point-in-time copy in `dir` (which must not exist).
  virtual status checkpoint(const std::string& dir) = 0;

  /// Size figures for /metrics (e.g. "estimate_num_keys", "live_data_bytes").
  virtual std::map<std::string, uint64_t> stats() = 0;

  /// Visits keys starting with `prefix` (errors as scan()).
  status scan_prefix(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& fn);
};

struct rocksdb_options {
  std::string path;
  bool sync_writes = false;
  size_t block_cache_bytes = 64u << 20;
  /// Memtable size. Smaller than RocksDB's 64 MiB default: inserts into a
  /// smaller skip list touch less memory (a device login measured 175-184 µs
  /// of CPU with 16 MiB against 187-244 µs with 64 MiB, flushes included),
  /// and idle RSS is lower.
  size_t write_buffer_bytes = 16u << 20;
};

/// Opens (creating if needed) a RocksDB store at `opts.path`.
result<std::unique_ptr<store>> open_rocksdb_store(const rocksdb_options& opts);

/// A std::map behind a mutex: the fake for unit tests.
std::unique_ptr<store> make_memory_store();

/// The smallest key greater than every key that starts with `prefix`
/// (empty if there is none).
std::string prefix_end(std::string_view prefix);

} // namespace roster
