#include "actors/notify/notify_actor.h"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <random>
#include <set>
#include <unordered_set>

#include "base/crypto.h"
#include "domain/validation.h"
#include "persistence/keys.h"

namespace roster {

namespace {

constexpr auto tick_interval = std::chrono::milliseconds(100);
constexpr millis fence_check_interval = 500;  // how often served partitions are compared with loaded ones
constexpr size_t remove_batch = 256;

struct notify_state {
  static inline const char* name = "roster.notify";

  std::shared_ptr<actor_env> env;
  std::shared_ptr<sender_pool> pool;
  retry_policy retry;
  size_t max_in_flight = 32;

  std::vector<uint64_t> loaded;      // partition → env->served_since when its outbox was read; 0: not in memory
  std::vector<int64_t> dead_of;      // partition → dead letters stored
  std::map<std::string, millis> known;  // pending id16 → due (queued or in flight); sorted oldest first
  std::set<std::pair<millis, std::string>> queue;  // (due, id16), not in flight
  std::unordered_set<std::string> in_flight;
  millis last_fence_check = 0;
  std::mt19937_64 rng;
  /// Keys of entries sent and not yet removed: removed in one batch per
  /// drain tick (or every `remove_batch`), not one write per delivery. A crash
  /// before that write sends them again (at least once; the delivery id
  /// lets receivers tell).
  write_batch sent;

  void remove_sent() {
    if (sent.empty()) return;
    if (auto w = env->db->write(sent); !w) {
      // A fenced partition (handed off meanwhile) fails the whole batch: its
      // entries are sent again by the new owner; remove the others one by one.
      for (auto& op : sent.ops()) {
        write_batch one;
        one.remove(op.key);
        (void)env->db->write(one);
      }
    }
    sent = write_batch{};
  }

  void publish() {
    auto& c = env->counters;
    c.outbox_depth.store(static_cast<int64_t>(known.size()), std::memory_order_relaxed);
    c.outbox_in_flight.store(static_cast<int64_t>(in_flight.size()), std::memory_order_relaxed);
    int64_t dead = 0;
    for (auto d : dead_of) dead += d;
    c.outbox_dead.store(dead, std::memory_order_relaxed);
    c.outbox_oldest_at.store(known.empty() ? 0 : outbox_time(known.begin()->first), std::memory_order_relaxed);
  }

  void enqueue(const std::string& id16, millis due) {
    if (in_flight.count(id16)) return;
    // New entries come oldest first and due at once: both inserts are
    // usually at the end, which the hint makes O(1) on a long backlog.
    auto size = known.size();
    auto it = known.emplace_hint(known.end(), id16, due);
    if (known.size() == size) {
      queue.erase({it->second, id16});
      it->second = due;
    }
    queue.emplace_hint(queue.end(), due, id16);
  }

  void forget(const std::string& id16) {
    auto it = known.find(id16);
    if (it == known.end()) return;
    queue.erase({it->second, id16});
    known.erase(it);
  }

  /// Loads the outbox of every partition served now and not loaded, or served
  /// again since it was (another node may have added and sent entries while
  /// it was away); drops the entries of partitions no longer served.
  void follow_fence(millis now) {
    last_fence_check = now;
    for (uint32_t p = 0; p < env->partitions; ++p) {
      auto part = static_cast<uint16_t>(p);
      auto since = env->served_since(part);
      if (since == loaded[p]) continue;
      // Back after an absence: its sends in progress stay in flight (their
      // results are recorded as usual; the scan does not queue them twice).
      if (loaded[p]) drop(part, since != 0);
      if (since) load(part, since);
    }
  }

  void load(uint16_t p, uint64_t since) {
    int64_t dead = 0;
    std::vector<std::pair<std::string, millis>> found;
    auto prefix = keys::outbox_of_partition(p);
    auto scanned = env->db->scan_prefix(prefix, [&](std::string_view k, std::string_view v) {
      auto e = decode_outbox(v);
      if (!e) return true;
      if (e->state == outbox_state::dead) ++dead;
      else found.emplace_back(std::string(k.substr(prefix.size())), e->next_at);
      return true;
    });
    if (!scanned) {  // tried again at the next fence check
      spdlog::error("notification sender: cannot read the outbox of partition {}: {}", p, scanned.err().message);
      return;
    }
    loaded[p] = since;
    dead_of[p] = dead;
    for (auto& [id, due] : found) enqueue(id, due);
    if (!found.empty()) spdlog::info("notification sender: {} pending message(s) in partition {}", found.size(), p);
  }

  void drop(uint16_t p, bool keep_in_flight = false) {
    loaded[p] = 0;
    dead_of[p] = 0;
    for (auto it = known.begin(); it != known.end();) {
      if (outbox_partition(it->first) != p || (keep_in_flight && in_flight.count(it->first))) {
        ++it;
        continue;
      }
      queue.erase({it->second, it->first});
      in_flight.erase(it->first);  // its result will find the partition gone
      it = known.erase(it);
    }
  }

  double jitter() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  /// Queues what user actors committed since the last look (env->outbox_new);
  /// a partition not loaded yet gets them with its scan.
  void take_new() {
    for (auto& r : env->outbox_new.take())
      if (loaded[outbox_partition(r.id16) % loaded.size()]) enqueue(r.id16, r.next_at);
  }

  /// An entry this actor can no longer account for (a read or write failed,
  /// or its partition was not served for a moment): forget the partition's
  /// queue so that the next fence check reads it again from the store.
  void reload(uint16_t p) {
    if (p < loaded.size() && loaded[p]) drop(p);
  }
};

using self_ptr = notify_hdl::stateful_pointer<notify_state>;

/// Takes the inbox and hands due entries to the sender threads, up to the
/// in-flight limit; then waits to be woken if a send slot is free.
void dispatch(self_ptr self, millis now) {
  auto& st = self->state;
  st.take_new();
  while (st.in_flight.size() < st.max_in_flight && !st.queue.empty() && st.queue.begin()->first <= now) {
    auto id16 = st.queue.begin()->second;
    st.queue.erase(st.queue.begin());
    auto p = outbox_partition(id16);
    if (!st.env->serving(p)) {
      st.known.erase(id16);
      st.reload(p);
      continue;
    }
    auto raw = st.env->db->get(keys::outbox_entry(p, id16));
    if (!raw) {  // a read error: try again later
      st.queue.emplace(now + st.retry.initial, id16);
      st.known[id16] = now + st.retry.initial;
      continue;
    }
    std::optional<outbox_entry> e;
    if (raw->has_value()) e = decode_outbox(**raw);
    if (!e || e->state != outbox_state::pending) {  // sent or dead meanwhile, or unreadable
      if (raw->has_value() && !e) spdlog::error("notification sender: entry {} is unreadable", outbox_id_text(id16));
      st.known.erase(id16);
      continue;
    }
    st.in_flight.insert(id16);
    auto me = caf::actor_cast<caf::actor_addr>(self);
    auto credential = st.env->credential;
    st.pool->submit(std::move(*e), [me, credential](const outbox_entry& sent, const delivery_outcome& out) {
      if (auto to = caf::actor_cast<notify_hdl>(me))
        caf::anon_send(to, outbox_sent{credential, sent.id, out.ok, out.error});
    });
  }
  if (st.env->outbox_new.wait(st.in_flight.size() < st.max_in_flight))
    self->send(self, outbox_added{st.env->credential, {}, 0});
  st.publish();
}

void on_sent(self_ptr self, outbox_sent& msg) {
  auto& st = self->state;
  if (!st.in_flight.erase(msg.id16)) return;  // its partition was handed off meanwhile
  auto now = now_ms();
  auto p = outbox_partition(msg.id16);
  auto key = keys::outbox_entry(p, msg.id16);
  auto& counters = st.env->counters;
  if (msg.ok) {
    counters.outbox_sent.fetch_add(1, std::memory_order_relaxed);
    st.sent.remove(key);
    if (st.sent.size() >= remove_batch) st.remove_sent();
    st.known.erase(msg.id16);
    return;
  }
  counters.outbox_failures.fetch_add(1, std::memory_order_relaxed);
  auto raw = st.env->db->get(key);
  std::optional<outbox_entry> e;
  if (raw && raw->has_value()) e = decode_outbox(**raw);
  if (!e) {
    st.known.erase(msg.id16);
    if (!raw) st.reload(p);  // unreadable now, not gone: read the partition again later
    return;
  }
  e->attempts += 1;
  e->last_error = msg.error.substr(0, 300);
  auto next = next_attempt(*e, now, st.retry, st.jitter());
  if (next) e->next_at = *next;
  else e->state = outbox_state::dead;
  write_batch b;
  b.put(key, encode_outbox(*e));
  if (auto w = st.env->db->write(b); !w) {  // handed off (the new owner has it), or a failed write
    st.known.erase(msg.id16);
    st.reload(p);
    return;
  }
  if (next) {
    st.known.erase(msg.id16);
    st.enqueue(msg.id16, *next);
  } else {
    st.known.erase(msg.id16);
    st.dead_of[p] += 1;
    spdlog::warn("notification sender: {} {} ({}) is a dead letter after {} attempts: {}", outbox_kind_name(e->kind),
                 outbox_id_text(e->id), log_safe(e->kind == outbox_kind::webhook ? redact_url(e->to) : e->purpose),
                 e->attempts, log_safe(e->last_error));
  }
}

notify_hdl::behavior_type notify_actor(self_ptr self, std::shared_ptr<actor_env> env, std::shared_ptr<sender_pool> pool,
                                       retry_policy retry, size_t in_flight) {
  auto& st = self->state;
  st.env = std::move(env);
  st.pool = std::move(pool);
  st.retry = retry;
  st.max_in_flight = std::max<size_t>(in_flight, 1);
  st.loaded.assign(st.env->partitions, 0);
  st.dead_of.assign(st.env->partitions, 0);
  st.rng.seed(random_u64());
  self->send(self, drain_atom_v);
  // Shutdown: what was sent is removed first, so a restart does not send it again.
  self->set_exit_handler([self](caf::exit_msg& em) {
    self->state.remove_sent();
    self->quit(em.reason);
  });
  return {
    [self](outbox_added& msg) {
      auto& st = self->state;
      if (!st.env->accept(msg.credential, "notification sender", self->current_sender())) return;
      for (auto& r : msg.refs)
        if (st.loaded[outbox_partition(r.id16) % st.loaded.size()]) st.enqueue(r.id16, r.next_at);
      if (msg.revived > 0)
        for (auto& r : msg.refs) {
          auto p = outbox_partition(r.id16) % st.loaded.size();
          if (st.loaded[p] && st.dead_of[p] > 0) st.dead_of[p] -= 1;
        }
      dispatch(self, now_ms());
    },
    [self](outbox_sent& msg) {
      if (!self->state.env->accept(msg.credential, "notification sender", self->current_sender())) return;
      on_sent(self, msg);
      dispatch(self, now_ms());
    },
    [self](drain_atom) {
      auto& st = self->state;
      if (self->current_sender() && self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(self)) return;
      auto now = now_ms();
      st.remove_sent();
      if (now - st.last_fence_check >= fence_check_interval) st.follow_fence(now);
      dispatch(self, now);
      self->delayed_send(self, tick_interval, drain_atom_v);
    },
  };
}

} // namespace

notify_hdl spawn_notify_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env, std::shared_ptr<sender_pool> pool,
                              retry_policy retry, size_t in_flight) {
  return sys.spawn(notify_actor, std::move(env), std::move(pool), retry, in_flight);
}

} // namespace roster
