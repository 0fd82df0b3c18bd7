#include "cluster/handoff_manager.h"

#include "cluster/context.h"
#include "cluster/handoff.h"

namespace roster {

std::vector<partition_move> handoff_manager::dispatch(const cluster_view& view,
                                                      const std::function<bool(const std::string&)>& reachable) {
  std::vector<partition_move> out;
  std::map<std::string, size_t> busy;
  for (auto& [p, src] : dispatched_) ++busy[src];
  for (auto& mv : view.moves()) {
    if (dispatched_.count(mv.partition)) continue;
    if (!reachable(mv.from) || !reachable(mv.to)) continue;
    if (busy[mv.from] >= max_per_source) continue;
    auto* to = view.find(mv.to);
    if (!to || to->state == member_state::down) continue;
    ++busy[mv.from];
    dispatched_[mv.partition] = mv.from;
    out.push_back(mv);
  }
  return out;
}

void handoff_manager::source_down(const std::string& name) {
  for (auto it = dispatched_.begin(); it != dispatched_.end();)
    it = it->second == name ? dispatched_.erase(it) : std::next(it);
}

void handoff_manager::settled(uint32_t p) { dispatched_.erase(p); }

void handoff_manager::start(node_actor_hdl::pointer node, const std::shared_ptr<cluster_context>& ctx,
                            const cluster_view& view, uint32_t p, const std::string& to,
                            const node_actor_hdl* target) {
  if (working_.count(p)) return;
  if (p >= view.owners.size() || view.owners[p] != ctx->self_name() || !target) {
    node->send(node, handoff_failed{ctx->env->credential, p});
    return;
  }
  working_.insert(p);
  node->spawn<caf::detached>(handoff_sender, ctx, caf::actor_cast<node_actor_hdl>(node), *target, p, to);
}

bool handoff_manager::seal(node_actor_hdl::pointer node, cluster_context& ctx, uint32_t p, uint64_t epoch) {
  if (!working_.count(p)) return false;  // only our own handoff sender seals
  sealed_.insert(p);
  ctx.fence->revoke(static_cast<uint16_t>(p), epoch);
  node->send(ctx.hosts.at(p), seal_atom_v);
  return true;
}

bool handoff_manager::unseal(uint32_t p) {
  if (working_.count(p)) return false;
  sealed_.erase(p);
  return true;
}

void handoff_manager::finished(uint32_t p) { working_.erase(p); }

bool handoff_manager::failed(uint32_t p) {
  if (!working_.erase(p)) return false;
  sealed_.erase(p);
  return true;
}

status handoff_manager::receive(cluster_context& ctx, const cluster_view& view, uint32_t p, bool reset,
                                const std::string& blob) {
  if (p >= view.owners.size() || view.owners[p] == ctx.self_name())
    return make_error(errc::invalid_request, "partition is served here");
  return receive_chunk(*ctx.fence, p, reset, blob);
}

} // namespace roster
