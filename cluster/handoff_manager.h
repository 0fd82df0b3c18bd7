#pragma once
// The handoff manager: this node's side of partition handoffs, in the manner
// of riak_core's riak_core_handoff_manager. It is held in the node actor's
// state and called only from the node actor's handlers (never from two
// threads at once). The node actor keeps the membership and view protocol
// (admission, views, monitors, the write fence) and hands every handoff
// message to this class; cluster/handoff.h is the sender and the chunk intake.
//
//   coordinator             source (owner of p)                target (next owner)
//   dispatch(): pending
//   move → handoff_order ────▶ start(): a sender on its own thread
//                              copies p ─────── chunks ─────────▶ receive()
//                              seal(): fence closed, p's user
//                              actors retired; last writes ─────▶ receive()
//                              finished(p) | failed(p)
//   settled(p) ◀── partition_moved | handoff_failed ──
//   (the node actor then switches the owner: complete_move)
//
// Bookkeeping:
//   dispatched  coordinator: moves handed to their source and not settled yet,
//               at most max_per_source per source at a time;
//   working     source: partitions whose sender runs here;
//   sealed      source: partitions one of its senders sealed; they stay
//               closed until the view moves them away or the handoff fails.
#include <caf/fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/node_protocol.h"
#include "cluster/view.h"

namespace roster {

struct cluster_context;

class handoff_manager {
 public:
  /// Handoffs one source runs at a time.
  static constexpr size_t max_per_source = 2;

  // ---- Coordinator -------------------------------------------------------

  /// The pending moves of `view` to hand to their sources now, recorded as
  /// dispatched: not dispatched already, source and target `reachable`, the
  /// target not marked down, at most max_per_source per source. The caller
  /// sends a handoff_order to each source.
  std::vector<partition_move> dispatch(const cluster_view& view,
                                       const std::function<bool(const std::string&)>& reachable);
  /// Member `name` went down: the moves it was the source of are dispatched
  /// again later.
  void source_down(const std::string& name);
  /// The handoff of p ended (moved or failed): it may be dispatched again.
  void settled(uint32_t p);

  // ---- Source ------------------------------------------------------------

  /// Starts the sender of partition p to member `to`, whose node actor is
  /// `target` (null when unknown), unless one runs already. When p is not
  /// this node's to give in `view`, or the target is unknown, tells `node`
  /// (this node's node actor) handoff_failed{p} instead.
  void start(node_actor_hdl::pointer node, const std::shared_ptr<cluster_context>& ctx, const cluster_view& view,
             uint32_t p, const std::string& to, const node_actor_hdl* target);
  /// Our sender of p asks to seal it: revokes p's write fence at `epoch`
  /// (waiting for writes in flight) and tells p's host to retire its user
  /// actors. False, and nothing done, unless a sender of ours runs for p.
  bool seal(node_actor_hdl::pointer node, cluster_context& ctx, uint32_t p, uint64_t epoch);
  /// The coordinator reopens p (its move was retargeted): forgets the seal.
  /// False, and nothing done, while a sender of ours runs for p. The caller
  /// applies the fence again.
  bool unseal(uint32_t p);
  /// Our sender of p has handed it off.
  void finished(uint32_t p);
  /// Our sender of p gave up: p is not sealed any more. True if it ran (the
  /// caller applies the fence again, so p is served here again).
  bool failed(uint32_t p);
  /// Whether one of our handoffs sealed p.
  bool sealed(uint32_t p) const { return sealed_.count(p) > 0; }
  /// p now belongs to another node: forgets its seal. True if it was sealed
  /// (handed off by us: our copy is stale).
  bool handed_off(uint32_t p) { return sealed_.erase(p) > 0; }

  // ---- Target ------------------------------------------------------------

  /// Applies one chunk of partition p arriving here (receive_chunk), unless
  /// this node serves p in `view` (then invalid_request).
  status receive(cluster_context& ctx, const cluster_view& view, uint32_t p, bool reset, const std::string& blob);

 private:
  std::map<uint32_t, std::string> dispatched_;  // coordinator: partition → source
  std::set<uint32_t> working_;                  // source: our senders
  std::set<uint32_t> sealed_;                   // source: sealed by our senders
};

} // namespace roster
