#include "cluster/ring.h"

#include <algorithm>
#include <map>

namespace roster {

std::vector<uint32_t> partition_table::owned_by(const std::string& member) const {
  std::vector<uint32_t> out;
  for (uint32_t p = 0; p < owners.size(); ++p)
    if (owners[p] == member) out.push_back(p);
  return out;
}

partition_table rebalance(const partition_table& prev, std::vector<std::string> members, uint32_t partitions) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  partition_table next;
  next.epoch = prev.epoch + 1;
  next.owners.assign(partitions, "");
  if (members.empty() || partitions == 0) return next;

  // Keep every partition whose owner is still a member.
  std::map<std::string, std::vector<uint32_t>> owned;
  for (auto& m : members) owned[m];
  std::vector<uint32_t> pool;
  for (uint32_t p = 0; p < partitions; ++p) {
    auto owner = p < prev.owners.size() ? prev.owners[p] : std::string();
    if (owned.count(owner)) owned[owner].push_back(p);
    else pool.push_back(p);
  }

  // Shares: floor(P/N) each; the P mod N extra partitions go to the members
  // that already own the most (ties by name), so that nobody gives one up
  // only for somebody else to need it.
  uint32_t n = static_cast<uint32_t>(members.size());
  std::vector<std::string> by_size = members;
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](const std::string& a, const std::string& b) { return owned[a].size() > owned[b].size(); });
  std::map<std::string, uint32_t> share;
  for (uint32_t i = 0; i < n; ++i) share[by_size[i]] = partitions / n + (i < partitions % n ? 1 : 0);

  // Members above their share give up their highest-numbered partitions.
  for (auto& m : members) {
    auto& mine = owned[m];
    while (mine.size() > share[m]) {
      pool.push_back(mine.back());
      mine.pop_back();
    }
  }
  // Members below their share take from the pool, lowest-numbered first.
  std::sort(pool.begin(), pool.end());
  size_t next_free = 0;
  for (auto& m : members) {
    auto& mine = owned[m];
    while (mine.size() < share[m] && next_free < pool.size()) mine.push_back(pool[next_free++]);
  }
  for (auto& [m, mine] : owned)
    for (auto p : mine) next.owners[p] = m;
  return next;
}

uint32_t moved_partitions(const partition_table& a, const partition_table& b) {
  uint32_t moved = 0;
  for (size_t p = 0; p < std::min(a.owners.size(), b.owners.size()); ++p)
    if (a.owners[p] != b.owners[p]) ++moved;
  return moved;
}

} // namespace roster
