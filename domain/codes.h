#pragma once
// One-time codes and link tokens (SPEC §3): the 6-digit codes of email-code
// and phone-code logins, verification, recovery and email change, and the
// 32-byte tokens of magic links. The rules, without CAF or the store:
//   - a code is 6 digits from the CSPRNG, valid `ttl` (10 min), at most
//     `max_attempts` (5) checks, single use;
//   - it is scoped: one record per identity ("email:<address>") and purpose,
//     so a recovery code is no login code and a code for one address is no
//     code for another;
//   - only its SHA-256 is stored, compared in constant time;
//   - a new code for the same identity and purpose replaces the old one;
//   - sends are throttled per identity and purpose (per minute, per hour):
//     the record keeps the times of its recent sends, and outlives the code.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"

namespace roster {

enum class code_purpose : uint8_t { login = 1, verify = 2, recovery = 3, email_change = 4, magic_link = 5 };
std::string_view code_purpose_name(code_purpose p);

struct code_policy {
  millis ttl = 10 * 60'000;
  int64_t max_attempts = 5;
  int64_t per_minute = 1;   // sends per identity and purpose in any 60 s
  int64_t per_hour = 10;    // ... in any hour
  /// Wrong tries per identity and purpose in any 24 hours, across codes: a
  /// new code brings 5 new tries, so without this cap sending codes to a
  /// victim's address would give an attacker 50 guesses an hour. Beyond it
  /// every check fails until the oldest failure is a day old.
  int64_t failures_per_day = 20;
};

struct code_record {
  std::string hash;           // SHA-256 of the code or token; empty: none outstanding
  millis expires_at = 0;
  int64_t attempts_left = 0;
  std::vector<millis> sends;  // times of the sends within the last hour, oldest first
  std::vector<millis> failures;  // times of the wrong tries within the last 24 hours
  std::string user_id;        // the user it was sent for, if any (uuid text)
  std::string detail;         // what the code stands for beyond its identity (a new email address)
};

/// Where a link token's record is kept: "link:<hex SHA-256 of the token>",
/// an index key (it picks the partition), so the token alone finds it.
std::string link_key(std::string_view token);

/// A magic link's redirect_url is allowed when it starts with an entry of
/// auth.redirect_allowlist (an empty list allows none), is at most 2048
/// bytes and holds no control characters or spaces.
bool redirect_allowed(std::string_view url, const std::vector<std::string>& allowlist);

/// Six decimal digits, uniform, from the CSPRNG.
std::string new_code();
/// 32 CSPRNG bytes, base64url (43 characters).
std::string new_link_token();

struct issued {
  code_record record;
  std::string secret;  // the code or token: sent once, never stored
};

/// A new code (or, with `link`, a token) replacing whatever `current` held,
/// or why not: rate_limited with Retry-After (seconds) when the identity's
/// sends in the last minute or hour are used up.
struct issue_result {
  std::optional<issued> ok;
  int64_t retry_after_s = 0;
};
issue_result issue_code(const std::optional<code_record>& current, millis now, const code_policy& p, bool link);

enum class code_check { ok, wrong, none };
/// Checks `presented` against `r` and updates it: a match uses the code up
/// (ok); a mismatch spends an attempt, and the last one uses the code up
/// (wrong); no code outstanding, expired or used up, or the identity's
/// failures_per_day spent → none. Constant time in the presented value.
code_check check_code(code_record& r, std::string_view presented, millis now, const code_policy& p = {});

/// True once the record holds nothing worth keeping (no live code, no send
/// within the last hour, no failure within the last day): it can be deleted.
bool code_record_spent(const code_record& r, millis now);

std::string encode_code_record(const code_record& r);
std::optional<code_record> decode_code_record(std::string_view bytes);

} // namespace roster
