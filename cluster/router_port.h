#pragma once
// What the workflows of service/ need from the router: a typed call to a
// user's actor and a call to an index actor. cluster/router.h implements it
// over the actors; tests/service/ drives the workflows through a scripted
// fake, so their order of claims, writes and releases is tested without an
// actor system.
#include <string>
#include <string_view>
#include <variant>

#include "actors/index/index_protocol.h"
#include "actors/user/user_protocol.h"
#include "domain/request.h"

namespace roster {

class router_port {
 public:
  virtual ~router_port() = default;

  /// Sends operation `op` to the actor of user `uid16` (16 raw bytes) and
  /// waits for its typed reply (reply_of<Op>, actors/user/user_protocol.h).
  template <class Op>
  result<reply_of_t<Op>> call_user(std::string_view uid16, Op op, std::string token_hash = {},
                                   const client_info& ci = {}) {
    auto r = send_user(uid16, user_op{std::move(op)}, std::move(token_hash), ci);
    if (!r) return r.err();
    if (auto* v = std::get_if<reply_of_t<Op>>(&r->value)) return std::move(*v);
    return make_error(errc::internal, "unexpected reply");
  }
  /// The untyped form of call_user.
  virtual result<user_reply> send_user(std::string_view uid16, user_op op, std::string token_hash,
                                       const client_info& ci) = 0;

  /// Sends an index operation to the index actor owning its key.
  virtual result<index_reply> call_index(index_op op) = 0;
};

} // namespace roster
