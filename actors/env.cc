#include "actors/env.h"

#include <caf/actor_control_block.hpp>
#include <caf/node_id.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "base/crypto.h"

namespace roster {

bool actor_env::accept(const std::string& presented, const char* where, const caf::strong_actor_ptr& sender) {
  if (!credential.empty() && constant_time_equal(presented, credential)) return true;
  auto n = counters.refused_messages.fetch_add(1, std::memory_order_relaxed) + 1;
  auto now = now_ms();
  auto last = counters.last_refusal_log.load(std::memory_order_relaxed);
  if (now - last >= 1000 && counters.last_refusal_log.compare_exchange_strong(last, now))
    spdlog::warn("cluster: refused a message to the {} without this cluster's credential (from node {}; {} refused "
                 "so far)", where, sender ? caf::to_string(sender->node()) : std::string("unknown"), n);
  return false;
}

void actor_env::announce_outbox(std::vector<outbox_ref> refs) {
  if (refs.empty() || !notify) return;
  if (outbox_new.add(refs)) caf::anon_send(notify, outbox_added{credential, {}, 0});
}

} // namespace roster
