#pragma once
// The one cached-read fast path: the router uses it for requests to local
// actors, the gateway for requests forwarded by other nodes. A read the
// user's actor has published (actors/read_cache.h) is answered on the
// calling thread, without a message, while it is valid, its partition is
// served here and its publisher is still the user's live actor.
#include <memory>
#include <optional>
#include <string>

#include "actors/env.h"

namespace roster {

/// The answer published for this user's session if it may be served now
/// (records the hit), else null: ask the actor.
std::shared_ptr<const read_cache::entry> cached_read(actor_env& env, const std::string& uid16,
                                                     const std::string& token_hash, uint16_t p);

/// The answer to `req` from the read cache if it is a read the cache holds
/// (authenticate, i.e. GET /v1/account) and cached_read finds it. Nullopt:
/// ask the actor.
std::optional<user_reply> cached_answer(actor_env& env, const user_request& req, uint16_t p);

} // namespace roster
