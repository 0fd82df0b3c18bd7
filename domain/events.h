#pragma once
// Webhook events (SPEC §4, last paragraph): every register, login, profile
// change, password or email change, session revoke, block, ban and unban,
// delete, report and moderation decision becomes an event
//   {"id": "<user id>:<seq>", "type": ..., "user_id": ..., "at": RFC 3339, "seq": n, "data": {...}}
// with a per-user sequence number, and one outbox entry per configured
// webhook whose `events` filter takes its type. Events never carry a secret,
// a code or a token: `data` holds only what the caller passes, and the
// callers pass methods, reasons and public fields.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/outbox.h"

namespace roster {

namespace event_type {
inline constexpr std::string_view registered = "user.registered";
inline constexpr std::string_view login = "user.login";
inline constexpr std::string_view login_failed = "user.login_failed";
inline constexpr std::string_view profile_updated = "user.profile_updated";
inline constexpr std::string_view password_changed = "user.password_changed";
inline constexpr std::string_view email_changed = "user.email_changed";
inline constexpr std::string_view session_revoked = "session.revoked";
inline constexpr std::string_view status_changed = "user.status_changed";
inline constexpr std::string_view deleted = "user.deleted";
// Bans (domain/user.h ban_record): data {reason, expires_at, by} /
// {reason, lifted: admin | expired, sessions_revoked, by?}.
inline constexpr std::string_view banned = "user.banned";
inline constexpr std::string_view unbanned = "user.unbanned";
inline constexpr std::string_view notification = "notification";  // an in-app notification (domain/notifications.h)
// MFA (domain/mfa.h)
inline constexpr std::string_view mfa_enabled = "user.mfa_enabled";
inline constexpr std::string_view mfa_disabled = "user.mfa_disabled";
inline constexpr std::string_view mfa_recovery_codes_regenerated = "user.mfa_recovery_codes_regenerated";
inline constexpr std::string_view mfa_recovery_code_used = "user.mfa_recovery_code_used";
inline constexpr std::string_view mfa_failed = "user.mfa_failed";
// The social graph (domain/social.h), on the user whose half changed:
inline constexpr std::string_view friend_invited = "friend.invited";    // another user invited this one
inline constexpr std::string_view friend_added = "friend.added";        // an invite was accepted (either way)
inline constexpr std::string_view friend_removed = "friend.removed";    // a friendship or invite ended
inline constexpr std::string_view user_blocked = "friend.blocked";      // this user blocked another
inline constexpr std::string_view report_filed = "report.filed";        // this user reported another (data.reported_user_id)
inline constexpr std::string_view moderation_resolved = "moderation.resolved";  // a moderator decided on this user's reports
} // namespace event_type

/// Every event type, in documentation order.
const std::vector<std::string_view>& event_types();

/// The event's JSON text.
std::string event_json(std::string_view type, std::string_view user_id, uint64_t seq, millis at,
                       const nlohmann::json& data);

/// Whether a webhook whose `events` filter is `filter` takes `type` (an
/// empty filter takes every type).
bool event_wanted(const std::vector<std::string>& filter, std::string_view type);

/// One pending outbox entry per URL for an event that `filter` takes (none
/// otherwise): kind webhook, `text` the event's JSON, `purpose` its type,
/// stored in `partition` (the user's).
std::vector<outbox_entry> webhook_entries(std::string_view type, std::string_view user_id, uint16_t partition,
                                          const std::string& body, const std::vector<std::string>& urls,
                                          const std::vector<std::string>& filter, millis now);

} // namespace roster
