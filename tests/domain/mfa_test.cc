// MFA rules (domain/mfa.h): RFC 6238 vectors through liboath, ±1 step of
// skew, replay refusal, recovery codes, sealing, challenges.
#include "domain/mfa.h"

#include <gtest/gtest.h>

#include <set>

#include "base/crypto.h"
#include "config/config.h"
#include "domain/password.h"

using namespace roster;

namespace {
const std::string rfc_secret = "12345678901234567890";  // RFC 6238 appendix B, SHA-1
millis at(int64_t unix_seconds) { return unix_seconds * 1000; }
} // namespace

TEST(Mfa, Rfc6238VectorsSixDigits) {
  // The 8-digit vectors of RFC 6238, last six digits.
  EXPECT_EQ(mfa::totp_code(rfc_secret, 59), "287082");
  EXPECT_EQ(mfa::totp_code(rfc_secret, 1111111109), "081804");
  EXPECT_EQ(mfa::totp_code(rfc_secret, 1111111111), "050471");
  EXPECT_EQ(mfa::totp_code(rfc_secret, 1234567890), "005924");
  EXPECT_EQ(mfa::totp_code(rfc_secret, 2000000000), "279037");
  EXPECT_EQ(mfa::totp_code(rfc_secret, 20000000000), "353130");
  auto step = mfa::check_totp(rfc_secret, "005924", at(1234567890), 0);
  ASSERT_TRUE(step);
  EXPECT_EQ(*step, 1234567890 / 30);
}

TEST(Mfa, AcceptsOneStepOfSkewEitherWayAndNoMore) {
  int64_t t = 1'700'000'000;
  auto now = at(t);
  for (int d : {-1, 0, 1}) EXPECT_TRUE(mfa::check_totp(rfc_secret, mfa::totp_code(rfc_secret, t + 30 * d), now, 0)) << d;
  for (int d : {-3, -2, 2, 3}) EXPECT_FALSE(mfa::check_totp(rfc_secret, mfa::totp_code(rfc_secret, t + 30 * d), now, 0)) << d;
  EXPECT_FALSE(mfa::check_totp(rfc_secret, "12345", now, 0));
  EXPECT_FALSE(mfa::check_totp(rfc_secret, "abcdef", now, 0));
  EXPECT_FALSE(mfa::check_totp("another secret 12345", mfa::totp_code(rfc_secret, t), now, 0));
}

TEST(Mfa, RefusesACodeAtOrBeforeTheLastAcceptedStep) {
  int64_t t = 1'700'000'000;
  auto code = mfa::totp_code(rfc_secret, t);
  auto step = mfa::check_totp(rfc_secret, code, at(t), 0);
  ASSERT_TRUE(step);
  EXPECT_FALSE(mfa::check_totp(rfc_secret, code, at(t), *step));       // the same code again
  EXPECT_FALSE(mfa::check_totp(rfc_secret, code, at(t + 30), *step));  // still inside the skew
  auto older = mfa::totp_code(rfc_secret, t - 30);
  EXPECT_FALSE(mfa::check_totp(rfc_secret, older, at(t), *step));  // older than the one used
  auto next = mfa::totp_code(rfc_secret, t + 30);
  EXPECT_EQ(mfa::check_totp(rfc_secret, next, at(t + 30), *step), *step + 1);
}

TEST(Mfa, SecretsBase32AndOtpauthUri) {
  auto s = mfa::new_secret();
  EXPECT_EQ(s.size(), 20u);
  EXPECT_NE(s, mfa::new_secret());
  auto b32 = mfa::base32_encode(s);
  EXPECT_EQ(b32.size(), 32u);
  EXPECT_EQ(mfa::base32_decode(b32), s);
  std::string lower;
  for (char c : b32) lower += static_cast<char>(std::tolower(c));
  EXPECT_EQ(mfa::base32_decode(lower), s);
  EXPECT_EQ(mfa::base32_encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(mfa::otpauth_uri("My Game", "ann@example.com", "12345678901234567890"),
            "otpauth://totp/My%20Game:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=My%20Game"
            "&digits=6&period=30&algorithm=SHA1");
}

TEST(Mfa, RecoveryCodesAreReadableDistinctAndSingleUseAsHashes) {
  auto codes = mfa::new_recovery_codes();
  ASSERT_EQ(codes.size(), 10u);
  std::set<std::string> distinct(codes.begin(), codes.end());
  EXPECT_EQ(distinct.size(), 10u);
  for (auto& c : codes) {
    ASSERT_EQ(c.size(), 9u);
    EXPECT_EQ(c[4], '-');
    EXPECT_EQ(mfa::normalize_recovery_code(c), c);
  }
  std::string typed = codes[0];
  for (auto& ch : typed) ch = static_cast<char>(std::toupper(ch));
  typed.erase(4, 1);
  EXPECT_EQ(mfa::normalize_recovery_code(" " + typed + " "), codes[0]);
  EXPECT_FALSE(mfa::normalize_recovery_code("0000-0000"));  // 0 is not in the alphabet
  EXPECT_FALSE(mfa::normalize_recovery_code("abcd"));
  // Stored as Argon2id hashes; a used code's hash is removed, so it matches nothing after.
  argon2_params cheap{1024, 1, 1};
  std::vector<std::string> hashes;
  for (auto& c : codes) hashes.push_back(hash_password(c, cheap));
  auto use = [&](const std::string& code) {
    for (auto it = hashes.begin(); it != hashes.end(); ++it)
      if (verify_password(code, *it)) {
        hashes.erase(it);
        return true;
      }
    return false;
  };
  EXPECT_TRUE(use(codes[3]));
  EXPECT_FALSE(use(codes[3]));
  EXPECT_EQ(hashes.size(), 9u);
}

TEST(Mfa, SealedSecretsOpenOnlyUnderTheirKey) {
  auto key = random_bytes(32);
  auto secret = mfa::new_secret();
  auto sealed = mfa::seal_secret(key, secret);
  EXPECT_EQ(sealed.rfind("v1:", 0), 0u);
  EXPECT_EQ(sealed.find(mfa::base32_encode(secret)), std::string::npos);
  EXPECT_NE(sealed, mfa::seal_secret(key, secret));  // a fresh nonce each time
  EXPECT_EQ(mfa::open_secret(key, sealed), secret);
  EXPECT_FALSE(mfa::open_secret(random_bytes(32), sealed));
  auto tampered = sealed;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(mfa::open_secret(key, tampered));
  // No key: kept unsealed, still readable (and by a node with a key).
  auto plain = mfa::seal_secret("", secret);
  EXPECT_EQ(mfa::open_secret("", plain), secret);
  EXPECT_EQ(mfa::open_secret(key, plain), secret);
}

TEST(Mfa, ChallengesAllowFiveAttemptsExpireAndAreSingleUse) {
  mfa::challenge_book book;
  auto uid = new_uuid_bytes();
  millis now = 1'000'000;
  auto id = book.open(uid, "password", "", now, 300'000);
  EXPECT_EQ(user_id_of_token(id), uid);  // routable like a session token
  auto h = sha256(id);
  ASSERT_TRUE(book.find(h, now));
  EXPECT_EQ(book.find(h, now)->method, "password");
  for (int i = 0; i < mfa::challenge_attempts - 1; ++i) EXPECT_FALSE(book.fail(h));
  EXPECT_TRUE(book.fail(h));  // the fifth wrong code closes it
  EXPECT_FALSE(book.find(h, now));
  // expiry
  auto id2 = book.open(uid, "device", "device:x", now, 300'000);
  EXPECT_TRUE(book.find(sha256(id2), now + 299'999));
  EXPECT_FALSE(book.find(sha256(id2), now + 300'000));
  // single use
  auto id3 = book.open(uid, "password", "", now, 300'000);
  book.close(sha256(id3));
  EXPECT_FALSE(book.find(sha256(id3), now));
  // bounded
  for (int i = 0; i < 40; ++i) book.open(uid, "password", "", now, 300'000);
  EXPECT_LE(book.size(), mfa::challenge_book::cap);
}

// The MFA config keys (config/config.h; docs/operations.md).

TEST(Mfa, ConfigKeysHaveDefaultsAndAreChecked) {
  std::map<std::string, std::string> key{{"admin.keys", "flag-admin-key-123456"}};
  auto d = load_config("", {}, key);
  ASSERT_TRUE(d) << d.err().message;
  EXPECT_EQ(d->auth.mfa_challenge_ttl, mfa::default_challenge_ttl);
  EXPECT_EQ(d->auth.mfa_issuer, "Roster");
  auto set = load_config("", {{"ROSTER_AUTH_MFA_CHALLENGE_TTL", "90s"}, {"ROSTER_AUTH_MFA_ISSUER", "My Game"}}, key);
  ASSERT_TRUE(set) << set.err().message;
  EXPECT_EQ(set->auth.mfa_challenge_ttl, 90'000);
  EXPECT_EQ(set->auth.mfa_issuer, "My Game");
  auto short_ttl = load_config("", {{"ROSTER_AUTH_MFA_CHALLENGE_TTL", "10ms"}}, key);
  ASSERT_FALSE(short_ttl);
  EXPECT_NE(short_ttl.err().message.find("auth.mfa_challenge_ttl"), std::string::npos);
  auto colon = load_config("", {{"ROSTER_AUTH_MFA_ISSUER", "a:b"}}, key);
  ASSERT_FALSE(colon);
  EXPECT_NE(colon.err().message.find("auth.mfa_issuer"), std::string::npos);
}
