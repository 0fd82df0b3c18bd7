#include "domain/mfa.h"

#include <liboath/oath.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "base/crypto.h"

namespace roster::mfa {

namespace {

void ensure_oath() {
  static std::once_flag once;
  std::call_once(once, [] { oath_init(); });
}

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

// Crockford-like: no 0/o, 1/l/i look-alikes.
constexpr std::string_view recovery_alphabet = "abcdefghjkmnpqrstuvwxyz23456789";

} // namespace

std::string new_secret() { return random_bytes(secret_bytes); }

std::string base32_encode(std::string_view raw) {
  ensure_oath();
  char* out = nullptr;
  size_t len = 0;
  if (oath_base32_encode(raw.data(), raw.size(), &out, &len) != OATH_OK || !out) return {};
  std::string s(out, len);
  std::free(out);
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::optional<std::string> base32_decode(std::string_view text) {
  ensure_oath();
  std::string in;
  for (char ch : text) {
    if (ch == '=' || ch == ' ') continue;
    in += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  while (in.size() % 8) in += '=';
  char* out = nullptr;
  size_t len = 0;
  if (in.empty() || oath_base32_decode(in.data(), in.size(), &out, &len) != OATH_OK || !out) return std::nullopt;
  std::string s(out, len);
  std::free(out);
  return s;
}

std::string otpauth_uri(std::string_view issuer, std::string_view label, std::string_view raw_secret) {
  auto iss = percent_encode(issuer);
  return "otpauth://totp/" + iss + ":" + percent_encode(label) + "?secret=" + base32_encode(raw_secret) +
         "&issuer=" + iss + "&digits=" + std::to_string(totp_digits) + "&period=" + std::to_string(totp_period_s) +
         "&algorithm=SHA1";
}

std::string totp_code(std::string_view raw_secret, int64_t unix_seconds) {
  ensure_oath();
  char out[16] = {0};
  if (oath_totp_generate(raw_secret.data(), raw_secret.size(), static_cast<time_t>(unix_seconds), totp_period_s, 0,
                         totp_digits, out) != OATH_OK)
    return {};
  return out;
}

int64_t step_at(millis now) { return now / 1000 / totp_period_s; }

bool well_formed_totp(std::string_view code) {
  return code.size() == totp_digits && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int64_t> check_totp(std::string_view raw_secret, std::string_view code, millis now, int64_t last_step) {
  if (!well_formed_totp(code) || raw_secret.empty()) return std::nullopt;
  ensure_oath();
  std::string otp(code);
  int pos = 0;
  uint64_t counter = 0;
  int rc = oath_totp_validate3(raw_secret.data(), raw_secret.size(), static_cast<time_t>(now / 1000), totp_period_s,
                               0, totp_skew_steps, &pos, &counter, otp.c_str());
  if (rc < 0) return std::nullopt;
  auto step = static_cast<int64_t>(counter);
  if (step <= last_step) return std::nullopt;  // used already, or older than a used one
  return step;
}

std::vector<std::string> new_recovery_codes(size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto bytes = random_bytes(8);
    std::string code;
    for (size_t j = 0; j < 8; ++j) {
      // 256 % 31 != 0: reject the top to keep letters uniform
      unsigned char b = static_cast<unsigned char>(bytes[j]);
      while (b >= 248) b = static_cast<unsigned char>(random_bytes(1)[0]);
      code += recovery_alphabet[b % recovery_alphabet.size()];
      if (j == 3) code += '-';
    }
    out.push_back(std::move(code));
  }
  return out;
}

std::optional<std::string> normalize_recovery_code(std::string_view typed) {
  std::string letters;
  for (char ch : typed) {
    if (ch == '-' || ch == ' ') continue;
    auto lower = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (recovery_alphabet.find(lower) == std::string_view::npos) return std::nullopt;
    letters += lower;
  }
  if (letters.size() != 8) return std::nullopt;
  return letters.substr(0, 4) + "-" + letters.substr(4);
}

std::string seal_secret(std::string_view key, std::string_view raw) {
  if (key.empty()) return "p:" + base64url_encode(raw);
  auto nonce = random_bytes(12);
  std::string ct(raw.size(), '\0');
  unsigned char tag[16];
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  auto u = [](auto* p) { return reinterpret_cast<unsigned char*>(const_cast<char*>(p)); };
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u(key.data()), u(nonce.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), u(ct.data()), &len, u(raw.data()), static_cast<int>(raw.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), u(ct.data()) + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
    std::abort();  // OpenSSL failing on AES-GCM: nothing sensible to store
  return "v1:" + base64url_encode(nonce + ct + std::string(reinterpret_cast<char*>(tag), 16));
}

std::optional<std::string> open_secret(std::string_view key, std::string_view sealed) {
  if (sealed.rfind("p:", 0) == 0) return base64url_decode(sealed.substr(2));
  if (sealed.rfind("v1:", 0) != 0 || key.size() != 32) return std::nullopt;
  auto blob = base64url_decode(sealed.substr(3));
  if (!blob || blob->size() < 12 + 16) return std::nullopt;
  auto nonce = blob->substr(0, 12);
  auto ct = blob->substr(12, blob->size() - 28);
  auto tag = blob->substr(blob->size() - 16);
  std::string pt(ct.size(), '\0');
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  auto u = [](auto* p) { return reinterpret_cast<unsigned char*>(const_cast<char*>(p)); };
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, u(key.data()), u(nonce.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), u(pt.data()), &len, u(ct.data()), static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, u(tag.data())) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), u(pt.data()) + len, &len) != 1)
    return std::nullopt;
  return pt;
}

// -- challenges ------------------------------------------------------------------

void challenge_book::prune(millis now) {
  items_.erase(std::remove_if(items_.begin(), items_.end(), [&](const challenge& c) { return c.expires_at <= now; }),
               items_.end());
}

std::string challenge_book::open(std::string_view uid16, std::string method, std::string via_key, millis now,
                                 millis ttl) {
  prune(now);
  if (items_.size() >= cap) items_.erase(items_.begin());
  auto t = new_session_token(uid16);
  items_.push_back(challenge{t.token_hash, std::move(method), std::move(via_key), now + ttl, 0});
  return t.token;
}

const challenge* challenge_book::find(std::string_view id_hash, millis now) {
  prune(now);
  for (auto& c : items_)
    if (constant_time_equal(c.id_hash, id_hash)) return &c;
  return nullptr;
}

bool challenge_book::fail(std::string_view id_hash) {
  for (auto it = items_.begin(); it != items_.end(); ++it)
    if (constant_time_equal(it->id_hash, id_hash)) {
      if (++it->failures >= challenge_attempts) {
        items_.erase(it);
        return true;
      }
      return false;
    }
  return true;
}

void challenge_book::close(std::string_view id_hash) {
  items_.erase(std::remove_if(items_.begin(), items_.end(),
                              [&](const challenge& c) { return constant_time_equal(c.id_hash, id_hash); }),
               items_.end());
}

} // namespace roster::mfa
