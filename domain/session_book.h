#pragma once
// session_book: one user's login sessions and the rules over them (SPEC §2,
// "Sessions"): creation with the per-user cap, expiry, authentication of a
// token, paging, revocation, the password-change rule, and when a session's
// last use is worth a write.
//
// Operation
//   The user actor (actors/user/) holds one book per live user, loaded from
//   the store (load) and changed only through the calls below. A call that
//   changes the book returns, next to its result, the writes that make the
//   change durable (session_writes): sessions to put and session ids to
//   remove. When the call returns, the book already reflects them; the caller
//   turns them into write_batch entries (keys::session(partition, uid16,
//   sid16)), commits them in one batch with the rest of the request's writes
//   and only then replies. If that commit fails, the caller must rebuild the
//   book from the store (clear + load): memory never runs ahead of what is
//   stored. The book never sees keys, the store, CAF or the clock: `now` is
//   an argument.
//
// Concurrency
//   Plain data, not thread-safe: only the owning actor calls it. A pointer or
//   reference into the book stays valid until its next non-const call.
//
// Memory
//   100,000 live users must fit in 500 MiB (SPEC §7), so the book is one
//   vector of entries sorted by session id (24 bytes, no heap while empty);
//   lookups by token hash are a linear scan, which over the 1–3 sessions a
//   user typically has (at most `max_per_user`) is cheaper than any index.
//   Per session: sizeof(session_record) + 8, plus the heap of its strings.
//   Measured (glibc, malloc_usable_size): an empty book is 24 B and no heap;
//   one session with a 97-byte User-Agent adds 384 B in 4 allocations (the
//   three maps it replaces: 160 B + 960 B in 12).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/errc.h"
#include "domain/user.h"

namespace roster {

/// The session rules of a node: the expiry policy (session_policy, in
/// domain/user.h), the per-user cap and how stale a stored last use may get.
struct session_rules {
  session_policy policy;
  /// A user holds at most this many sessions: creating one more first drops
  /// the least recently used (after the expired ones).
  size_t max_per_user = 100;
  /// A session's last_used_at is written only once it moved more than this
  /// past the stored value. Idle expiry is counted in days, so minute-level
  /// precision loses nothing and keeps reads from turning into writes.
  millis use_persist_interval = 60'000;
};

/// What must be stored for a book change to be durable.
struct session_writes {
  std::vector<session_record> put;        // encode_session each under keys::session
  std::vector<std::string> removed_ids;   // session ids (uuid text) whose keys to delete
  bool empty() const { return put.empty() && removed_ids.empty(); }
};

/// A book call's result and the writes to commit. An error may carry writes
/// too (an expired session is refused *and* removed): commit them either way.
template <class T>
struct book_result {
  result<T> value;
  session_writes writes;
};

/// A new session, as the login / registration reply shows it.
struct created_session {
  std::string id;     // uuid text
  std::string token;  // the bearer token, handed out once and never stored
  std::string view;   // session_view_text(s, true, token): the reply's "session"
};

/// One page of a user's live sessions, newest first.
struct session_page {
  json items = json::array();               // session_view of each
  std::optional<std::string> next_cursor;   // base64url(id of the last item) while more follow
  /// {"items": [...], "next_cursor": "..." | null}
  json to_json() const;
};

/// The token hash a request authenticated by a JWT carries for session `id`
/// (uuid text): SHA-256("roster-jwt-session:" id). authenticate() and
/// record_use() accept it in place of the session token's hash; no session
/// token hashes to it (a token is 64 base64url characters, no ':').
std::string jwt_session_key(std::string_view session_id);

class session_book {
 public:
  // -- loading ----------------------------------------------------------------
  /// Adds a session read from the store; its last_used_at counts as
  /// persisted. A second session with the same id is ignored.
  void load(session_record s);
  /// Forgets every session (no writes: used before a reload).
  void clear();

  // -- queries ----------------------------------------------------------------
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  /// The session with this id (uuid text), or nullptr.
  const session_record* find(std::string_view id) const;

  // -- sessions ---------------------------------------------------------------
  /// Opens a session for the user `uid16` (16 raw bytes, carried in the
  /// token): first drops the expired sessions, then, while the book is at
  /// `max_per_user`, the least recently used (ties: the smallest id). The
  /// session lasts `policy.ttl`; `user_agent` is cut to 512 bytes. Writes:
  /// the new session put, the dropped ones removed. Never fails.
  book_result<created_session> create(std::string_view uid16, std::string_view method, std::string_view ip,
                                      std::string_view user_agent, millis now, const session_rules& r);

  /// Authenticates a request by its token hash (raw 32 bytes). `last_hit` is
  /// the last time the read cache answered for this token (see read_cache),
  /// folded into the session's last use before expiry is judged;
  /// `account_gate` is status_gate() of the user, checked once the session
  /// is known to be valid. Outcomes, in this order:
  ///  - unauthorized "invalid session": empty or unknown hash; no writes;
  ///  - session_expired "session expired": past its absolute or idle expiry;
  ///    the session is dropped (writes: its removal);
  ///  - the gate's error (status_gate_error); no writes, last use unchanged
  ///    (the read-cache hit stays folded in);
  ///  - ok: the session, its last use set to `now`; writes: the session put
  ///    when `now` is more than `use_persist_interval` past its stored use.
  book_result<const session_record*> authenticate(std::string_view token_hash, millis now, const session_rules& r,
                                                  std::optional<millis> last_hit = std::nullopt,
                                                  errc account_gate = errc::ok);

  /// Folds a read-cache hit into the session holding `token_hash` (raises its
  /// last use to `at`); no write: the next put carries it. Unknown hashes are
  /// ignored.
  void record_use(std::string_view token_hash, millis at);

  /// The live (unexpired) sessions, newest first (created_at descending, ties
  /// by id ascending, so pages are stable), at most `limit` (at least 1)
  /// after the cursor. `cursor`: empty for the first page, else a
  /// next_cursor handed out before; one that names no live session is
  /// invalid_request "invalid cursor" with fields.cursor. `current_id` marks
  /// the caller's session. Writes nothing, drops nothing.
  result<session_page> page(millis now, const session_rules& r, size_t limit, std::string_view cursor,
                            std::string_view current_id) const;

  /// The session `id`, or the caller's for "current", expired or not.
  /// not_found "session not found".
  result<json> get(std::string_view id, std::string_view current_id) const;

  /// Extends the caller's session to `now + policy.ttl`; its view. Writes:
  /// the session put. not_found "session not found" for an unknown id.
  book_result<json> extend(std::string_view current_id, millis now, const session_rules& r);

  /// Revokes the session `id`, or the caller's for "current"; the revoked
  /// id. Writes: its removal. not_found "session not found".
  book_result<std::string> revoke(std::string_view id, std::string_view current_id);

  /// Revokes every session but `keep_id` (empty: all), expired ones
  /// included; how many. Writes: their removals.
  book_result<size_t> revoke_all(std::string_view keep_id = {});

  /// The password-change rule: the caller's session stays and counts as
  /// freshly authenticated (authenticated_at = now, the sudo window), every
  /// other session is revoked; how many were. Writes: the caller's session
  /// put, the others removed. not_found "session not found" for an unknown
  /// id (nothing changes).
  book_result<size_t> change_password(std::string_view current_id, millis now);

 private:
  struct entry {
    session_record s;
    millis persisted_use = 0;  // last_used_at as the store holds it
    std::string jwt_key;       // jwt_session_key(s.id), computed when first needed
  };
  entry* find_entry(std::string_view id);
  entry* find_by_hash(std::string_view token_hash);
  /// Adds a put of `e` to `w` and marks its last use as stored.
  static void put(entry& e, session_writes& w);
  /// Removes the entry at `it` and adds its removal to `w`.
  void drop(std::vector<entry>::iterator it, session_writes& w);
  void insert(entry e);

  std::vector<entry> entries_;  // sorted by s.id
};

} // namespace roster
