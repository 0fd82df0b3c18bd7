#pragma once
// The moderation-queue actor's protocol (actors/moderation/moderation_actor.h).
// Every message comes from this node (user actors, the gateway, its own
// timer) and carries the member credential like every other message: an
// actor id is reachable from the cluster port.
//
//   queue_changed{credential, partition, uid16, entry}  a user's queue entry was
//        just committed (domain/moderation.h encode_entry; empty: removed)
//   scan_request{op: moderation_queue{status, limit}} → scan_reply{items, matched}
//        this node's part of GET /v1/admin/moderation/queue, in queue order
//   queue_tick_atom                                       the actor's own timer
#include <cstdint>
#include <string>

#include <caf/typed_actor.hpp>

#include "actors/partition/partition_protocol.h"
#include "actors/wire.h"

namespace roster {

struct queue_changed {
  std::string credential;
  uint16_t partition = 0;
  std::string uid16;
  std::string entry;  // encode_entry; empty: the user and its entry are gone
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_changed& x) {
  return f(caf::meta::type_name("queue_changed"), x.credential, x.partition, x.uid16, x.entry);
}

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster_moderation, 650)
  CAF_ADD_TYPE_ID(roster_moderation, (roster::queue_changed))
  CAF_ADD_ATOM(roster_moderation, roster, queue_tick_atom, "qtick")
CAF_END_TYPE_ID_BLOCK(roster_moderation)

namespace roster {

using moderation_hdl = caf::typed_actor<caf::reacts_to<queue_changed>, caf::replies_to<scan_request>::with<scan_reply>,
                                        caf::reacts_to<queue_tick_atom>>;

} // namespace roster
