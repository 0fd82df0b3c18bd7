#include "actors/moderation/moderation_actor.h"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "persistence/keys.h"

namespace roster {

namespace {

constexpr auto tick_interval = std::chrono::milliseconds(500);

struct moderation_state {
  static inline const char* name = "roster.moderation";

  std::shared_ptr<actor_env> env;
  std::vector<uint64_t> loaded;  // partition → env->served_since when its entries were read; 0: not in memory
  struct held {
    uint16_t partition = 0;
    moderation::entry entry;
    millis nth_at = moderation::never_flagged;  // moderation::nth_reporter_at, once per change
  };
  std::unordered_map<std::string, held> entries;  // by the reported user's raw id

  /// Reads the queue entries of partition `p` (P 'm', one key per reported user).
  void load(uint16_t p, uint64_t since) {
    auto prefix = keys::queue_of_partition(p);
    std::vector<std::pair<std::string, moderation::entry>> found;
    auto scanned = env->db->scan_prefix(prefix, [&](std::string_view k, std::string_view v) {
      if (k.size() != prefix.size() + 16) return true;
      if (auto e = moderation::decode_entry(v)) found.emplace_back(std::string(k.substr(prefix.size())), std::move(*e));
      return true;
    });
    if (!scanned) {  // tried again at the next tick
      spdlog::error("moderation queue: cannot read partition {}: {}", p, scanned.err().message);
      return;
    }
    loaded[p] = since;
    for (auto& [uid, e] : found) put(p, uid, std::move(e));
  }

  void drop(uint16_t p) {
    for (auto it = entries.begin(); it != entries.end();)
      it = it->second.partition == p ? entries.erase(it) : std::next(it);
    loaded[p] = 0;
  }

  /// Replaces the entry unless the one held is newer (versions only grow).
  void put(uint16_t p, const std::string& uid16, moderation::entry e) {
    auto it = entries.find(uid16);
    if (it != entries.end() && it->second.entry.version > e.version) return;
    auto nth = moderation::nth_reporter_at(e, env->flag_rule);
    entries[uid16] = held{p, std::move(e), nth};
  }

  /// Loads the partitions served now and not loaded, or served again since
  /// they were (however briefly away, another node may have changed them);
  /// drops the others.
  void follow_fence() {
    for (uint32_t p = 0; p < env->partitions; ++p) {
      auto part = static_cast<uint16_t>(p);
      auto since = env->served_since(part);
      if (since == loaded[p]) continue;
      if (loaded[p]) drop(part);
      if (since) load(part, since);
    }
  }

  void publish(millis now) {
    int64_t depth = 0, flagged = 0, reports = 0;
    for (auto& [uid, h] : entries) {
      if (h.entry.pending == 0) continue;
      depth += 1;
      reports += static_cast<int64_t>(h.entry.pending);
      flagged += moderation::flagged_by(h.nth_at, h.entry.pending, now, env->flag_rule) ? 1 : 0;
    }
    auto& c = env->counters;
    c.moderation_depth.store(depth, std::memory_order_relaxed);
    c.moderation_flagged.store(flagged, std::memory_order_relaxed);
    c.moderation_reports.store(reports, std::memory_order_relaxed);
  }

  /// This node's part of the queue: the first `limit` entries in `status`.
  scan_reply view(const moderation_queue& q, millis now) {
    std::vector<std::pair<moderation::rank, const moderation::entry*>> match;
    match.reserve(entries.size());
    for (auto& [uid, h] : entries) {
      auto& e = h.entry;
      if (moderation::status_of(e) != q.status) continue;
      bool flagged = moderation::flagged_by(h.nth_at, e.pending, now, env->flag_rule);
      match.emplace_back(moderation::rank_of(e, flagged), &e);
    }
    auto n = std::min<size_t>(q.limit, match.size());
    auto by_rank = [](auto& a, auto& b) { return moderation::before(a.first, b.first); };
    std::partial_sort(match.begin(), match.begin() + static_cast<std::ptrdiff_t>(n), match.end(), by_rank);
    scan_reply out;
    out.matched = match.size();
    out.items.reserve(n);
    // Each item after its sort key: the HTTP layer merges the nodes' parts by it.
    for (size_t i = 0; i < n; ++i)
      out.items.push_back(moderation::sort_key(match[i].first) + '\n' +
                          moderation::queue_item(*match[i].second, now, env->flag_rule));
    return out;
  }
};

using self_ptr = moderation_hdl::stateful_pointer<moderation_state>;

moderation_hdl::behavior_type moderation_actor(self_ptr self, std::shared_ptr<actor_env> env) {
  auto& st = self->state;
  st.env = std::move(env);
  st.loaded.assign(st.env->partitions, 0);
  self->send(self, queue_tick_atom_v);
  return {
    [self](queue_changed& msg) {
      auto& st = self->state;
      if (!st.env->accept(msg.credential, "moderation queue", self->current_sender())) return;
      if (msg.partition >= st.loaded.size() || !st.loaded[msg.partition]) return;  // its scan reads it
      if (msg.entry.empty()) {
        st.entries.erase(msg.uid16);
      } else if (auto e = moderation::decode_entry(msg.entry)) {
        st.put(msg.partition, msg.uid16, std::move(*e));
      }
    },
    [self](scan_request& req) -> scan_reply {
      auto& st = self->state;
      if (!st.env->accept(req.credential, "moderation queue", self->current_sender())) return {};
      auto* q = std::get_if<moderation_queue>(&req.op);
      if (req.version != protocol_version || !q) return {};
      st.follow_fence();  // a partition taken since the last tick is counted now
      auto now = now_ms();
      st.publish(now);
      return st.view(*q, now);
    },
    [self](queue_tick_atom) {
      auto& st = self->state;
      if (self->current_sender() && self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(self)) return;
      st.follow_fence();
      st.publish(now_ms());
      self->delayed_send(self, tick_interval, queue_tick_atom_v);
    },
  };
}

} // namespace

moderation_hdl spawn_moderation_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env) {
  return sys.spawn(moderation_actor, std::move(env));
}

} // namespace roster
