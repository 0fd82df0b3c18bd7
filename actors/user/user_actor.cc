#include "actors/user/user_actor.h"

#include <caf/all.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <set>

#include "actors/uid_key.h"
#include "base/crypto.h"
#include "domain/events.h"
#include "domain/json_text.h"
#include "domain/mfa.h"
#include "domain/notifications.h"
#include "domain/session_book.h"
#include "domain/social.h"
#include "base/placement.h"
#include "domain/throttle.h"
#include "domain/user_codec.h"
#include "domain/user_views.h"
#include "domain/validation.h"
#include "persistence/keys.h"

namespace roster {

struct user_actor_state {
  static inline const char* name = "roster.user";

  std::shared_ptr<actor_env> env;
  passivation_sink host;
  uint16_t partition = 0;
  uid_key uid16;  // the user id, 16 raw bytes

  std::optional<user_record> user;  // nullopt: no such user (yet)
  session_book sessions;
  /// When this actor last served a request and whether it publishes: its
  /// slot in the partition host's activity table, read by the idle sweep.
  std::shared_ptr<activity_slot> activity;
  uint32_t log_seq = 0;
  // The answers this actor published in env->reads (usually none or one).
  std::vector<std::shared_ptr<const read_cache::entry>> published;
  bool passivating = false;
  bool load_failed = false;  // the store could not be read: answer 503, retire
  // Password checks in flight (login_begin → login_failed / login_finish /
  // set_password), counted with user->failed_logins so that concurrent
  // guesses from any node cannot pass the limit. Memory only: a reservation
  // lost with the actor only lifts a limit early.
  login_guard guard;
  /// Logins waiting for their second factor (MFA on): memory only, so a
  /// passivation or a crash only means logging in again.
  mfa::challenge_book challenges;

  /// The user's open event streams, on any node (GET /v1/events): the relay
  /// that holds each, its number there, and the session it lives on. A user
  /// with one is online.
  struct stream_sub {
    stream_relay_hdl relay;
    uint64_t stream = 0;
    std::string session_id;
  };
  std::vector<stream_sub> subs;
  /// Stream tickets handed out and not used yet (memory only: 30 s each).
  struct stream_ticket {
    std::string hash;
    std::string session_id;
    millis expires_at = 0;
  };
  std::vector<stream_ticket> tickets;
  /// The stored notifications' sequence numbers, oldest first: read from the
  /// store the first time one is added or deleted, so the list is cut at
  /// notifications.keep_per_user exactly.
  std::optional<std::deque<uint64_t>> notification_seqs;
  uint32_t events_kept = 0;  // prune the recent events now and then

  /// The user's halves of the social graph (domain/social.h) by the other
  /// user's raw id, tombstones included: read at the first social request.
  /// Each with its list item's JSON text, rendered when it changes: a page
  /// of a list is then a copy of its items.
  struct edge_entry : social::half {
    std::string item;
  };
  std::optional<std::map<std::string, edge_entry>> edges;
  /// Pair changes still to deliver, by the other user's raw id (keys::intent):
  /// read at load; each is sent until the other side confirms it.
  std::map<std::string, social::intent> intents;
  bool retry_armed = false;          // an idle_atom to self is on CAF's clock
  /// Friends and blocks requests waiting for another user's actor: answered
  /// (moving, retryable) if this actor stops first, and it does not ask to
  /// retire while any is open.
  std::map<uint64_t, caf::typed_response_promise<user_reply>> open_requests;
  uint64_t next_request = 0;
  /// Deliveries waiting for their answer, by the other user's raw id.
  std::set<std::string> delivering;
  uint32_t invites_in_flight = 0;    // forwarded to the pairs' owners, not answered yet
  /// Reports this user made, not yet stored by the reported user's actor
  /// (keys::report_intent), by the reported user's raw id + the report id:
  /// read at load, delivered like the pair intents, and the deliveries
  /// waiting for their answer.
  std::map<std::string, std::string> report_intents;
  std::set<std::string> reports_delivering;
  /// The user's moderation queue entry (keys::queue_entry): read at the
  /// first report or decision about the user.
  std::optional<moderation::entry> queue;
  /// When the user filed its reports of the last minute (memory only: the
  /// limit moderation.reports_per_minute; a new actor starts afresh).
  std::deque<millis> report_times;
  /// What an open request is answered if the actor stops first, when not
  /// "moving" (a report is stored once its intent is: answered 202, so
  /// the router does not file it again at the next owner).
  std::map<uint64_t, user_reply> stop_answers;

  /// Nothing waits to be delivered to another user's actor.
  bool no_intents() const { return intents.empty() && report_intents.empty(); }
  /// Invites forwarded whose owner did not answer (it may have decided
  /// before the forward's deadline): by the other user's raw id, counted
  /// against the limit until this time or until the half counts itself.
  std::map<std::string, millis> unsettled_invites;

  void set_online(bool now_online) {
    if (env->online) env->online[partition].fetch_add(now_online ? 1 : -1, std::memory_order_relaxed);
  }

  /// Calls `send` once per relay with the numbers of its streams.
  template <class Send>
  void to_relays(Send&& send) {
    std::vector<bool> done(subs.size(), false);
    for (size_t i = 0; i < subs.size(); ++i) {
      if (done[i]) continue;
      std::vector<uint64_t> ids;
      for (size_t j = i; j < subs.size(); ++j)
        if (!done[j] && subs[j].relay == subs[i].relay) {
          ids.push_back(subs[j].stream);
          done[j] = true;
        }
      send(subs[i].relay, std::move(ids));
    }
  }

  /// The last time the router served one of this actor's answers (0: never).
  millis last_hit() const {
    millis t = 0;
    for (auto& e : published) t = std::max(t, e->last_hit.load(std::memory_order_relaxed));
    return t;
  }

  /// When the router last served the answer published for `token_hash`.
  std::optional<millis> last_hit_of(std::string_view token_hash) const {
    for (auto& e : published)
      if (e->token_hash.view() == token_hash) return e->last_hit.load(std::memory_order_relaxed);
    return std::nullopt;
  }

  /// Publishes an answer, replacing this session's previous one.
  void publish(std::shared_ptr<const read_cache::entry> e) {
    auto same = std::find_if(published.begin(), published.end(), [&](auto& p) { return p->token_hash == e->token_hash; });
    if (same != published.end()) *same = e;
    else published.push_back(e);
    env->reads.publish(std::move(e));
    activity->publishing.store(true, std::memory_order_relaxed);
  }

  /// Takes back every answer this actor published (see read_cache), keeping
  /// the uses they recorded.
  void withdraw_reads() {
    for (auto& e : published) {
      env->reads.withdraw(e->token_hash);
      sessions.record_use(e->token_hash.view(), e->last_hit.load(std::memory_order_relaxed));
    }
    std::vector<std::shared_ptr<const read_cache::entry>>().swap(published);  // its buffer too
    activity->publishing.store(false, std::memory_order_relaxed);
  }

  /// Takes back the answers no longer served (past valid_until), keeping
  /// the uses they recorded: a quiet user's answer would otherwise hold its
  /// body (~500 bytes) until the actor's next request or retirement.
  void withdraw_expired(millis now) {
    auto gone = std::remove_if(published.begin(), published.end(), [&](auto& e) {
      if (now < e->valid_until) return false;
      env->reads.withdraw(e->token_hash);
      sessions.record_use(e->token_hash.view(), e->last_hit.load(std::memory_order_relaxed));
      return true;
    });
    published.erase(gone, published.end());
    if (published.empty()) std::vector<std::shared_ptr<const read_cache::entry>>().swap(published);
    activity->publishing.store(!published.empty(), std::memory_order_relaxed);
  }

  session_rules rules() const { return session_rules{env->sessions, env->max_sessions_per_user}; }

  ~user_actor_state() {
    if (!env) return;
    // Going away with streams open (a handoff, shutdown): they subscribe
    // again at the user's next actor, wherever it is.
    if (!subs.empty()) {
      auto cred = env->credential;
      to_relays([&](const stream_relay_hdl& r, std::vector<uint64_t> ids) {
        caf::anon_send(r, stream_detached{cred, std::move(ids)});
      });
      set_online(false);
    }
    withdraw_reads();
    env->counters.live_user_actors.fetch_sub(1, std::memory_order_relaxed);
  }
};

namespace {

using json = nlohmann::json;
using self_ptr = user_actor_hdl::stateful_pointer<user_actor_state>;

// How stale the user's persisted last_seen_at may get (a session's
// last_used_at: session_rules). Activity is counted in minutes and days, so
// this keeps reads from turning into writes.
constexpr millis seen_persist_interval = 10 * 60'000;
constexpr millis ticket_ttl = 30'000;
constexpr size_t max_tickets = 16;
constexpr size_t max_streams_per_user = 8;

/// What every handler gets: the actor, its state, the envelope and the time;
/// and what its next commit adds (the record, outbox entries to announce).
struct ctx {
  self_ptr self;
  user_actor_state& st;
  const user_request& req;
  millis now;
  bool record_changed = false;     // commit() writes the record once, last
  std::vector<outbox_ref> outbox;  // entries in the batch, for the notification sender
  std::vector<std::pair<uint64_t, std::string>> pushes;  // (seq, Server-Sent Event) for the streams
  /// The change is an admin's: its log entries carry no address or user
  /// agent (the user reads its log; the admin's are not theirs to see).
  bool by_admin = false;
};

/// Drops everything held in memory about the user.
void forget(user_actor_state& st) {
  st.withdraw_reads();
  st.user.reset();
  st.sessions.clear();
  st.edges.reset();
  st.queue.reset();
}

/// Loads the record and sessions. A failed read leaves the state empty and
/// `load_failed` set: the actor then answers every request 503 (retryable)
/// and retires, rather than taking "could not read" for "no such user".
void load(user_actor_state& st) {
  auto& db = *st.env->db;
  st.load_failed = false;
  auto raw = db.get(keys::user_record(st.partition, st.uid16.view()));
  if (raw && raw->has_value()) st.user = decode_user(**raw);
  // A record that cannot be decoded is not an absent user: answered as
  // absent, the other halves of its pairs would drop it for good.
  status scanned;
  if (raw && raw->has_value() && !st.user)
    scanned = status(make_error(errc::internal, "the user record cannot be decoded"));
  if (raw && st.user && scanned)
    scanned = db.scan_prefix(keys::sessions_prefix(st.partition, st.uid16.view()), [&](std::string_view, std::string_view v) {
      if (auto s = decode_session(v)) st.sessions.load(std::move(*s));
      return true;
    });
  if (raw && scanned) {
    auto prefix = keys::intents_of_user(st.partition, st.uid16.view());
    st.intents.clear();
    st.report_intents.clear();
    scanned = db.scan_prefix(prefix, [&](std::string_view k, std::string_view v) {
      if (k.size() == prefix.size() + 16) {
        if (auto i = social::decode_intent(v)) st.intents.emplace(std::string(k.substr(prefix.size())), *i);
      } else if (k.size() == prefix.size() + 33 && k[prefix.size() + 16] == 'r') {
        auto rest = k.substr(prefix.size());
        st.report_intents.emplace(std::string(rest.substr(0, 16)) + std::string(rest.substr(17)), std::string(v));
      }
      return true;
    });
  }
  st.edges.reset();
  if (!raw || !scanned) {
    spdlog::error("user actor: cannot read user {} from the store: {}", uuid_to_string(st.uid16.view()),
                  (!raw ? raw.err() : scanned.err()).message);
    forget(st);
    st.load_failed = true;
  }
}

void add_log(ctx& c, write_batch& b, const std::string& event, bool ok, json detail = json::object()) {
  json_text entry(256);
  entry.open_object().key("at").string(format_time(c.now));
  if (!detail.empty()) entry.key("detail").value(detail);
  entry.key("event").string(event).key("ip").string(c.by_admin ? "" : c.req.client.ip).key("ok").boolean(ok);
  entry.key("user_agent").string(c.by_admin ? "" : c.req.client.user_agent).close_object();
  auto inverted = std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(c.now);
  b.put(keys::log_entry(c.st.partition, c.st.uid16.view(), inverted, c.st.log_seq++), entry.take());
  // Keep the log bounded: now and then, drop what lies beyond the newest
  // max_log_entries (keys sort newest first). The deletes ride in this batch.
  if (c.st.log_seq % 64 == 1) {
    size_t seen = 1;  // the entry added above is not in the store yet
    // A failed read only postpones the pruning to a later entry.
    (void)c.st.env->db->scan_prefix(keys::logs_prefix(c.st.partition, c.st.uid16.view()), [&](std::string_view k, std::string_view) {
      if (++seen > c.st.env->max_log_entries) b.remove(std::string(k));
      return true;
    });
  }
}

std::string sid16_of(const std::string& sid) { return uuid_from_string(sid).value_or(sid); }

/// The record goes into the batch at commit(), once, however many steps
/// changed it.
void put_record(ctx& c, write_batch&) { c.record_changed = true; }

/// Records an event (domain/events.h) in `b`: the user's next sequence
/// number and one outbox entry per webhook whose filter takes it. `data`
/// holds methods, reasons, ids and field names — never a secret, code or
/// token. With `keep_seq` false (a deletion) the record is not written back.
/// `studio_only` fields join the webhooks' copy, never the user's own stream
/// (an admin key's name: the studio's to know, not the player's).
void emit(ctx& c, write_batch& b, std::string_view type, const json& data = json::object(), bool keep_seq = true,
          const json& studio_only = json()) {
  auto& st = c.st;
  auto& env = *st.env;
  auto& u = *st.user;
  u.event_seq += 1;
  if (keep_seq) put_record(c, b);
  bool live = streamed(type);
  if (env.webhook_urls.empty() && !(live && (u.streams || !st.subs.empty()))) return;
  auto body = event_json(type, u.id, u.event_seq, c.now, data);
  if (live && (u.streams || !st.subs.empty())) {
    // Kept for streams that reconnect with Last-Event-ID (the newest
    // stream_replay_kept), and pushed to the open ones once stored. Only for
    // users who have opened a stream: a game that never does pays nothing.
    auto frame = sse_frame(u.event_seq, type, body);
    if (keep_seq && u.streams) {
      b.put(keys::recent_event(st.partition, st.uid16.view(), u.event_seq), frame);
      if (st.events_kept++ % 32 == 0) {
        std::vector<std::string> all;
        (void)env.db->scan_prefix(keys::recent_events_prefix(st.partition, st.uid16.view()),
                                  [&](std::string_view k, std::string_view) {
                                    all.emplace_back(k);
                                    return true;
                                  });
        for (size_t i = 0; i + stream_replay_kept < all.size() + 1; ++i) b.remove(all[i]);
      }
    }
    c.pushes.emplace_back(u.event_seq, std::move(frame));
  }
  if (env.webhook_urls.empty()) return;
  if (studio_only.is_object() && !studio_only.empty()) {
    auto whole = data;
    whole.update(studio_only);
    body = event_json(type, u.id, u.event_seq, c.now, whole);
  }
  for (auto& e : webhook_entries(type, u.id, st.partition, body, env.webhook_urls, env.webhook_events, c.now)) {
    b.put(keys::outbox_entry(st.partition, e.id), encode_outbox(e));
    c.outbox.push_back(outbox_ref{e.id, e.next_at});
  }
}

/// Turns the session book's writes into batch entries.
void apply(ctx& c, write_batch& b, const session_writes& w) {
  for (auto& s : w.put) b.put(keys::session(c.st.partition, c.st.uid16.view(), sid16_of(s.id)), encode_session(s));
  for (auto& id : w.removed_ids) b.remove(keys::session(c.st.partition, c.st.uid16.view(), sid16_of(id)));
}

/// A new session; its view (with the token, shown this once) as JSON text.
std::string new_session(ctx& c, write_batch& b, const std::string& method) {
  auto made = c.st.sessions.create(c.st.uid16.view(), method, c.req.client.ip, c.req.client.user_agent, c.now, c.st.rules());
  apply(c, b, made.writes);
  return std::move(made.value->view);
}

/// The reply to a failed commit: a fenced partition (handed to another node
/// meanwhile) is retryable, anything else is an internal error.
error store_failed(const ctx& c) {
  return c.st.env->serving(c.st.partition) ? make_error(errc::internal, "internal error") : moving_error();
}

/// Applies `b` to the store; on failure reloads state so memory never runs
/// ahead of what is stored.
bool commit(ctx& c, write_batch& b) {
  if (c.record_changed && c.st.user)
    b.put(keys::user_record(c.st.partition, c.st.uid16.view()), encode_user(*c.st.user));
  c.record_changed = false;
  if (b.empty()) return true;
  auto st = c.st.env->db->write(b);
  auto announced = std::move(c.outbox);
  auto pushes = std::move(c.pushes);
  c.outbox.clear();
  c.pushes.clear();
  if (st.ok()) {
    auto& env = *c.st.env;
    env.announce_outbox(std::move(announced));
    for (auto& [seq, frame] : pushes)
      c.st.to_relays([&](const stream_relay_hdl& r, std::vector<uint64_t> ids) {
        c.self->send(r, stream_push{env.credential, std::move(ids), seq, frame});
      });
    return true;
  }
  spdlog::error("user actor: write failed: {}", st.err().message);
  forget(c.st);
  load(c.st);
  return false;
}

void request_passivation(self_ptr self) {
  auto& st = self->state;
  if (st.passivating) return;
  st.passivating = true;
  self->send(st.host, passivate_atom_v, st.uid16.str());
}

/// Authenticates the request's token: the session must exist, be unexpired,
/// and the account must be allowed to use sessions (session_book::authenticate).
result<const session_record*> authenticated_session(ctx& c) {
  auto& st = c.st;
  if (!st.user) return make_error(errc::unauthorized, "invalid session");
  auto gate = status_gate(*st.user, c.now);
  auto a = st.sessions.authenticate(c.req.token_hash, c.now, st.rules(), st.last_hit_of(c.req.token_hash), gate);
  write_batch b;
  apply(c, b, a.writes);
  if (!a.value) {
    if (!commit(c, b)) return store_failed(c);
    // The gate's error carries the ban's reason and expiry (the book knows
    // only the code).
    return a.value.err().code == gate ? account_gate_error(*st.user, gate) : a.value.err();
  }
  if (c.now - st.user->last_seen_at > seen_persist_interval) {
    st.user->last_seen_at = c.now;
    put_record(c, b);
  }
  // A failed commit reloads state, so the session must not be used after it.
  if (!commit(c, b)) return store_failed(c);
  return *a.value;
}

/// The own view plus the calling session's id and authentication time.
/// Serialised afresh each time: the answer is published (read_cache), so the
/// actor sees this session's reads about once per read_cache::ttl, and a
/// copy of the view kept per live user for them cost more memory (the size
/// of the view, per actor) than it saved time.
std::string own_with_session(user_actor_state& st, const session_record& s) {
  std::string out = own_view_text(*st.user);
  out.pop_back();  // the closing brace of the object
  out += ",\"session_id\":\"" + s.id + "\",\"authenticated_at\":\"" + format_time(s.authenticated_at) + "\"}";
  return out;
}

error not_found() { return make_error(errc::not_found, "user not found"); }

/// A well-formed cursor that names no position in this list (400, fields.cursor).
error invalid_cursor() {
  error e = make_error(errc::invalid_request, "invalid cursor");
  e.fields["cursor"] = "is not a cursor this server handed out";
  return e;
}

/// Keys the user held before a change and no longer holds after it.
std::vector<std::string> released_keys(const std::vector<std::string>& before, const user_record& after) {
  auto now_keys = index_keys_of(after);
  std::vector<std::string> out;
  for (auto& k : before)
    if (std::find(now_keys.begin(), now_keys.end(), k) == now_keys.end()) out.push_back(k);
  return out;
}

result<revoked> revoke_all(ctx& c, const std::string& event, const char* reason) {
  auto gone = c.st.sessions.revoke_all();
  write_batch b;
  apply(c, b, gone.writes);
  add_log(c, b, event, true, {{"count", *gone.value}});
  emit(c, b, event_type::session_revoked, {{"count", *gone.value}, {"reason", reason}});
  if (!commit(c, b)) return store_failed(c);
  return revoked{*gone.value};
}

// -- one handler per operation ------------------------------------------------------
// Token operations run `with_session`: the envelope's token must name a live
// session of an account that may use sessions.

template <class F>
auto with_session(ctx& c, F&& fn) -> decltype(fn(std::declval<const session_record&>())) {
  auto s = authenticated_session(c);
  if (!s) return s.err();
  return fn(**s);
}

result<signed_in> on(ctx& c, create_user& op) {
  auto& st = c.st;
  if (st.user) return make_error(errc::already_exists, "user exists");
  if (uuid_from_string(op.record.id) != st.uid16.view()) return make_error(errc::internal, "bad create request");
  st.user = std::move(op.record);
  auto method = op.session_method.empty() ? std::string("password") : op.session_method;
  st.user->login_methods = {method};
  write_batch b;
  put_record(c, b);
  std::string session;
  if (!op.session_method.empty() && status_gate(*st.user, c.now) == errc::ok) {
    st.user->last_login_at = st.user->last_seen_at = c.now;
    put_record(c, b);
    session = new_session(c, b, op.session_method);
  }
  add_log(c, b, "register", true, {{"method", method}});
  emit(c, b, event_type::registered, {{"method", method}, {"status", status_name(shown_status(*st.user))}});
  if (!commit(c, b)) return store_failed(c);
  return signed_in{own_view_text(*st.user), std::move(session), {}, {}};
}

result<view> on(ctx& c, authenticate&) {
  return with_session(c, [&](const session_record& s) -> result<view> {
    auto& st = c.st;
    auto body = own_with_session(st, s);
    // Let the router answer this session's next reads itself (read_cache),
    // under the hash the request came with: the session token's, or the
    // session's JWT key (domain/session_book.h jwt_session_key).
    if (token_key::valid(c.req.token_hash)) {
      auto e = std::make_shared<read_cache::entry>();
      e->uid16 = st.uid16;
      e->token_hash = token_key{c.req.token_hash};
      e->actor = c.self->address();
      e->valid_until = std::min({c.now + read_cache::ttl, s.expires_at, s.last_used_at + st.env->sessions.idle_ttl});
      e->body = body;  // a copy of exactly its size (body grew by appending)
      st.publish(std::move(e));
    }
    return view{std::move(body)};
  });
}

result<login_ticket> on(ctx& c, login_begin&) {
  // Reserves a password check on the account (domain/throttle.h).
  auto& st = c.st;
  if (!st.user) return not_found();
  auto reserved = st.guard.begin(st.user->failed_logins, c.now, st.env->login_throttle);
  if (!reserved) return reserved.err();
  return login_ticket{st.user->password_hash, *reserved};
}

result<done> on(ctx& c, login_failed& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  st.guard.failed(op.reservation, st.user->failed_logins, c.now, st.env->login_throttle);
  write_batch b;
  put_record(c, b);
  auto method = op.method.empty() ? std::string("password") : op.method;
  add_log(c, b, "login", false, {{"method", method}});
  emit(c, b, event_type::login_failed, {{"method", method}, {"reason", "invalid_credentials"}});
  if (!commit(c, b)) return store_failed(c);
  return done{};
}

result<signed_in> complete_login(ctx& c, write_batch& b, const std::string& method);

result<signed_in> on(ctx& c, login_finish& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  st.guard.finish(op.reservation);
  if (!op.via_key.empty()) {
    auto held = index_keys_of(*st.user);
    if (std::find(held.begin(), held.end(), op.via_key) == held.end()) return not_found();
  }
  auto method = op.method.empty() ? std::string("password") : op.method;
  if (op.password_hash && !constant_time_equal(*op.password_hash, st.user->password_hash))
    return make_error(errc::invalid_credentials, "invalid credentials");
  write_batch b;
  if (auto gate = status_gate(*st.user, c.now); gate != errc::ok) {
    add_log(c, b, "login", false, {{"method", method}, {"reason", errc_name(gate)}});
    emit(c, b, event_type::login_failed, {{"method", method}, {"reason", errc_name(gate)}});
    commit(c, b);
    return account_gate_error(*st.user, gate);
  }
  if (blocked_by_unverified_email(*st.user, method, st.env->require_verified_email)) {
    add_log(c, b, "login", false, {{"method", method}, {"reason", "email_not_verified"}});
    emit(c, b, event_type::login_failed, {{"method", method}, {"reason", "email_not_verified"}});
    commit(c, b);
    return make_error(errc::email_not_verified,
                      "verify your email first: log in with an email code or a magic link sent to it");
  }
  std::vector<std::string> dropped;
  if (mark_verified(*st.user, method, op.via_key)) {
    // The address is proven only now: what was set up on this account before
    // without that proof — a password, sessions, devices, links, a phone,
    // TOTP, perhaps by someone who registered the address first to hijack it
    // later — goes, before the MFA gate (a squatter's TOTP must not lock the
    // owner out).
    bool had_password = !st.user->password_hash.empty();
    dropped = drop_unproven_setup(*st.user);
    st.challenges.clear();
    auto gone = st.sessions.revoke_all();
    apply(c, b, gone.writes);
    add_log(c, b, "email_verified", true,
            {{"sessions_revoked", *gone.value}, {"password_cleared", had_password}, {"identities_dropped", dropped.size()}});
  }
  if (mfa_enabled(*st.user)) {
    // The first factor holds; the session waits for the second. The
    // failures are not cleared: a known password must not reset what MFA
    // guesses counted.
    auto id = st.challenges.open(st.uid16.view(), method, op.via_key, c.now, st.env->mfa_challenge_ttl);
    add_log(c, b, "mfa_challenge", true, {{"method", method}});
    if (!commit(c, b)) return store_failed(c);
    return signed_in{{}, {}, std::move(id), std::move(dropped)};
  }
  auto done = complete_login(c, b, method);
  if (done) done->released_keys = std::move(dropped);
  return done;
}

/// The end of every login (after its checks, and its second factor when MFA
/// is on): a new session of `method`.
result<signed_in> complete_login(ctx& c, write_batch& b, const std::string& method) {
  auto& st = c.st;
  st.user->failed_logins.clear();
  st.user->last_login_at = st.user->last_seen_at = c.now;
  note_login_method(*st.user, method);
  put_record(c, b);
  auto session = new_session(c, b, method);
  add_log(c, b, "login", true, {{"method", method}});
  emit(c, b, event_type::login, {{"method", method}});
  if (!commit(c, b)) return store_failed(c);
  return signed_in{own_view_text(*st.user), std::move(session), {}, {}};
}

result<view> on(ctx& c, list_sessions& op) {
  return with_session(c, [&](const session_record& cur) -> result<view> {
    auto page = c.st.sessions.page(c.now, c.st.rules(), op.limit, op.cursor, cur.id);
    if (!page) return page.err();
    return view{page->to_json().dump()};
  });
}

result<view> on(ctx& c, get_session& op) {
  return with_session(c, [&](const session_record& cur) -> result<view> {
    auto found = c.st.sessions.get(op.id, cur.id);
    if (!found) return found.err();
    return view{found->dump()};
  });
}

result<view> on(ctx& c, extend_session&) {
  return with_session(c, [&](const session_record& cur) -> result<view> {
    auto extended = c.st.sessions.extend(cur.id, c.now, c.st.rules());
    write_batch b;
    apply(c, b, extended.writes);
    if (!commit(c, b)) return store_failed(c);
    if (!extended.value) return extended.value.err();
    return view{extended.value->dump()};
  });
}

result<done> on(ctx& c, revoke_session& op) {
  return with_session(c, [&](const session_record& cur) -> result<done> {
    auto gone = c.st.sessions.revoke(op.id, cur.id);
    if (!gone.value) return gone.value.err();
    write_batch b;
    apply(c, b, gone.writes);
    add_log(c, b, "session_revoked", true, {{"session_id", *gone.value}});
    emit(c, b, event_type::session_revoked, {{"session_ids", {*gone.value}}, {"reason", "user"}});
    if (!commit(c, b)) return store_failed(c);
    return done{};
  });
}

result<revoked> on(ctx& c, revoke_all_sessions&) {
  return with_session(c, [&](const session_record&) { return revoke_all(c, "sessions_revoked", "user"); });
}

bool ensure_queue(user_actor_state& st);
void announce_queue(user_actor_state& st, std::string encoded);

result<profile_updated> apply_patch(ctx& c, const profile_patch& patch, bool admin) {
  auto before = index_keys_of(*c.st.user);
  auto saved = *c.st.user;
  if (auto st = apply_profile_patch(*c.st.user, patch, c.now); !st) {
    c.st.user = std::move(saved);
    return st.err();
  }
  write_batch b;
  put_record(c, b);
  add_log(c, b, admin ? "profile_updated_by_admin" : "profile_updated", true);
  json fields = json::array();
  for (auto [name, set] : {std::pair{"avatar_url", patch.avatar_url.has_value()}, std::pair{"display_name", patch.display_name.has_value()},
                           std::pair{"email", patch.email.has_value()}, std::pair{"lang", patch.lang.has_value()},
                           std::pair{"metadata", patch.metadata.has_value()}, std::pair{"phone", patch.phone.has_value()},
                           std::pair{"username", patch.username.has_value()}})
    if (set) fields.push_back(name);
  const char* by = admin ? "admin" : "user";
  emit(c, b, event_type::profile_updated, {{"by", by}, {"fields", fields}});
  if (saved.email != c.st.user->email) emit(c, b, event_type::email_changed, {{"by", by}});
  if (saved.phone != c.st.user->phone) add_log(c, b, "phone_verified", true, {{"method", "verification_code"}});
  // The moderation queue shows the user's name: a reported user who
  // renames is not shown under a name someone else may take next.
  std::string queue_text;
  if (saved.username != c.st.user->username && ensure_queue(c.st) && !c.st.queue->user_id.empty()) {
    c.st.queue->username = c.st.user->username;
    c.st.queue->version += 1;
    queue_text = moderation::encode_entry(*c.st.queue);
    b.put(keys::queue_entry(c.st.partition, c.st.uid16.view()), queue_text);
  }
  if (!commit(c, b)) return store_failed(c);
  if (!queue_text.empty()) announce_queue(c.st, std::move(queue_text));
  auto shown = admin ? admin_view(*c.st.user, c.st.sessions.size(), c.now).dump() : own_view_text(*c.st.user);
  return profile_updated{std::move(shown), released_keys(before, *c.st.user)};
}

result<profile_updated> on(ctx& c, update_profile& op) {
  if (op.admin) {
    if (!c.st.user) return not_found();
    return apply_patch(c, op.patch, true);
  }
  return with_session(c, [&](const session_record&) { return apply_patch(c, op.patch, false); });
}

result<credentials> on(ctx& c, get_credentials&) {
  return with_session(c, [&](const session_record& cur) -> result<credentials> {
    bool fresh = c.now - cur.authenticated_at <= c.st.env->sessions.sudo_window;
    return credentials{c.st.user->password_hash, fresh};
  });
}

result<revoked> on(ctx& c, set_password& op) {
  auto& st = c.st;
  // A proven current password (its check reserved by login_begin) ends that
  // check and, like a login, resets the account's failures.
  if (op.reservation) st.guard.finish(*op.reservation);
  return with_session(c, [&](const session_record& cur) -> result<revoked> {
    if (!constant_time_equal(op.expected_hash, st.user->password_hash))
      return make_error(errc::reauthentication_required, "the password changed meanwhile; try again");
    st.user->password_hash = op.password_hash;
    if (op.reservation) st.user->failed_logins.clear();
    st.user->updated_at = c.now;
    write_batch b;
    put_record(c, b);
    // Keeps the calling session (now freshly authenticated), drops the rest;
    // `cur` is not used after this.
    auto others = st.sessions.change_password(cur.id, c.now);
    apply(c, b, others.writes);
    add_log(c, b, "password_changed", true, {{"sessions_revoked", *others.value}});
    emit(c, b, event_type::password_changed, {{"sessions_revoked", *others.value}});
    if (!commit(c, b)) return store_failed(c);
    return revoked{*others.value};
  });
}

result<view> on(ctx& c, verify_email& op) {
  return with_session(c, [&](const session_record& s) -> result<view> {
    auto& st = c.st;
    if (st.user->email.empty() || email_key(st.user->email) != op.via_key)
      return make_error(errc::invalid_credentials, "invalid or expired code");
    if (!st.user->email_verified) {
      st.user->email_verified = true;
      st.user->updated_at = c.now;
      write_batch b;
      put_record(c, b);
      add_log(c, b, "email_verified", true, {{"method", "verification_code"}});
      emit(c, b, event_type::profile_updated, {{"by", "user"}, {"fields", {"email_verified"}}});
      if (!commit(c, b)) return store_failed(c);
    }
    return view{own_with_session(st, s)};
  });
}

result<view> on(ctx& c, add_identity& op) {
  return with_session(c, [&](const session_record& s) -> result<view> {
    auto& st = c.st;
    if (auto linked = link_identity(*st.user, op.key); !linked) return linked.err();
    st.user->updated_at = c.now;
    auto [kind, value] = identity_of_key(op.key);
    write_batch b;
    put_record(c, b);
    add_log(c, b, "identity_linked", true, {{"kind", kind}});
    emit(c, b, event_type::profile_updated, {{"by", "user"}, {"fields", {"identities"}}, {"linked", kind}});
    if (!commit(c, b)) return store_failed(c);
    return view{own_with_session(st, s)};
  });
}

result<profile_updated> on(ctx& c, remove_identity& op) {
  return with_session(c, [&](const session_record&) -> result<profile_updated> {
    auto& st = c.st;
    auto before = index_keys_of(*st.user);
    auto key = identity_key_of(*st.user, op.kind, op.value);
    if (!key) return make_error(errc::not_found, "the account has no such identity");
    if (auto gone = unlink_identity(*st.user, *key); !gone) return gone.err();
    st.user->updated_at = c.now;
    const auto& kind = op.kind;
    write_batch b;
    put_record(c, b);
    add_log(c, b, "identity_unlinked", true, {{"kind", kind}});
    emit(c, b, event_type::profile_updated, {{"by", "user"}, {"fields", {"identities"}}, {"unlinked", kind}});
    if (!commit(c, b)) return store_failed(c);
    return profile_updated{own_view_text(*st.user), released_keys(before, *st.user)};
  });
}

result<view> on(ctx& c, get_prefs&) {
  return with_session(c, [&](const session_record&) -> result<view> {
    auto raw = c.st.env->db->get(keys::prefs(c.st.partition, c.st.uid16.view()));
    if (!raw) return unavailable_error();
    return view{raw->has_value() ? std::string(**raw) : std::string("{}")};
  });
}

result<view> on(ctx& c, put_prefs& op) {
  return with_session(c, [&](const session_record&) -> result<view> {
    write_batch b;
    b.put(keys::prefs(c.st.partition, c.st.uid16.view()), op.json);
    if (!commit(c, b)) return store_failed(c);
    return view{op.json};
  });
}

result<revoked> on(ctx& c, recover_password& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  // The code was sent to an address; it is worth nothing once the account
  // no longer has that address.
  auto held = index_keys_of(*st.user);
  if (std::find(held.begin(), held.end(), op.via_key) == held.end()) return not_found();
  st.user->password_hash = op.password_hash;
  st.user->failed_logins.clear();
  st.user->updated_at = c.now;
  st.challenges.clear();
  auto gone = st.sessions.revoke_all();
  write_batch b;
  put_record(c, b);
  apply(c, b, gone.writes);
  add_log(c, b, "password_recovered", true, {{"sessions_revoked", *gone.value}});
  emit(c, b, event_type::password_changed, {{"sessions_revoked", *gone.value}, {"by", "recovery"}});
  if (!commit(c, b)) return store_failed(c);
  return revoked{*gone.value};
}

// -- the social graph (domain/social.h; docs/architecture.md "The social graph") ----
// A pair's owner (the user with the lower id) decides every change to it,
// stores its half and an intent in one batch, and delivers the intent to the
// other user's actor until that actor confirms it: at once, again every
// intent_retry while it fails, and after a restart or a handoff from the
// store (the partition host wakes users with intents: resume_atom). The
// other user forwards its own operations to the owner (peer_decide, with a
// deadline after which the owner refuses it) and stores the answer before it
// replies. Halves only ever move to a higher version, so a late or repeated
// delivery changes nothing; each answer names the version its user stores,
// so the owner sees a delivery not taken (sent again) or a half ahead of its
// own (catch_up). An owner's first contact asks whether the other user exists
// before it writes anything.

constexpr auto intent_retry = std::chrono::milliseconds(1000);
constexpr auto peer_timeout = std::chrono::seconds(2);
/// A forward's deadline (peer_decide::deadline) is this long after it is
/// sent: the owner refuses it after that, half a second before its requester
/// gives up (peer_timeout), which allows for the nodes' clocks differing by
/// up to that much.
constexpr millis forward_deadline = 1500;
/// How long an invite whose forward was not answered keeps counting
/// against the limit after its deadline: the owner decided it before the
/// deadline or never, and delivers what it decided at once and then every
/// intent_retry, so its half arrives well within this while both nodes run.
constexpr millis unsettled_invite_hold = 10'000;
/// The version of a half whose other user was deleted: nothing comes after it.
constexpr uint64_t gone_version = ~uint64_t{0};

bool lower_than(const user_actor_state& st, std::string_view other) { return st.uid16.view() < other; }

std::string render_item(const user_actor_state& st, const std::string& other, const social::half* h);

/// Reads the user's halves once per actor life (false: the store failed).
bool ensure_edges(user_actor_state& st) {
  if (st.edges) return true;
  std::map<std::string, user_actor_state::edge_entry> m;
  auto prefix = keys::edges_prefix(st.partition, st.uid16.view());
  auto scanned = st.env->db->scan_prefix(prefix, [&](std::string_view k, std::string_view v) {
    if (k.size() != prefix.size() + 16) return true;
    if (auto h = social::decode_half(v)) m.emplace(std::string(k.substr(prefix.size())), user_actor_state::edge_entry{{std::move(*h)}, {}});
    return true;
  });
  if (!scanned) {
    spdlog::error("user actor: cannot read the social graph: {}", scanned.err().message);
    return false;
  }
  st.edges = std::move(m);
  for (auto& [other, e] : *st.edges) e.item = render_item(st, other, &e);
  return true;
}

/// Pairs that count against the user's social.max_friends, invites being
/// forwarded included, and invites whose forward was not answered (until
/// their half arrives or unsettled_invite_hold has passed).
size_t counted(user_actor_state& st, millis now) {
  size_t n = st.invites_in_flight;
  for (auto& [other, h] : *st.edges) n += social::counts_for(h.pair, lower_than(st, other)) ? 1 : 0;
  for (auto it = st.unsettled_invites.begin(); it != st.unsettled_invites.end();) {
    if (it->second < now) {
      it = st.unsettled_invites.erase(it);
      continue;
    }
    auto e = st.edges->find(it->first);
    if (e == st.edges->end() || !social::counts_for(e->second.pair, lower_than(st, it->first))) ++n;
    ++it;
  }
  return n;
}

social::pair_state half_pair(const user_actor_state& st, const std::string& other) {
  auto it = st.edges->find(other);
  return it == st.edges->end() ? social::pair_state{} : it->second.pair;
}

/// The user's item in lists and answers: {state, updated_at, user: {avatar_url,
/// display_name, id, username}}; `h` null: nothing between the two. Kept
/// rendered with each half (edge_entry::item): pages of 50 to 200 items are
/// read far more often than pairs change, and rendering them cost most of a
/// list request.
std::string render_item(const user_actor_state& st, const std::string& other, const social::half* h) {
  json_text t(256);
  std::string_view state = h ? social::state_for(h->pair, lower_than(st, other)) : "";
  t.open_object().key("state").string(state.empty() ? "none" : state).key("updated_at");
  if (h && h->pair.updated_at) t.string(format_time(h->pair.updated_at));
  else t.null();
  t.key("user").open_object();
  t.key("avatar_url").nullable(h ? std::string_view(h->peer.avatar_url) : "");
  t.key("display_name").string(h ? std::string_view(h->peer.display_name) : "");
  t.key("id").string(uuid_to_string(other));
  t.key("username").nullable(h ? std::string_view(h->peer.username) : "");
  t.close_object().close_object();
  return t.take();
}

std::string social_item(const user_actor_state& st, const std::string& other) {
  auto it = st.edges->find(other);
  return it == st.edges->end() ? render_item(st, other, nullptr) : it->second.item;
}

/// Events and the security log for a change of the user's half with `other`.
void social_events(ctx& c, write_batch& b, const std::string& other, const social::pair_state& before,
                   const social::pair_state& after, bool by_me) {
  if (!c.st.user) return;
  bool lo = lower_than(c.st, other);
  auto was = social::state_for(before, lo), now = social::state_for(after, lo);
  if (was == now) return;
  json data{{"user_id", uuid_to_string(other)}, {"state", now.empty() ? "none" : now}};
  if (by_me) add_log(c, b, "social_" + std::string(now.empty() ? "none" : now), true, data);
  if (now == "invite_received") emit(c, b, event_type::friend_invited, data);
  else if (now == "friend") emit(c, b, event_type::friend_added, data);
  else if (now == "blocked") emit(c, b, event_type::user_blocked, data);
  else if (was == "friend" || was == "invite_sent" || was == "invite_received") emit(c, b, event_type::friend_removed, data);
}

/// Writes `pair` as the half with `other` (a tombstone when empty: its
/// version must outlive it) into `b` and memory; `peer` refreshes what the
/// list shows of the other user.
void put_half(user_actor_state& st, write_batch& b, const std::string& other, const social::pair_state& pair,
              const social::peer_summary* peer) {
  auto& h = (*st.edges)[other];
  h.pair = pair;
  if (peer) h.peer = *peer;
  h.item = render_item(st, other, &h);
  b.put(keys::edge(st.partition, st.uid16.view(), other), social::encode_half(h));
}

social::peer_summary summary_of(const user_actor_state& st) {
  if (!st.user) return {};
  return {st.user->username, st.user->display_name, st.user->avatar_url};
}

void deliver(self_ptr self, const std::string& other, std::function<void(std::optional<bool>)> done);

void arm_retry(self_ptr self) {
  auto& st = self->state;
  if (st.retry_armed || st.no_intents()) return;
  st.retry_armed = true;
  self->delayed_send(self, intent_retry, idle_atom_v);
}

/// The other side answered a delivery: the intent is done if it is still
/// the one sent (a newer decision is delivered on its own).
void settle(self_ptr self, const std::string& other, const social::intent& sent, const social_pair& r) {
  auto& st = self->state;
  auto it = st.intents.find(other);
  if (it == st.intents.end() || !(it->second.pair == sent.pair) || it->second.gone != sent.gone) return;
  // The other half does not hold it (its version is lower): not delivered,
  // sent again at the next retry.
  if (!r.gone && !sent.gone && r.version < sent.pair.version) return;
  write_batch b;
  b.remove(keys::intent(st.partition, st.uid16.view(), other));
  // The other user does not exist (any more): nothing can be paired with it.
  if (r.gone && !sent.gone && st.user && ensure_edges(st)) {
    social::pair_state end;
    end.version = gone_version;
    put_half(st, b, other, end, nullptr);
  }
  // What the lists show of the other user, as it answered.
  if (!r.gone && !sent.gone && st.user && ensure_edges(st)) {
    social::peer_summary seen{r.username, r.display_name, r.avatar_url};
    auto e = st.edges->find(other);
    if (e != st.edges->end() && (e->second.peer.username != seen.username ||
                                 e->second.peer.display_name != seen.display_name ||
                                 e->second.peer.avatar_url != seen.avatar_url))
      put_half(st, b, other, e->second.pair, &seen);
  }
  if (auto w = st.env->db->write(b); !w.ok()) {
    spdlog::warn("user actor: cannot settle an intent: {}", w.err().message);
    forget(st);  // memory must not run ahead of the store
    load(st);
    arm_retry(self);  // delivered again later: harmless
    return;
  }
  st.intents.erase(it);
}

/// The other half stores a version above this owner's (the owner's
/// partition was restored from an older backup, or its half was lost): the
/// owner's state goes on from above it, and is delivered again, so that the
/// other half takes it and both agree.
void catch_up(self_ptr self, const std::string& other, uint64_t theirs) {
  auto& st = self->state;
  if (!st.user || !lower_than(st, other) || theirs == gone_version || !ensure_edges(st)) return;
  auto cur = half_pair(st, other);
  if (cur.version >= theirs) return;  // a gone half's version is above any
  auto next = cur;
  next.version = theirs + 1;
  next.updated_at = now_ms();
  write_batch b;
  put_half(st, b, other, next, nullptr);
  social::intent in{next, false};
  b.put(keys::intent(st.partition, st.uid16.view(), other), social::encode_intent(in));
  if (auto w = st.env->db->write(b); !w.ok()) {
    spdlog::warn("user actor: cannot catch a pair up: {}", w.err().message);
    forget(st);
    load(st);
    return;
  }
  spdlog::warn("user actor: a pair's other half was at version {}, its owner at {}: delivered again from {}", theirs,
               cur.version, next.version);
  st.intents[other] = in;
  arm_retry(self);
  deliver(self, other, nullptr);
}

/// What a delivery tells the one who waits for it: the other user is gone
/// (true), there (false), or did not answer (nullopt; retried later).
using delivered_fn = std::function<void(std::optional<bool> gone)>;

/// Where a delivery to `other`'s actor goes: its partition's host here or
/// its owner's gateway; none while this node does not serve this user (the
/// new owner delivers) or `other`'s owner is unknown or down (retried).
user_endpoint delivery_host(const user_actor_state& st, const std::string& other) {
  if (!st.env->serving(st.partition)) return {};
  return caf::actor_cast<user_endpoint>(st.env->host_of(partition_of_user(other, st.env->partitions)));
}

/// Sends `in` for `other` to its user's actor; a stored intent is settled
/// by the answer (`stored`).
void send_sync(self_ptr self, const std::string& other, const social::intent& in, bool stored, delivered_fn done) {
  auto& st = self->state;
  auto host = delivery_host(st, other);
  if (!host) {
    if (stored) arm_retry(self);
    if (done) done(std::nullopt);
    return;
  }
  // A retry waits for the delivery in flight (a waiting client does not).
  if (stored && !done && st.delivering.count(other)) return;
  if (stored) st.delivering.insert(other);
  auto me = summary_of(st);
  user_request req;
  req.user_id = other;
  req.credential = st.env->credential;
  req.op = peer_sync{st.uid16.str(), social::encode_intent(in), me.username, me.display_name, me.avatar_url};
  self->request(host, peer_timeout, std::move(req))
    .then(
      [self, other, in, stored, done](const user_reply& r) {
        if (stored) self->state.delivering.erase(other);
        auto* p = std::get_if<social_pair>(&r.value);
        try {
          if (p && stored) settle(self, other, in, *p);
          if (p && !p->gone) catch_up(self, other, p->version);
        } catch (const std::exception& e) {
          spdlog::error("user actor: settling an intent: {}", log_safe(e.what()));
        }
        if (stored) arm_retry(self);
        if (done) done(p ? std::optional<bool>(p->gone) : std::nullopt);
      },
      [self, other, stored, done](caf::error&) {
        if (stored) {
          self->state.delivering.erase(other);
          arm_retry(self);
        }
        if (done) done(std::nullopt);
      });
}

/// Sends the pending intent for `other` to its user's actor.
void deliver(self_ptr self, const std::string& other, delivered_fn done = nullptr) {
  auto& st = self->state;
  auto it = st.intents.find(other);
  if (it == st.intents.end()) {
    if (done) done(false);
    return;
  }
  send_sync(self, other, it->second, true, std::move(done));
}

void deliver_reports(self_ptr self);

void deliver_all(self_ptr self) {
  deliver_reports(self);
  std::vector<std::string> others;
  for (auto& [other, i] : self->state.intents) others.push_back(other);
  for (auto& o : others) deliver(self, o);
}

/// The owner's decision (this user is lo): stores the half and the intent,
/// then delivers. `by_me`: this user is the initiator.
result<social::pair_state> owner_decide(ctx& c, const std::string& other, social::op o, bool by_me,
                                        size_t initiator_count, const social::peer_summary* peer) {
  auto& st = c.st;
  auto cur = half_pair(st, other);
  if (cur.version == gone_version) return not_found();
  auto next = social::decide(cur, by_me, o, initiator_count, st.env->max_friends, c.now);
  if (!next) return next.err();
  if (*next == cur) return cur;
  write_batch b;
  put_half(st, b, other, *next, peer);
  social::intent in{*next, false};
  b.put(keys::intent(st.partition, st.uid16.view(), other), social::encode_intent(in));
  social_events(c, b, other, cur, *next, by_me);
  if (!commit(c, b)) return store_failed(c);
  st.intents[other] = in;
  arm_retry(c.self);  // again every intent_retry until it is confirmed
  return *next;
}

/// The answer for a user who does not exist.
social_pair gone_pair() {
  social_pair p;
  p.gone = true;
  return p;
}

result<social_pair> on(ctx& c, peer_decide& op) {
  auto& st = c.st;
  auto o = social::op_from(op.op);
  if (!o || op.from.size() != 16 || !lower_than(st, op.from)) return make_error(errc::invalid_request, "not the pair's owner");
  // Its requester has given up waiting (and told its client so): applied
  // now, it could undo an operation acknowledged since.
  if (c.now > op.deadline) return unavailable_error();
  if (!st.user) return gone_pair();
  if (!ensure_edges(st)) return unavailable_error();
  social::peer_summary peer{op.from_username, op.from_display_name, op.from_avatar_url};
  auto next = owner_decide(c, op.from, *o, false, op.from_count, &peer);
  if (!next) return next.err();
  deliver(c.self, op.from, nullptr);  // the initiator stores the answer; this settles the intent
  auto me = summary_of(st);
  return social_pair{social::encode_half({*next, {}}), false, me.username, me.display_name, me.avatar_url,
                     next->version};
}

result<social_pair> on(ctx& c, peer_sync& op) {
  auto& st = c.st;
  auto in = social::decode_intent(op.intent);
  if (!in || op.from.size() != 16 || op.from == st.uid16.str() || (!in->gone && lower_than(st, op.from)))
    return make_error(errc::invalid_request, "malformed intent");
  if (!st.user) return gone_pair();
  if (!ensure_edges(st)) return unavailable_error();
  auto cur = half_pair(st, op.from);
  social::pair_state next = in->pair;
  write_batch b;
  bool dropped = false;
  if (in->gone) {
    next = social::pair_state{};
    next.version = gone_version;
    // An intent of ours to the deleted user has nobody to go to.
    if (st.intents.count(op.from)) {
      b.remove(keys::intent(st.partition, st.uid16.view(), op.from));
      dropped = true;
    }
  }
  if (next.version > cur.version) {
    social::peer_summary peer{op.from_username, op.from_display_name, op.from_avatar_url};
    put_half(st, b, op.from, next, in->gone ? nullptr : &peer);
    social_events(c, b, op.from, cur, next, false);
  }
  if (!commit(c, b)) return store_failed(c);
  if (dropped) st.intents.erase(op.from);
  auto me = summary_of(st);
  auto stored = half_pair(st, op.from);
  return social_pair{social::encode_half({stored, {}}), false, me.username, me.display_name, me.avatar_url,
                     stored.version};
}

result<deleted> delete_now(ctx& c, const char* event) {
  auto index_keys = index_keys_of(*c.st.user);
  write_batch b;
  // The event's outbox entries live beside the users (P 'o'), not under
  // this one: the scan below does not remove them.
  emit(c, b, event_type::deleted, {{"by", event}}, false);
  auto scanned =
      c.st.env->db->scan_prefix(keys::user_prefix(c.st.partition, c.st.uid16.view()), [&](std::string_view k, std::string_view) {
        b.remove(std::string(k));
        return true;
      });
  // So does its moderation queue entry (beside the users).
  b.remove(keys::queue_entry(c.st.partition, c.st.uid16.view()));
  // Every pair goes with the user: the other halves learn it by an intent
  // that outlives the user (keys::intent lies beside the users).
  std::map<std::string, social::intent> gone;
  if (scanned && ensure_edges(c.st)) {
    for (auto& [other, h] : *c.st.edges) {
      if (h.pair.version == gone_version) continue;
      social::intent in{social::pair_state{}, true};
      in.pair.version = gone_version;
      b.put(keys::intent(c.st.partition, c.st.uid16.view(), other), social::encode_intent(in));
      gone.emplace(other, in);
    }
  } else if (scanned) {
    scanned = status(make_error(errc::partition_unavailable, "cannot read the social graph"));
  }
  // Half a deletion (some keys unread) is no deletion: nothing is written.
  if (!scanned) {
    spdlog::error("user actor: cannot read user {} to delete it: {}", c.st.user->id, scanned.err().message);
    return unavailable_error();
  }
  if (!commit(c, b)) return store_failed(c);
  spdlog::info("user {} deleted ({})", c.st.user->id, event);
  if (c.st.env->moderation)
    caf::anon_send(c.st.env->moderation, queue_changed{c.st.env->credential, c.st.partition, c.st.uid16.str(), {}});
  forget(c.st);
  for (auto& [other, in] : gone) c.st.intents[other] = in;
  deliver_all(c.self);
  if (c.st.no_intents() && c.st.open_requests.empty()) request_passivation(c.self);
  return deleted{std::move(index_keys)};
}

result<deleted> on(ctx& c, delete_user& op) {
  if (op.admin) {
    if (!c.st.user) return not_found();
    return delete_now(c, "admin");
  }
  return with_session(c, [&](const session_record&) { return delete_now(c, "self"); });
}

result<view> on(ctx& c, get_logs& op) {
  return with_session(c, [&](const session_record&) -> result<view> {
    auto& st = c.st;
    auto prefix = keys::logs_prefix(st.partition, st.uid16.view());
    std::string begin = prefix;
    if (!op.cursor.empty()) {
      auto raw = base64url_decode(op.cursor);
      if (!raw || raw->size() != 12) return invalid_cursor();
      begin = prefix + *raw;
      begin.push_back('\0');  // strictly after the cursor
    }
    json items = json::array();
    std::string last;
    bool more = false;
    auto scanned = st.env->db->scan(begin, prefix_end(prefix), [&](std::string_view k, std::string_view v) {
      if (items.size() == op.limit) {
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
      return unavailable_error();
    }
    return view{json{{"items", items}, {"next_cursor", more ? json(base64url_encode(last)) : json(nullptr)}}.dump()};
  });
}

result<view> on(ctx& c, get_public&) {
  if (!c.st.user) return not_found();
  return view{public_view(*c.st.user, !c.st.subs.empty()).dump()};
}

result<view> on(ctx& c, admin_get&) {
  if (!c.st.user) return not_found();
  return view{admin_view(*c.st.user, c.st.sessions.size(), c.now).dump()};
}

// -- metadata (domain/metadata.h) ---------------------------------------------------

/// What the caller `caller_uid16` (16 raw bytes, authenticated by the HTTP
/// layer; empty for an anonymous caller) is to this user: the one place the
/// actor decides it (admin requests say so themselves).
/// A caller whose half of the pair with this user says `friend` (this
/// user's copy, domain/social.h) is a friend; a store that cannot be read
/// shows no more than to a stranger.
relation relation_of(user_actor_state& st, std::string_view caller_uid16) {
  if (!caller_uid16.empty() && caller_uid16 == st.uid16.view()) return relation::self;
  if (caller_uid16.size() == 16 && ensure_edges(st)) {
    auto it = st.edges->find(std::string(caller_uid16));
    if (it != st.edges->end() && it->second.pair.f == social::friendship::friends) return relation::friend_;
  }
  return relation::other;
}

error metadata_key_not_found() { return make_error(errc::not_found, "metadata key not found"); }

/// The security-log entry and profile.updated event of a change to the
/// user's own keys. An internal key's change leaves neither: both reach the
/// user (GET /v1/account/logs, their event stream), who must not learn that
/// internal keys exist.
void note_metadata_change(ctx& c, write_batch& b, bool internal, const char* event, const std::string& key) {
  if (internal) return;
  add_log(c, b, event, true, {{"key", key}});
  emit(c, b, event_type::profile_updated, {{"by", "user"}, {"fields", {"metadata"}}});
}

/// Sets a key: the caller's own (token) or an internal one (admin).
result<view> set_metadata(ctx& c, const put_metadata& op) {
  auto& u = *c.st.user;
  auto value = json::parse(op.value, nullptr, false);
  if (value.is_discarded()) return make_error(errc::invalid_request, "bad metadata value");
  auto saved = u;
  auto st = op.admin ? internal_metadata_put(u, op.key, value) : user_metadata_put(u, op.key, value, op.vis);
  if (!st) return st.err();
  if (!op.admin) u.updated_at = c.now;  // an internal change leaves no mark the user sees
  write_batch b;
  put_record(c, b);
  note_metadata_change(c, b, op.admin, "metadata_set", op.key);
  if (!commit(c, b)) {
    c.st.user = std::move(saved);
    return store_failed(c);
  }
  auto vis = op.admin ? visibility::internal : op.vis;
  return view{metadata_entry_json(op.key, metadata_entry{std::move(value), vis}).dump()};
}

result<view> on(ctx& c, put_metadata& op) {
  if (op.admin) {
    if (!c.st.user) return not_found();
    return set_metadata(c, op);
  }
  if (op.vis == visibility::internal) return make_error(errc::forbidden, "internal keys are set by admins only");
  return with_session(c, [&](const session_record&) { return set_metadata(c, op); });
}

result<done> remove_metadata(ctx& c, const delete_metadata& op) {
  auto& u = *c.st.user;
  auto saved = u;
  bool removed = op.admin ? internal_metadata_remove(u, op.key) : user_metadata_remove(u, op.key);
  if (!removed) return metadata_key_not_found();
  if (!op.admin) u.updated_at = c.now;  // an internal change leaves no mark the user sees
  write_batch b;
  put_record(c, b);
  note_metadata_change(c, b, op.admin, "metadata_removed", op.key);
  if (!commit(c, b)) {
    c.st.user = std::move(saved);
    return store_failed(c);
  }
  return done{};
}

result<done> on(ctx& c, delete_metadata& op) {
  if (op.admin) {
    if (!c.st.user) return not_found();
    return remove_metadata(c, op);
  }
  return with_session(c, [&](const session_record&) { return remove_metadata(c, op); });
}

result<view> on(ctx& c, get_own_metadata& op) {
  return with_session(c, [&](const session_record&) -> result<view> {
    auto& u = *c.st.user;
    if (op.key.empty())
      return view{json{{"items", user_metadata_items(u)}, {"next_cursor", nullptr}}.dump()};
    auto e = user_metadata_get(u, op.key);
    if (!e) return metadata_key_not_found();
    return view{metadata_entry_json(op.key, *e).dump()};
  });
}

result<view> on(ctx& c, read_metadata& op) {
  if (!c.st.user) return not_found();
  auto r = relation_of(c.st, op.caller_uid16);
  auto shown = visible_metadata(*c.st.user, r, op.keys.empty() ? nullptr : &op.keys);
  return view{json{{"user_id", c.st.user->id}, {"metadata", std::move(shown)}}.dump()};
}

result<view> on(ctx& c, admin_set_status& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  auto before = shown_status(*st.user);
  // Activation and blocking are separate states: each action changes its own
  // one. Repeating an action changes nothing, logs nothing, emits nothing.
  if (apply_status_change(*st.user, op.change)) {
    st.user->updated_at = c.now;
    write_batch b;
    put_record(c, b);
    auto after = shown_status(*st.user);
    json data = {{"action", status_change_name(op.change)}, {"from", status_name(before)}, {"to", status_name(after)}};
    add_log(c, b, "status_changed", true, data);
    emit(c, b, event_type::status_changed, data);
    if (!commit(c, b)) return store_failed(c);
  }
  return view{admin_view(*st.user, st.sessions.size(), c.now).dump()};
}

result<revoked> on(ctx& c, admin_revoke_sessions&) {
  if (!c.st.user) return not_found();
  return revoke_all(c, "sessions_revoked_by_admin", "admin");
}

// -- bans (domain/user.h ban_record) ---------------------------------------------------
// A ban keeps the user's sessions in the store while it lasts, so that each
// of them answers 403 account_banned with the reason (a revoked one would
// only say 401) — gated like a blocked account's, by status_gate in
// session_book::authenticate. When the ban ends (lifted by an admin, or run
// out) they are revoked: no session from before a ban works after it. The
// read cache and the open streams go with the ban at once: serve() takes
// back published answers before any admin op, close_streams() ends the
// streams of an account that fails the gate after the ban's event was pushed.

/// Lifts the ban of the user (active or lapsed): the record loses it, the
/// sessions held back are revoked, the log and the user.unbanned event say
/// why (`why`: "admin" or "expired") and who (`by`, an admin key's name).
void lift_ban(ctx& c, write_batch& b, const char* why, const std::string& by) {
  auto& st = c.st;
  auto was = std::move(*st.user->ban);
  st.user->ban.reset();
  st.user->updated_at = c.now;
  put_record(c, b);
  auto gone = st.sessions.revoke_all();
  apply(c, b, gone.writes);
  json data = {{"reason", was.reason}, {"lifted", why}, {"sessions_revoked", *gone.value}};
  add_log(c, b, "unbanned", true, data);  // who lifted it is the studio's to know
  emit(c, b, event_type::unbanned, data, true, by.empty() ? json() : json{{"by", by}});
}

/// A ban that ran out lifts itself the first time its user is touched
/// after the expiry (any operation but a probe): false if that could not be
/// stored (state reloaded; the caller answers store_failed).
bool settle_ban(ctx& c) {
  if (!c.st.user || !ban_lapsed(*c.st.user, c.now)) return true;
  write_batch b;
  lift_ban(c, b, "expired", {});
  return commit(c, b);
}

/// Bans the user (replacing a ban it has) into `b`: by an admin's ban or a
/// moderation decision.
void ban_now(ctx& c, write_batch& b, const std::string& reason, millis expires_at, const std::string& by) {
  auto& st = c.st;
  apply_ban(*st.user, ban_record{reason, c.now, expires_at, by});
  st.user->updated_at = c.now;
  put_record(c, b);
  json data = {{"reason", reason}, {"expires_at", expires_at ? json(format_time(expires_at)) : json(nullptr)}};
  add_log(c, b, "banned", true, data);  // who banned is the studio's to know
  // Pushed to the open streams (commit) before close_streams ends them;
  // the admin key's name goes to the webhooks only.
  emit(c, b, event_type::banned, data, true, json{{"by", by}});
}

result<view> on(ctx& c, admin_ban& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  c.by_admin = true;
  write_batch b;
  ban_now(c, b, op.reason, op.expires_at, op.by);
  if (!commit(c, b)) return store_failed(c);
  return view{ban_view(*st.user, c.now).dump()};
}

result<view> on(ctx& c, admin_unban& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  if (st.user->ban) {  // a lapsed one was lifted by settle_ban already
    c.by_admin = true;
    write_batch b;
    lift_ban(c, b, "admin", op.by);
    if (!commit(c, b)) return store_failed(c);
  }
  return view{ban_view(*st.user, c.now).dump()};
}

result<view> on(ctx& c, get_ban&) {
  if (!c.st.user) return not_found();
  return view{ban_view(*c.st.user, c.now).dump()};
}

result<holds> on(ctx& c, holds_key& op) {
  if (!c.st.user) return holds{false};
  auto keys = index_keys_of(*c.st.user);
  return holds{std::find(keys.begin(), keys.end(), op.key) != keys.end()};
}

result<view> on(ctx& c, debug_info&) {
  auto& st = c.st;
  return view{json{{"live", true},
                   {"exists", st.user.has_value()},
                   {"sessions", st.sessions.size()},
                   {"subscribers", st.subs.size()},
                   {"passivating", st.passivating},
                   {"last_activity", format_time(st.activity->last.load(std::memory_order_relaxed))},
                   {"mailbox", c.self->mailbox().size()}}
                  .dump()};
}

// -- notifications and streams -----------------------------------------------------

/// The stored notifications' sequence numbers (read once), or null when
/// the store cannot be read.
std::deque<uint64_t>* notification_seqs(user_actor_state& st) {
  if (st.notification_seqs) return &*st.notification_seqs;
  std::deque<uint64_t> seqs;
  auto prefix = keys::notifications_prefix(st.partition, st.uid16.view());
  auto scanned = st.env->db->scan_prefix(prefix, [&](std::string_view k, std::string_view) {
    seqs.push_front(~keys::read_u64(k.substr(prefix.size())));  // keys run newest first
    return true;
  });
  if (!scanned) return nullptr;
  st.notification_seqs = std::move(seqs);
  return &*st.notification_seqs;
}

/// Stores an in-app notification for the user into `b` (and its event),
/// keeping the newest notifications.keep_per_user; nullopt if the store
/// cannot be read.
std::optional<notification> notify_user(ctx& c, write_batch& b, std::string title, std::string body, json data) {
  auto& st = c.st;
  // Read first: a failure must not have taken an event number.
  auto* seqs = notification_seqs(st);
  if (!seqs) return std::nullopt;
  notification n;
  n.title = std::move(title);
  n.body = std::move(body);
  n.data = data.is_object() ? std::move(data) : json::object();
  n.created_at = c.now;
  json shown = {{"title", n.title}, {"body", n.body}, {"data", n.data}};
  emit(c, b, event_type::notification, shown);
  n.seq = st.user->event_seq;
  b.put(keys::notification(st.partition, st.uid16.view(), n.seq), encode_notification(n));
  seqs->push_back(n.seq);
  while (seqs->size() > st.env->notifications_kept) {
    b.remove(keys::notification(st.partition, st.uid16.view(), seqs->front()));
    seqs->pop_front();
  }
  return n;
}

result<view> on(ctx& c, add_notification& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  write_batch b;
  auto n = notify_user(c, b, std::move(op.title), std::move(op.body), json::parse(op.data, nullptr, false));
  if (!n) return unavailable_error();
  if (!commit(c, b)) {
    st.notification_seqs.reset();
    return store_failed(c);
  }
  return view{notification_view(*n).dump()};
}

/// Visits the user's stored notifications, newest first, from the one
/// after `after_seq` (0: from the newest). Stops when `fn` returns false.
template <class F>
status each_notification(user_actor_state& st, uint64_t after_seq, F&& fn) {
  auto prefix = keys::notifications_prefix(st.partition, st.uid16.view());
  auto begin = after_seq ? keys::notification(st.partition, st.uid16.view(), after_seq - 1) : prefix;
  return st.env->db->scan(begin, prefix_end(prefix), [&](std::string_view k, std::string_view v) {
    auto n = decode_notification(v);
    return n ? fn(std::string(k), *n) : true;
  });
}

result<view> on(ctx& c, list_notifications& op) {
  return with_session(c, [&](const session_record&) -> result<view> {
    uint64_t after = 0;
    if (!op.cursor.empty()) {
      auto seq = parse_last_event_id(op.cursor);
      if (!seq || *seq == 0) return invalid_cursor();
      after = *seq;
    }
    json items = json::array();
    bool more = false;
    uint64_t last = 0;
    // The page, then the unread count over the whole list (≤ keep_per_user).
    auto listed = each_notification(c.st, after, [&](const std::string&, const notification& n) {
      if (items.size() == op.limit) {
        more = true;
        return false;
      }
      items.push_back(notification_view(n));
      last = n.seq;
      return true;
    });
    int64_t unread = 0;
    auto counted = each_notification(c.st, 0, [&](const std::string&, const notification& n) {
      unread += n.read ? 0 : 1;
      return true;
    });
    if (!listed || !counted) return unavailable_error();
    return view{json{{"items", items}, {"next_cursor", more ? json(std::to_string(last)) : json(nullptr)}, {"unread", unread}}
                    .dump()};
  });
}

result<view> on(ctx& c, read_notifications& op) {
  return with_session(c, [&](const session_record&) -> result<view> {
    write_batch b;
    int64_t updated = 0, unread = 0;
    std::sort(op.ids.begin(), op.ids.end());
    auto scanned = each_notification(c.st, 0, [&](const std::string& key, notification n) {
      bool named = op.all || std::binary_search(op.ids.begin(), op.ids.end(), n.seq);
      if (named && !n.read) {
        n.read = true;
        b.put(key, encode_notification(n));
        ++updated;
      }
      unread += n.read ? 0 : 1;
      return true;
    });
    if (!scanned) return unavailable_error();
    if (!commit(c, b)) return store_failed(c);
    return view{json{{"updated", updated}, {"unread", unread}}.dump()};
  });
}

result<done> on(ctx& c, delete_notification& op) {
  return with_session(c, [&](const session_record&) -> result<done> {
    auto key = keys::notification(c.st.partition, c.st.uid16.view(), op.id);
    auto raw = c.st.env->db->get(key);
    if (!raw) return unavailable_error();
    if (!raw->has_value()) return make_error(errc::not_found, "notification not found");
    write_batch b;
    b.remove(key);
    if (!commit(c, b)) return store_failed(c);
    if (auto& seqs = c.st.notification_seqs)
      seqs->erase(std::remove(seqs->begin(), seqs->end(), op.id), seqs->end());
    return done{};
  });
}

result<view> on(ctx& c, events_ticket&) {
  return with_session(c, [&](const session_record& cur) -> result<view> {
    auto& t = c.st.tickets;
    t.erase(std::remove_if(t.begin(), t.end(), [&](auto& x) { return x.expires_at <= c.now; }), t.end());
    if (t.size() >= max_tickets) t.erase(t.begin());
    auto made = new_session_token(c.st.uid16.view());  // the same form as a token: it names its user
    t.push_back({made.token_hash, cur.id, c.now + ticket_ttl});
    return view{json{{"ticket", made.token}, {"expires_at", format_time(c.now + ticket_ttl)}}.dump()};
  });
}

/// The retained events after `after`, as Server-Sent Event text.
result<std::pair<std::string, uint64_t>> replay_after(user_actor_state& st, uint64_t after) {
  std::string out;
  uint64_t last = after;
  auto prefix = keys::recent_events_prefix(st.partition, st.uid16.view());
  auto scanned = st.env->db->scan(keys::recent_event(st.partition, st.uid16.view(), after + 1), prefix_end(prefix),
                                  [&](std::string_view k, std::string_view v) {
                                    out.append(v);
                                    last = keys::read_u64(k.substr(prefix.size()));
                                    return true;
                                  });
  if (!scanned) return unavailable_error();
  return std::make_pair(std::move(out), last);
}

result<subscription> on(ctx& c, subscribe& op) {
  auto& st = c.st;
  if (!st.user) return make_error(errc::unauthorized, "invalid session");
  // Who opens it: the token, a ticket (used up), or the stream's own session.
  std::string session_id;
  if (!c.req.token_hash.empty()) {
    auto s = authenticated_session(c);
    if (!s) return s.err();
    session_id = (*s)->id;
  } else {
    if (!op.ticket_hash.empty()) {
      auto& t = st.tickets;
      auto it = std::find_if(t.begin(), t.end(), [&](auto& x) { return constant_time_equal(x.hash, op.ticket_hash); });
      if (it == t.end() || it->expires_at <= c.now) {
        if (it != t.end()) t.erase(it);
        return make_error(errc::unauthorized, "invalid or expired ticket");
      }
      session_id = it->session_id;
      t.erase(it);
    } else {
      session_id = op.session_id;
    }
    auto* s = st.sessions.find(session_id);
    if (!s || session_state(*s, c.now, st.env->sessions) != errc::ok) return make_error(errc::unauthorized, "invalid session");
    if (auto gate = status_gate(*st.user, c.now); gate != errc::ok) return account_gate_error(*st.user, gate);
  }
  auto same = [&](auto& x) { return x.relay == op.relay && x.stream == op.stream; };
  bool known = std::any_of(st.subs.begin(), st.subs.end(), same);
  if (!known && st.subs.size() >= max_streams_per_user)
    return make_error(errc::rate_limited, "too many open event streams for this user");
  // An id beyond the user's last event names nothing this server sent:
  // start from now (a client without Last-Event-ID sends the largest value).
  auto replay = replay_after(st, std::min(op.last_event_id, st.user->event_seq));
  if (!replay) return replay.err();
  if (!st.user->streams) {  // from now on its streamed events are kept for reconnects
    st.user->streams = true;
    write_batch b;
    put_record(c, b);
    if (!commit(c, b)) return store_failed(c);
  }
  if (!known) {
    if (st.subs.empty()) st.set_online(true);
    c.self->monitor(op.relay);
    st.subs.push_back({op.relay, op.stream, session_id});
  }
  return subscription{session_id, std::move(replay->first), replay->second,
                      caf::actor_cast<caf::strong_actor_ptr>(c.self)};
}

result<done> on(ctx& c, unsubscribe& op) {
  auto& subs = c.st.subs;
  auto before = subs.size();
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](auto& x) { return x.relay == op.relay && x.stream == op.stream; }),
             subs.end());
  if (before > 0 && subs.empty()) c.st.set_online(false);
  return done{};
}

// -- MFA (domain/mfa.h) ----------------------------------------------------------------
// The sudo window is checked by the caller (accounts::prove_recent) before
// the enrolment operations; the TOTP check runs here, in the actor's turn, so
// a code is accepted at most once (the last accepted step is stored before
// the answer). Recovery codes are Argon2id hashes, verified by the caller.

error mfa_off() { return make_error(errc::not_found, "MFA is not on"); }
error invalid_mfa_code() { return make_error(errc::invalid_credentials, "invalid code"); }

/// The raw secret of a sealed one; nullopt (logged) if it cannot be opened
/// (sealed under another cluster.secret).
std::optional<std::string> open_totp(ctx& c, const std::string& sealed) {
  auto raw = mfa::open_secret(c.st.env->mfa_key, sealed);
  if (!raw) spdlog::error("user actor: a TOTP secret of user {} cannot be opened (cluster.secret changed?)", c.st.user->id);
  return raw;
}

result<view> on(ctx& c, mfa_enroll&) {
  return with_session(c, [&](const session_record&) -> result<view> {
    auto& u = *c.st.user;
    if (mfa_enabled(u)) return make_error(errc::already_exists, "MFA is already on; turn it off first");
    auto secret = mfa::new_secret();
    u.totp_pending = mfa::seal_secret(c.st.env->mfa_key, secret);
    u.updated_at = c.now;
    write_batch b;
    put_record(c, b);
    add_log(c, b, "mfa_enrollment_started", true, {{"kind", "totp"}});
    if (!commit(c, b)) return store_failed(c);
    std::string label = !u.email.empty() ? u.email : !u.username.empty() ? u.username : u.id;
    json out = {{"secret", mfa::base32_encode(secret)},
                {"otpauth_uri", mfa::otpauth_uri(c.st.env->mfa_issuer, label, secret)}};
    return view{out.dump()};
  });
}

/// One TOTP check under the account's login throttle: the matched step, or
/// the error (429 throttled, 401 wrong: a failure counted and stored by the
/// caller's commit).
result<int64_t> checked_totp(ctx& c, const std::string& sealed, const std::string& code) {
  auto& st = c.st;
  auto reserved = st.guard.begin(st.user->failed_logins, c.now, st.env->login_throttle);
  if (!reserved) return reserved.err();
  auto raw = open_totp(c, sealed);
  auto step = raw ? mfa::check_totp(*raw, code, c.now, st.user->totp_last_step) : std::nullopt;
  if (!step) {
    st.guard.failed(*reserved, st.user->failed_logins, c.now, st.env->login_throttle);
    return invalid_mfa_code();
  }
  st.guard.finish(*reserved);
  return *step;
}

result<done> on(ctx& c, mfa_confirm& op) {
  return with_session(c, [&](const session_record&) -> result<done> {
    auto& u = *c.st.user;
    if (mfa_enabled(u)) return make_error(errc::already_exists, "MFA is already on");
    if (u.totp_pending.empty())
      return make_error(errc::not_found, "no TOTP enrolment is pending: start with POST /v1/account/mfa/totp");
    auto step = checked_totp(c, u.totp_pending, op.code);
    write_batch b;
    if (!step) {
      if (step.err().code == errc::invalid_credentials) {
        put_record(c, b);
        add_log(c, b, "mfa_failed", false, {{"during", "enrollment"}});
        emit(c, b, event_type::mfa_failed, {{"during", "enrollment"}, {"reason", "invalid_code"}});
        if (!commit(c, b)) return store_failed(c);
      }
      return step.err();
    }
    u.totp_secret = std::move(u.totp_pending);
    u.totp_pending.clear();
    u.totp_last_step = *step;
    u.recovery_hashes = std::move(op.recovery_hashes);
    u.updated_at = c.now;
    put_record(c, b);
    add_log(c, b, "mfa_enabled", true, {{"kind", "totp"}});
    emit(c, b, event_type::mfa_enabled, {{"kind", "totp"}});
    if (!commit(c, b)) return store_failed(c);
    return done{};
  });
}

result<done> on(ctx& c, mfa_disable&) {
  return with_session(c, [&](const session_record&) -> result<done> {
    auto& u = *c.st.user;
    bool was_on = mfa_enabled(u);
    if (!was_on && u.totp_pending.empty()) return done{};
    u.totp_secret.clear();
    u.totp_pending.clear();
    u.totp_last_step = 0;
    u.recovery_hashes.clear();
    u.updated_at = c.now;
    c.st.challenges.clear();
    write_batch b;
    put_record(c, b);
    if (was_on) {
      add_log(c, b, "mfa_disabled", true, {{"kind", "totp"}});
      emit(c, b, event_type::mfa_disabled, {{"kind", "totp"}});
    }
    if (!commit(c, b)) return store_failed(c);
    return done{};
  });
}

result<done> on(ctx& c, mfa_set_recovery& op) {
  return with_session(c, [&](const session_record&) -> result<done> {
    auto& u = *c.st.user;
    if (!mfa_enabled(u)) return mfa_off();
    u.recovery_hashes = std::move(op.recovery_hashes);
    u.updated_at = c.now;
    write_batch b;
    put_record(c, b);
    add_log(c, b, "mfa_recovery_codes_regenerated", true, {{"count", u.recovery_hashes.size()}});
    emit(c, b, event_type::mfa_recovery_codes_regenerated, {{"count", u.recovery_hashes.size()}});
    if (!commit(c, b)) return store_failed(c);
    return done{};
  });
}

error invalid_challenge() { return make_error(errc::invalid_credentials, "invalid or expired challenge"); }

result<mfa_ticket> on(ctx& c, mfa_begin& op) {
  auto& st = c.st;
  if (!st.user || !mfa_enabled(*st.user) || !st.challenges.find(op.challenge_hash, c.now)) return invalid_challenge();
  auto reserved = st.guard.begin(st.user->failed_logins, c.now, st.env->login_throttle);
  if (!reserved) return reserved.err();
  return mfa_ticket{st.user->recovery_hashes, *reserved};
}

result<signed_in> on(ctx& c, mfa_finish& op) {
  auto& st = c.st;
  if (!st.user || !mfa_enabled(*st.user)) {
    if (op.recovery) st.guard.finish(op.reservation);
    return invalid_challenge();
  }
  const mfa::challenge* ch = st.challenges.find(op.challenge_hash, c.now);
  if (!ch) {
    if (op.recovery) st.guard.finish(op.reservation);
    return invalid_challenge();
  }
  auto method = ch->method;
  write_batch b;
  auto fail = [&](const char* kind) -> error {
    bool dead = st.challenges.fail(op.challenge_hash);
    put_record(c, b);
    add_log(c, b, "mfa_failed", false, {{"method", method}, {"kind", kind}, {"challenge_closed", dead}});
    emit(c, b, event_type::mfa_failed, {{"method", method}, {"kind", kind}, {"reason", "invalid_code"}});
    if (!commit(c, b)) return store_failed(c);
    return dead ? make_error(errc::invalid_credentials, "invalid code; the challenge is closed: log in again")
                : invalid_mfa_code();
  };
  if (op.recovery) {
    // The check was reserved by mfa_begin (op.reservation).
    auto& hashes = st.user->recovery_hashes;
    auto it = op.recovery_hash.empty() ? hashes.end() : std::find(hashes.begin(), hashes.end(), op.recovery_hash);
    if (it == hashes.end()) {  // none matched (or it was used meanwhile)
      st.guard.failed(op.reservation, st.user->failed_logins, c.now, st.env->login_throttle);
      return fail("recovery_code");
    }
    st.guard.finish(op.reservation);
    hashes.erase(it);
    add_log(c, b, "mfa_recovery_code_used", true, {{"remaining", hashes.size()}});
    emit(c, b, event_type::mfa_recovery_code_used, {{"remaining", hashes.size()}});
  } else {
    auto step = checked_totp(c, st.user->totp_secret, op.code);
    if (!step) {
      if (step.err().code != errc::invalid_credentials) return step.err();
      return fail("totp");
    }
    st.user->totp_last_step = *step;
  }
  st.challenges.close(op.challenge_hash);
  // The account may have been blocked while the challenge waited.
  if (auto gate = status_gate(*st.user, c.now); gate != errc::ok) {
    put_record(c, b);
    add_log(c, b, "login", false, {{"method", method}, {"reason", errc_name(gate)}});
    commit(c, b);
    return account_gate_error(*st.user, gate);
  }
  return complete_login(c, b, method);
}

/// Run in social_request and report_request (they answer asynchronously), never here.
result<view> on(ctx&, social_change&) { return make_error(errc::internal, "internal error"); }
result<view> on(ctx&, file_report&) { return make_error(errc::internal, "internal error"); }

result<view> on(ctx& c, list_social& op) {
  return with_session(c, [&](const session_record&) -> result<view> {
    auto& st = c.st;
    if (!ensure_edges(st)) return unavailable_error();
    std::string after;
    if (!op.cursor.empty()) {
      auto raw = base64url_decode(op.cursor);
      if (!raw || raw->size() != 16) return invalid_cursor();
      after = *raw;
    }
    json_text t(64 + 192 * std::min<size_t>(op.limit, st.edges->size()));
    t.open_object().key("items").open_array();
    uint32_t n = 0;
    bool more = false;
    std::string last;
    for (auto it = after.empty() ? st.edges->begin() : st.edges->upper_bound(after); it != st.edges->end(); ++it) {
      bool lo = lower_than(st, it->first);
      auto state = social::state_for(it->second.pair, lo);
      bool take = op.blocks ? social::blocks(it->second.pair, lo)
                            : (!state.empty() && (op.state.empty() || op.state == state));
      if (!take) continue;
      if (n == op.limit) {
        more = true;
        break;
      }
      t.raw(it->second.item);
      ++n;
      last = it->first;
    }
    t.close_array().key("next_cursor");
    if (more) t.string(base64url_encode(last));
    else t.null();
    return view{t.close_object().take()};
  });
}

/// POST/DELETE /v1/friends|blocks/{id}: the caller's change to its pair with
/// `other`. When the caller owns the pair it decides, stores, and answers once
/// the other side has its half (or did not answer in time: the intent is
/// stored and delivered later); a first contact that changed nothing still
/// asks whether the other user exists. Otherwise it forwards the change to
/// the owner and stores the owner's answer before answering.
/// The request's response promise, kept in open_requests until finish()
/// answers it (or stop_atom does).
uint64_t hold(self_ptr self) {
  auto& st = self->state;
  auto id = ++st.next_request;
  st.open_requests.emplace(id, self->make_response_promise<user_reply>());
  return id;
}

template <class Answer>
void finish(self_ptr self, uint64_t id, Answer&& a) {
  auto& open = self->state.open_requests;
  auto it = open.find(id);
  if (it == open.end()) return;  // answered already (the actor was stopping)
  auto rp = std::move(it->second);
  open.erase(it);
  rp.deliver(std::forward<Answer>(a));
}

/// The caller owns the pair: decides, stores, delivers, and answers `id`
/// once the other half has it (or did not answer in time: the intent is
/// stored and delivered later).
void owner_change(self_ptr self, uint64_t id, const std::string& other, social::op o, const client_info& client) {
  auto& st = self->state;
  try {
    if (!st.user) return finish(self, id, to_caf(make_error(errc::unauthorized, "invalid session")));
    if (!ensure_edges(st)) return finish(self, id, to_caf(unavailable_error()));
    user_request env;
    env.client = client;
    ctx c{self, st, env, now_ms(), false, {}, {}};
    auto cur = half_pair(st, other);
    if (cur.version == gone_version) return finish(self, id, to_caf(not_found()));
    auto next = owner_decide(c, other, o, true, counted(st, c.now), nullptr);
    if (!next) return finish(self, id, to_caf(next.err()));
    if (*next == cur) return finish(self, id, user_reply{view{social_item(st, other)}});
    deliver(self, other, [self, id, other](std::optional<bool> gone) {
      if (gone && *gone) return finish(self, id, to_caf(not_found()));
      finish(self, id, user_reply{view{social_item(self->state, other)}});
    });
  } catch (const std::exception& e) {
    spdlog::error("user actor: {}", log_safe(e.what()));
    finish(self, id, to_caf(make_error(errc::internal, "internal error")));
  }
}

caf::result<user_reply> social_request(self_ptr self, user_request& req) {
  auto& st = self->state;
  auto& op = std::get<social_change>(req.op);
  ctx c{self, st, req, now_ms(), false, {}, {}};
  auto fail = [](const error& e) { return caf::result<user_reply>(to_caf(e)); };
  auto s = authenticated_session(c);
  if (!s) return fail(s.err());
  auto o = social::op_from(op.op);
  if (!o || op.other.size() != 16 || op.other == st.uid16.str()) return fail(make_error(errc::invalid_request, "invalid user"));
  if (!ensure_edges(st)) return fail(unavailable_error());
  auto cur = half_pair(st, op.other);
  if (cur.version == gone_version) return fail(not_found());
  auto other = op.other;
  // (A response promise is made only once nothing more is answered here:
  // once made, it alone answers the request.)
  if (lower_than(st, other)) {
    auto id = hold(self);
    auto rp = st.open_requests.at(id);
    if (cur.version != 0) {
      owner_change(self, id, other, *o, req.client);
      return rp;
    }
    // First contact: whether the other user exists is asked before anything
    // is written, so that an id of nobody leaves no half, intent or log
    // entry behind (404). No answer (its node is down): decided all the
    // same; the intent waits for it.
    send_sync(self, other, social::intent{}, false, [self, id, other, o = *o, client = req.client](std::optional<bool> gone) {
      if (gone && *gone) return finish(self, id, to_caf(not_found()));
      owner_change(self, id, other, o, client);
    });
    return rp;
  }
  auto host = caf::actor_cast<user_endpoint>(st.env->host_of(partition_of_user(other, st.env->partitions)));
  if (!host) return fail(unavailable_error());
  auto id = hold(self);
  auto rp = st.open_requests.at(id);
  auto me = summary_of(st);
  user_request fwd;
  fwd.user_id = other;
  fwd.credential = st.env->credential;
  auto deadline = c.now + forward_deadline;
  fwd.op = peer_decide{st.uid16.str(), op.op, counted(st, c.now), me.username, me.display_name, me.avatar_url, deadline};
  bool invite = *o == social::op::invite;
  if (invite) ++st.invites_in_flight;
  // An invite the owner may have decided without this actor hearing of it
  // counts until its half arrives (or for unsettled_invite_hold).
  auto unsettled = [self, other, invite, deadline] {
    if (invite) self->state.unsettled_invites[other] = deadline + unsettled_invite_hold;
  };
  auto client = req.client;
  self->request(host, peer_timeout, std::move(fwd))
    .then(
      [self, id, other, invite, client, unsettled](const user_reply& r) {
        auto& st = self->state;
        if (invite) --st.invites_in_flight;
        try {
          auto* p = std::get_if<social_pair>(&r.value);
          if (!p) return finish(self, id, to_caf(unavailable_error()));
          if (p->gone) return finish(self, id, to_caf(not_found()));
          auto h = social::decode_half(p->half);
          if (!h || !st.user || !ensure_edges(st)) {
            unsettled();
            return finish(self, id, to_caf(unavailable_error()));
          }
          user_request env;
          env.client = client;
          ctx c{self, st, env, now_ms(), false, {}, {}};
          auto cur = half_pair(st, other);
          if (cur.version == gone_version) return finish(self, id, to_caf(not_found()));
          if (h->pair.version > cur.version) {
            write_batch b;
            social::peer_summary peer{p->username, p->display_name, p->avatar_url};
            put_half(st, b, other, h->pair, &peer);
            social_events(c, b, other, cur, h->pair, true);
            if (!commit(c, b)) {
              unsettled();
              return finish(self, id, to_caf(store_failed(c)));
            }
          }
          finish(self, id, user_reply{view{social_item(st, other)}});
        } catch (const std::exception& e) {
          spdlog::error("user actor: {}", log_safe(e.what()));
          finish(self, id, to_caf(make_error(errc::internal, "internal error")));
        }
      },
      [self, id, invite, unsettled](caf::error& e) {
        if (invite) {
          --self->state.invites_in_flight;
          // The owner's own refusals (blocked, at the limit, no such user)
          // are answers; anything else may hide a decision.
          auto code = from_caf(e).code;
          if (code != errc::forbidden && code != errc::limit_reached && code != errc::not_found &&
              code != errc::invalid_request)
            unsettled();
        }
        finish(self, id, std::move(e));
      });
  return rp;
}

// -- reports (domain/moderation.h; docs/architecture.md "Reports and the moderation queue")
// A report crosses from the reporter's actor to the reported user's like a
// pair change: the reporter stores what it reported (keys::report_made) and
// the report as an intent (keys::report_intent) in one batch, then delivers
// it (peer_report) until the reported user's actor confirms it has stored
// it — at once, every intent_retry while it fails, and after a restart or
// a handoff (the intent lies with the pair intents: resume_atom finds it).
// The reported user's actor stores each report once (by its id) with the
// user's queue entry, in one batch, and tells the node's moderation-queue
// actor.

/// Reads the user's queue entry once per actor life (false: the store failed).
bool ensure_queue(user_actor_state& st) {
  if (st.queue) return true;
  auto raw = st.env->db->get(keys::queue_entry(st.partition, st.uid16.view()));
  if (!raw) return false;
  std::optional<moderation::entry> e;
  if (raw->has_value()) e = moderation::decode_entry(**raw);
  st.queue = e ? std::move(*e) : moderation::entry{};
  return true;
}

/// Tells the node's moderation-queue actor the entry just committed.
void announce_queue(user_actor_state& st, std::string encoded) {
  if (st.env->moderation)
    caf::anon_send(st.env->moderation, queue_changed{st.env->credential, st.partition, st.uid16.str(), std::move(encoded)});
}

/// The reported user answered a delivery: the intent is done; a reported
/// user that does not exist takes the reporter's record with it, one that
/// does refreshes the name the relations view shows.
void settle_report(self_ptr self, const std::string& key, const social_pair& r) {
  auto& st = self->state;
  if (!st.report_intents.count(key)) return;
  auto other = key.substr(0, 16), id16 = key.substr(16);
  write_batch b;
  b.remove(keys::report_intent(st.partition, st.uid16.view(), other, id16));
  if (st.user) {
    auto made_key = keys::report_made(st.partition, st.uid16.view(), other);
    auto raw = st.env->db->get(made_key);
    if (raw && raw->has_value())
      if (auto made = moderation::decode_report_made(**raw)) {
        if (r.gone) b.remove(made_key);
        else if (made->username != r.username) {
          made->username = r.username;
          b.put(made_key, moderation::encode_report_made(*made));
        }
      }
  }
  if (auto w = st.env->db->write(b); !w.ok()) {
    spdlog::warn("user actor: cannot settle a report: {}", w.err().message);
    arm_retry(self);  // delivered again later: stored once
    return;
  }
  st.report_intents.erase(key);
}

/// Sends the stored report `key` (other16 + id16) to the reported user's actor.
void deliver_report(self_ptr self, const std::string& key, delivered_fn done = nullptr) {
  auto& st = self->state;
  auto it = st.report_intents.find(key);
  if (it == st.report_intents.end()) {
    if (done) done(false);
    return;
  }
  auto other = key.substr(0, 16);
  auto host = delivery_host(st, other);
  if (!host) {
    arm_retry(self);
    if (done) done(std::nullopt);
    return;
  }
  if (!done && st.reports_delivering.count(key)) return;  // a retry waits for the delivery in flight
  st.reports_delivering.insert(key);
  user_request req;
  req.user_id = other;
  req.credential = st.env->credential;
  req.op = peer_report{st.uid16.str(), key.substr(16), it->second};
  self->request(host, peer_timeout, std::move(req))
    .then(
      [self, key, done](const user_reply& r) {
        self->state.reports_delivering.erase(key);
        auto* p = std::get_if<social_pair>(&r.value);
        try {
          if (p) settle_report(self, key, *p);
        } catch (const std::exception& e) {
          spdlog::error("user actor: settling a report: {}", log_safe(e.what()));
        }
        arm_retry(self);
        if (done) done(p ? std::optional<bool>(p->gone) : std::nullopt);
      },
      [self, key, done](caf::error&) {
        self->state.reports_delivering.erase(key);
        arm_retry(self);
        if (done) done(std::nullopt);
      });
}

void deliver_reports(self_ptr self) {
  std::vector<std::string> pending;
  for (auto& [key, r] : self->state.report_intents) pending.push_back(key);
  for (auto& k : pending) deliver_report(self, k);
}

/// POST /v1/reports: the caller's report about `other`, answered 202 once
/// the reported user's actor stored it or, if it did not answer in time,
/// once the caller's intent is stored (it is delivered later).
caf::result<user_reply> report_request(self_ptr self, user_request& req) {
  auto& st = self->state;
  auto& op = std::get<file_report>(req.op);
  ctx c{self, st, req, now_ms(), false, {}, {}};
  auto fail = [](const error& e) { return caf::result<user_reply>(to_caf(e)); };
  auto s = authenticated_session(c);
  if (!s) return fail(s.err());
  if (op.other.size() != 16 || op.other == st.uid16.str()) return fail(make_error(errc::invalid_request, "invalid user"));
  // Reports fill the reported user's partition: a reporter files at most
  // moderation.reports_per_minute of them.
  while (!st.report_times.empty() && st.report_times.front() <= c.now - 60'000) st.report_times.pop_front();
  if (auto most = st.env->reports_per_minute; most > 0 && st.report_times.size() >= most) {
    error e = make_error(errc::rate_limited, "too many reports; slow down");
    e.retry_after = std::max<int64_t>(1, (st.report_times.front() + 60'000 - c.now + 999) / 1000);
    return fail(e);
  }
  // The report's id: its time first, so a user's reports are stored oldest first.
  std::string id16;
  keys::append_u64(id16, static_cast<uint64_t>(c.now));
  id16 += random_bytes(8);
  auto other = op.other;
  auto text = moderation::encode_report({st.user->id, st.user->username, op.category, op.reason, c.now});
  write_batch b;
  b.put(keys::report_made(st.partition, st.uid16.view(), other), moderation::encode_report_made({{}, op.category, c.now}));
  b.put(keys::report_intent(st.partition, st.uid16.view(), other, id16), text);
  add_log(c, b, "report", true, {{"user_id", uuid_to_string(other)}, {"category", op.category}});
  // The reporter's event, not the reported user's: a number taken in the
  // reported user's sequence would show as a gap in their stream's ids.
  emit(c, b, event_type::report_filed,
       {{"reported_user_id", uuid_to_string(other)}, {"category", op.category}, {"reason", op.reason}, {"report_id", uuid_to_string(id16)}});
  if (!commit(c, b)) return fail(store_failed(c));
  auto key = other + id16;
  st.report_times.push_back(c.now);
  st.report_intents[key] = text;
  arm_retry(self);
  auto body = json{{"category", op.category},
                   {"created_at", format_time(c.now)},
                   {"id", uuid_to_string(id16)},
                   {"user_id", uuid_to_string(other)}}
                  .dump();
  auto id = hold(self);
  auto rp = st.open_requests.at(id);
  st.stop_answers.emplace(id, user_reply{view{body}});
  deliver_report(self, key, [self, id, body](std::optional<bool> gone) {
    self->state.stop_answers.erase(id);
    if (gone && *gone) return finish(self, id, to_caf(not_found()));
    finish(self, id, user_reply{view{body}});
  });
  return rp;
}

result<social_pair> on(ctx& c, peer_report& op) {
  auto& st = c.st;
  auto r = moderation::decode_report(op.report);
  if (!r || op.from.size() != 16 || op.id16.size() != 16 || op.from == st.uid16.str())
    return make_error(errc::invalid_request, "malformed report");
  if (!st.user) return gone_pair();
  auto me = summary_of(st);
  social_pair stored{{}, false, me.username, me.display_name, me.avatar_url, 0};
  auto key = keys::report(st.partition, st.uid16.view(), op.id16);
  auto have = st.env->db->get(key);
  if (!have || !ensure_queue(st)) return unavailable_error();
  if (have->has_value()) return stored;  // delivered before
  auto e = *st.queue;
  e.user_id = st.user->id;
  e.username = st.user->username;
  moderation::add_report(e, *r);
  auto encoded = moderation::encode_entry(e);
  write_batch b;
  b.put(key, op.report);
  b.put(keys::queue_entry(st.partition, st.uid16.view()), encoded);
  // No event and no log entry here: the reported user learns nothing (the
  // event is the reporter's, report.filed).
  if (!commit(c, b)) return store_failed(c);
  st.queue = std::move(e);
  announce_queue(st, std::move(encoded));
  return stored;
}

result<view> on(ctx& c, resolve_reports& op) {
  auto& st = c.st;
  if (!st.user) return not_found();
  if (!ensure_queue(st)) return unavailable_error();
  if (st.queue->pending == 0) return make_error(errc::not_found, "no pending reports for this user");
  auto e = *st.queue;
  e.user_id = st.user->id;
  e.username = st.user->username;
  moderation::resolve(e, {op.action, op.reason, op.by, c.now});
  auto encoded = moderation::encode_entry(e);
  c.by_admin = true;
  write_batch b;
  b.put(keys::queue_entry(st.partition, st.uid16.view()), encoded);
  json data = {{"action", op.action}, {"reason", op.reason}, {"by", op.by}, {"reports", e.last->reports}};
  if (op.action == "ban") {
    millis until = op.duration ? c.now + op.duration : 0;
    data["expires_at"] = until ? json(format_time(until)) : json(nullptr);
    ban_now(c, b, op.reason, until, op.by);
  } else if (op.action == "warn") {
    if (!notify_user(c, b, "Warning", op.reason, {{"kind", "moderation_warning"}})) return unavailable_error();
  }
  // No entry in the user's own log: a ban writes "banned", a warning is a
  // notification, and a clean decision is nothing the user needs to know of.
  emit(c, b, event_type::moderation_resolved, data);
  if (!commit(c, b)) {
    st.notification_seqs.reset();
    return store_failed(c);
  }
  st.queue = std::move(e);
  announce_queue(st, std::move(encoded));
  return view{moderation::queue_item(*st.queue, c.now, st.env->flag_rule)};
}

result<view> on(ctx& c, get_relations&) {
  auto& st = c.st;
  if (!st.user) return not_found();
  if (!ensure_edges(st)) return unavailable_error();
  struct row {
    std::string user_id, username;
    millis at = 0;
  };
  std::vector<row> blocks, blocked_by, reports, reported_by;
  for (auto& [other, h] : *st.edges) {
    if (h.pair.version == gone_version) continue;
    bool lo = lower_than(st, other);
    row r{uuid_to_string(other), h.peer.username, h.pair.updated_at};
    if (social::blocks(h.pair, lo)) blocks.push_back(r);
    if (social::blocked_by(h.pair, lo)) blocked_by.push_back(r);
  }
  auto& db = *st.env->db;
  auto made = keys::reports_made_prefix(st.partition, st.uid16.view());
  auto scanned = db.scan_prefix(made, [&](std::string_view k, std::string_view v) {
    if (auto m = moderation::decode_report_made(v); m && k.size() == made.size() + 16)
      reports.push_back({uuid_to_string(k.substr(made.size())), m->username, m->at});
    return true;
  });
  // One row per reporter: their latest report.
  std::map<std::string, row> by_reporter;
  if (scanned)
    scanned = db.scan_prefix(keys::reports_prefix(st.partition, st.uid16.view()), [&](std::string_view, std::string_view v) {
      if (auto r = moderation::decode_report(v)) {
        auto& seen = by_reporter[r->reporter_id];
        if (r->at >= seen.at) seen = {r->reporter_id, r->reporter_username, r->at};
      }
      return true;
    });
  if (!scanned) return unavailable_error();
  for (auto& [id, r] : by_reporter) reported_by.push_back(r);
  auto render = [](std::vector<row>& rows) {
    std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.at != b.at ? a.at > b.at : a.user_id < b.user_id; });
    json out = json::array();
    for (auto& r : rows)
      out.push_back({{"user_id", r.user_id},
                     {"username", r.username.empty() ? json(nullptr) : json(r.username)},
                     {"at", r.at ? json(format_time(r.at)) : json(nullptr)}});
    return out;
  };
  return view{json{{"blocked_by", render(blocked_by)},
                   {"blocks", render(blocks)},
                   {"reported_by", render(reported_by)},
                   {"reports", render(reports)}}
                  .dump()};
}

/// Ends the streams that may no longer run after a change: all of them when
/// the user is gone or may not use sessions, and those whose session ended.
void close_streams(ctx& c) {
  auto& st = c.st;
  if (st.subs.empty()) return;
  std::string_view all_reason;
  if (!st.user) all_reason = "account_deleted";
  else if (auto gate = status_gate(*st.user, c.now); gate != errc::ok) all_reason = errc_name(gate);
  auto& cred = st.env->credential;
  auto keep = std::remove_if(st.subs.begin(), st.subs.end(), [&](auto& s) {
    std::string_view reason = all_reason;
    if (reason.empty()) {
      auto* session = st.sessions.find(s.session_id);
      if (!session) reason = "session_revoked";
      else if (session_state(*session, c.now, st.env->sessions) != errc::ok) reason = "session_expired";
    }
    if (reason.empty()) return false;
    c.self->send(s.relay, stream_end{cred, s.stream, sse_end_frame(reason)});
    return true;
  });
  st.subs.erase(keep, st.subs.end());
  if (st.subs.empty()) st.set_online(false);
}

/// Operator and index probes: they neither count as use nor change what a
/// published answer says.
bool is_probe(const user_op& op) {
  return std::holds_alternative<debug_info>(op) || std::holds_alternative<holds_key>(op);
}

caf::result<user_reply> serve(self_ptr self, user_request& req) {
  auto& st = self->state;
  if (!st.env->accept(req.credential, "user actor", self->current_sender())) return to_caf(refused_error());
  if (req.version != protocol_version) return to_caf(make_error(errc::invalid_request, "unknown protocol version"));
  if (!st.env->serving(st.partition)) return to_caf(moving_error());
  if (st.load_failed) {  // retire; the next request loads afresh
    request_passivation(self);
    return to_caf(unavailable_error());
  }
  ctx c{self, st, req, now_ms(), false, {}, {}};
  bool probe = is_probe(req.op);
  if (!probe) st.activity->last.store(c.now, std::memory_order_relaxed);
  // Anything but a read may change what a published answer says: take them
  // all back before it runs (read_cache).
  if (!probe && !std::holds_alternative<authenticate>(req.op)) st.withdraw_reads();
  // Friends, blocks and reports answer asynchronously (they wait for the other user).
  if (std::holds_alternative<social_change>(req.op) || std::holds_alternative<file_report>(req.op)) {
    try {
      if (!settle_ban(c)) return to_caf(store_failed(c));
      if (std::holds_alternative<file_report>(req.op)) return report_request(self, req);
      return social_request(self, req);
    } catch (const std::exception& e) {
      spdlog::error("user actor: {}", log_safe(e.what()));
      return to_caf(make_error(errc::internal, "internal error"));
    }
  }
  result<user_reply_value> r = make_error(errc::internal, "internal error");
  try {
    if (!probe && !settle_ban(c)) return to_caf(store_failed(c));
    r = std::visit(
        [&](auto& op) -> result<user_reply_value> {
          auto out = on(c, op);
          if (!out) return out.err();
          return user_reply_value{std::move(*out)};
        },
        req.op);
  } catch (const std::exception& e) {
    spdlog::error("user actor: {}", log_safe(e.what()));  // may quote request data
  }
  // (Not after a failed load: "could not read" is no deletion.)
  if (!probe && !st.load_failed) close_streams(c);
  // An absent user has nothing worth keeping in memory.
  if (!st.user && !std::holds_alternative<create_user>(req.op) && st.no_intents() && st.open_requests.empty())
    request_passivation(self);
  if (!r) return to_caf(r.err());
  return user_reply{std::move(*r)};
}

user_actor_hdl::behavior_type user_actor(self_ptr self, std::shared_ptr<actor_env> env, passivation_sink host,
                                         uint16_t partition, std::string uid16,
                                         std::shared_ptr<activity_slot> activity) {
  auto& st = self->state;
  st.env = env;
  st.host = std::move(host);
  st.partition = partition;
  st.uid16 = uid_key{uid16};
  st.activity = activity ? std::move(activity) : std::make_shared<activity_slot>();
  st.activity->last.store(now_ms(), std::memory_order_relaxed);
  st.activity->publishing.store(false, std::memory_order_relaxed);
  env->counters.live_user_actors.fetch_add(1, std::memory_order_relaxed);
  env->counters.user_actor_spawns.fetch_add(1, std::memory_order_relaxed);
  load(st);
  deliver_all(self);  // intents a crash or a handoff left undelivered
  // A node that held streams is gone (or its relay stopped): drop them.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& subs = self->state.subs;
    if (subs.empty()) return;
    subs.erase(std::remove_if(subs.begin(), subs.end(), [&](auto& s) { return s.relay.address() == dm.source; }),
               subs.end());
    if (subs.empty()) self->state.set_online(false);
  });
  // No timer of its own: the host's idle sweep asks (idle_atom) when this
  // actor's activity slot says it has been idle for idle_passivation.
  return {
    [self](user_request& req) -> caf::result<user_reply> { return serve(self, req); },
    [self](stop_atom) {
      // Requests still waiting for another user's actor are answered, never
      // left hanging: "moving" is retried by the router at the next owner.
      auto& st = self->state;
      for (auto& [id, rp] : st.open_requests) {
        auto answer = st.stop_answers.find(id);
        if (answer != st.stop_answers.end()) rp.deliver(std::move(answer->second));
        else rp.deliver(to_caf(moving_error()));
      }
      st.open_requests.clear();
      st.stop_answers.clear();
      self->quit();
    },
    [self](idle_atom) {
      auto& st = self->state;
      if (self->current_sender() == self->ctrl()) {  // the intent retry timer
        st.retry_armed = false;
        deliver_all(self);
        arm_retry(self);
        return;
      }
      if (self->current_sender() != caf::actor_cast<caf::strong_actor_ptr>(st.host)) return;
      if (!st.no_intents()) deliver_all(self);
      // Reads the router answered from this actor's published answers count
      // as activity too; fold them in so the next sweep sees them.
      auto now = now_ms();
      auto last = std::max(st.activity->last.load(std::memory_order_relaxed), st.last_hit());
      st.activity->last.store(last, std::memory_order_relaxed);
      // A user with an open stream is online: its actor stays.
      // So is one with intents to deliver.
      if (now - last >= st.env->idle_passivation && st.subs.empty() && st.no_intents() && st.open_requests.empty())
        request_passivation(self);
      else st.withdraw_expired(now);
    },
  };
}

} // namespace

user_actor_hdl spawn_user_actor(caf::local_actor* parent, std::shared_ptr<actor_env> env, passivation_sink host,
                                uint16_t partition, std::string uid16,
                                std::shared_ptr<activity_slot> activity) {
  return parent->spawn(user_actor, std::move(env), std::move(host), partition, std::move(uid16),
                       std::move(activity));
}

} // namespace roster
