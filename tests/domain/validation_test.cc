#include "domain/validation.h"

#include <gtest/gtest.h>

namespace roster {
namespace {

TEST(Validation, UsernameTagFoldsLookAlikes) {
  EXPECT_EQ(username_tag("Tk421"), username_tag("tk42l"));
  EXPECT_EQ(username_tag("Tk421"), "tk42l");
  EXPECT_EQ(username_tag("I_l.1-i"), "llll");
  EXPECT_EQ(username_tag("B0SS5"), "bosss");
  EXPECT_NE(username_tag("alice"), username_tag("alicf"));
}

TEST(Validation, Utf8CleanReplacesBadBytesAndCutsAtCharacters) {
  EXPECT_EQ(utf8_clean("curl/7.88", 512), "curl/7.88");
  EXPECT_EQ(utf8_clean("a\xff" "b", 512), "a\xef\xbf\xbd" "b");
  EXPECT_EQ(utf8_clean("\xc3", 512), "\xef\xbf\xbd");        // truncated sequence
  EXPECT_EQ(utf8_clean("ab\xc3\xa9", 3), "ab");               // é does not fit: cut before it
  EXPECT_EQ(utf8_clean(std::string(600, 'x'), 512), std::string(512, 'x'));
  EXPECT_TRUE(valid_utf8(utf8_clean("\xed\xa0\x80\xc0\xaf", 512)));  // surrogate, overlong
}

TEST(Validation, Usernames) {
  EXPECT_TRUE(check_username("ab_c.d-9").empty());
  EXPECT_FALSE(check_username("ab").empty());
  EXPECT_FALSE(check_username(std::string(33, 'a')).empty());
  EXPECT_FALSE(check_username("has space").empty());
  EXPECT_FALSE(check_username("émile").empty());
  EXPECT_FALSE(check_username("___").empty());
}

TEST(Validation, Emails) {
  EXPECT_TRUE(check_email("a@b.co").empty());
  EXPECT_FALSE(check_email("").empty());
  EXPECT_FALSE(check_email("no-at.example").empty());
  EXPECT_FALSE(check_email("a@nodot").empty());
  EXPECT_FALSE(check_email("a@b@c.com").empty());
  EXPECT_FALSE(check_email(std::string(250, 'a') + "@b.co").empty());
  EXPECT_FALSE(check_email(std::string("a\0b@c.com", 9)).empty());
  EXPECT_EQ(normalize_email("Ann@Example.COM"), "ann@example.com");
}

TEST(Validation, DisplayNamesCountCodePoints) {
  EXPECT_TRUE(check_display_name("Zoë").empty());
  EXPECT_TRUE(check_display_name(std::string(64 / 2 * 2, 'x')).empty());
  std::string sixty_four_emoji;
  for (int i = 0; i < 64; ++i) sixty_four_emoji += "\xF0\x9F\x98\x80";
  EXPECT_TRUE(check_display_name(sixty_four_emoji).empty());
  EXPECT_FALSE(check_display_name(sixty_four_emoji + "x").empty());
  EXPECT_FALSE(check_display_name("").empty());
  EXPECT_FALSE(check_display_name("   ").empty());
  EXPECT_FALSE(check_display_name("tab\there").empty());
}

TEST(Validation, PasswordPolicy) {
  EXPECT_TRUE(check_password("correct-horse-9").empty());
  EXPECT_FALSE(check_password("short").empty());
  EXPECT_FALSE(check_password(std::string(257, 'x')).empty());
  EXPECT_EQ(check_password("Password123"), "is too common");
  EXPECT_TRUE(is_common_password("QWERTY123"));
  EXPECT_FALSE(is_common_password("zebra-umbrella-42"));
}

TEST(Validation, Utf8) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xE2\x82\xAC"));
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_EQ(utf8_length("Zoë"), 3u);
}

TEST(Validation, JsonDepthIgnoresBracketsInStrings) {
  EXPECT_EQ(json_depth("{}"), 1u);
  EXPECT_EQ(json_depth("[[[]]]"), 3u);
  EXPECT_EQ(json_depth("{\"a\":\"[[[[\\\"[[\"}"), 1u);
  EXPECT_EQ(json_depth(std::string(100000, '[')), 100000u);
}

} // namespace
} // namespace roster
