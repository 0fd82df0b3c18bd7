#include "actors/index/index_actor.h"


#include <spdlog/spdlog.h>

#include <caf/all.hpp>

#include "actors/user/user_actor.h"
#include "base/crypto.h"
#include "base/siphash.h"
#include "domain/codes.h"
#include "domain/jwt.h"
#include "domain/message_text.h"
#include "domain/outbox.h"
#include "persistence/keys.h"

namespace roster {

struct index_actor_state {
  static inline const char* name = "roster.index";
  std::shared_ptr<actor_env> env;
  uint16_t partition = 0;
};

namespace {

using json = nlohmann::json;
using self_ptr = index_actor_hdl::stateful_pointer<index_actor_state>;
using promise = caf::typed_response_promise<index_reply>;

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

error write_failed(self_ptr self) {
  return self->state.env->serving(self->state.partition) ? make_error(errc::internal, "internal error") : moving_error();
}

error taken() { return make_error(errc::already_exists, "key is taken"); }
error free_key() { return make_error(errc::not_found, "not found"); }

/// Delivers a decision to a promise: a reply or an error.
void deliver(promise& rp, result<index_reply> r) {
  if (r) rp.deliver(std::move(*r));
  else rp.deliver(to_caf(r.err()));
}

/// What a write gives the caller: an empty reply, or why it failed.
result<index_reply> written(self_ptr self, bool ok) {
  if (ok) return index_reply{};
  return write_failed(self);
}

/// Asks the holder's user actor whether it really holds `key`, then lets
/// `decide(holds)` answer the promise. An unreachable holder counts as
/// "holds" (never steal a key we cannot check).
void verify_holder(self_ptr self, const std::string& key, const entry& e, promise rp,
                   std::function<result<index_reply>(bool holds)> decide) {
  auto& st = self->state;
  auto uid16 = uuid_from_string(e.user_id);
  if (!uid16) {
    deliver(rp, decide(false));
    return;
  }
  user_request req;
  req.user_id = *uid16;
  req.credential = st.env->credential;
  req.op = holds_key{key};
  auto host = caf::actor_cast<user_endpoint>(st.env->host_of(partition_of_user(*uid16, st.env->partitions)));
  if (!host) {
    rp.deliver(to_caf(unavailable_error()));
    return;
  }
  self->request(host, std::chrono::seconds(5), std::move(req))
    .then(
      [rp, decide](const user_reply& r) mutable {
        auto* h = std::get_if<holds>(&r.value);
        deliver(rp, decide(!h || h->value));
      },
      [rp](caf::error& e) mutable {
        // An error from the holder (not a member, moving) also means "cannot tell".
        (void)e;
        rp.deliver(to_caf(unavailable_error()));
      });
}

struct handler {
  self_ptr self;
  std::optional<entry> current;
  millis now;

  caf::result<index_reply> operator()(claim_key& op) {
    auto& st = self->state;
    entry mine{op.user_id, false, now + st.env->claim_ttl};
    if (!current) return answer(written(self, write_entry(self, op.key, mine)));
    if (current->user_id == op.user_id) return index_reply{};
    if (!current->confirmed && current->expires_at > now) return to_caf(taken());
    auto seen = *current;
    auto rp = self->make_response_promise<index_reply>();
    verify_holder(self, op.key, seen, rp, [self = self, key = op.key, seen, mine](bool holds) -> result<index_reply> {
      auto reread = read_entry(self, key);
      if (!reread) return unavailable_error();
      auto& again = *reread;
      bool unchanged = again && again->user_id == seen.user_id && again->confirmed == seen.confirmed;
      if (!unchanged) return taken();  // somebody else moved first: let the client retry
      if (holds) {
        if (!seen.confirmed) write_entry(self, key, entry{seen.user_id, true, 0});
        return taken();
      }
      spdlog::info("index: repaired a stale entry");
      return written(self, write_entry(self, key, mine));
    });
    return rp;
  }

  caf::result<index_reply> operator()(confirm_key& op) {
    if (current && current->user_id != op.user_id) return to_caf(taken());
    return answer(written(self, write_entry(self, op.key, entry{op.user_id, true, 0})));
  }

  caf::result<index_reply> operator()(release_key& op) {
    if (current && current->user_id == op.user_id) write_entry(self, op.key, std::nullopt);
    return index_reply{};
  }

  caf::result<index_reply> operator()(send_code&) { return to_caf(make_error(errc::internal, "unreachable")); }
  caf::result<index_reply> operator()(use_code&) { return to_caf(make_error(errc::internal, "unreachable")); }
  caf::result<index_reply> operator()(jwt_keyset&) { return to_caf(make_error(errc::internal, "unreachable")); }

  caf::result<index_reply> operator()(lookup_key& op) {
    if (!current) return to_caf(free_key());
    if (current->confirmed) return index_reply{current->user_id, {}};
    if (current->expires_at > now) return to_caf(free_key());
    auto seen = *current;
    auto rp = self->make_response_promise<index_reply>();
    verify_holder(self, op.key, seen, rp, [self = self, key = op.key, seen](bool holds) -> result<index_reply> {
      auto reread = read_entry(self, key);
      if (!reread) return unavailable_error();
      auto& again = *reread;
      if (!again || again->user_id != seen.user_id) return free_key();
      if (holds) {
        write_entry(self, key, entry{seen.user_id, true, 0});
        return index_reply{seen.user_id, {}};
      }
      write_entry(self, key, std::nullopt);
      return free_key();
    });
    return rp;
  }

  static caf::result<index_reply> answer(result<index_reply> r) {
    if (r) return std::move(*r);
    return to_caf(r.err());
  }
};

// -- one-time codes (domain/codes.h) ----------------------------------------------

/// The code record of (purpose, key): none, the record, or the store's error.
result<std::optional<code_record>> read_code(self_ptr self, const std::string& k) {
  auto raw = self->state.env->db->get(k);
  if (!raw) return raw.err();
  if (!raw->has_value()) return std::optional<code_record>{};
  return decode_code_record(**raw);  // an unreadable record counts as none
}

caf::result<index_reply> on_send_code(self_ptr self, send_code& op, millis now) {
  auto& st = self->state;
  auto& env = *st.env;
  auto k = keys::code_entry(st.partition, op.purpose, op.key);
  auto current = read_code(self, k);
  if (!current) return to_caf(unavailable_error());
  auto out = issue_code(*current, now, env.codes, !op.token.empty());
  if (!out.ok) {
    auto e = make_error(errc::rate_limited, "too many codes sent; retry later");
    e.retry_after = out.retry_after_s;
    return to_caf(e);
  }
  auto& rec = out.ok->record;
  if (!op.token.empty()) rec.hash = sha256(op.token);  // the caller's token: its key names it
  const auto& secret = op.token.empty() ? out.ok->secret : op.token;
  rec.user_id = op.user_id;
  rec.detail = op.detail;
  write_batch b;
  b.put(k, encode_code_record(rec));
  std::vector<outbox_ref> refs;
  // `with_secret` false (the notice to another address): {{code}} and
  // {{link}} stay empty whatever a configured template asks for.
  auto message = [&](const std::string& to, const std::string& kind, bool with_secret) {
    auto t = env.templates.find(kind);
    auto text = render(t != env.templates.end() ? t->second : default_template(kind),
                       {{"code", with_secret ? secret : ""},
                        {"link", with_secret ? env.link_base_url + "?token=" + secret + op.link_query : ""},
                        {"minutes", std::to_string((env.codes.ttl + 59'999) / 60'000)},
                        {"email", op.detail}});
    outbox_entry e;
    e.id = new_outbox_id(now, st.partition);
    e.kind = to.front() == '+' ? outbox_kind::sms : outbox_kind::email;
    e.user_id = op.user_id;
    e.to = to;
    e.subject = std::move(text.subject);
    e.text = std::move(text.text);
    e.html = std::move(text.html);
    e.purpose = kind;
    e.created_at = e.next_at = now;
    b.put(keys::outbox_entry(st.partition, e.id), encode_outbox(e));
    refs.push_back(outbox_ref{e.id, e.next_at});
  };
  if (!op.to.empty()) message(op.to, op.kind, true);
  if (!op.notify_to.empty()) message(op.notify_to, op.notify_kind, false);
  auto w = env.db->write(b);
  if (!w) return to_caf(write_failed(self));
  env.announce_outbox(std::move(refs));
  return index_reply{};
}

caf::result<index_reply> on_use_code(self_ptr self, use_code& op, millis now) {
  auto& st = self->state;
  auto k = keys::code_entry(st.partition, op.purpose, op.key);
  auto current = read_code(self, k);
  if (!current) return to_caf(unavailable_error());
  auto wrong = [] { return to_caf(make_error(errc::invalid_credentials, "invalid or expired code")); };
  if (!*current) return wrong();
  auto rec = std::move(**current);
  auto verdict = check_code(rec, op.code, now, st.env->codes);
  write_batch b;
  if (code_record_spent(rec, now)) b.remove(k);
  else b.put(k, encode_code_record(rec));
  if (!st.env->db->write(b)) return to_caf(write_failed(self));  // an attempt not recorded is not allowed
  if (verdict != code_check::ok) return wrong();
  return index_reply{rec.user_id, rec.detail};
}

// -- the JWT key set (domain/jwt.h) ------------------------------------------------

caf::result<index_reply> on_jwt_keyset(self_ptr self, jwt_keyset& op, millis now) {
  auto& st = self->state;
  auto k = keys::index_entry(st.partition, op.key);
  auto raw = st.env->db->get(k);
  if (!raw) return to_caf(unavailable_error());
  jwt::key_set set;
  if (raw->has_value()) {
    auto decoded = jwt::decode_key_set(**raw);
    if (!decoded) {
      // Never replace a set we cannot read: tokens signed by it would stop verifying.
      spdlog::error("index: the JWT key set is unreadable");
      return to_caf(make_error(errc::internal, "internal error"));
    }
    set = std::move(*decoded);
  }
  jwt::rotation_rules rules;
  if (op.ttl > 0) rules.ttl = op.ttl;
  if (jwt::maintain(set, now, rules, op.rotate)) {
    write_batch b;
    b.put(k, jwt::encode_key_set(set));
    if (!st.env->db->write(b)) return to_caf(write_failed(self));
    spdlog::info("index: JWT key set now has {} key(s)", set.keys.size());
  }
  return index_reply{{}, jwt::encode_key_set(set)};
}

caf::result<index_reply> handle(self_ptr self, index_request& req) {
  auto& st = self->state;
  if (!st.env->accept(req.credential, "index actor", self->current_sender())) return to_caf(refused_error());
  if (req.version != protocol_version) return to_caf(make_error(errc::invalid_request, "unknown protocol version"));
  if (!st.env->serving(st.partition)) return to_caf(moving_error());
  if (auto* op = std::get_if<send_code>(&req.op)) return on_send_code(self, *op, now_ms());
  if (auto* op = std::get_if<use_code>(&req.op)) return on_use_code(self, *op, now_ms());
  if (auto* op = std::get_if<jwt_keyset>(&req.op)) return on_jwt_keyset(self, *op, now_ms());
  auto read = read_entry(self, key_of(req.op));
  if (!read) return to_caf(unavailable_error());  // retryable; nothing was done
  return std::visit(handler{self, std::move(*read), now_ms()}, req.op);
}

index_actor_hdl::behavior_type index_actor(self_ptr self, std::shared_ptr<actor_env> env, uint16_t partition) {
  self->state.env = std::move(env);
  self->state.partition = partition;
  return {
    [self](index_request& req) -> caf::result<index_reply> { return handle(self, req); },
  };
}

} // namespace

index_actor_hdl spawn_index_actor(caf::actor_system& sys, std::shared_ptr<actor_env> env, uint16_t partition) {
  return sys.spawn(index_actor, std::move(env), partition);
}

} // namespace roster
