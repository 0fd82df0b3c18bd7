#include "actors/read_path.h"

namespace roster {

std::shared_ptr<const read_cache::entry> cached_read(actor_env& env, const std::string& uid16,
                                                     const std::string& token_hash, uint16_t p) {
  if (token_hash.empty() || !env.serving(p)) return nullptr;
  auto hit = env.reads.find(token_hash);
  if (!hit || hit->uid16.view() != uid16) return nullptr;
  auto now = now_ms();
  auto live = env.directory.find(uid16);
  if (now >= hit->valid_until || !live || live->address() != hit->actor) return nullptr;
  hit->last_hit.store(now, std::memory_order_relaxed);
  env.counters.cached_reads.fetch_add(1, std::memory_order_relaxed);
  return hit;
}

std::optional<user_reply> cached_answer(actor_env& env, const user_request& req, uint16_t p) {
  if (!std::holds_alternative<authenticate>(req.op)) return std::nullopt;
  auto hit = cached_read(env, req.user_id, req.token_hash, p);
  if (!hit) return std::nullopt;
  return user_reply{view{hit->body}};
}

} // namespace roster
