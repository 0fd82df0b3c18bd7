#pragma once
// The user aggregate: the record, its sessions and the pure rules over them
// (session expiry, status checks, profile patches, index keys).
// Plain data: the user actor (actors/user/) owns one instance per live user
// and is the only writer; this file knows nothing of CAF or the store.
// The storage codec is domain/user_codec.h, the API views domain/user_views.h,
// the rules over a user's set of sessions domain/session_book.h.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/errc.h"
#include "domain/metadata.h"
#include "domain/validation.h"

namespace roster {

using json = nlohmann::json;

/// One login session. Only the SHA-256 of its token is kept.
struct session_record {
  std::string id;          // uuid text
  std::string token_hash;  // raw 32 bytes
  std::string method;      // password | device | anonymous | ...
  millis created_at = 0;
  millis last_used_at = 0;
  millis expires_at = 0;        // absolute expiry
  millis authenticated_at = 0;  // last proof of a credential (sudo window)
  std::string ip;
  std::string user_agent;
};

/// The status the API shows (`status`): blocked wins over pending_activation.
/// It is derived from two separate states of the record, activation and
/// blocking (user_record::pending_activation, user_record::blocked): an
/// admin's block, unblock and activate each change one of them only.
enum class account_status { active, pending_activation, blocked };
std::string_view status_name(account_status s);
std::optional<account_status> status_from_name(std::string_view s);

/// What an admin does to a user's status (POST /v1/admin/users/{id}/...).
enum class status_change : uint8_t { activate, block, unblock };
std::string_view status_change_name(status_change c);

/// An admin's ban (POST /v1/admin/bans). Its own state beside activation
/// and blocking: banning changes neither, lifting a ban unblocks nothing.
/// A ban with an expiry lifts itself: ban_active() judges it against the
/// clock at every use, and the user actor removes a lapsed one (lift_ban)
/// the first time it is touched after the expiry.
struct ban_record {
  std::string reason;     // the admin's words, shown to the user in the 403 body
  millis created_at = 0;
  millis expires_at = 0;  // 0: until an admin lifts it
  std::string by;         // the name of the admin key that banned (never the key)
};

/// The persistent part of a user.
struct user_record {
  std::string id;  // uuid text
  std::string email;
  std::string phone;  // E.164; set only once proven by a code sent to it, so always verified
  std::string username;
  std::string display_name;
  std::string avatar_url;
  std::string lang;
  // Metadata (domain/metadata.h): the user's public keys (key → JSON value,
  // the one flat object every record before visibility held), their friends /
  // private keys (key → {value, visibility}) and the admins' internal keys.
  json metadata = json::object();
  json hidden_metadata = json::object();
  json internal_metadata = json::object();
  std::string password_hash;       // PHC Argon2id, empty if none
  std::vector<std::string> device_ids;
  bool email_verified = false;
  bool pending_activation = false;  // waits for an admin's activation (auth.require_activation)
  bool blocked = false;             // blocked by an admin; independent of activation
  millis created_at = 0;
  millis updated_at = 0;
  millis last_login_at = 0;
  millis last_seen_at = 0;
  std::vector<millis> failed_logins;  // recent failures (throttling)
  uint64_t event_seq = 0;             // the sequence number of the user's last event (domain/events.h)
  bool streams = false;               // has opened an event stream: streamed events are kept for Last-Event-ID
  /// The session methods the user registered or signed in with (password,
  /// device, anonymous, email_code, ...), each once, in first-use order.
  /// Empty on records stored before it was kept: see login_methods_of.
  std::vector<std::string> login_methods;
  /// Linked outside identities, as their index keys: "provider:<p>:<subject>"
  /// (google, apple, discord, facebook, steam) and "custom:<id>"; one per kind.
  std::vector<std::string> links;
  // MFA (domain/mfa.h). The TOTP secrets are sealed (mfa::seal_secret) and
  // never shown again after enrolment.
  std::string totp_secret;   // the confirmed secret: MFA is on when set
  std::string totp_pending;  // enrolled, waiting for its first code
  int64_t totp_last_step = 0;  // the last accepted time step (replays refused)
  std::vector<std::string> recovery_hashes;  // Argon2id PHC hashes of the unused recovery codes
  /// The ban, if one was set and not lifted yet (it may have lapsed: see
  /// ban_active).
  std::optional<ban_record> ban;
};

/// Whether a login of this user needs a second factor.
inline bool mfa_enabled(const user_record& u) { return !u.totp_secret.empty(); }

/// The status the API shows: blocked, else pending_activation, else active.
account_status shown_status(const user_record& u);

/// Applies an admin's status change; true if the record changed. Activation
/// and blocking are separate: unblocking a pending account leaves it
/// pending, activating a blocked one leaves it blocked.
bool apply_status_change(user_record& u, status_change c);

/// The login methods a user is counted under (/v1/admin/stats by_provider):
/// login_methods, or for a record stored before they were kept, what it
/// holds (a password: password; devices: device; an email without a
/// password: email_code; nothing: anonymous).
std::vector<std::string> login_methods_of(const user_record& u);

/// Records that the user registered or signed in with `method` (seeding an
/// older record's list from login_methods_of first). True if that changed `u`.
bool note_login_method(user_record& u, std::string_view method);

/// The unique keys a user holds in the index: "email:<lower>", "phone:<E.164>",
/// "username:<tag>", "device:<id>".
std::vector<std::string> index_keys_of(const user_record& u);
std::string email_key(std::string_view email);
std::string username_key(std::string_view username);
std::string device_key(std::string_view device_id);
std::string phone_key(std::string_view phone);
std::string provider_key(std::string_view provider, std::string_view subject);
std::string custom_key(std::string_view custom_id);

/// The providers of POST /v1/sessions/provider/{p} and of linked identities.
bool known_provider(std::string_view p);

/// An identity as the API names it: {kind, value} of an index key the user
/// holds ("provider:google:123" → {"google", "123"}, "custom:x" → {"custom",
/// "x"}, "device:d" → {"device", "d"}, ...).
std::pair<std::string, std::string> identity_of_key(std::string_view key);

/// The ways `u` can log in: a password (with an email or username to name
/// the account), its email (codes, links), its phone, each device, each
/// linked identity. DELETE /v1/account/identities/{kind} may not take the
/// last (409 last_login_method).
size_t ways_to_log_in(const user_record& u);

/// The index key of the identity an API caller names by `kind` (email,
/// phone, device, a provider, custom) and, for a device, `value`; nullopt
/// if `u` has none such.
std::optional<std::string> identity_key_of(const user_record& u, std::string_view kind, std::string_view value);

/// Removes the identity of index key `key` from `u` (a device, a link, the
/// email with its verification, the phone). not_found if `u` does not hold
/// it, last_login_method if it is the last way in; `u` unchanged then.
status unlink_identity(user_record& u, std::string_view key);

/// Adds the identity of index key `key` (a device or a link; the caller
/// claimed the key). already_exists if `u` has an identity of that kind
/// (one per provider) or that very key.
status link_identity(user_record& u, std::string_view key);

// -- rules --------------------------------------------------------------------
struct session_policy {
  millis ttl = 30LL * 86'400'000;       // absolute
  millis idle_ttl = 7LL * 86'400'000;   // since last use
  millis sudo_window = 20 * 60'000;
};

/// ok, or session_expired when past its absolute or idle expiry.
errc session_state(const session_record& s, millis now, const session_policy& p);

/// ok, or why this account may not use sessions / log in at `now`: a
/// banned account (ban_active) is account_banned (blocked or pending or
/// not), else a blocked one account_blocked (pending or not), else a
/// pending one pending_activation.
errc status_gate(const user_record& u, millis now);

/// The error for a gate other than ok: "account is banned", "account is
/// blocked" or "account is pending activation", with that code.
error status_gate_error(errc gate);

/// The error the user gets for gate `gate` (status_gate(u, now)): for
/// account_banned, the ban's reason and expiry as the error's details
/// ({"reason": ..., "expires_at": RFC 3339 or null}); else status_gate_error.
error account_gate_error(const user_record& u, errc gate);

// -- bans -----------------------------------------------------------------------

/// Whether `u` is banned at `now`: a ban is set and has no expiry or has
/// not reached it.
bool ban_active(const user_record& u, millis now);

/// Whether `u` holds a ban that has run out at `now` (to be lifted).
bool ban_lapsed(const user_record& u, millis now);

/// The most a ban's reason may be, in bytes.
inline constexpr size_t max_ban_reason = 1000;

/// A ban request (POST /v1/admin/bans), validated.
struct ban_input {
  std::string user_id;  // uuid text, lowercase
  std::string reason;
  millis expires_at = 0;  // 0: until lifted
};

/// Parses and validates {user_id, reason, expires_at?}: user_id a lowercase
/// UUID; reason 1..max_ban_reason bytes of UTF-8 without control
/// characters; expires_at null/absent or an RFC 3339 time after `now`.
/// invalid_request with per-field problems (unknown fields included).
result<ban_input> parse_ban_input(const json& body, millis now);

/// Sets (or replaces) the ban of `u`.
void apply_ban(user_record& u, ban_record b);

/// The ban as GET /v1/admin/bans/{user_id} shows it at `now`: {banned,
/// reason, created_at, expires_at, by}, the last four null when not banned
/// (a lapsed ban shows as not banned).
json ban_view(const user_record& u, millis now);

/// Fields of a profile patch (PATCH /v1/account and the admin PATCH), already
/// validated. `username` / `email` changes involve the index and are applied by
/// the caller after it claimed the new key.
struct profile_patch {
  std::optional<std::string> display_name;
  std::optional<std::string> username;
  std::optional<std::string> email;
  std::optional<std::string> phone;  // never from a client's patch: set by a confirmed phone code
  std::optional<std::string> avatar_url;
  std::optional<std::string> lang;
  std::optional<json> metadata;  // object; keys set as public, null values delete keys
  bool empty() const {
    return !display_name && !username && !email && !phone && !avatar_url && !lang && !metadata;
  }
};

/// auth.require_verified_email: a password login of an account whose email
/// is not verified is refused (403 email_not_verified). Accounts without an
/// email, and logins by code or link (which verify it), pass.
bool blocked_by_unverified_email(const user_record& u, std::string_view method, bool required);

/// A login by a code or link sent to an identity (method email_code,
/// magic_link, phone_code; `via_key` the identity's index key) proves it:
/// the identity becomes verified. True if that changed `u`.
bool mark_verified(user_record& u, std::string_view method, std::string_view via_key);

/// What an account set up before its email was proven, dropped when a code
/// or link first proves it (mark_verified): the password, devices, linked
/// identities, the phone and TOTP — all possibly a squatter's, who
/// registered the address first to take the account over once its owner
/// arrives. The index keys of the dropped identities (stale entries the
/// index repairs when the key is next claimed; callers may release them).
std::vector<std::string> drop_unproven_setup(user_record& u);

/// Parses and validates a patch; `allow_email` for admins. The error carries
/// per-field problems.
result<profile_patch> parse_profile_patch(const json& body, bool allow_email, const limits& l = {});

/// Applies the non-index fields of a patch and the given (already claimed)
/// username/email. Returns an error if metadata limits are exceeded.
status apply_profile_patch(user_record& u, const profile_patch& p, millis now, const limits& l = {});

/// Free-form preferences (GET/PUT /v1/account/prefs): a JSON object of at
/// most 16 KiB as compact JSON text.
std::string check_prefs(const json& prefs);

/// Checks a metadata object: keys [a-z0-9_.-]{1,64}, values ≤ 4 KiB of JSON
/// (domain/metadata.h check_metadata_key / check_metadata_value), at most
/// l.metadata_keys_max keys.
std::string check_metadata(const json& m, const limits& l = {});

} // namespace roster
