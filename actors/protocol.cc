#include "actors/protocol.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/env.h"
#include "base/crypto.h"

namespace roster {

reply ok_reply(std::string body) { return reply{static_cast<uint16_t>(errc::ok), std::move(body), 0}; }

namespace {
constexpr const char* moving_message = "partition is moving between nodes, retry shortly";
}

reply moving_reply() {
  auto r = error_reply(errc::partition_unavailable, moving_message);
  r.retry_after = 1;
  return r;
}

reply unavailable_reply() {
  auto r = error_reply(errc::partition_unavailable, "partition unavailable, retry shortly");
  r.retry_after = 1;
  return r;
}

bool is_moving(const reply& r) {
  return r.error_code() == errc::partition_unavailable && r.body.find(moving_message) != std::string::npos;
}

reply error_reply(const error& e) {
  nlohmann::json j = {{"message", e.message}};
  if (!e.fields.empty()) j["fields"] = e.fields;
  return reply{static_cast<uint16_t>(e.code), j.dump(), e.retry_after};
}

reply error_reply(errc code, std::string message) { return error_reply(make_error(code, std::move(message))); }

error error_of(const reply& r) {
  error e;
  e.code = r.error_code();
  e.retry_after = r.retry_after;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("message") && j["message"].is_string()) e.message = j["message"];
    if (j.contains("fields") && j["fields"].is_object())
      for (auto& [k, v] : j["fields"].items())
        if (v.is_string()) e.fields[k] = v.get<std::string>();
  }
  return e;
}

bool actor_env::accept(const std::string& presented, const char* where, const caf::strong_actor_ptr& sender) {
  if (!credential.empty() && constant_time_equal(presented, credential)) return true;
  auto n = refused_messages.fetch_add(1, std::memory_order_relaxed) + 1;
  auto now = now_ms();
  auto last = last_refusal_log.load(std::memory_order_relaxed);
  if (now - last >= 1000 && last_refusal_log.compare_exchange_strong(last, now))
    spdlog::warn("cluster: refused a message to the {} without this cluster's credential (from node {}; {} refused "
                 "so far)", where, sender ? caf::to_string(sender->node()) : std::string("unknown"), n);
  return false;
}

reply refused_reply() { return error_reply(errc::forbidden, "not a member of this cluster"); }

void register_roster_types(caf::actor_system_config& cfg) { cfg.add_message_types<caf::id_block::roster>(); }

} // namespace roster
