#include "actors/partition/partition_host.h"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <unordered_map>

#include "actors/uid_key.h"
#include "base/crypto.h"
#include "domain/outbox.h"
#include "domain/user_codec.h"
#include "domain/user_views.h"
#include "persistence/keys.h"

namespace roster {

struct partition_host_state {
  static inline const char* name = "roster.partition";

  struct parked {
    user_request req;
    caf::typed_response_promise<user_reply> rp;
  };
  struct stopping {
    caf::actor_addr actor;
    uint32_t slot = 0;  // its activity slot, held until its down message
    std::vector<parked> waiting;
  };

  /// When each user actor last served a request (unix ms), one slot per
  /// actor from its spawn to its down message: the actor writes its own
  /// slot, the host's idle sweep reads them all. Shared (the actors hold it
  /// through aliasing shared_ptrs to their slot) so that a slot outlives any
  /// actor that may still write it, even past the host's own exit. Slots
  /// never move (deque); freed ones are reused.
  struct activity_table {
    std::deque<activity_slot> slots;
    std::vector<uint32_t> free;  // host thread only
  };
  struct resident {
    user_actor_hdl actor;
    uint32_t slot = 0;
  };

  std::shared_ptr<actor_env> env;
  uint16_t partition = 0;
  // Per live user one node of 48 bytes here (and one in the directory);
  // the retiring maps only hold actors between stop and down.
  std::unordered_map<uid_key, resident, uid_key_hash> live;      // user → live actor
  std::unordered_map<uid_key, stopping, uid_key_hash> retiring;  // user → terminating actor
  std::unordered_map<caf::actor_addr, uid_key> retiring_uid;     // terminating actor → user (its down message)
  std::shared_ptr<activity_table> activity = std::make_shared<activity_table>();
  bool sweep_pending = false;  // an idle_atom to self is on CAF's clock
};

namespace {

using json = nlohmann::json;
using self_ptr = partition_host_hdl::stateful_pointer<partition_host_state>;

/// A quarter of idle_passivation (so an idle actor goes within 1.25 of it),
/// and at most read_cache::ttl, so that an answer a quiet actor published is
/// taken back within about two ttl of its publication.
millis sweep_period(const actor_env& env) {
  return std::clamp<millis>(env.idle_passivation / 4, 25, read_cache::ttl);
}

/// Arms the next idle sweep while there are live actors to sweep: one timer
/// per partition, never one per actor (each pending timer is a message and a
/// clock entry, ~200 bytes, and CAF's clock thread would dispatch every one).
void arm_sweep(self_ptr self) {
  auto& st = self->state;
  if (st.sweep_pending || st.live.empty()) return;
  st.sweep_pending = true;
  self->delayed_send(self, std::chrono::milliseconds(sweep_period(*st.env)), idle_atom_v);
}

/// The idle sweep. An actor is a candidate when its activity slot says it
/// has served nothing for idle_passivation; the host then asks it (idle_atom)
/// and the actor decides: it also counts the reads the router served from
/// its published answers (read_cache hits, which never reach it), and only it
/// knows them. So the slot may lag (by at most read_cache::ttl, after which a
/// read comes to the actor again), but it never makes an active actor retire.
/// Requests sent straight to the actor through the directory bypass the host;
/// they are counted because the actor writes its slot on every request.
///
/// An actor that publishes answers and has served nothing for ttl is asked
/// too: every answer it published has expired by then (an answer is valid
/// for at most ttl from the request that published it), and it takes them
/// back. The others are left alone: a sweep costs a read of two atomics per
/// live actor and one message per actor that has something to do.
void sweep(self_ptr self) {
  auto& st = self->state;
  auto now = now_ms();
  for (auto& [k, r] : st.live) {
    (void)k;
    auto& slot = st.activity->slots[r.slot];
    auto quiet = now - slot.last.load(std::memory_order_relaxed);
    if (quiet >= st.env->idle_passivation ||
        (quiet >= read_cache::ttl && slot.publishing.load(std::memory_order_relaxed)))
      self->send(r.actor, idle_atom_v);
  }
}

/// Whether the user has social-graph intents stored (keys::intent).
bool has_intents(partition_host_state& st, const uid_key& k) {
  bool any = false;
  auto scanned = st.env->db->scan_prefix(keys::intents_of_user(st.partition, k.view()), [&](std::string_view, std::string_view) {
    any = true;
    return false;
  });
  return any || !scanned;  // cannot tell: wake it, it reads them itself
}

uint32_t take_slot(partition_host_state& st) {
  auto& t = *st.activity;
  if (!t.free.empty()) {
    auto i = t.free.back();
    t.free.pop_back();
    return i;
  }
  t.slots.emplace_back();
  return static_cast<uint32_t>(t.slots.size() - 1);
}

user_actor_hdl actor_for(self_ptr self, const uid_key& k) {
  auto& st = self->state;
  if (auto it = st.live.find(k); it != st.live.end()) return it->second.actor;
  auto slot = take_slot(st);
  auto& cell = st.activity->slots[slot];
  cell.last.store(now_ms(), std::memory_order_relaxed);
  cell.publishing.store(false, std::memory_order_relaxed);
  auto a = spawn_user_actor(self, st.env, caf::actor_cast<passivation_sink>(self), st.partition, k.str(),
                            std::shared_ptr<activity_slot>(st.activity, &cell));
  self->monitor(a);
  st.live.emplace(k, partition_host_state::resident{a, slot});
  st.env->directory.insert(k, caf::actor_cast<caf::strong_actor_ptr>(a));
  arm_sweep(self);
  return a;
}

/// Takes a live actor out of the directory and the live table and tells it
/// to stop; requests for its user are parked until its down message.
void retire(self_ptr self, const uid_key& k, const partition_host_state::resident& r) {
  auto& st = self->state;
  auto addr = r.actor.address();
  st.env->directory.erase(k, addr);
  auto& s = st.retiring[k];
  s.actor = addr;
  s.slot = r.slot;
  st.retiring_uid[addr] = k;
  self->send(r.actor, stop_atom_v);
}

bool matches(const user_record& u, const std::string& q) {
  auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  if (q.empty()) return true;
  return lower(u.email).find(q) != std::string::npos || lower(u.username).find(q) != std::string::npos ||
         lower(u.display_name).find(q) != std::string::npos || u.id == q;
}

struct scanner {
  self_ptr self;
  scan_reply out;

  template <class F>
  void each_user(F&& fn) {
    auto& st = self->state;
    auto prefix = keys::users_of_partition(st.partition);
    auto scanned = st.env->db->scan_prefix(prefix, [&](std::string_view k, std::string_view v) {
      // Only user records (P 'u' uid16 'r'), not sessions or logs.
      if (k.size() == prefix.size() + 17 && k.back() == 'r')
        if (auto u = decode_user(v)) fn(*u);
      return true;
    });
    // Admin search and stats then count what was read; the log says so.
    if (!scanned) spdlog::error("partition {}: scan stopped early: {}", st.partition, scanned.err().message);
  }

  void operator()(const search_users& op) {
    auto q = op.q;
    for (auto& ch : q) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto now = now_ms();
    each_user([&](const user_record& u) {
      if (matches(u, q)) out.items.push_back(admin_view(u, 0, now).dump());
    });
  }

  void operator()(const count_users& op) {
    auto& c = out.counts;
    each_user([&](const user_record& u) {
      c.users += 1;
      if (u.created_at >= op.since_registered) c.registered += 1;
      if (std::max(u.last_login_at, u.last_seen_at) >= op.since_active) c.active += 1;
      if (!u.password_hash.empty()) c.with_password += 1;
      if (u.pending_activation) c.unactivated += 1;  // blocked or not
      for (auto& m : login_methods_of(u)) c.by_provider[m] += 1;
    });
    // Online: users with an open event stream, counted by their actors.
    auto& env = *self->state.env;
    c.online = env.online ? env.online[self->state.partition].load(std::memory_order_relaxed) : 0;
  }

  void operator()(const list_outbox& op) {
    auto& st = self->state;
    auto prefix = keys::outbox_of_partition(st.partition);
    auto begin = prefix + op.after;
    if (!op.after.empty()) begin.push_back('\0');  // strictly after
    auto scanned = st.env->db->scan(begin, prefix_end(prefix), [&](std::string_view, std::string_view v) {
      if (out.items.size() >= op.limit) return false;
      auto e = decode_outbox(v);
      if (e && (e->state == outbox_state::dead) == op.dead) out.items.push_back(outbox_admin_view(*e));
      return true;
    });
    if (!scanned) spdlog::error("partition {}: outbox scan stopped early: {}", st.partition, scanned.err().message);
  }

  // The node's moderation-queue actor answers it (the gateway asks it).
  void operator()(const moderation_queue&) {}

  void operator()(const search_usernames& op) {
    auto& st = self->state;
    auto prefix = keys::index_entry(st.partition, "username:" + op.prefix);
    auto begin = prefix;
    if (!op.after.empty() && op.after >= op.prefix) {
      begin = keys::index_entry(st.partition, "username:" + op.after);
      begin.push_back('\0');  // strictly after
    }
    auto head = keys::index_entry(st.partition, "username:").size();
    auto scanned = st.env->db->scan(begin, prefix_end(prefix), [&](std::string_view k, std::string_view v) {
      if (out.items.size() >= op.limit) return false;
      // Only confirmed entries: a pending claim is a name nobody holds yet.
      auto j = json::parse(v, nullptr, false);
      if (j.is_object() && j.value("state", std::string()) == "confirmed")
        out.items.push_back(json::array({std::string(k.substr(head)), j.value("user_id", std::string())}).dump());
      return true;
    });
    if (!scanned) spdlog::error("partition {}: username scan stopped early: {}", st.partition, scanned.err().message);
  }

  void operator()(const retry_outbox& op) {
    auto& st = self->state;
    if (op.id16.size() != 16 || outbox_partition(op.id16) != st.partition) return;
    auto key = keys::outbox_entry(st.partition, op.id16);
    auto raw = st.env->db->get(key);
    if (!raw || !raw->has_value()) return;
    auto e = decode_outbox(**raw);
    if (!e) return;
    bool was_dead = e->state == outbox_state::dead;
    e->state = outbox_state::pending;
    e->attempts = 0;
    e->next_at = now_ms();
    write_batch b;
    b.put(key, encode_outbox(*e));
    if (!st.env->db->write(b)) return;
    spdlog::info("outbox: {} put back for delivery by an operator", outbox_id_text(e->id));
    if (st.env->notify)
      self->send(st.env->notify, outbox_added{st.env->credential, {outbox_ref{e->id, e->next_at}}, was_dead ? 1 : 0});
    out.items.push_back(outbox_admin_view(*e));
  }
};

partition_host_hdl::behavior_type partition_host(self_ptr self, std::shared_ptr<actor_env> env, uint16_t partition) {
  self->state.env = std::move(env);
  self->state.partition = partition;
  // Shutdown: the host takes its user actors with it (they are monitored,
  // not linked, so that a passivating child never takes the host down).
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    for (auto& [k, r] : st.live) {
      (void)k;
      self->send_exit(r.actor, em.reason);
    }
    for (auto& [addr, k] : st.retiring_uid) {
      (void)k;
      self->send_exit(addr, em.reason);
    }
    self->quit(em.reason);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto by_addr = st.retiring_uid.find(dm.source);
    if (by_addr == st.retiring_uid.end()) {
      // Not retiring: a live actor that died without asking (a bug or a
      // crash). Rare enough to search for rather than keep a map from every
      // actor's address to its user. Forget it; the next request respawns.
      for (auto l = st.live.begin(); l != st.live.end(); ++l) {
        if (l->second.actor.address() != dm.source) continue;
        spdlog::warn("user actor of partition {} terminated unexpectedly", st.partition);
        st.env->directory.erase(l->first, dm.source);
        st.activity->free.push_back(l->second.slot);  // nothing writes it any more
        st.live.erase(l);
        st.env->counters.user_actor_passivations.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      return;
    }
    auto k = by_addr->second;
    st.retiring_uid.erase(by_addr);
    auto r = st.retiring.find(k);
    if (r == st.retiring.end() || r->second.actor != dm.source) return;
    st.env->counters.user_actor_passivations.fetch_add(1, std::memory_order_relaxed);
    st.activity->free.push_back(r->second.slot);  // nothing writes it any more
    auto waiting = std::move(r->second.waiting);
    st.retiring.erase(r);
    if (waiting.empty()) {
      // It went with social-graph intents undelivered (a request that came
      // after it asked to retire made one): a new actor delivers them.
      if (st.env->serving(st.partition) && has_intents(st, k)) actor_for(self, k);
      return;
    }
    auto a = actor_for(self, k);
    for (auto& p : waiting) p.rp.delegate(a, std::move(p.req));
  });
  return {
    [self](user_request& req) -> caf::result<user_reply> {
      auto& st = self->state;
      if (!st.env->accept(req.credential, "partition host", self->current_sender())) return to_caf(refused_error());
      if (!uid_key::valid(req.user_id)) return to_caf(make_error(errc::invalid_request, "malformed user id"));
      if (!st.env->serving(st.partition)) return to_caf(moving_error());
      uid_key k{req.user_id};
      if (auto r = st.retiring.find(k); r != st.retiring.end()) {
        auto rp = self->make_response_promise<user_reply>();
        r->second.waiting.push_back({std::move(req), rp});
        return rp;
      }
      if (std::holds_alternative<debug_info>(req.op) && !st.live.count(k)) {
        // Not live: one point read says whether the user exists, without
        // spawning (and so without waking) its actor.
        auto record = st.env->db->get(keys::user_record(st.partition, req.user_id));
        if (!record) return to_caf(unavailable_error());
        return user_reply{view{json{{"live", false}, {"exists", record->has_value()}}.dump()}};
      }
      auto a = actor_for(self, k);
      return self->delegate(a, std::move(req));
    },
    [self](passivate_atom, const std::string& uid16) {
      auto& st = self->state;
      auto sender = caf::actor_cast<user_actor_hdl>(self->current_sender());
      if (!uid_key::valid(uid16)) return;
      auto it = st.live.find(uid_key{uid16});
      if (it == st.live.end() || it->second.actor != sender) return;
      retire(self, it->first, it->second);
      st.live.erase(it);
    },
    [self](scan_request& req) -> scan_reply {
      auto& st = self->state;
      if (!st.env->accept(req.credential, "partition host", self->current_sender())) return {};
      // A partition not served here is counted by the node that serves it.
      if (req.version != protocol_version || !st.env->serving(st.partition)) return {};
      scanner s{self, {}};
      std::visit(s, req.op);
      return std::move(s.out);
    },
    [self](seal_atom) {
      // The partition is leaving this node: retire every live user actor (its
      // writes are already fenced); requests meanwhile are parked as usual and
      // then answered "moving".
      auto& st = self->state;
      for (auto& [k, r] : st.live) retire(self, k, r);
      st.live.clear();
    },
    [self](idle_atom) {
      // Only the host's own timer sweeps (a stranger's idle_atom would arm
      // a second one).
      if (self->current_sender() != self->ctrl()) return;
      self->state.sweep_pending = false;
      sweep(self);
      arm_sweep(self);
    },
    [self](resume_atom) {
      // The partition is now this node's (start, or a handoff brought it):
      // wake the users with social-graph intents still to deliver; each
      // actor delivers its own as it loads (actors/user/user_actor.cc).
      auto& st = self->state;
      auto sender = self->current_sender();
      if (!sender || sender->node() != self->node() || !st.env->serving(st.partition)) return;  // this node's only
      auto prefix = keys::intents_of_partition(st.partition);
      std::string last;
      std::vector<uid_key> users;
      auto scanned = st.env->db->scan_prefix(prefix, [&](std::string_view k, std::string_view) {
        auto uid = k.substr(prefix.size(), 16);
        if (uid.size() == 16 && uid != last) {
          last = std::string(uid);
          users.emplace_back(last);
        }
        return true;
      });
      if (!scanned) spdlog::error("partition {}: cannot read its pending intents: {}", st.partition, scanned.err().message);
      for (auto& u : users) actor_for(self, u);
    },
    [self](stats_atom) -> std::string {
      auto& st = self->state;
      return json{{"partition", st.partition},
                  {"live_user_actors", st.live.size()},
                  {"retiring", st.retiring.size()},
                  {"mailbox", self->mailbox().size()}}
        .dump();
    },
  };
}

} // namespace

partition_host_hdl spawn_partition_host(caf::actor_system& sys, std::shared_ptr<actor_env> env, uint16_t partition) {
  return sys.spawn(partition_host, std::move(env), partition);
}

} // namespace roster
