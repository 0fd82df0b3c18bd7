#include "base/crypto.h"

#include <gtest/gtest.h>

#include "base/siphash.h"

namespace roster {
namespace {

TEST(Crypto, Base64UrlRoundTripsEveryLength) {
  for (size_t n = 0; n < 40; ++n) {
    auto bytes = random_bytes(n);
    auto text = base64url_encode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
    auto back = base64url_decode(text);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, bytes);
  }
  EXPECT_EQ(base64url_encode("hello"), "aGVsbG8");
  EXPECT_FALSE(base64url_decode("a$b"));
  EXPECT_FALSE(base64url_decode("a"));
}

TEST(Crypto, UuidsAreVersion4AndParseStrictly) {
  auto b = new_uuid_bytes();
  auto s = uuid_to_string(b);
  ASSERT_EQ(s.size(), 36u);
  EXPECT_EQ(s[14], '4');
  EXPECT_EQ(uuid_from_string(s), b);
  EXPECT_FALSE(uuid_from_string("not-a-uuid"));
  EXPECT_FALSE(uuid_from_string("ABCDEF00-0000-4000-8000-000000000000"));  // uppercase refused
  EXPECT_FALSE(uuid_from_string("00000000x0000-4000-8000-000000000000"));
}

TEST(Crypto, SessionTokensCarryTheUserIdAndOnlyTheirHashIsKept) {
  auto uid = new_uuid_bytes();
  auto t = new_session_token(uid);
  EXPECT_EQ(t.token.size(), 64u);
  EXPECT_EQ(t.token_hash, sha256(t.token));
  EXPECT_EQ(user_id_of_token(t.token), uid);
  EXPECT_NE(new_session_token(uid).token, t.token);
  EXPECT_FALSE(user_id_of_token(t.token.substr(1)));
  EXPECT_FALSE(user_id_of_token(std::string(64, '!')));
}

TEST(Crypto, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Crypto, Sha256KnownVector) {
  EXPECT_EQ(hex_encode(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SipHash, ReferenceVectors) {
  // From the SipHash paper: key 00..0f; message 00..(n-1).
  uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
  EXPECT_EQ(siphash24(k0, k1, ""), 0x726fdb47dd0e0e31ULL);
  std::string msg;
  for (int i = 0; i < 15; ++i) msg.push_back(static_cast<char>(i));
  EXPECT_EQ(siphash24(k0, k1, msg), 0xa129ca6149be45e5ULL);
}

TEST(SipHash, PlacementIsStable) {
  // Changing the placement hash would move every stored record: pin it.
  EXPECT_EQ(placement_hash("email:a@b.co"), placement_hash("email:a@b.co"));
  EXPECT_NE(placement_hash("email:a@b.co"), placement_hash("email:a@b.cO"));
}

} // namespace
} // namespace roster
