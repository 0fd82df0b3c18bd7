#pragma once
// Test support: one user record with every field that views, codec and rules
// look at (an email with capitals, a username, a password hash, a device,
// metadata).
#include "domain/user.h"

namespace roster::testing {

inline user_record sample_user() {
  user_record u;
  u.id = "0b1e5f2c-7d4a-4c3e-9f00-112233445566";
  u.email = "Ann@Example.com";
  u.username = "Ann_1";
  u.display_name = "Ann";
  u.password_hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
  u.device_ids = {"dev-123456"};
  u.metadata = {{"level", 4}};
  u.created_at = 1'700'000'000'000;
  return u;
}

} // namespace roster::testing
