#include "actors/user/user_actor.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_map>

#include "actors/protocol.h"
#include "base/crypto.h"
#include "domain/throttle.h"
#include "domain/validation.h"
#include "persistence/keys.h"

namespace roster {

struct user_actor_state {
  static inline const char* name = "roster.user";

  std::shared_ptr<actor_env> env;
  caf::actor host;
  uint16_t partition = 0;
  std::string uid16;

  std::optional<user_record> user;                           // nullopt: no such user (yet)
  std::map<std::string, session_record> sessions;            // by session id
  std::unordered_map<std::string, std::string> by_hash;      // token hash → session id
  std::unordered_map<std::string, millis> persisted_use;     // session id → last_used_at in the store
  millis last_activity = 0;
  uint32_t log_seq = 0;
  std::string own_json;  // own_view(*user).dump(), cached between record changes
  // The answers this actor published in env->reads, by token hash.
  std::unordered_map<std::string, std::shared_ptr<const read_cache::entry>> published;
  bool passivating = false;
  bool load_failed = false;  // the store could not be read: answer 503, retire
  // Password checks in flight (login_begin → login_failed / login_finish /
  // set_password), counted with user->failed_logins by attempt_wait so that
  // concurrent guesses from any node cannot pass the limit. Memory only: a
  // reservation lost with the actor only lifts a limit early.
  pending_attempts checks;

  /// The last time the router served one of this actor's answers (0: never).
  millis last_hit() const {
    millis t = 0;
    for (auto& [h, e] : published) t = std::max(t, e->last_hit.load(std::memory_order_relaxed));
    return t;
  }

  /// A session's last use, counting the reads the router answered for it.
  void fold_hits(session_record& s) const {
    if (auto it = published.find(s.token_hash); it != published.end())
      s.last_used_at = std::max(s.last_used_at, it->second->last_hit.load(std::memory_order_relaxed));
  }

  /// Takes back every answer this actor published (see read_cache), keeping
  /// the uses they recorded.
  void withdraw_reads() {
    for (auto& [h, e] : published) {
      env->reads.withdraw(h);
      if (auto sid = by_hash.find(h); sid != by_hash.end())
        if (auto s = sessions.find(sid->second); s != sessions.end()) fold_hits(s->second);
    }
    published.clear();
  }

  ~user_actor_state() {
    if (!env) return;
    withdraw_reads();
    env->live_user_actors.fetch_sub(1, std::memory_order_relaxed);
  }
};

namespace {

using json = nlohmann::json;
using self_ptr = caf::stateful_actor<user_actor_state>*;

// How stale a persisted session last_used_at / user last_seen_at may get.
// Idle expiry is counted in days, so minute-level precision loses nothing and
// keeps reads from turning into writes.
constexpr millis use_persist_interval = 60'000;
constexpr millis seen_persist_interval = 10 * 60'000;
constexpr millis online_window = 5 * 60'000;

struct ctx {
  self_ptr self;
  user_actor_state& st;
  const user_request& req;
  millis now;
  json args;
};

/// Drops everything held in memory about the user.
void forget(user_actor_state& st) {
  st.withdraw_reads();
  st.user.reset();
  st.sessions.clear();
  st.by_hash.clear();
  st.persisted_use.clear();
  st.own_json.clear();
}

/// Loads the record and sessions. A failed read leaves the state empty and
/// `load_failed` set: the actor then answers every request 503 (retryable)
/// and retires, rather than taking "could not read" for "no such user".
void load(user_actor_state& st) {
  auto& db = *st.env->db;
  st.load_failed = false;
  auto raw = db.get(keys::user_record(st.partition, st.uid16));
  if (raw && raw->has_value()) st.user = decode_user(**raw);
  status scanned;
  if (raw && st.user)
    scanned = db.scan_prefix(keys::sessions_prefix(st.partition, st.uid16), [&](std::string_view, std::string_view v) {
      if (auto s = decode_session(v)) {
        st.by_hash[s->token_hash] = s->id;
        st.persisted_use[s->id] = s->last_used_at;
        st.sessions.emplace(s->id, std::move(*s));
      }
      return true;
    });
  if (!raw || !scanned) {
    spdlog::error("user actor: cannot read user {} from the store: {}", uuid_to_string(st.uid16),
                  (!raw ? raw.err() : scanned.err()).message);
    forget(st);
    st.load_failed = true;
  }
}

void add_log(ctx& c, write_batch& b, const std::string& event, bool ok, json detail = json::object()) {
  json entry = {{"event", event},
                {"ok", ok},
                {"at", format_time(c.now)},
                {"ip", c.req.ip},
                {"user_agent", c.req.user_agent}};
  if (!detail.empty()) entry["detail"] = std::move(detail);
  auto inverted = std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(c.now);
  b.put(keys::log_entry(c.st.partition, c.st.uid16, inverted, c.st.log_seq++), entry.dump());
  // Keep the log bounded: now and then, drop what lies beyond the newest
  // max_log_entries (keys sort newest first). The deletes ride in this batch.
  if (c.st.log_seq % 64 == 1) {
    size_t seen = 1;  // the entry added above is not in the store yet
    // A failed read only postpones the pruning to a later entry.
    (void)c.st.env->db->scan_prefix(keys::logs_prefix(c.st.partition, c.st.uid16), [&](std::string_view k, std::string_view) {
      if (++seen > c.st.env->max_log_entries) b.remove(std::string(k));
      return true;
    });
  }
}

std::string sid16_of(const std::string& sid) { return uuid_from_string(sid).value_or(sid); }

void put_record(ctx& c, write_batch& b) {
  c.st.own_json.clear();  // every record change goes through here
  b.put(keys::user_record(c.st.partition, c.st.uid16), encode_user(*c.st.user));
}

void put_session(ctx& c, write_batch& b, const session_record& s) {
  b.put(keys::session(c.st.partition, c.st.uid16, sid16_of(s.id)), encode_session(s));
  c.st.persisted_use[s.id] = s.last_used_at;
}

void drop_session(ctx& c, write_batch& b, const std::string& sid) {
  auto it = c.st.sessions.find(sid);
  if (it == c.st.sessions.end()) return;
  b.remove(keys::session(c.st.partition, c.st.uid16, sid16_of(sid)));
  c.st.by_hash.erase(it->second.token_hash);
  c.st.persisted_use.erase(sid);
  c.st.sessions.erase(it);
}

/// Drops expired sessions and, above the per-user cap, the least recently used.
void prune_sessions(ctx& c, write_batch& b) {
  std::vector<std::string> doomed;
  for (auto& [id, s] : c.st.sessions)
    if (session_state(s, c.now, c.st.env->sessions) != errc::ok) doomed.push_back(id);
  for (auto& id : doomed) drop_session(c, b, id);
  while (c.st.sessions.size() >= c.st.env->max_sessions_per_user) {
    auto oldest = std::min_element(c.st.sessions.begin(), c.st.sessions.end(), [](auto& a, auto& b2) {
      return a.second.last_used_at < b2.second.last_used_at;
    });
    drop_session(c, b, oldest->first);
  }
}

json new_session(ctx& c, write_batch& b, const std::string& method) {
  prune_sessions(c, b);
  auto tok = new_session_token(c.st.uid16);
  session_record s;
  s.id = uuid_to_string(new_uuid_bytes());
  s.token_hash = tok.token_hash;
  s.method = method;
  s.created_at = s.last_used_at = s.authenticated_at = c.now;
  s.expires_at = c.now + c.st.env->sessions.ttl;
  s.ip = c.req.ip;
  s.user_agent = c.req.user_agent.substr(0, 512);
  put_session(c, b, s);
  json view = session_view(s, true);
  view["token"] = tok.token;
  c.st.by_hash[s.token_hash] = s.id;
  c.st.sessions.emplace(s.id, std::move(s));
  return view;
}

/// The reply to a failed commit: a fenced partition (handed to another node
/// meanwhile) is retryable, anything else is an internal error.
reply store_failed(const ctx& c) {
  return c.st.env->serving(c.st.partition) ? error_reply(errc::internal, "internal error") : moving_reply();
}

/// Applies `b` to the store; on failure reloads state so memory never runs
/// ahead of what is stored.
bool commit(ctx& c, const write_batch& b) {
  if (b.empty()) return true;
  auto st = c.st.env->db->write(b);
  if (st.ok()) return true;
  spdlog::error("user actor: write failed: {}", st.err().message);
  forget(c.st);
  load(c.st);
  return false;
}

void request_passivation(self_ptr self) {
  auto& st = self->state;
  if (st.passivating) return;
  st.passivating = true;
  self->send(st.host, passivate_atom_v, st.uid16);
}

/// Authenticates the request's token: the session must exist, be unexpired,
/// and the account must be allowed to use sessions.
result<session_record*> authenticate(ctx& c) {
  if (!c.st.user) return make_error(errc::unauthorized, "invalid session");
  auto h = c.st.by_hash.find(c.req.token_hash);
  if (c.req.token_hash.empty() || h == c.st.by_hash.end()) return make_error(errc::unauthorized, "invalid session");
  auto& s = c.st.sessions.at(h->second);
  c.st.fold_hits(s);
  if (session_state(s, c.now, c.st.env->sessions) != errc::ok) {
    write_batch b;
    drop_session(c, b, s.id);
    if (!commit(c, b)) return error_of(store_failed(c));
    return make_error(errc::session_expired, "session expired");
  }
  if (auto gate = status_gate(*c.st.user); gate != errc::ok)
    return make_error(gate, gate == errc::account_blocked ? "account is blocked" : "account is pending activation");
  s.last_used_at = c.now;
  write_batch b;
  if (c.now - c.st.persisted_use[s.id] > use_persist_interval) put_session(c, b, s);
  if (c.now - c.st.user->last_seen_at > seen_persist_interval) {
    c.st.user->last_seen_at = c.now;
    put_record(c, b);
  }
  // A failed commit reloads state, so `s` must not be used after it.
  if (!commit(c, b)) return error_of(store_failed(c));
  return &s;
}

/// The own view plus the calling session's id and authentication time. The
/// hot path of GET /v1/account: the view is serialised once per record change.
std::string own_with_session(user_actor_state& st, const session_record& s) {
  if (st.own_json.empty()) st.own_json = own_view(*st.user).dump();
  std::string out = st.own_json;
  out.pop_back();  // the closing brace of the object
  out += ",\"session_id\":\"" + s.id + "\",\"authenticated_at\":\"" + format_time(s.authenticated_at) + "\"}";
  return out;
}

reply not_found() { return error_reply(errc::not_found, "user not found"); }

/// A well-formed cursor that names no position in this list (400, fields.cursor).
reply invalid_cursor() {
  error e = make_error(errc::invalid_request, "invalid cursor");
  e.fields["cursor"] = "is not a cursor this server handed out";
  return error_reply(e);
}

/// Keys the user held before a change and no longer holds after it.
json released_keys(const std::vector<std::string>& before, const user_record& after) {
  auto now_keys = index_keys_of(after);
  json out = json::array();
  for (auto& k : before)
    if (std::find(now_keys.begin(), now_keys.end(), k) == now_keys.end()) out.push_back(k);
  return out;
}

reply apply_patch(ctx& c, const json& patch_json, bool admin) {
  auto patch = parse_profile_patch(patch_json, admin);
  if (!patch) return error_reply(patch.err());
  auto before = index_keys_of(*c.st.user);
  auto saved = *c.st.user;
  if (auto st = apply_profile_patch(*c.st.user, *patch, c.now); !st) {
    c.st.user = std::move(saved);
    return error_reply(st.err());
  }
  write_batch b;
  put_record(c, b);
  add_log(c, b, admin ? "profile_updated_by_admin" : "profile_updated", true);
  if (!commit(c, b)) return store_failed(c);
  return ok_reply(json{{"user", admin ? admin_view(*c.st.user, c.st.sessions.size()) : own_view(*c.st.user)},
                       {"released_keys", released_keys(before, *c.st.user)}}
                    .dump());
}

reply delete_user(ctx& c, const std::string& event) {
  auto index_keys = index_keys_of(*c.st.user);
  write_batch b;
  auto scanned =
      c.st.env->db->scan_prefix(keys::user_prefix(c.st.partition, c.st.uid16), [&](std::string_view k, std::string_view) {
        b.remove(std::string(k));
        return true;
      });
  // Half a deletion (some keys unread) is no deletion: nothing is written.
  if (!scanned) {
    spdlog::error("user actor: cannot read user {} to delete it: {}", c.st.user->id, scanned.err().message);
    return unavailable_reply();
  }
  if (!commit(c, b)) return store_failed(c);
  spdlog::info("user {} deleted ({})", c.st.user->id, event);
  forget(c.st);
  request_passivation(c.self);
  return ok_reply(json{{"index_keys", index_keys}}.dump());
}

reply revoke_all(ctx& c, const std::string& keep_sid, const std::string& event) {
  write_batch b;
  std::vector<std::string> ids;
  for (auto& [id, s] : c.st.sessions)
    if (id != keep_sid) ids.push_back(id);
  for (auto& id : ids) drop_session(c, b, id);
  add_log(c, b, event, true, {{"count", ids.size()}});
  if (!commit(c, b)) return store_failed(c);
  return ok_reply(json{{"revoked", ids.size()}}.dump());
}

reply handle(ctx& c) {
  auto& st = c.st;
  auto op = static_cast<user_op>(c.req.op);
  auto with_auth = [&](auto&& fn) -> reply {
    auto s = authenticate(c);
    if (!s) return error_reply(s.err());
    return fn(**s);
  };
  switch (op) {
    case user_op::create: {
      if (st.user) return error_reply(errc::already_exists, "user exists");
      auto rec = decode_user(c.args.value("record", json::object()).dump());
      if (!rec || uuid_from_string(rec->id) != st.uid16) return error_reply(errc::internal, "bad create request");
      st.user = std::move(*rec);
      write_batch b;
      put_record(c, b);
      json session = nullptr;
      auto method = c.args.value("session_method", std::string());
      if (!method.empty() && st.user->status == account_status::active) {
        st.user->last_login_at = st.user->last_seen_at = c.now;
        put_record(c, b);
        session = new_session(c, b, method);
      }
      add_log(c, b, "register", true, {{"method", method.empty() ? "password" : method}});
      if (!commit(c, b)) return store_failed(c);
      return ok_reply(json{{"user", own_view(*st.user)}, {"session", session}}.dump());
    }
    case user_op::authenticate:
      return with_auth([&](session_record& s) {
        auto body = own_with_session(st, s);
        // Let the router answer this session's next reads itself (read_cache).
        auto e = std::make_shared<read_cache::entry>();
        e->uid16 = st.uid16;
        e->actor = c.self->address();
        e->valid_until = std::min({c.now + read_cache::ttl, s.expires_at, s.last_used_at + st.env->sessions.idle_ttl});
        e->body = body;
        st.published[s.token_hash] = e;
        st.env->reads.publish(s.token_hash, std::move(e));
        return ok_reply(std::move(body));
      });
    case user_op::login_begin: {
      // Reserves a password check on the account (domain/throttle.h).
      if (!st.user) return not_found();
      auto& policy = st.env->login_throttle;
      auto in_flight = st.checks.live(c.now, policy.reservation_ttl);
      if (auto wait = attempt_wait(st.user->failed_logins, in_flight, c.now, policy); wait > 0)
        return error_reply(throttled_error(wait));
      auto id = st.checks.add(c.now);
      return ok_reply(json{{"password_hash", st.user->password_hash}, {"reservation", id}}.dump());
    }
    case user_op::login_failed: {
      if (!st.user) return not_found();
      st.checks.resolve(c.args.value("reservation", uint64_t{0}));
      prune_failures(st.user->failed_logins, c.now, st.env->login_throttle);
      st.user->failed_logins.push_back(c.now);
      write_batch b;
      put_record(c, b);
      add_log(c, b, "login", false, {{"method", c.args.value("method", "password")}});
      if (!commit(c, b)) return store_failed(c);
      return ok_reply("{}");
    }
    case user_op::login_finish: {
      if (!st.user) return not_found();
      st.checks.resolve(c.args.value("reservation", uint64_t{0}));
      auto method = c.args.value("method", std::string("password"));
      if (c.args.contains("password_hash") &&
          !constant_time_equal(c.args["password_hash"].get<std::string>(), st.user->password_hash))
        return error_reply(errc::invalid_credentials, "invalid credentials");
      write_batch b;
      if (auto gate = status_gate(*st.user); gate != errc::ok) {
        add_log(c, b, "login", false, {{"method", method}, {"reason", errc_name(gate)}});
        commit(c, b);
        return error_reply(gate, gate == errc::account_blocked ? "account is blocked" : "account is pending activation");
      }
      st.user->failed_logins.clear();
      st.user->last_login_at = st.user->last_seen_at = c.now;
      put_record(c, b);
      json session = new_session(c, b, method);
      add_log(c, b, "login", true, {{"method", method}});
      if (!commit(c, b)) return store_failed(c);
      return ok_reply(json{{"user", own_view(*st.user)}, {"session", session}}.dump());
    }
    case user_op::list_sessions:
      return with_auth([&](session_record& cur) {
        std::vector<const session_record*> list;
        for (auto& [id, s] : st.sessions)
          if (session_state(s, c.now, st.env->sessions) == errc::ok) list.push_back(&s);
        // Newest first; ties broken by id so that pages are stable.
        std::sort(list.begin(), list.end(), [](auto* a, auto* b) {
          return a->created_at != b->created_at ? a->created_at > b->created_at : a->id < b->id;
        });
        size_t limit = c.args.value("limit", 50);
        size_t start = 0;
        if (auto cursor = c.args.value("cursor", std::string()); !cursor.empty()) {
          auto after = base64url_decode(cursor);
          auto it = after ? std::find_if(list.begin(), list.end(), [&](auto* s) { return s->id == *after; }) : list.end();
          if (it == list.end()) return invalid_cursor();
          start = static_cast<size_t>(it - list.begin()) + 1;
        }
        json items = json::array();
        for (size_t i = start; i < list.size() && items.size() < limit; ++i)
          items.push_back(session_view(*list[i], list[i]->id == cur.id));
        bool more = start + items.size() < list.size();
        json next = more ? json(base64url_encode(list[start + items.size() - 1]->id)) : json(nullptr);
        return ok_reply(json{{"items", items}, {"next_cursor", next}}.dump());
      });
    case user_op::get_session:
      return with_auth([&](session_record& cur) {
        auto id = c.args.value("id", std::string());
        if (id == "current") id = cur.id;
        auto it = st.sessions.find(id);
        if (it == st.sessions.end()) return error_reply(errc::not_found, "session not found");
        return ok_reply(session_view(it->second, id == cur.id).dump());
      });
    case user_op::extend_session:
      return with_auth([&](session_record& cur) {
        cur.expires_at = c.now + st.env->sessions.ttl;
        write_batch b;
        put_session(c, b, cur);
        if (!commit(c, b)) return store_failed(c);
        return ok_reply(session_view(cur, true).dump());
      });
    case user_op::revoke_session:
      return with_auth([&](session_record& cur) {
        auto id = c.args.value("id", std::string());
        if (id == "current") id = cur.id;
        if (!st.sessions.count(id)) return error_reply(errc::not_found, "session not found");
        write_batch b;
        drop_session(c, b, id);
        add_log(c, b, "session_revoked", true, {{"session_id", id}});
        if (!commit(c, b)) return store_failed(c);
        return ok_reply("");
      });
    case user_op::revoke_all_sessions:
      return with_auth([&](session_record&) { return revoke_all(c, "", "sessions_revoked"); });
    case user_op::update_profile:
      return with_auth([&](session_record&) { return apply_patch(c, c.args.value("patch", json::object()), false); });
    case user_op::get_credentials:
      return with_auth([&](session_record& cur) {
        bool fresh = c.now - cur.authenticated_at <= st.env->sessions.sudo_window;
        return ok_reply(json{{"password_hash", st.user->password_hash}, {"sudo_fresh", fresh}}.dump());
      });
    case user_op::set_password: {
      // A proven current password (its check reserved by login_begin) ends
      // that check and, like a login, resets the account's failures.
      bool proven = c.args.contains("reservation");
      if (proven) st.checks.resolve(c.args.value("reservation", uint64_t{0}));
      return with_auth([&](session_record& cur) {
        auto expected = c.args.value("expected_hash", std::string());
        if (!constant_time_equal(expected, st.user->password_hash))
          return error_reply(errc::reauthentication_required, "the password changed meanwhile; try again");
        st.user->password_hash = c.args.value("password_hash", std::string());
        if (proven) st.user->failed_logins.clear();
        st.user->updated_at = c.now;
        cur.authenticated_at = c.now;
        write_batch b;
        put_record(c, b);
        put_session(c, b, cur);
        std::vector<std::string> others;
        for (auto& [id, s] : st.sessions)
          if (id != cur.id) others.push_back(id);
        for (auto& id : others) drop_session(c, b, id);
        add_log(c, b, "password_changed", true, {{"sessions_revoked", others.size()}});
        if (!commit(c, b)) return store_failed(c);
        return ok_reply(json{{"sessions_revoked", others.size()}}.dump());
      });
    }
    case user_op::delete_account:
      return with_auth([&](session_record&) { return delete_user(c, "self"); });
    case user_op::get_logs:
      return with_auth([&](session_record&) {
        size_t limit = c.args.value("limit", 50);
        auto prefix = keys::logs_prefix(st.partition, st.uid16);
        std::string begin = prefix;
        if (auto cur = c.args.value("cursor", std::string()); !cur.empty()) {
          auto raw = base64url_decode(cur);
          if (!raw || raw->size() != 12) return invalid_cursor();
          begin = prefix + *raw;
          begin.push_back('\0');  // strictly after the cursor
        }
        json items = json::array();
        std::string last;
        bool more = false;
        auto scanned = st.env->db->scan(begin, prefix_end(prefix), [&](std::string_view k, std::string_view v) {
          if (items.size() == limit) {
            more = true;
            return false;
          }
          auto j = json::parse(v, nullptr, false);
          if (!j.is_discarded()) items.push_back(std::move(j));
          last = std::string(k.substr(prefix.size()));
          return true;
        });
        if (!scanned) {
          spdlog::error("user actor: cannot read the security log: {}", scanned.err().message);
          return unavailable_reply();
        }
        return ok_reply(json{{"items", items}, {"next_cursor", more ? json(base64url_encode(last)) : json(nullptr)}}.dump());
      });
    case user_op::get_public:
      if (!st.user) return not_found();
      return ok_reply(public_view(*st.user, c.now - st.user->last_seen_at < online_window)
                          .dump());
    case user_op::admin_get:
      if (!st.user) return not_found();
      return ok_reply(admin_view(*st.user, st.sessions.size()).dump());
    case user_op::admin_update:
      if (!st.user) return not_found();
      return apply_patch(c, c.args.value("patch", json::object()), true);
    case user_op::admin_set_status: {
      if (!st.user) return not_found();
      auto status = status_from_name(c.args.value("status", std::string()));
      if (!status) return error_reply(errc::invalid_request, "unknown status");
      auto before = st.user->status;
      st.user->status = *status;
      st.user->updated_at = c.now;
      write_batch b;
      put_record(c, b);
      add_log(c, b, "status_changed", true, {{"from", status_name(before)}, {"to", status_name(*status)}});
      if (!commit(c, b)) return store_failed(c);
      return ok_reply(admin_view(*st.user, st.sessions.size()).dump());
    }
    case user_op::admin_revoke_sessions:
      if (!st.user) return not_found();
      return revoke_all(c, "", "sessions_revoked_by_admin");
    case user_op::admin_delete:
      if (!st.user) return not_found();
      return delete_user(c, "admin");
    case user_op::holds_key: {
      bool holds = false;
      if (st.user) {
        auto keys = index_keys_of(*st.user);
        holds = std::find(keys.begin(), keys.end(), c.args.value("key", std::string())) != keys.end();
      }
      return ok_reply(json{{"holds", holds}}.dump());
    }
    case user_op::debug_info:
      return ok_reply(json{{"live", true},
                           {"exists", st.user.has_value()},
                           {"sessions", st.sessions.size()},
                           {"subscribers", 0},
                           {"passivating", st.passivating},
                           {"last_activity", format_time(st.last_activity)},
                           {"mailbox", c.self->mailbox().size()}}
                          .dump());
  }
  return error_reply(errc::invalid_request, "unknown operation");
}

caf::behavior user_actor(caf::stateful_actor<user_actor_state>* self, std::shared_ptr<actor_env> env,
                         caf::actor host, uint16_t partition, std::string uid16) {
  auto& st = self->state;
  st.env = env;
  st.host = std::move(host);
  st.partition = partition;
  st.uid16 = std::move(uid16);
  st.last_activity = now_ms();
  env->live_user_actors.fetch_add(1, std::memory_order_relaxed);
  env->user_actor_spawns.fetch_add(1, std::memory_order_relaxed);
  load(st);
  // Idle check: one timer per actor per period, not one per message (a
  // behavior timeout would re-arm CAF's clock on every request).
  auto period = std::chrono::milliseconds(std::max<millis>(env->idle_passivation / 4, 25));
  self->delayed_send(self, period, idle_atom_v);
  return {
    [self](user_request& req) -> reply {
      auto& st = self->state;
      if (!st.env->accept(req.credential, "user actor", self->current_sender())) return refused_reply();
      if (!st.env->serving(st.partition)) return moving_reply();
      ctx c{self, st, req, now_ms(), json::object()};
      if (!req.args.empty()) {
        c.args = json::parse(req.args, nullptr, false);
        if (c.args.is_discarded() || !c.args.is_object()) return error_reply(errc::internal, "malformed request");
      }
      if (st.load_failed) {  // retire; the next request loads afresh
        request_passivation(self);
        return unavailable_reply();
      }
      // Operator and index probes do not count as use.
      auto op = static_cast<user_op>(req.op);
      if (op != user_op::debug_info && op != user_op::holds_key) st.last_activity = c.now;
      // Anything but a read may change what a published answer says: take
      // them all back before it runs (read_cache).
      if (op != user_op::authenticate && op != user_op::debug_info && op != user_op::holds_key) st.withdraw_reads();
      reply r;
      try {
        r = handle(c);
      } catch (const std::exception& e) {
        spdlog::error("user actor: {}", log_safe(e.what()));  // may quote request data
        r = error_reply(errc::internal, "internal error");
      }
      // An absent user has nothing worth keeping in memory.
      if (!st.user && static_cast<user_op>(req.op) != user_op::create) request_passivation(self);
      return r;
    },
    [self](stop_atom) { self->quit(); },
    [self, period](idle_atom) {
      auto& st = self->state;
      st.last_activity = std::max(st.last_activity, st.last_hit());
      if (now_ms() - st.last_activity >= st.env->idle_passivation) request_passivation(self);
      else self->delayed_send(self, period, idle_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_user_actor(caf::local_actor* parent, std::shared_ptr<actor_env> env, caf::actor host,
                            uint16_t partition, std::string uid16) {
  return parent->spawn(user_actor, std::move(env), std::move(host), partition, std::move(uid16));
}

} // namespace roster
