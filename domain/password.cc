#include "domain/password.h"

#include <argon2.h>

#include <mutex>
#include <stdexcept>

#include "domain/crypto.h"

namespace roster {

std::string hash_password(std::string_view password, const argon2_params& p) {
  std::string salt = random_bytes(16);
  size_t len = argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism, 16, 32, Argon2_id);
  std::string encoded(len, '\0');
  int rc = argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(),
                                 password.size(), salt.data(), salt.size(), 32, encoded.data(), len);
  if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size() : encoded.find('\0'));
  return encoded;
}

bool verify_password(std::string_view password, const std::string& encoded) {
  if (encoded.rfind("$argon2id$", 0) != 0) return false;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

const std::string& dummy_password_hash(const argon2_params& p) {
  static std::once_flag once;
  static std::string hash;
  std::call_once(once, [&] { hash = hash_password(base64url_encode(random_bytes(18)), p); });
  return hash;
}

} // namespace roster
