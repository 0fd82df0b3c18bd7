#include "actors/index/index_actor.h"

#include <spdlog/spdlog.h>

#include "actors/protocol.h"
#include "base/crypto.h"
#include "base/siphash.h"
#include "persistence/keys.h"

namespace roster {

struct index_actor_state {
  static inline const char* name = "roster.index";
  std::shared_ptr<actor_env> env;
  uint16_t partition = 0;
};

namespace {

using json = nlohmann::json;
using self_ptr = caf::stateful_actor<index_actor_state>*;

struct entry {
  std::string user_id;  // uuid text
  bool confirmed = false;
  millis expires_at = 0;
};

/// The entry of `key`, none, or the store's error. A failed read is never
/// taken for a free key: that would let a claim take a key somebody holds.
result<std::optional<entry>> read_entry(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto raw = st.env->db->get(keys::index_entry(st.partition, key));
  if (!raw) {
    spdlog::error("index: cannot read an entry: {}", raw.err().message);
    return raw.err();
  }
  if (!raw->has_value()) return std::optional<entry>{};
  auto j = json::parse(**raw, nullptr, false);
  if (!j.is_object()) return std::optional<entry>{};
  return std::optional<entry>{entry{j.value("user_id", std::string()), j.value("state", std::string()) == "confirmed",
                                    j.value("expires_at", millis{0})}};
}

bool write_entry(self_ptr self, const std::string& key, const std::optional<entry>& e) {
  auto& st = self->state;
  write_batch b;
  auto k = keys::index_entry(st.partition, key);
  if (e)
    b.put(k, json{{"user_id", e->user_id},
                  {"state", e->confirmed ? "confirmed" : "pending"},
                  {"expires_at", e->expires_at}}
               .dump());
  else
    b.remove(k);
  auto s = st.env->db->write(b);
  if (!s && st.env->serving(st.partition)) spdlog::error("index actor: write failed: {}", s.err().message);
  return s.ok();
}

reply write_failed(self_ptr self) {
  return self->state.env->serving(self->state.partition) ? error_reply(errc::internal, "internal error") : moving_reply();
}

reply taken() { return error_reply(errc::already_exists, "key is taken"); }

/// Asks the holder's user actor whether it really holds `key`, then lets
/// `decide(holds)` answer the promise. An unreachable holder counts as
/// "holds" (never steal a key we cannot check).
void verify_holder(self_ptr self, const std::string& key, const entry& e, caf::typed_response_promise<reply> rp,
                   std::function<reply(bool holds)> decide) {
  auto& st = self->state;
  auto uid16 = uuid_from_string(e.user_id);
  if (!uid16) {
    rp.deliver(decide(false));
    return;
  }
  user_request req;
  req.op = static_cast<uint8_t>(user_op::holds_key);
  req.user_id = *uid16;
  req.args = json{{"key", key}}.dump();
  req.credential = st.env->credential;
  auto host = st.env->host_of(partition_of_user(*uid16, st.env->partitions));
  if (!host) {
    rp.deliver(unavailable_reply());
    return;
  }
  self->request(host, std::chrono::seconds(5), std::move(req))
    .then(
      [rp, decide](const reply& r) mutable {
        bool holds = !r.ok() || json::parse(r.body, nullptr, false).value("holds", true);
        rp.deliver(decide(holds));
      },
      [rp](caf::error&) mutable { rp.deliver(unavailable_reply()); });
}

caf::result<reply> handle(self_ptr self, const index_request& req) {
  auto now = now_ms();
  auto& st = self->state;
  if (!st.env->accept(req.credential, "index actor", self->current_sender())) return refused_reply();
  if (!st.env->serving(st.partition)) return moving_reply();
  auto read = read_entry(self, req.key);
  if (!read) return unavailable_reply();  // retryable; nothing was done
  auto current = std::move(*read);
  switch (static_cast<index_op>(req.op)) {
    case index_op::claim: {
      entry mine{req.user_id, false, now + st.env->claim_ttl};
      if (!current) return write_entry(self, req.key, mine) ? ok_reply("") : write_failed(self);
      if (current->user_id == req.user_id) return ok_reply("");
      if (!current->confirmed && current->expires_at > now) return taken();
      auto seen = *current;
      auto rp = self->make_response_promise<reply>();
      verify_holder(self, req.key, seen, rp, [self, key = req.key, seen, mine](bool holds) {
        auto reread = read_entry(self, key);
        if (!reread) return unavailable_reply();
        auto& again = *reread;
        bool unchanged = again && again->user_id == seen.user_id && again->confirmed == seen.confirmed;
        if (!unchanged) return taken();  // somebody else moved first: let the client retry
        if (holds) {
          if (!seen.confirmed) write_entry(self, key, entry{seen.user_id, true, 0});
          return taken();
        }
        spdlog::info("index: repaired a stale entry");
        return write_entry(self, key, mine) ? ok_reply("") : write_failed(self);
      });
      return rp;
    }
    case index_op::confirm: {
      if (current && current->user_id != req.user_id) return taken();
      return write_entry(self, req.key, entry{req.user_id, true, 0}) ? ok_reply("") : write_failed(self);
    }
    case index_op::release: {
      if (current && current->user_id == req.user_id) write_entry(self, req.key, std::nullopt);
      return ok_reply("");
    }
    case index_op::lookup: {
      if (!current) return error_reply(errc::not_found, "not found");
      if (current->confirmed) return ok_reply(current->user_id);
      if (current->expires_at > now) return error_reply(errc::not_found, "not found");
      auto seen = *current;
      auto rp = self->make_response_promise<reply>();
      verify_holder(self, req.key, seen, rp, [self, key = req.key, seen](bool holds) {
        auto reread = read_entry(self, key);
        if (!reread) return unavailable_reply();
        auto& again = *reread;
        if (!again || again->user_id != seen.user_id) return error_reply(errc::not_found, "not found");
        if (holds) {
          write_entry(self, key, entry{seen.user_id, true, 0});
          return ok_reply(seen.user_id);
        }
        write_entry(self, key, std::nullopt);
        return error_reply(errc::not_found, "not found");
      });
      return rp;
    }
  }
  return error_reply(errc::invalid_request, "unknown index operation");
}

caf::behavior index_actor(caf::stateful_actor<index_actor_state>* self, std::shared_ptr<actor_env> env,
                          uint16_t partition) {
  self->state.env = std::move(env);
  self->state.partition = partition;
  return {
    [self](const index_request& req) -> caf::result<reply> { return handle(self, req); },
  };
}

} // namespace

caf::actor spawn_index_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env, uint16_t partition) {
  return sys.spawn(index_actor, std::move(env), partition);
}

} // namespace roster
