// The gateway: the door of a node for requests routed to it by other nodes.
// It checks that this node serves the partition, then delegates to the local
// partition host (user requests) or index actor, so the reply goes straight
// back to the asking router. A request that reached it with a stale table is
// forwarded to the owner it knows (at most max_hops times), or answered
// "moving" so the asking router retries with a fresher table.
#include <spdlog/spdlog.h>

#include "base/placement.h"
#include "cluster/context.h"
#include "actors/read_path.h"
#include "cluster/node_protocol.h"

namespace roster {

namespace {

constexpr int32_t max_hops = 3;
constexpr auto scan_timeout = std::chrono::seconds(30);

struct gateway_state {
  static inline const char* name = "roster.gateway";
  std::shared_ptr<cluster_context> ctx;
};

using self_ptr = gateway_hdl::stateful_pointer<gateway_state>;

/// Serves `req` for partition `p`: delegated to `local` (this node's actor
/// for p) if this node serves p, else forwarded to the owner's gateway as
/// (`forward`, hops + 1, req). The reply goes straight back to the asker.
template <class Reply, class Local, class Forward, class Req>
caf::result<Reply> serve(self_ptr self, uint16_t p, int32_t hops, const Local& local, Forward forward, Req& req) {
  auto& ctx = *self->state.ctx;
  auto snap = ctx.snapshot();
  if (snap->mine(p)) {
    if (!ctx.env->serving(p)) return to_caf(moving_error());
    self->delegate(local, std::move(req));
    return caf::delegated<Reply>{};
  }
  auto* owner = snap->owner_of(p);
  if (!owner || hops >= max_hops) return to_caf(moving_error());
  if (!owner->up) return to_caf(unavailable_error());
  self->delegate(owner->gateway, forward, hops + 1, std::move(req));
  return caf::delegated<Reply>{};
}

caf::result<user_reply> user(self_ptr self, user_request& req, int32_t hops) {
  if (!self->state.ctx->env->accept(req.credential, "gateway", self->current_sender())) return to_caf(refused_error());
  if (req.user_id.size() != 16) return to_caf(make_error(errc::invalid_request, "malformed user id"));
  auto& ctx = *self->state.ctx;
  auto p = partition_of_user(req.user_id, ctx.env->partitions);
  // GET /v1/account from another node: the answer the user's actor published
  // here, as the router does for local requests.
  if (auto cached = cached_answer(*ctx.env, req, p)) return std::move(*cached);
  return serve<user_reply>(self, p, hops, ctx.hosts[p], forward_user_atom_v, req);
}

caf::result<index_reply> index(self_ptr self, index_request& req, int32_t hops) {
  auto& ctx = *self->state.ctx;
  if (!ctx.env->accept(req.credential, "gateway", self->current_sender())) return to_caf(refused_error());
  auto p = partition_of_index_key(key_of(req.op), ctx.env->partitions);
  return serve<index_reply>(self, p, hops, ctx.indexes[p], forward_index_atom_v, req);
}

gateway_hdl::behavior_type gateway(self_ptr self, std::shared_ptr<cluster_context> ctx) {
  self->state.ctx = std::move(ctx);
  return {
    [self](user_request& req) { return user(self, req, 0); },
    [self](forward_user_atom, int32_t hops, user_request& req) { return user(self, req, hops); },
    [self](index_request& req) { return index(self, req, 0); },
    [self](forward_index_atom, int32_t hops, index_request& req) { return index(self, req, hops); },
    // A scan of every partition this node serves, merged.
    [self](const scan_request& req) -> caf::result<scan_reply> {
      auto& ctx = *self->state.ctx;
      if (!ctx.env->accept(req.credential, "gateway", self->current_sender())) return scan_reply{};
      // The moderation queue of this node's partitions is its queue actor's.
      if (std::holds_alternative<moderation_queue>(req.op)) {
        if (!ctx.env->moderation) return scan_reply{};
        return self->delegate(ctx.env->moderation, req);
      }
      auto rp = self->make_response_promise<scan_reply>();
      auto merged = std::make_shared<scan_reply>();
      auto remaining = std::make_shared<size_t>(0);
      for (uint32_t p = 0; p < ctx.hosts.size(); ++p)
        if (ctx.env->serving(static_cast<uint16_t>(p))) ++*remaining;
      if (*remaining == 0) return scan_reply{};
      for (uint32_t p = 0; p < ctx.hosts.size(); ++p) {
        if (!ctx.env->serving(static_cast<uint16_t>(p))) continue;
        auto done = [rp, merged, remaining]() mutable {
          if (--*remaining == 0) rp.deliver(std::move(*merged));
        };
        self->request(ctx.hosts[p], scan_timeout, req)
          .then(
            [merged, done](scan_reply& r) mutable {
              std::move(r.items.begin(), r.items.end(), std::back_inserter(merged->items));
              merged->counts += r.counts;
              done();
            },
            [done](caf::error& e) mutable {
              spdlog::warn("gateway: partition scan failed: {}", caf::to_string(e));
              done();
            });
      }
      return rp;
    },
    // This node's actor figures, for /debug/actors.
    [self](stats_atom, const std::string& credential) -> caf::result<node_stats> {
      auto& env = *self->state.ctx->env;
      if (!env.accept(credential, "gateway", self->current_sender())) return to_caf(refused_error());
      return node_stats{env.node_name,
                        env.counters.live_user_actors.load(),
                        env.counters.user_actor_spawns.load(),
                        env.counters.user_actor_passivations.load(),
                        env.reads.size(),
                        env.counters.cached_reads.load(),
                        env.counters.refused_messages.load(),
                        env.partitions_served(),
                        self->system().scheduler().num_workers(),
                        env.counters.outbox_depth.load(),
                        env.counters.outbox_in_flight.load(),
                        env.counters.outbox_dead.load(),
                        outbox_oldest_age(env.counters, now_ms()),
                        env.counters.moderation_depth.load(),
                        env.counters.moderation_flagged.load(),
                        env.counters.moderation_reports.load()};
    },
  };
}

} // namespace

gateway_hdl spawn_gateway(caf::actor_system& sys, std::shared_ptr<cluster_context> ctx) {
  return sys.spawn(gateway, std::move(ctx));
}

} // namespace roster
