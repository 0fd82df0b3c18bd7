// The node actor: one per node, published on cluster.listen (the only actor a
// peer can name without being given a handle). It
//   - admits joiners that prove they know cluster.secret (HMAC over a nonce),
//   - on the coordinator, changes the view (join, leave, down, moves) and
//     sends it to every member; elsewhere, adopts any view of a later epoch,
//   - monitors every member's node actor (CAF's down_msg, with the
//     middleman's heartbeat catching frozen peers) and marks it down,
//   - opens and closes the write fence as the view says,
//   - receives the handoff messages and hands them to this node's handoff
//     manager (cluster/handoff_manager.h: dispatch, senders, seals, chunk
//     intake); it switches the owner of a partition once it has moved.

#include <spdlog/spdlog.h>

#include <deque>
#include <set>

#include "cluster/node_protocol.h"
#include "cluster/context.h"
#include "cluster/handoff_manager.h"
#include "base/crypto.h"
#include "persistence/keys.h"

namespace roster {

std::string join_proof(const std::string& secret, const std::string& nonce, const std::string& name) {
  return hex_encode(hmac_sha256(secret, "roster-join\n" + nonce + "\n" + name));
}

namespace {

constexpr auto tick_period = std::chrono::milliseconds(500);

struct node_state {
  static inline const char* name = "roster.node";
  std::shared_ptr<cluster_context> ctx;
  cluster_view view;  // epoch 0: not admitted yet
  std::map<std::string, node_actor_hdl> nodes;        // newest handles by member name
  std::map<std::string, gateway_hdl> gateways;
  std::set<caf::actor_addr> dead;                     // node handles seen down
  std::set<caf::node_id> trusted;                     // nodes of admitted members
  std::deque<std::string> nonces;
  handoff_manager handoffs;                           // this node's side of handoffs
  bool left = false;
};

using self_ptr = node_actor_hdl::stateful_pointer<node_state>;

const std::string& self_name(self_ptr self) { return self->state.ctx->self_name(); }

bool reachable(self_ptr self, const std::string& name) {
  auto& st = self->state;
  if (name == self_name(self)) return true;
  auto it = st.nodes.find(name);
  return it != st.nodes.end() && it->second && !st.dead.count(it->second.address());
}

/// The coordinator as this node sees it: the longest-standing member that is
/// neither marked down nor seen down here.
std::string coordinator(self_ptr self) {
  return self->state.view.coordinator([&](const std::string& name) { return reachable(self, name); });
}

bool is_coordinator(self_ptr self) { return self->state.view.epoch > 0 && coordinator(self) == self_name(self); }

/// Whether this node reaches a majority of the members (`also` counts as
/// reachable: a member being admitted).
bool quorum(self_ptr self, const std::string& also = {}) {
  return majority_reachable(self->state.view,
                            [&](const std::string& name) { return name == also || reachable(self, name); });
}

/// Sent from this process (a handoff sender, the node's own timer).
bool from_here(self_ptr self) {
  auto sender = self->current_sender();
  return sender && sender->node() == self->node();
}

/// Sent by this node or an admitted member, with the cluster credential (a
/// stranger on the cluster port can forge a sender's node id; it cannot know
/// the credential).
bool from_member(self_ptr self, const std::string& cred) {
  auto sender = self->current_sender();
  if (!sender || !self->state.ctx->env->accept(cred, "node actor", sender)) return false;
  return sender->node() == self->node() || self->state.trusted.count(sender->node()) > 0;
}

const std::string& cred_of(self_ptr self) { return self->state.ctx->env->credential; }

void persist_view(self_ptr self) {
  auto& ctx = *self->state.ctx;
  if (ctx.config.cluster.listen.empty()) return;  // a single node founds afresh at every start
  write_batch b;
  b.put(keys::meta("cluster_view"), self->state.view.to_json().dump());
  if (auto s = ctx.env->db->write(b); !s) spdlog::error("cluster: cannot persist the view: {}", s.err().message);
}

/// Rebuilds the routing snapshot and the write fence from the view.
void publish_routes(self_ptr self) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto snap = std::make_shared<route_snapshot>();
  snap->epoch = st.view.epoch;
  snap->view = st.view;
  std::map<std::string, int> index;
  for (auto& m : st.view.members) {
    member_route r;
    r.name = m.name;
    if (m.name == self_name(self)) {
      r.node = caf::actor_cast<node_actor_hdl>(self);
      r.gateway = ctx.gateway;
      r.up = true;
      snap->self = static_cast<int>(snap->members.size());
    } else {
      if (auto it = st.nodes.find(m.name); it != st.nodes.end()) r.node = it->second;
      if (auto it = st.gateways.find(m.name); it != st.gateways.end()) r.gateway = it->second;
      r.up = m.state != member_state::down && r.gateway && reachable(self, m.name);
    }
    index[m.name] = static_cast<int>(snap->members.size());
    snap->members.push_back(std::move(r));
  }
  snap->owner.assign(st.view.partitions, -1);
  for (uint32_t p = 0; p < st.view.owners.size(); ++p)
    if (auto it = index.find(st.view.owners[p]); it != index.end()) snap->owner[p] = it->second;
  ctx.publish(std::move(snap));
}

/// Opens the fence of the partitions this node owns, closes the others, and
/// drops the copies of partitions it has handed off. Only partitions whose
/// state changes are touched: a revoke waits for writes in flight.
void apply_fence(self_ptr self) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  for (uint32_t p = 0; p < st.view.owners.size(); ++p) {
    auto part = static_cast<uint16_t>(p);
    bool mine = st.view.owners[p] == self_name(self);
    bool open = ctx.fence->writable(part);
    if (mine && !st.handoffs.sealed(p)) {
      if (!open) {
        ctx.fence->grant(part, st.view.epoch);
        // Social-graph intents stored in it are delivered from here now.
        if (p < ctx.hosts.size()) self->send(ctx.hosts[p], resume_atom_v);
      }
    } else if (!mine) {
      if (open) ctx.fence->revoke(part, st.view.epoch);
      if (st.handoffs.handed_off(p)) {
        // Handed off: the new owner has every write; our copy is stale now.
        auto n = ctx.fence->erase_partition(part);
        spdlog::info("cluster: partition {} now served by {}; dropped {} local keys", p, st.view.owners[p], n);
      }
    }
  }
}

void monitor_member(self_ptr self, const std::string& name, const node_actor_hdl& node, const gateway_hdl& gw) {
  auto& st = self->state;
  if (name == self_name(self) || !node) return;
  auto it = st.nodes.find(name);
  // The same handle again: nothing to do, unless its link was lost and the
  // member has been admitted again (a node that froze and came back).
  if (it != st.nodes.end() && it->second == node && !st.dead.erase(node.address())) return;
  st.nodes[name] = node;
  st.gateways[name] = gw;
  st.trusted.insert(node.node());
  self->monitor(node);
}

void adopt(self_ptr self, const cluster_view& v, const std::vector<node_actor_hdl>& nodes,
           const std::vector<gateway_hdl>& gateways) {
  auto& st = self->state;
  bool was_member = st.view.find(self_name(self)) != nullptr;
  st.view = v;
  for (size_t i = 0; i < v.members.size() && i < nodes.size() && i < gateways.size(); ++i)
    monitor_member(self, v.members[i].name, nodes[i], gateways[i]);
  apply_fence(self);
  publish_routes(self);
  persist_view(self);
  if (was_member && !v.find(self_name(self)) && !st.left) {
    st.left = true;
    spdlog::info("cluster: this node has left the cluster (epoch {})", v.epoch);
    if (st.ctx->on_left) st.ctx->on_left();
  }
}

void handle_lists(self_ptr self, const cluster_view& v, std::vector<node_actor_hdl>& nodes,
                  std::vector<gateway_hdl>& gateways) {
  auto& st = self->state;
  for (auto& m : v.members) {
    if (m.name == self_name(self)) {
      nodes.push_back(caf::actor_cast<node_actor_hdl>(self));
      gateways.push_back(st.ctx->gateway);
    } else {
      nodes.push_back(st.nodes.count(m.name) ? st.nodes[m.name] : node_actor_hdl{});
      gateways.push_back(st.gateways.count(m.name) ? st.gateways[m.name] : gateway_hdl{});
    }
  }
}

void kick(self_ptr self);

/// Coordinator: adopts `next` and sends it to every member of the old and new
/// view (a member that has just been removed must hear it too).
void change(self_ptr self, cluster_view next) {
  auto& st = self->state;
  if (next.epoch == st.view.epoch) return;
  std::set<std::string> audience;
  for (auto& m : st.view.members) audience.insert(m.name);
  for (auto& m : next.members) audience.insert(m.name);
  std::vector<node_actor_hdl> nodes;
  std::vector<gateway_hdl> gateways;
  handle_lists(self, next, nodes, gateways);
  auto node_of = st.nodes;
  adopt(self, next, nodes, gateways);
  view_update update{cred_of(self), st.view, std::move(nodes), std::move(gateways)};
  for (auto& name : audience) {
    if (name == self_name(self)) continue;
    auto it = node_of.find(name);
    if (it != node_of.end() && reachable(self, name)) self->send(it->second, update);
  }
  kick(self);
}

/// Coordinator: hands each pending move to its source, a few at a time
/// (handoff_manager::dispatch picks them).
void kick(self_ptr self) {
  auto& st = self->state;
  if (!is_coordinator(self) || !quorum(self)) return;
  for (auto& mv : st.handoffs.dispatch(st.view, [self](const std::string& name) { return reachable(self, name); })) {
    auto src = mv.from == self_name(self) ? caf::actor_cast<node_actor_hdl>(self) : st.nodes[mv.from];
    self->send(src, handoff_order{cred_of(self), mv.partition, mv.to});
  }
}

/// Sends a request to the coordinator as this node and passes its answer on;
/// no answer at all is "moving" (the asker tries again).
template <class Reply, class Msg>
caf::result<Reply> relay(self_ptr self, Msg msg) {
  auto& st = self->state;
  auto c = coordinator(self);
  if (c.empty() || c == self_name(self) || !st.nodes.count(c)) return to_caf(moving_error());
  auto rp = self->template make_response_promise<Reply>();
  self->request(st.nodes[c], std::chrono::seconds(10), std::move(msg))
    .then([rp](Reply& r) mutable { rp.deliver(std::move(r)); },
          [rp](caf::error& e) mutable {
            rp.deliver(e.category() == caf::atom("roster") ? std::move(e) : to_caf(moving_error()));
          });
  return rp;
}

caf::result<join_reply> do_admit(self_ptr self, const joiner& who) {
  auto& st = self->state;
  if (who.info.name.empty()) return to_caf(make_error(errc::invalid_request, "malformed join"));
  if (who.partitions != st.view.partitions)
    return to_caf(make_error(errc::invalid_request, "partition count differs from the cluster's"));
  member_info m{who.info.name, who.info.http, who.info.cluster, member_state::up, 0};
  if (m.name == self_name(self)) return to_caf(make_error(errc::already_exists, "node name already in use"));
  // A restarted member comes back with new handles.
  if (auto it = st.nodes.find(m.name); it != st.nodes.end() && it->second != who.node) {
    st.dead.insert(it->second.address());
    st.nodes.erase(it);
  }
  if (!quorum(self, m.name)) return to_caf(moving_error());  // try again once a majority is back
  monitor_member(self, m.name, who.node, who.gateway);
  st.dead.erase(who.node.address());
  spdlog::info("cluster: admitting {} ({})", m.name, m.cluster);
  change(self, admit(st.view, m));
  return join_reply{st.view};
}

node_actor_hdl::behavior_type node_actor(self_ptr self, std::shared_ptr<cluster_context> ctx,
                                         std::optional<cluster_view> initial) {
  self->state.ctx = std::move(ctx);
  if (initial) adopt(self, *initial, {}, {});
  else publish_routes(self);
  self->delayed_send(self, tick_period, tick_atom_v);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    for (auto& [name, a] : st.nodes) {
      if (a.address() != dm.source) continue;
      st.dead.insert(dm.source);
      spdlog::warn("cluster: member {} is down ({})", name, caf::to_string(dm.reason));
      st.handoffs.source_down(name);
      // Only a coordinator that still reaches a majority marks it down in the
      // view; a node that is itself cut off just stops routing to it.
      if (is_coordinator(self) && quorum(self)) change(self, mark(st.view, name, member_state::down));
      else publish_routes(self);
      return;
    }
  });
  return {
    [self](hello_atom) -> std::string {
      auto nonce = hex_encode(random_bytes(16));
      auto& n = self->state.nonces;
      n.push_back(nonce);
      if (n.size() > 64) n.pop_front();
      return nonce;
    },
    [self](const join_request& req) -> caf::result<join_reply> {
      auto& st = self->state;
      auto it = std::find(st.nonces.begin(), st.nonces.end(), req.nonce);
      auto& name = req.who.info.name;
      bool valid = it != st.nonces.end() && !name.empty() &&
                   constant_time_equal(req.proof, join_proof(st.ctx->config.cluster.secret, req.nonce, name));
      if (it != st.nonces.end()) st.nonces.erase(it);
      if (!valid || !req.who.node || !req.who.gateway) {
        spdlog::warn("cluster: refused a join (wrong cluster secret)");
        return to_caf(make_error(errc::forbidden, "cluster secret does not match"));
      }
      if (st.view.epoch == 0) return to_caf(moving_error());
      if (is_coordinator(self)) return do_admit(self, req.who);
      // Ask the coordinator ourselves (a delegated message would carry the
      // joiner as sender, whom the coordinator does not trust yet).
      return relay<join_reply>(self, admit_request{cred_of(self), req.who});
    },
    [self](const admit_request& req) -> caf::result<join_reply> {
      if (!from_member(self, req.credential)) return to_caf(refused_error());
      if (!is_coordinator(self)) return to_caf(moving_error());
      return do_admit(self, req.who);
    },
    [self](const view_update& msg) {
      auto& st = self->state;
      auto sender = self->current_sender();
      bool named_in_view = false;
      for (auto& n : msg.nodes)
        if (n && sender && n.node() == sender->node()) named_in_view = true;
      if (!st.ctx->env->accept(msg.credential, "node actor", sender)) return;
      if (!from_member(self, msg.credential) && !(st.view.epoch == 0 && named_in_view)) return;
      if (!msg.view.well_formed() || msg.view.epoch <= st.view.epoch) return;
      adopt(self, msg.view, msg.nodes, msg.gateways);
    },
    [self](const leave_request& req) -> caf::result<leave_reply> {
      auto& st = self->state;
      if (!from_member(self, req.credential)) return to_caf(refused_error());
      if (!is_coordinator(self)) return relay<leave_reply>(self, leave_request{cred_of(self), req.name});
      auto* m = st.view.find(req.name);
      if (!m) return to_caf(make_error(errc::not_found, "no such member"));
      if (!quorum(self)) return to_caf(unavailable_error());
      size_t staying = 0;
      for (auto& x : st.view.members) staying += x.state != member_state::leaving && x.name != req.name;
      if (staying == 0) return to_caf(make_error(errc::invalid_request, "the last member cannot leave"));
      auto moving = st.view.owned_by(req.name);
      spdlog::info("cluster: {} is leaving; {} partitions to hand off", req.name, moving);
      change(self, begin_leave(st.view, req.name));
      return leave_reply{req.name, moving, st.view.epoch};
    },
    // Handoffs: the handoff manager keeps their state; see its header.
    [self](const handoff_order& msg) {
      auto& st = self->state;
      if (!from_member(self, msg.credential)) return;
      auto target = st.nodes.find(msg.to);
      st.handoffs.start(self, st.ctx, st.view, msg.partition, msg.to,
                        target == st.nodes.end() ? nullptr : &target->second);
    },
    [self](const seal_partition& msg) {
      auto& st = self->state;
      if (!from_here(self) || !st.ctx->env->accept(msg.credential, "node actor", self->current_sender())) return false;
      return st.handoffs.seal(self, *st.ctx, msg.partition, st.view.epoch);
    },
    [self](const unseal_partition& msg) {
      auto& st = self->state;
      if (!from_member(self, msg.credential) || !st.handoffs.unseal(msg.partition)) return;
      apply_fence(self);
    },
    [self](const partition_moved& msg) {
      auto& st = self->state;
      auto p = msg.partition;
      auto& to = msg.to;
      if (!from_member(self, msg.credential)) return;
      if (self->current_sender() && self->current_sender()->node() == self->node()) st.handoffs.finished(p);
      if (!is_coordinator(self)) {
        auto c = coordinator(self);
        if (!c.empty() && st.nodes.count(c)) self->send(st.nodes[c], partition_moved{cred_of(self), p, to});
        return;
      }
      st.handoffs.settled(p);
      if (p < st.view.targets.size() && st.view.targets[p] == to && quorum(self)) {
        change(self, complete_move(st.view, p));
        return;
      }
      // Retargeted while it was copied (its target started leaving), or no
      // majority to switch it: the source reopens it, and a later kick hands
      // it off again.
      if (p < st.view.owners.size()) {
        auto& source = st.view.owners[p];
        if (source == self_name(self)) self->send(self, unseal_partition{cred_of(self), p});
        else if (st.nodes.count(source)) self->send(st.nodes[source], unseal_partition{cred_of(self), p});
      }
      kick(self);
    },
    [self](const handoff_failed& msg) {
      auto& st = self->state;
      auto p = msg.partition;
      if (!from_member(self, msg.credential)) return;
      if (self->current_sender() && self->current_sender()->node() == self->node() && st.handoffs.failed(p)) {
        // Our worker gave up: p stays here and is served again.
        apply_fence(self);
      }
      if (!is_coordinator(self)) {
        auto c = coordinator(self);
        if (!c.empty() && st.nodes.count(c)) self->send(st.nodes[c], handoff_failed{cred_of(self), p});
        return;
      }
      st.handoffs.settled(p);  // retried on a later tick
    },
    [self](const handoff_chunk& msg) -> caf::result<done> {
      auto& st = self->state;
      if (!from_member(self, msg.credential)) return to_caf(refused_error());
      auto applied = st.handoffs.receive(*st.ctx, st.view, msg.partition, msg.reset, msg.blob);
      if (!applied) return to_caf(applied.err());
      return done{};
    },
    [self](tick_atom) {
      if (!from_here(self)) return;
      kick(self);
      self->delayed_send(self, tick_period, tick_atom_v);
    },
  };
}

} // namespace

node_actor_hdl spawn_node_actor(caf::actor_system& sys, std::shared_ptr<cluster_context> ctx,
                                std::optional<cluster_view> initial) {
  return sys.spawn(node_actor, std::move(ctx), std::move(initial));
}

} // namespace roster
