#pragma once
// The node actor's protocol (membership, views, handoffs) and the gateway's
// forwarding atoms. Member-to-member messages carry the member credential as
// their first argument (actor_env::credential).
//
// Replies of the membership messages are still a code plus a JSON body
// (`reply`); typed replies are the next step of issue 8.
#include <cstdint>
#include <string>

#include "actors/wire.h"

namespace roster {

/// code == errc::ok: body is the JSON result. Otherwise body is
/// {"message": ..., "fields"?: {...}} and retry_after may be set.
struct reply {
  uint8_t code = 0;
  std::string body;
  int64_t retry_after = 0;

  bool ok() const { return code == static_cast<uint8_t>(errc::ok); }
  errc error_code() const { return static_cast<errc>(code); }
};

reply ok_reply(std::string body);
reply error_reply(const error& e);
reply error_reply(errc code, std::string message);
/// Rebuilds the error carried by a non-ok reply.
error error_of(const reply& r);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply& x) {
  return f(caf::meta::type_name("reply"), x.code, x.body, x.retry_after);
}

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster_node, 450)
  CAF_ADD_TYPE_ID(roster_node, (roster::reply))
  CAF_ADD_ATOM(roster_node, roster, unseal_atom, "unseal")
  CAF_ADD_ATOM(roster_node, roster, hello_atom, "hello")
  CAF_ADD_ATOM(roster_node, roster, member_join_atom, "mjoin")
  CAF_ADD_ATOM(roster_node, roster, admit_atom, "admit")
  CAF_ADD_ATOM(roster_node, roster, view_atom, "view")
  CAF_ADD_ATOM(roster_node, roster, leave_cluster_atom, "cleave")
  CAF_ADD_ATOM(roster_node, roster, handoff_atom, "handoff")
  CAF_ADD_ATOM(roster_node, roster, moved_atom, "moved")
  CAF_ADD_ATOM(roster_node, roster, handoff_failed_atom, "hfailed")
  CAF_ADD_ATOM(roster_node, roster, chunk_atom, "chunk")
  CAF_ADD_ATOM(roster_node, roster, tick_atom, "tick")
  CAF_ADD_ATOM(roster_node, roster, forward_user_atom, "fwduser")
  CAF_ADD_ATOM(roster_node, roster, forward_index_atom, "fwdindex")
  CAF_ADD_ATOM(roster_node, roster, progress_atom, "progress")
CAF_END_TYPE_ID_BLOCK(roster_node)
