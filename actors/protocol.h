#pragma once
// The CAF side of actors/messages.h: inspect() for every message, atoms, the
// type-ID block (IDs from caf::first_custom_type_id), and registration.
// Every node must register this block (register_roster_types) or remote
// messages will not deserialize.
#include <caf/all.hpp>

#include "actors/messages.h"

namespace roster {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_request& x) {
  return f(caf::meta::type_name("user_request"), x.op, x.user_id, x.token_hash, x.args, x.ip, x.user_agent,
           x.credential);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply& x) {
  return f(caf::meta::type_name("reply"), x.code, x.body, x.retry_after);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, index_request& x) {
  return f(caf::meta::type_name("index_request"), x.op, x.key, x.user_id, x.credential);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scan_request& x) {
  return f(caf::meta::type_name("scan_request"), x.op, x.args, x.credential);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scan_reply& x) {
  return f(caf::meta::type_name("scan_reply"), x.items);
}

/// Registers Roster's message types with an actor system config.
void register_roster_types(caf::actor_system_config& cfg);

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(roster, (roster::user_request))
  CAF_ADD_TYPE_ID(roster, (roster::reply))
  CAF_ADD_TYPE_ID(roster, (roster::index_request))
  CAF_ADD_TYPE_ID(roster, (roster::scan_request))
  CAF_ADD_TYPE_ID(roster, (roster::scan_reply))
  CAF_ADD_TYPE_ID(roster, (std::vector<std::string>))
  CAF_ADD_ATOM(roster, roster, passivate_atom, "passivate")
  CAF_ADD_ATOM(roster, roster, stop_atom, "stop")
  CAF_ADD_ATOM(roster, roster, stats_atom, "stats")
  CAF_ADD_ATOM(roster, roster, idle_atom, "idle")
  CAF_ADD_ATOM(roster, roster, seal_atom, "seal")
  CAF_ADD_ATOM(roster, roster, unseal_atom, "unseal")
  CAF_ADD_ATOM(roster, roster, hello_atom, "hello")
  CAF_ADD_ATOM(roster, roster, member_join_atom, "mjoin")
  CAF_ADD_ATOM(roster, roster, admit_atom, "admit")
  CAF_ADD_ATOM(roster, roster, view_atom, "view")
  CAF_ADD_ATOM(roster, roster, leave_cluster_atom, "cleave")
  CAF_ADD_ATOM(roster, roster, handoff_atom, "handoff")
  CAF_ADD_ATOM(roster, roster, moved_atom, "moved")
  CAF_ADD_ATOM(roster, roster, handoff_failed_atom, "hfailed")
  CAF_ADD_ATOM(roster, roster, chunk_atom, "chunk")
  CAF_ADD_ATOM(roster, roster, tick_atom, "tick")
  CAF_ADD_ATOM(roster, roster, forward_user_atom, "fwduser")
  CAF_ADD_ATOM(roster, roster, forward_index_atom, "fwdindex")
  CAF_ADD_ATOM(roster, roster, progress_atom, "progress")
CAF_END_TYPE_ID_BLOCK(roster)
