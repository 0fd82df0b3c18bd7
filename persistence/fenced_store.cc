#include "persistence/fenced_store.h"

#include <algorithm>

#include "persistence/keys.h"

namespace roster {

fenced_store::fenced_store(store& inner, uint32_t partitions) : inner_(inner) {
  parts_.reserve(partitions);
  for (uint32_t i = 0; i < partitions; ++i) parts_.push_back(std::make_unique<part>());
}

status fenced_store::write(const write_batch& batch) {
  // The distinct partitions of the batch, locked shared in order (a batch is
  // almost always one partition: one user, or one index entry).
  std::vector<uint16_t> ps;
  for (auto& op : batch.ops()) {
    if (op.key.size() < 2) continue;
    auto p = keys::partition_of_key(op.key);
    if (p >= parts_.size()) continue;  // node-level metadata
    if (std::find(ps.begin(), ps.end(), p) == ps.end()) ps.push_back(p);
  }
  std::sort(ps.begin(), ps.end());
  std::vector<std::shared_lock<std::shared_mutex>> held;
  held.reserve(ps.size());
  for (auto p : ps) {
    held.emplace_back(parts_[p]->lock);
    if (!parts_[p]->writable.load(std::memory_order_acquire))
      return make_error(errc::partition_unavailable, "partition is not owned by this node");
  }
  auto st = inner_.write(batch);
  if (!st) return st;
  for (auto p : ps) {
    auto& pt = *parts_[p];
    std::lock_guard<std::mutex> lock(pt.dirty_mutex);
    if (!pt.tracking) continue;
    for (auto& op : batch.ops())
      if (op.key.size() >= 2 && keys::partition_of_key(op.key) == p) pt.dirty.insert(op.key);
  }
  return st;
}

void fenced_store::grant(uint16_t p, uint64_t epoch) {
  if (p >= parts_.size()) return;
  auto& pt = *parts_[p];
  std::unique_lock<std::shared_mutex> lock(pt.lock);
  if (epoch < pt.epoch) return;
  pt.epoch = epoch;
  if (!pt.writable.load(std::memory_order_relaxed)) pt.grants.fetch_add(1, std::memory_order_release);
  pt.writable.store(true, std::memory_order_release);
}

void fenced_store::revoke(uint16_t p, uint64_t epoch) {
  if (p >= parts_.size()) return;
  auto& pt = *parts_[p];
  std::unique_lock<std::shared_mutex> lock(pt.lock);
  pt.epoch = std::max(pt.epoch, epoch);
  pt.writable.store(false, std::memory_order_release);
}

void fenced_store::track(uint16_t p) {
  if (p >= parts_.size()) return;
  std::lock_guard<std::mutex> lock(parts_[p]->dirty_mutex);
  parts_[p]->tracking = true;
  parts_[p]->dirty.clear();
}

void fenced_store::untrack(uint16_t p) {
  if (p >= parts_.size()) return;
  std::lock_guard<std::mutex> lock(parts_[p]->dirty_mutex);
  parts_[p]->tracking = false;
  parts_[p]->dirty.clear();
}

std::set<std::string> fenced_store::take_dirty(uint16_t p) {
  if (p >= parts_.size()) return {};
  std::lock_guard<std::mutex> lock(parts_[p]->dirty_mutex);
  return std::exchange(parts_[p]->dirty, {});
}

size_t fenced_store::erase_partition(uint16_t p) {
  // Collect first: a store may not allow writes from inside its own scan.
  std::vector<std::string> doomed;
  // A failed read leaves keys behind; they are stale copies of a partition
  // another node serves, dropped again by the next reset of that partition.
  (void)inner_.scan_prefix(keys::partition_prefix(p), [&](std::string_view k, std::string_view) {
    doomed.emplace_back(k);
    return true;
  });
  for (size_t i = 0; i < doomed.size(); i += 4096) {
    write_batch b;
    for (size_t j = i; j < std::min(doomed.size(), i + 4096); ++j) b.remove(std::move(doomed[j]));
    inner_.write(b);
  }
  return doomed.size();
}

} // namespace roster
