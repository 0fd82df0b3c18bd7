#pragma once
// Byte-level helpers: OpenSSL's CSPRNG, SHA-256, encodings, UUIDs, session
// tokens and constant-time comparison. Thread-safe; no state.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roster {

/// `n` bytes from OpenSSL's CSPRNG (RAND_bytes). Aborts if the CSPRNG fails:
/// handing out a predictable token is worse than stopping.
std::string random_bytes(size_t n);
/// 8 bytes from the CSPRNG as a number (e.g. to seed a fast generator).
uint64_t random_u64();

/// Raw 32-byte SHA-256 digest.
std::string sha256(std::string_view data);

/// HMAC-SHA256 (raw 32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view data);

std::string hex_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // no padding
std::optional<std::string> base64url_decode(std::string_view text);
/// Standard alphabet (+/), no padding: the form of PHC hash strings.
std::string base64_encode_unpadded(std::string_view bytes);
std::optional<std::string> base64_decode_unpadded(std::string_view text);

/// Compares two secrets in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

/// A new random (version 4) UUID as 16 raw bytes.
std::string new_uuid_bytes();
/// 16 raw bytes → "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lowercase).
std::string uuid_to_string(std::string_view bytes16);
/// Lowercase canonical UUID text → 16 raw bytes; nullopt for anything else.
std::optional<std::string> uuid_from_string(std::string_view text);

/// A session token: base64url(16-byte user id ‖ 32 random bytes), 64 chars.
struct session_token {
  std::string token;       // given to the client once, never stored
  std::string token_hash;  // SHA-256 of `token`, the only thing stored
};
session_token new_session_token(std::string_view user_id_bytes16);

/// The user id (16 raw bytes) carried by a token, or nullopt if the token is
/// not well formed. Says nothing about whether the token is valid.
std::optional<std::string> user_id_of_token(std::string_view token);

} // namespace roster
