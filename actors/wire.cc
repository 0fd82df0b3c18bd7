#include "actors/wire.h"

#include <caf/all.hpp>

#include "actors/index/index_protocol.h"
#include "actors/moderation/moderation_protocol.h"
#include "actors/notify/notify_protocol.h"
#include "actors/stream/stream_protocol.h"
#include "actors/partition/partition_protocol.h"
#include "actors/user/user_protocol.h"

namespace roster {

caf::error to_caf(const error& e) {
  // Details ride as a fourth element only when there are any, so the errors
  // that have none keep the three-element form every node reads.
  if (!e.details.empty()) return caf::make_error(e.code, e.message, e.fields, e.retry_after, e.details);
  return caf::make_error(e.code, e.message, e.fields, e.retry_after);
}

error from_caf(const caf::error& e) {
  if (e.category() == caf::atom("roster") && e.code() != 0) {
    error out;
    out.code = static_cast<errc>(e.code());
    auto& ctx = e.context();
    if (ctx.match_elements<std::string, std::map<std::string, std::string>, int64_t>()) {
      out.message = ctx.get_as<std::string>(0);
      out.fields = ctx.get_as<std::map<std::string, std::string>>(1);
      out.retry_after = ctx.get_as<int64_t>(2);
    } else if (ctx.match_elements<std::string, std::map<std::string, std::string>, int64_t, std::string>()) {
      out.message = ctx.get_as<std::string>(0);
      out.fields = ctx.get_as<std::map<std::string, std::string>>(1);
      out.retry_after = ctx.get_as<int64_t>(2);
      out.details = ctx.get_as<std::string>(3);
    }
    return out;
  }
  return unavailable_error();
}

error moving_error() {
  auto e = make_error(errc::partition_moving, "partition is moving between nodes, retry shortly");
  e.retry_after = 1;
  return e;
}

error unavailable_error() {
  auto e = make_error(errc::partition_unavailable, "partition unavailable, retry shortly");
  e.retry_after = 1;
  return e;
}

error refused_error() { return make_error(errc::forbidden, "not a member of this cluster"); }

void register_actor_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::roster_core>();
  cfg.add_message_types<caf::id_block::roster_user>();
  cfg.add_message_types<caf::id_block::roster_partition>();
  cfg.add_message_types<caf::id_block::roster_index>();
  cfg.add_message_types<caf::id_block::roster_notify>();
  cfg.add_message_types<caf::id_block::roster_stream>();
  cfg.add_message_types<caf::id_block::roster_moderation>();
}

} // namespace roster
