#pragma once
// The API views of the user aggregate: the JSON objects the HTTP API returns
// for a user and a session (SPEC §2). Views never contain a secret (password
// hash, token hash). Times are RFC 3339 (format_time); empty strings and
// unset times are null. Pure functions, thread-safe.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "domain/user.h"

namespace roster {

/// How views name a device: "sha256:" and the first 16 hex digits of the
/// SHA-256 of its id (the id itself logs in, so only the admin view shows it).
std::string device_fingerprint(std::string_view device_id);

/// What the user sees of their own account, as JSON text (written directly:
/// it is built on every login and profile change) and as a DOM.
std::string own_view_text(const user_record& u);
json own_view(const user_record& u);
/// What anyone may see: id, username, display_name, avatar_url, online, and
/// the public metadata keys only (visible_metadata for relation::other).
json public_view(const user_record& u, bool online);
/// Everything an admin may see (still without secrets), with every metadata
/// key: `metadata` (the user's), `metadata_visibility`, `internal_metadata`.
/// `banned` as of `now` (ban_active: a ban past its expiry is not).
json admin_view(const user_record& u, size_t session_count, millis now);
/// One session as its owner sees it; `current`: it is the session making the
/// request. `token` (shown once, in the reply that creates the session) is
/// added when not empty.
std::string session_view_text(const session_record& s, bool current, std::string_view token = {});
json session_view(const session_record& s, bool current);

} // namespace roster
