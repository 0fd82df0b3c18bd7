#pragma once
// Argon2id password hashing (libargon2). Hashing takes tens of milliseconds and
// ~19 MiB by design: callers run it on HTTP worker threads, never inside an
// actor, so that one slow hash never stalls the actor scheduler.
#include <cstdint>
#include <string>
#include <string_view>

namespace roster {

struct argon2_params {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

/// PHC-encoded Argon2id hash ("$argon2id$v=19$m=...,t=...,p=...$salt$hash")
/// with a fresh 16-byte salt from the CSPRNG.
std::string hash_password(std::string_view password, const argon2_params& p);

/// True if `password` matches `encoded`. False for malformed hashes.
bool verify_password(std::string_view password, const std::string& encoded);

/// A hash with the given parameters of a random password, used to spend the
/// same time on unknown logins as on wrong passwords.
const std::string& dummy_password_hash(const argon2_params& p);

} // namespace roster
