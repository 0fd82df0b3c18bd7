#pragma once
// The notification sender's protocol (actors/notify/notify_actor.h). Every
// message comes from this node (user actors, partition hosts, the sender's
// own threads) and carries the member credential like every other message:
// an actor id is reachable from the cluster port.
//
//   outbox_added{credential, refs, revived}  entries just committed (or a dead
//                                            letter put back: revived)
//   outbox_sent{credential, id16, ok, error} a send finished (sender thread)
//   drain_atom                                the actor's own timer
#include <cstdint>
#include <string>
#include <vector>

#include <caf/typed_actor.hpp>

#include "actors/wire.h"
#include "base/clock.h"

namespace roster {

/// A committed pending entry: its id (16 bytes; names its partition) and
/// when it is due.
struct outbox_ref {
  std::string id16;
  millis next_at = 0;
};

struct outbox_added {
  std::string credential;
  std::vector<outbox_ref> refs;
  int64_t revived = 0;  // how many of them were dead letters (admin retry)
};

struct outbox_sent {
  std::string credential;
  std::string id16;
  bool ok = false;
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_ref& x) {
  return f(caf::meta::type_name("outbox_ref"), x.id16, x.next_at);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_added& x) {
  return f(caf::meta::type_name("outbox_added"), x.credential, x.refs, x.revived);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outbox_sent& x) {
  return f(caf::meta::type_name("outbox_sent"), x.credential, x.id16, x.ok, x.error);
}

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster_notify, 550)
  CAF_ADD_TYPE_ID(roster_notify, (roster::outbox_added))
  CAF_ADD_TYPE_ID(roster_notify, (roster::outbox_sent))
  CAF_ADD_ATOM(roster_notify, roster, drain_atom, "drain")
CAF_END_TYPE_ID_BLOCK(roster_notify)

namespace roster {

using notify_hdl = caf::typed_actor<caf::reacts_to<outbox_added>, caf::reacts_to<outbox_sent>, caf::reacts_to<drain_atom>>;

} // namespace roster
