#include "domain/session_book.h"

#include <algorithm>

#include "base/crypto.h"
#include "domain/user_views.h"

namespace roster {

namespace {
error session_not_found() { return make_error(errc::not_found, "session not found"); }

/// A well-formed cursor that names no position in this list (400, fields.cursor).
error invalid_cursor() {
  error e = make_error(errc::invalid_request, "invalid cursor");
  e.fields["cursor"] = "is not a cursor this server handed out";
  return e;
}

/// The entry with this id in a vector sorted by id, or nullptr (const or not).
template <class Entries>
auto lookup(Entries& entries, std::string_view id) -> decltype(entries.data()) {
  auto it = std::lower_bound(entries.begin(), entries.end(), id,
                             [](const auto& e, std::string_view v) { return e.s.id < v; });
  return it != entries.end() && it->s.id == id ? &*it : nullptr;
}

/// "current" names the caller's own session.
std::string_view resolve(std::string_view id, std::string_view current_id) {
  return id == "current" ? current_id : id;
}
} // namespace

json session_page::to_json() const {
  return {{"items", items}, {"next_cursor", next_cursor ? json(*next_cursor) : json(nullptr)}};
}

// -- entries ------------------------------------------------------------------

session_book::entry* session_book::find_entry(std::string_view id) { return lookup(entries_, id); }

const session_record* session_book::find(std::string_view id) const {
  auto* e = lookup(entries_, id);
  return e ? &e->s : nullptr;
}

session_book::entry* session_book::find_by_hash(std::string_view token_hash) {
  for (auto& e : entries_)
    if (e.s.token_hash == token_hash) return &e;
  // A request authenticated by a JWT names its session by jwt_session_key(id).
  if (token_hash.size() != 32) return nullptr;
  for (auto& e : entries_) {
    if (e.jwt_key.empty()) e.jwt_key = jwt_session_key(e.s.id);
    if (e.jwt_key == token_hash) return &e;
  }
  return nullptr;
}

std::string jwt_session_key(std::string_view session_id) {
  return sha256(std::string("roster-jwt-session:").append(session_id));
}

void session_book::insert(entry e) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), e.s.id,
                             [](const entry& x, const std::string& v) { return x.s.id < v; });
  if (it != entries_.end() && it->s.id == e.s.id) return;  // the first one loaded stays
  entries_.insert(it, std::move(e));
}

void session_book::put(entry& e, session_writes& w) {
  e.persisted_use = e.s.last_used_at;
  w.put.push_back(e.s);
}

void session_book::drop(std::vector<entry>::iterator it, session_writes& w) {
  w.removed_ids.push_back(std::move(it->s.id));
  entries_.erase(it);
  // A user who logged out everywhere keeps no spare capacity per actor.
  if (entries_.empty()) entries_.shrink_to_fit();
}

void session_book::load(session_record s) {
  millis used = s.last_used_at;
  insert(entry{std::move(s), used, {}});
}

void session_book::clear() {
  entries_.clear();
  entries_.shrink_to_fit();
}

// -- operations ---------------------------------------------------------------

book_result<created_session> session_book::create(std::string_view uid16, std::string_view method,
                                                  std::string_view ip, std::string_view user_agent, millis now,
                                                  const session_rules& r) {
  session_writes w;
  // Expired sessions go first, in id order; then, above the cap, the least
  // recently used (the first in id order among equals).
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (session_state(it->s, now, r.policy) != errc::ok) {
      w.removed_ids.push_back(std::move(it->s.id));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  while (!entries_.empty() && entries_.size() >= r.max_per_user) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const entry& a, const entry& b) {
      return a.s.last_used_at < b.s.last_used_at;
    });
    drop(oldest, w);
  }

  auto tok = new_session_token(uid16);
  entry e;
  e.s.id = uuid_to_string(new_uuid_bytes());
  e.s.token_hash = std::move(tok.token_hash);
  e.s.method = std::string(method);
  e.s.created_at = e.s.last_used_at = e.s.authenticated_at = now;
  e.s.expires_at = now + r.policy.ttl;
  e.s.ip = std::string(ip);
  e.s.user_agent = std::string(user_agent.substr(0, 512));
  put(e, w);

  created_session out;
  out.id = e.s.id;
  out.view = session_view_text(e.s, true, tok.token);
  out.token = std::move(tok.token);
  insert(std::move(e));
  return {std::move(out), std::move(w)};
}

book_result<const session_record*> session_book::authenticate(std::string_view token_hash, millis now,
                                                              const session_rules& r,
                                                              std::optional<millis> last_hit,
                                                              errc account_gate) {
  entry* e = token_hash.empty() ? nullptr : find_by_hash(token_hash);
  if (!e) return {make_error(errc::unauthorized, "invalid session"), {}};
  if (last_hit) e->s.last_used_at = std::max(e->s.last_used_at, *last_hit);
  if (session_state(e->s, now, r.policy) != errc::ok) {
    session_writes w;
    drop(entries_.begin() + (e - entries_.data()), w);
    return {make_error(errc::session_expired, "session expired"), std::move(w)};
  }
  if (account_gate != errc::ok) return {status_gate_error(account_gate), {}};
  e->s.last_used_at = now;
  session_writes w;
  if (now - e->persisted_use > r.use_persist_interval) put(*e, w);
  return {&e->s, std::move(w)};
}

void session_book::record_use(std::string_view token_hash, millis at) {
  if (auto* e = find_by_hash(token_hash)) e->s.last_used_at = std::max(e->s.last_used_at, at);
}

result<session_page> session_book::page(millis now, const session_rules& r, size_t limit, std::string_view cursor,
                                        std::string_view current_id) const {
  limit = std::max<size_t>(limit, 1);
  std::vector<const session_record*> list;
  list.reserve(entries_.size());
  for (auto& e : entries_)
    if (session_state(e.s, now, r.policy) == errc::ok) list.push_back(&e.s);
  // Newest first; ties broken by id so that pages are stable.
  std::sort(list.begin(), list.end(), [](const session_record* a, const session_record* b) {
    return a->created_at != b->created_at ? a->created_at > b->created_at : a->id < b->id;
  });
  size_t start = 0;
  if (!cursor.empty()) {
    auto after = base64url_decode(cursor);
    auto it = after ? std::find_if(list.begin(), list.end(), [&](auto* s) { return s->id == *after; }) : list.end();
    if (it == list.end()) return invalid_cursor();
    start = static_cast<size_t>(it - list.begin()) + 1;
  }
  session_page out;
  for (size_t i = start; i < list.size() && out.items.size() < limit; ++i)
    out.items.push_back(session_view(*list[i], list[i]->id == current_id));
  if (start + out.items.size() < list.size()) out.next_cursor = base64url_encode(list[start + out.items.size() - 1]->id);
  return out;
}

result<json> session_book::get(std::string_view id, std::string_view current_id) const {
  id = resolve(id, current_id);
  auto* s = find(id);
  if (!s) return session_not_found();
  return session_view(*s, id == current_id);
}

book_result<json> session_book::extend(std::string_view current_id, millis now, const session_rules& r) {
  auto* e = find_entry(current_id);
  if (!e) return {session_not_found(), {}};
  e->s.expires_at = now + r.policy.ttl;
  session_writes w;
  put(*e, w);
  return {session_view(e->s, true), std::move(w)};
}

book_result<std::string> session_book::revoke(std::string_view id, std::string_view current_id) {
  // A copy: `id` may point into the entry that is about to go.
  std::string target(resolve(id, current_id));
  auto* e = find_entry(target);
  if (!e) return {session_not_found(), {}};
  session_writes w;
  drop(entries_.begin() + (e - entries_.data()), w);
  return {std::move(target), std::move(w)};
}

book_result<size_t> session_book::revoke_all(std::string_view keep_id) {
  std::string keep(keep_id);  // may point into an entry that moves
  session_writes w;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->s.id != keep) {
      w.removed_ids.push_back(std::move(it->s.id));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  if (entries_.empty()) entries_.shrink_to_fit();
  size_t count = w.removed_ids.size();
  return {count, std::move(w)};
}

book_result<size_t> session_book::change_password(std::string_view current_id, millis now) {
  std::string keep(current_id);
  auto* e = find_entry(keep);
  if (!e) return {session_not_found(), {}};
  e->s.authenticated_at = now;
  session_writes w;
  put(*e, w);
  auto others = revoke_all(keep);
  w.removed_ids = std::move(others.writes.removed_ids);
  return {*others.value, std::move(w)};
}

} // namespace roster
