#pragma once
// fenced_store: the store every actor of a node writes through. It adds two
// things a cluster needs to the plain store, per partition:
//
//   - the write fence. A partition is writable only while this node owns it at
//     the current table epoch (grant/revoke). A write_batch touching a fenced
//     partition fails with partition_unavailable and applies nothing, so a
//     node that has lost a partition, or a stale duplicate actor of a user on
//     it, can never write there: one writer per user at all times.
//   - change tracking. While a partition is being handed off, the keys written
//     to it are remembered so the handoff can send the writes made during the
//     copy (take_dirty).
//
// revoke() waits for writes in progress on the partition (a shared/exclusive
// lock per partition), so after it returns no further write can land there.
// Node-level keys (prefix 0xFF 0xFF) are never fenced.
//
// Thread-safety: every member may be called from any thread.
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <vector>

#include "persistence/store.h"

namespace roster {

class fenced_store final : public store {
 public:
  /// All partitions start fenced; grant() the owned ones.
  fenced_store(store& inner, uint32_t partitions);

  read_result get(std::string_view key) override { return inner_.get(key); }
  std::vector<read_result> multi_get(const std::vector<std::string>& keys) override { return inner_.multi_get(keys); }
  status write(const write_batch& batch) override;
  status scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    return inner_.scan(begin, end, fn);
  }
  status checkpoint(const std::string& dir) override { return inner_.checkpoint(dir); }
  std::map<std::string, uint64_t> stats() override { return inner_.stats(); }

  /// Opens partition `p` for writes as of table `epoch` (ignored if a revoke
  /// at a later epoch has been seen).
  void grant(uint16_t p, uint64_t epoch);
  /// Closes `p` for writes; returns once no write on it is in progress.
  void revoke(uint16_t p, uint64_t epoch);
  bool writable(uint16_t p) const { return p < parts_.size() && parts_[p]->writable.load(std::memory_order_acquire); }
  /// How many times `p` has turned writable: a reader that loaded a partition's
  /// keys at one count must read them again at another (it was away meanwhile,
  /// however briefly, and another node may have written there).
  uint64_t grants(uint16_t p) const { return p < parts_.size() ? parts_[p]->grants.load(std::memory_order_acquire) : 0; }

  /// Starts recording the keys written to `p` (clears any earlier record).
  void track(uint16_t p);
  /// Stops recording for `p`.
  void untrack(uint16_t p);
  /// The keys written to `p` since track() or the last take_dirty().
  std::set<std::string> take_dirty(uint16_t p);

  /// Writes a batch that bypasses the fence: a handoff's copy arriving at the
  /// partition's next owner, or the removal of a handed-off range.
  status import(const write_batch& batch) { return inner_.write(batch); }
  /// Deletes every key of partition `p` (bypasses the fence); returns keys removed.
  size_t erase_partition(uint16_t p);

  uint32_t partitions() const { return static_cast<uint32_t>(parts_.size()); }

 private:
  struct part {
    std::shared_mutex lock;  // shared: a write in progress; exclusive: revoke
    std::atomic<bool> writable{false};
    std::atomic<uint64_t> grants{0};  // turns from fenced to writable
    uint64_t epoch = 0;      // of the last grant/revoke
    std::mutex dirty_mutex;
    bool tracking = false;
    std::set<std::string> dirty;
  };
  store& inner_;
  std::vector<std::unique_ptr<part>> parts_;
};

} // namespace roster
