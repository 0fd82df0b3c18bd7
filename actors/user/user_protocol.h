#pragma once
// The user actor's protocol: one message struct per operation, the routable
// envelope that carries any of them, and the typed reply of each.
//
//   user_request{version, user_id, token_hash, client, credential, op}
//     op: one of the structs below (a std::variant: append only)
//   → user_reply{one of the reply structs}  or a caf::error of errc (actors/wire.h)
//
// The envelope is what routing needs (the user id picks the partition) and
// what every operation shares (the token of the session, who called, the
// member credential); the router, the partition host and the gateway handle
// it without looking at `op`. reply_of<Op> names the reply of each operation,
// so a caller writes `router.call_user(uid, get_session{id}, ...)` and gets a
// result<session_view_reply> back — a renamed field breaks the build.
//
// "token" operations authenticate the envelope's token_hash first; "admin"
// and "internal" ones trust the caller (the router only sends them after the
// HTTP layer checked the admin key). Client-facing views cross the mailbox
// rendered (`view`): the actor renders them once per change and the read
// cache serves the same text; everything a workflow reads is a typed field.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/stream/stream_protocol.h"
#include "actors/wire.h"
#include "domain/user.h"

namespace roster {

// -- operations -----------------------------------------------------------------

/// admin: writes a new user (its keys already claimed) and, when
/// `session_method` is set and the account is active, its first session.
struct create_user {
  user_record record;
  std::string session_method;
};
/// token: the caller's own view plus session_id and authenticated_at (GET /v1/account).
struct authenticate {};
/// admin: reserves a password check on the account (429 when throttled) and
/// hands out the hash to verify.
struct login_begin {};
/// admin: the check reserved by login_begin failed.
struct login_failed {
  std::string method;
  uint64_t reservation = 0;
};
/// admin: a new session. With `password_hash`, only if it is still the
/// account's hash (it did not change while the caller verified it). With
/// `via_key` (an index key such as "device:<id>"), only if the user holds
/// that key now: not_found otherwise, so a caller that found the user in a
/// cache of index lookups can never log into the wrong account.
struct login_finish {
  std::string method;
  std::optional<std::string> password_hash;
  uint64_t reservation = 0;
  std::string via_key;
};
/// token: a page of the caller's live sessions, newest first.
struct list_sessions {
  uint32_t limit = 50;
  std::string cursor;
};
/// token: one session by id, or "current".
struct get_session {
  std::string id;
};
/// token: pushes the calling session's absolute expiry out by auth.session_ttl.
struct extend_session {};
/// token: revokes one session by id, or "current".
struct revoke_session {
  std::string id;
};
/// token: revokes every session of the caller.
struct revoke_all_sessions {};
/// token (admin = false) or admin: applies a validated profile patch; the
/// caller has claimed any new username/email key.
struct update_profile {
  profile_patch patch;
  bool admin = false;
};
/// token: the account's password hash and whether the session is inside the
/// sudo window.
struct get_credentials {};
/// token: sets a new password hash if the current one is still `expected_hash`;
/// revokes every other session. `reservation` ends the check that proved the
/// current password.
struct set_password {
  std::string password_hash;
  std::string expected_hash;
  std::optional<uint64_t> reservation;
};
/// token (self) or admin: deletes the user; replies with the index keys to release.
struct delete_user {
  bool admin = false;
};
/// token: a page of the security log, newest first.
struct get_logs {
  uint32_t limit = 50;
  std::string cursor;
};
/// anyone: the public profile.
struct get_public {};
/// admin: the admin view.
struct admin_get {};
/// admin: activates, blocks or unblocks (separate states: domain/user.h
/// apply_status_change).
struct admin_set_status {
  status_change change = status_change::activate;
};
/// admin: revokes every session.
struct admin_revoke_sessions {};
/// internal (index repair): does this user hold `key`?
struct holds_key {
  std::string key;
};
/// internal (operators): the live actor's state; never wakes a passivated user.
struct debug_info {};
/// admin: a new in-app notification (the data object as JSON text).
struct add_notification {
  std::string title, body, data;
};
/// token: a page of the caller's notifications, newest first, with the unread count.
struct list_notifications {
  uint32_t limit = 50;
  std::string cursor;
};
/// token: marks notifications read (the ids, or all).
struct read_notifications {
  std::vector<uint64_t> ids;
  bool all = false;
};
/// token: deletes one notification.
struct delete_notification {
  uint64_t id = 0;
};
/// token: a single-use ticket (30 s) that opens an event stream in place of
/// the token (browsers' EventSource cannot send headers).
struct events_ticket {};
inline constexpr uint64_t no_last_event = ~uint64_t{0};
/// token, ticket or internal: opens a live stream of the user's events at
/// `relay` (stream number `stream`): replies the retained events after
/// `last_event_id` and pushes every new one. Authenticated by the envelope's
/// token, else by `ticket_hash` (used up), else by `session_id` (the HTTP
/// layer re-subscribing its own stream after a handoff; never client input).
struct subscribe {
  stream_relay_hdl relay;
  uint64_t stream = 0;
  uint64_t last_event_id = no_last_event;  // no_last_event: only events from now on
  std::string ticket_hash;
  std::string session_id;
};
/// internal: the stream went away.
struct unsubscribe {
  stream_relay_hdl relay;
  uint64_t stream = 0;
};

/// admin: a password reset by a recovery code (the caller checked it) sent
/// to `via_key` ("email:<address>"): not_found unless the user still holds
/// that key; sets the hash and revokes every session.
struct recover_password {
  std::string password_hash;
  std::string via_key;
};
/// token: marks the account's email verified, if `via_key` is still its
/// email's index key (the caller checked a verification code sent there).
struct verify_email {
  std::string via_key;
};
/// token: links the identity of index key `key` (a device or a provider /
/// custom link; the caller claimed the key). The own view.
struct add_identity {
  std::string key;
};
/// token: unlinks the identity named by `kind` (email, phone, device, a
/// provider, custom) and, for a device, `value` (the caller proved a recent
/// login). Replies profile_updated: its key is in released_keys.
struct remove_identity {
  std::string kind;
  std::string value;
};
/// token: the preferences (JSON object text, "{}" when none).
struct get_prefs {};
/// token: replaces the preferences (a checked JSON object's text).
struct put_prefs {
  std::string json;
};
/// token: starts (or restarts) a TOTP enrolment: a new pending secret;
/// replies {secret, otpauth_uri} (the only time the secret is shown). 409
/// already_exists when MFA is on. The caller checked the sudo window.
struct mfa_enroll {};
/// token: the first valid code of the pending secret turns MFA on with
/// these recovery codes (Argon2id hashes, made by the caller).
struct mfa_confirm {
  std::string code;
  std::vector<std::string> recovery_hashes;
};
/// token: MFA off; the secret and recovery codes are dropped.
struct mfa_disable {};
/// token: replaces the recovery codes (404 not_found when MFA is off).
struct mfa_set_recovery {
  std::vector<std::string> recovery_hashes;
};
/// admin: a recovery code is about to be checked against the challenge
/// (SHA-256 of its id): reserves the check on the account's login throttle
/// and hands out the recovery-code hashes to verify (mfa_ticket).
struct mfa_begin {
  std::string challenge_hash;
};
/// admin: completes a login's second step: a TOTP `code` (checked here), or
/// with `recovery` the recovery-code hash the caller found matching (empty:
/// none matched), under `reservation` from mfa_begin. A new session of the
/// login's method, or 401 invalid_credentials (counted: 5 per challenge, and
/// on the account's login throttle).
struct mfa_finish {
  std::string challenge_hash;
  std::string code;
  bool recovery = false;
  std::string recovery_hash;
  uint64_t reservation = 0;
};
/// token: the caller's operation (social::op as a number) on its pair with
/// `other` (16 raw bytes). Replies the caller's item view {user, state,
/// updated_at} (docs/api.md "Friends and blocks").
struct social_change {
  std::string other;
  uint8_t op = 0;
};
/// token: a page of the caller's pairs, by the other user's id: friends and
/// invites (`blocks` false; `state` "" or one of friend / invite_sent /
/// invite_received / blocked) or the users the caller blocks.
struct list_social {
  std::string state;
  bool blocks = false;
  uint32_t limit = 50;
  std::string cursor;
};
/// internal: this actor's user owns its pair with `from` (domain/social.h)
/// and decides `from`'s operation; `from_count` is what counts against
/// `from`'s limit, `from_peer` what `from` shows in lists (encode_half's
/// "peer" fields: username, display_name, avatar_url). Replies social_pair.
/// `deadline` (ms since the epoch, the requester's clock): after it the
/// requester has given up waiting, so the owner refuses the operation
/// rather than apply it behind the back of a client told it failed.
struct peer_decide {
  std::string from;
  uint8_t op = 0;
  uint64_t from_count = 0;
  std::string from_username, from_display_name, from_avatar_url;
  int64_t deadline = 0;
};
/// internal: the owner's latest decision on its pair with this actor's user
/// (`intent` encoded by social::encode_intent; `gone`: `from` was deleted),
/// stored if newer than this half. Replies social_pair (this user's half
/// and summary, or gone when this user does not exist).
struct peer_sync {
  std::string from;
  std::string intent;
  std::string from_username, from_display_name, from_avatar_url;
};
/// token (admin = false: a friends / private / public key of the caller's
/// own) or admin (admin = true: an internal key): sets one metadata key.
/// `value` is checked JSON text. Replies {key, value, visibility}.
struct put_metadata {
  std::string key;
  std::string value;
  visibility vis = visibility::public_;
  bool admin = false;
};
/// token (admin = false: the caller's own key) or admin (an internal key):
/// removes one metadata key; not_found if there is none.
struct delete_metadata {
  std::string key;
  bool admin = false;
};
/// token: one of the caller's own keys {key, value, visibility} (not_found
/// if none), or with an empty key all of them as {items, next_cursor: null}.
struct get_own_metadata {
  std::string key;
};
/// internal (the HTTP layer authenticated the caller first): the keys the
/// caller `caller_uid16` (16 raw bytes; empty: anonymous) may see,
/// {user_id, metadata: {key: value}}; only `keys` when not empty. Hidden and
/// unknown keys are omitted.
struct read_metadata {
  std::string caller_uid16;
  std::vector<std::string> keys;
};
/// admin: bans the user (domain/user.h ban_record; replaces a ban it has):
/// every session answers 403 account_banned at once, logins too, open
/// streams get user.banned and end. `by` is the admin key's name. Replies
/// the ban's view (domain/user.h ban_view).
struct admin_ban {
  std::string reason;
  millis expires_at = 0;  // 0: until lifted
  std::string by;
};
/// admin: lifts the user's ban, if any; the sessions it held back are
/// revoked. Replies the ban's view (banned: false).
struct admin_unban {
  std::string by;
};
/// admin: the ban's view.
struct get_ban {};
/// token: the caller reports `other` (16 raw bytes; docs/api.md "Reports").
/// The caller's actor stores what it reported (keys::report_made) and the
/// report as an intent, then delivers it to `other`'s actor (peer_report)
/// until that one stores it. Replies {id, user_id, category, created_at}
/// (202) once delivered or, if `other` did not answer in time, once the
/// intent is stored; not_found if `other` does not exist.
struct file_report {
  std::string other;
  std::string category;
  std::string reason;
};
/// internal: a report about this actor's user, made by `from` (16 raw
/// bytes) with id `id16` (domain/moderation.h encode_report in `report`):
/// stored once (a repeated delivery changes nothing) with the user's queue
/// entry. Replies social_pair (gone when this user does not exist).
struct peer_report {
  std::string from;
  std::string id16;
  std::string report;
};
/// admin: resolves the user's pending reports (domain/moderation.h):
/// `action` ban (for `duration` ms, 0: until lifted), warn (an in-app
/// notification) or clean; `by` is the admin key's name. Replies the queue
/// item; not_found when the user has no pending report.
struct resolve_reports {
  std::string action;
  std::string reason;
  millis duration = 0;
  std::string by;
};
/// admin: {blocked_by, reported_by, blocks, reports}, each [{user_id,
/// username, at}] newest first.
struct get_relations {};
using user_op = std::variant<create_user, authenticate, login_begin, login_failed, login_finish, list_sessions,
                             get_session, extend_session, revoke_session, revoke_all_sessions, update_profile,
                             get_credentials, set_password, delete_user, get_logs, get_public, admin_get,
                             admin_set_status, admin_revoke_sessions, holds_key, debug_info, add_notification,
                             list_notifications, read_notifications, delete_notification, events_ticket, subscribe,
                             unsubscribe, recover_password, verify_email, add_identity, remove_identity,
                             get_prefs, put_prefs, mfa_enroll, mfa_confirm, mfa_disable, mfa_set_recovery,
                             mfa_begin, mfa_finish, social_change, list_social, peer_decide, peer_sync,
                             put_metadata, delete_metadata, get_own_metadata, read_metadata, admin_ban, admin_unban,
                             get_ban, file_report, peer_report, resolve_reports, get_relations>;

/// The routable envelope.
struct user_request {
  uint8_t version = protocol_version;
  std::string user_id;     // 16 raw bytes
  std::string token_hash;  // SHA-256 of the bearer token, for token operations
  client_info client;
  std::string credential;  // actor_env::credential: proof that a member sent it
  user_op op;
};

// -- replies --------------------------------------------------------------------

/// A client-facing JSON document, rendered by the actor.
struct view {
  std::string json;
};
/// A signed-in user: own view and the new session's view with its token
/// (`session` empty when no session was made, e.g. pending activation).
struct signed_in {
  std::string user;
  std::string session;
  /// Set (user and session empty) when the account has MFA on: the id of
  /// the challenge POST /v1/sessions/mfa completes (shown this once).
  std::string mfa_challenge;
  /// Index keys the user gave up in this login (identities dropped when a
  /// code first proved the email, domain/user.h drop_unproven_setup): the
  /// caller releases them.
  std::vector<std::string> released_keys;
};
struct login_ticket {
  std::string password_hash;
  uint64_t reservation = 0;
};
struct profile_updated {
  std::string user;                        // own view (admin view for an admin patch)
  std::vector<std::string> released_keys;  // index keys the user no longer holds
};
struct credentials {
  std::string password_hash;
  bool sudo_fresh = false;
};
struct revoked {
  uint64_t count = 0;
};
struct deleted {
  std::vector<std::string> index_keys;
};
struct holds {
  bool value = false;
};
/// An opened stream: the session it lives on, the retained events it
/// missed (Server-Sent Event text) and the sequence number it is at.
struct subscription {
  std::string session_id;
  std::string replay;
  uint64_t last_seq = 0;
  caf::strong_actor_ptr source;  // the user's actor: the relay watches it (a node that dies ends its pushes)
};

/// The recovery-code hashes to verify for a challenge, and the check's reservation.
struct mfa_ticket {
  std::vector<std::string> recovery_hashes;
  uint64_t reservation = 0;
};

/// A pair as one side holds it (social::encode_half; empty: no such
/// user, `gone`) with that side's summary for the other's list.
/// `version`: the version of the pair as the answering user stores it
/// (peer_sync: after storing what it was sent), so the owner sees a half that
/// is behind or ahead of its own (social::pair_state::version).
struct social_pair {
  std::string half;
  bool gone = false;
  std::string username, display_name, avatar_url;
  uint64_t version = 0;
};

using user_reply_value = std::variant<done, view, signed_in, login_ticket, profile_updated, credentials, revoked,
                                      deleted, holds, subscription, mfa_ticket, social_pair>;
struct user_reply {
  user_reply_value value;
};

/// The reply type of each operation.
template <class Op> struct reply_of { using type = view; };
template <> struct reply_of<create_user> { using type = signed_in; };
template <> struct reply_of<login_begin> { using type = login_ticket; };
template <> struct reply_of<login_failed> { using type = done; };
template <> struct reply_of<login_finish> { using type = signed_in; };
template <> struct reply_of<revoke_session> { using type = done; };
template <> struct reply_of<revoke_all_sessions> { using type = revoked; };
template <> struct reply_of<update_profile> { using type = profile_updated; };
template <> struct reply_of<get_credentials> { using type = credentials; };
template <> struct reply_of<set_password> { using type = revoked; };
template <> struct reply_of<recover_password> { using type = revoked; };
template <> struct reply_of<remove_identity> { using type = profile_updated; };
template <> struct reply_of<delete_user> { using type = deleted; };
template <> struct reply_of<admin_revoke_sessions> { using type = revoked; };
template <> struct reply_of<holds_key> { using type = holds; };
template <> struct reply_of<delete_notification> { using type = done; };
template <> struct reply_of<subscribe> { using type = subscription; };
template <> struct reply_of<unsubscribe> { using type = done; };
template <> struct reply_of<mfa_confirm> { using type = done; };
template <> struct reply_of<mfa_disable> { using type = done; };
template <> struct reply_of<mfa_set_recovery> { using type = done; };
template <> struct reply_of<mfa_begin> { using type = mfa_ticket; };
template <> struct reply_of<mfa_finish> { using type = signed_in; };
template <> struct reply_of<peer_decide> { using type = social_pair; };
template <> struct reply_of<peer_sync> { using type = social_pair; };
template <> struct reply_of<peer_report> { using type = social_pair; };
template <> struct reply_of<delete_metadata> { using type = done; };
template <class Op> using reply_of_t = typename reply_of<Op>::type;

// -- inspect --------------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_record& x) {
  return f(caf::meta::type_name("session_record"), x.id, x.token_hash, x.method, x.created_at, x.last_used_at,
           x.expires_at, x.authenticated_at, x.ip, x.user_agent);
}

// status_change and errc are enums: CAF writes their underlying value.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ban_record& x) {
  return f(caf::meta::type_name("ban_record"), x.reason, x.created_at, x.expires_at, x.by);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_record& x) {
  json_field metadata{x.metadata}, hidden_metadata{x.hidden_metadata}, internal_metadata{x.internal_metadata};
  opt_field<ban_record> ban{x.ban};
  return f(caf::meta::type_name("user_record"), x.id, x.email, x.phone, x.username, x.display_name, x.avatar_url, x.lang,
           metadata, hidden_metadata, internal_metadata, x.password_hash, x.device_ids, x.email_verified, x.pending_activation, x.blocked,
           x.created_at, x.updated_at, x.last_login_at, x.last_seen_at, x.failed_logins, x.login_methods, x.links,
           x.totp_secret, x.totp_pending, x.totp_last_step, x.recovery_hashes, ban);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, profile_patch& x) {
  opt_field<std::string> display_name{x.display_name}, username{x.username}, email{x.email}, phone{x.phone},
      avatar_url{x.avatar_url}, lang{x.lang};
  opt_field<json> metadata{x.metadata};
  return f(caf::meta::type_name("profile_patch"), display_name, username, email, phone, avatar_url, lang, metadata);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, opt_value<json>& x) {
  json_field j{x.value};
  return x.set ? f(j) : f();
}

#define ROSTER_INSPECT_EMPTY(T)                                         \
  template <class Inspector>                                            \
  typename Inspector::result_type inspect(Inspector& f, T&) {           \
    return f(caf::meta::type_name(#T));                                 \
  }
ROSTER_INSPECT_EMPTY(authenticate)
ROSTER_INSPECT_EMPTY(login_begin)
ROSTER_INSPECT_EMPTY(extend_session)
ROSTER_INSPECT_EMPTY(revoke_all_sessions)
ROSTER_INSPECT_EMPTY(get_credentials)
ROSTER_INSPECT_EMPTY(get_public)
ROSTER_INSPECT_EMPTY(admin_get)
ROSTER_INSPECT_EMPTY(admin_revoke_sessions)
ROSTER_INSPECT_EMPTY(debug_info)
ROSTER_INSPECT_EMPTY(events_ticket)
ROSTER_INSPECT_EMPTY(get_prefs)
ROSTER_INSPECT_EMPTY(mfa_enroll)
ROSTER_INSPECT_EMPTY(mfa_disable)
ROSTER_INSPECT_EMPTY(get_ban)
ROSTER_INSPECT_EMPTY(get_relations)
#undef ROSTER_INSPECT_EMPTY

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_user& x) {
  return f(caf::meta::type_name("create_user"), x.record, x.session_method);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, login_failed& x) {
  return f(caf::meta::type_name("login_failed"), x.method, x.reservation);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, login_finish& x) {
  opt_field<std::string> hash{x.password_hash};
  return f(caf::meta::type_name("login_finish"), x.method, hash, x.reservation, x.via_key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_sessions& x) {
  return f(caf::meta::type_name("list_sessions"), x.limit, x.cursor);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_session& x) {
  return f(caf::meta::type_name("get_session"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoke_session& x) {
  return f(caf::meta::type_name("revoke_session"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, update_profile& x) {
  return f(caf::meta::type_name("update_profile"), x.patch, x.admin);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verify_email& x) {
  return f(caf::meta::type_name("verify_email"), x.via_key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, add_identity& x) {
  return f(caf::meta::type_name("add_identity"), x.key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remove_identity& x) {
  return f(caf::meta::type_name("remove_identity"), x.kind, x.value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, put_prefs& x) {
  return f(caf::meta::type_name("put_prefs"), x.json);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recover_password& x) {
  return f(caf::meta::type_name("recover_password"), x.password_hash, x.via_key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_password& x) {
  opt_field<uint64_t> reservation{x.reservation};
  return f(caf::meta::type_name("set_password"), x.password_hash, x.expected_hash, reservation);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_user& x) {
  return f(caf::meta::type_name("delete_user"), x.admin);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_logs& x) {
  return f(caf::meta::type_name("get_logs"), x.limit, x.cursor);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admin_set_status& x) {
  return f(caf::meta::type_name("admin_set_status"), x.change);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, holds_key& x) {
  return f(caf::meta::type_name("holds_key"), x.key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, add_notification& x) {
  return f(caf::meta::type_name("add_notification"), x.title, x.body, x.data);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_notifications& x) {
  return f(caf::meta::type_name("list_notifications"), x.limit, x.cursor);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_notifications& x) {
  return f(caf::meta::type_name("read_notifications"), x.ids, x.all);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_notification& x) {
  return f(caf::meta::type_name("delete_notification"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscribe& x) {
  return f(caf::meta::type_name("subscribe"), x.relay, x.stream, x.last_event_id, x.ticket_hash, x.session_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unsubscribe& x) {
  return f(caf::meta::type_name("unsubscribe"), x.relay, x.stream);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mfa_confirm& x) {
  return f(caf::meta::type_name("mfa_confirm"), x.code, x.recovery_hashes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mfa_set_recovery& x) {
  return f(caf::meta::type_name("mfa_set_recovery"), x.recovery_hashes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mfa_begin& x) {
  return f(caf::meta::type_name("mfa_begin"), x.challenge_hash);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mfa_finish& x) {
  return f(caf::meta::type_name("mfa_finish"), x.challenge_hash, x.code, x.recovery, x.recovery_hash, x.reservation);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, social_change& x) {
  return f(caf::meta::type_name("social_change"), x.other, x.op);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_social& x) {
  return f(caf::meta::type_name("list_social"), x.state, x.blocks, x.limit, x.cursor);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_decide& x) {
  return f(caf::meta::type_name("peer_decide"), x.from, x.op, x.from_count, x.from_username, x.from_display_name,
           x.from_avatar_url, x.deadline);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_sync& x) {
  return f(caf::meta::type_name("peer_sync"), x.from, x.intent, x.from_username, x.from_display_name,
           x.from_avatar_url);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_report& x) {
  return f(caf::meta::type_name("file_report"), x.other, x.category, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, peer_report& x) {
  return f(caf::meta::type_name("peer_report"), x.from, x.id16, x.report);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resolve_reports& x) {
  return f(caf::meta::type_name("resolve_reports"), x.action, x.reason, x.duration, x.by);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, social_pair& x) {
  return f(caf::meta::type_name("social_pair"), x.half, x.gone, x.username, x.display_name, x.avatar_url,
           x.version);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admin_ban& x) {
  return f(caf::meta::type_name("admin_ban"), x.reason, x.expires_at, x.by);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admin_unban& x) {
  return f(caf::meta::type_name("admin_unban"), x.by);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mfa_ticket& x) {
  return f(caf::meta::type_name("mfa_ticket"), x.recovery_hashes, x.reservation);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, put_metadata& x) {
  return f(caf::meta::type_name("put_metadata"), x.key, x.value, x.vis, x.admin);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_metadata& x) {
  return f(caf::meta::type_name("delete_metadata"), x.key, x.admin);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_own_metadata& x) {
  return f(caf::meta::type_name("get_own_metadata"), x.key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_metadata& x) {
  return f(caf::meta::type_name("read_metadata"), x.caller_uid16, x.keys);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_request& x) {
  return f(caf::meta::type_name("user_request"), x.version, x.user_id, x.token_hash, x.client, x.credential, x.op);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, view& x) {
  return f(caf::meta::type_name("view"), x.json);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signed_in& x) {
  return f(caf::meta::type_name("signed_in"), x.user, x.session, x.mfa_challenge, x.released_keys);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, login_ticket& x) {
  return f(caf::meta::type_name("login_ticket"), x.password_hash, x.reservation);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, profile_updated& x) {
  return f(caf::meta::type_name("profile_updated"), x.user, x.released_keys);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, credentials& x) {
  return f(caf::meta::type_name("credentials"), x.password_hash, x.sudo_fresh);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoked& x) {
  return f(caf::meta::type_name("revoked"), x.count);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deleted& x) {
  return f(caf::meta::type_name("deleted"), x.index_keys);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, holds& x) {
  return f(caf::meta::type_name("holds"), x.value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscription& x) {
  return f(caf::meta::type_name("subscription"), x.session_id, x.replay, x.last_seq, x.source);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_reply& x) {
  return f(caf::meta::type_name("user_reply"), x.value);
}

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster_user, 300)
  CAF_ADD_TYPE_ID(roster_user, (roster::user_request))
  CAF_ADD_TYPE_ID(roster_user, (roster::user_reply))
CAF_END_TYPE_ID_BLOCK(roster_user)
