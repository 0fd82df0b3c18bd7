#pragma once
// Multi-factor authentication rules (SPEC §3, issue 11 item 4): TOTP secrets
// (RFC 6238 through liboath: SHA-1, 6 digits, 30 s steps), the otpauth:// URI
// an authenticator app scans, the code check with ±1 step of clock skew and
// replay refusal, single-use recovery codes, the sealing of a stored secret
// (AES-256-GCM) and the login challenges of a user (the second step of a
// login). Pure: no CAF, no store. Recovery codes are kept as Argon2id hashes
// (domain/password.h); hashing and verifying them is the caller's, on an HTTP
// worker thread, never in an actor.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"

namespace roster::mfa {

inline constexpr unsigned totp_digits = 6;
inline constexpr unsigned totp_period_s = 30;
inline constexpr size_t totp_skew_steps = 1;  // one step either side of now
inline constexpr size_t secret_bytes = 20;     // RFC 4226's recommended 160 bits
inline constexpr size_t recovery_code_count = 10;
inline constexpr int challenge_attempts = 5;
inline constexpr millis default_challenge_ttl = 5 * 60'000;

/// A new TOTP secret: 20 bytes from the CSPRNG (raw).
std::string new_secret();

/// RFC 4648 base32 (no padding, upper case), as authenticator apps take it.
std::string base32_encode(std::string_view raw);
/// Accepts upper or lower case, with or without padding; nullopt if not base32.
std::optional<std::string> base32_decode(std::string_view text);

/// otpauth://totp/<issuer>:<label>?secret=..&issuer=..&digits=6&period=30&algorithm=SHA1
/// (issuer and label percent-encoded).
std::string otpauth_uri(std::string_view issuer, std::string_view label, std::string_view raw_secret);

/// The code for the time step containing `unix_seconds` (tests and tools).
std::string totp_code(std::string_view raw_secret, int64_t unix_seconds);

/// The time step (unix seconds / 30) at `now`.
int64_t step_at(millis now);

/// Checks `code` against the steps now-1, now, now+1. The step it matched,
/// or nullopt when it matches none or matches a step at or before
/// `last_step` (a code already used, or older than one used: a replay).
std::optional<int64_t> check_totp(std::string_view raw_secret, std::string_view code, millis now, int64_t last_step);

/// True if `code` looks like a TOTP code (6 digits).
bool well_formed_totp(std::string_view code);

/// Ten new recovery codes, "xxxx-xxxx" from a 32-letter alphabet without
/// look-alikes (40 bits each), from the CSPRNG.
std::vector<std::string> new_recovery_codes(size_t n = recovery_code_count);
/// The canonical form of a typed recovery code (lower case, no spaces, the
/// dash put back), or nullopt if it cannot be one.
std::optional<std::string> normalize_recovery_code(std::string_view typed);

/// Seals a raw secret for storage: AES-256-GCM under `key` (32 bytes), as
/// "v1:" base64url(nonce ‖ ciphertext ‖ tag). With an empty key (a node
/// without a sealing key) the secret is kept as "p:" base64url(raw).
std::string seal_secret(std::string_view key, std::string_view raw);
/// The raw secret, or nullopt if `sealed` is damaged or sealed under another key.
std::optional<std::string> open_secret(std::string_view key, std::string_view sealed);

/// A login waiting for its second factor. Only the SHA-256 of its id is kept.
struct challenge {
  std::string id_hash;  // raw 32 bytes
  std::string method;   // the login's method (password, device, email_code, ...)
  std::string via_key;  // the identity the login came through, if any
  millis expires_at = 0;
  int failures = 0;
};

/// The challenges of one user, in memory (its actor's): at most `cap`,
/// oldest dropped first. Not thread-safe.
class challenge_book {
 public:
  static constexpr size_t cap = 16;
  /// A new challenge; its id (base64url(uid16 ‖ 32 random bytes), the
  /// routable form of a session token) is returned once, only its hash kept.
  std::string open(std::string_view uid16, std::string method, std::string via_key, millis now, millis ttl);
  /// The live challenge with that id hash, or null (unknown, used or expired).
  const challenge* find(std::string_view id_hash, millis now);
  /// A wrong code: counts; the challenge dies at challenge_attempts. True if it died.
  bool fail(std::string_view id_hash);
  /// Used (or cancelled): gone.
  void close(std::string_view id_hash);
  void clear() { items_.clear(); }
  size_t size() const { return items_.size(); }

 private:
  void prune(millis now);
  std::vector<challenge> items_;
};

} // namespace roster::mfa
