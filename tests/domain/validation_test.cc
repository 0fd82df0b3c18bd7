#include "domain/validation.h"

#include <gtest/gtest.h>

#include <vector>

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

TEST(Validation, PhonesAreE164) {
  EXPECT_TRUE(check_phone("+14155550123").empty());
  EXPECT_TRUE(check_phone("+447700900123").empty());
  EXPECT_TRUE(check_phone("+123456789012345").empty());  // 15 digits: the longest
  EXPECT_FALSE(check_phone("").empty());
  EXPECT_FALSE(check_phone("+").empty());
  EXPECT_FALSE(check_phone("14155550123").empty());       // no '+'
  EXPECT_FALSE(check_phone("+04155550123").empty());      // no country code starts with 0
  EXPECT_FALSE(check_phone("+1234567").empty());          // 7 digits
  EXPECT_FALSE(check_phone("+1234567890123456").empty()); // 16 digits
  EXPECT_FALSE(check_phone("+1 415 555 0123").empty());
  EXPECT_FALSE(check_phone("+1415555012\xd9\xa3").empty());  // a non-ASCII digit
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

TEST(Validation, DisplayNamesRefuseControlAndFormatCharacters) {
  const std::string field = "display_name";
  // Accepted: letters of any script, emoji, inner spaces, a no-break space between words.
  EXPECT_EQ(check_display_name("Zoë Ünal"), "");
  EXPECT_EQ(check_display_name("\xE5\xB0\x8F\xE6\x98\x8E"), "");       // 小明
  EXPECT_EQ(check_display_name("\xD8\xB3\xD8\xA7\xD8\xB1\xD8\xA9"), "");  // سارة (right-to-left letters are fine)
  EXPECT_EQ(check_display_name("a\xC2\xA0" "b"), "");                     // U+00A0 between letters
  EXPECT_EQ(check_display_name("\xF0\x9F\x98\x80"), "");                  // U+1F600
  // C0, DEL and C1 controls.
  EXPECT_EQ(check_display_name("line\nbreak"), "contains control characters");
  EXPECT_EQ(check_display_name(std::string("nul\0x", 5)), "contains control characters");
  EXPECT_EQ(check_display_name("del\x7f"), "contains control characters");
  EXPECT_EQ(check_display_name("c1\xC2\x85next"), "contains control characters");   // U+0085 NEL
  EXPECT_EQ(check_display_name("c1\xC2\x9B"), "contains control characters");      // U+009B CSI
  EXPECT_EQ(check_display_name("ok\xC2\xA0"), "");                                  // U+00A0 is not C1
  // Format characters (Cf), one from each part of the table that matters in practice.
  const char* format_chars[] = {
    "\xC2\xAD",          // U+00AD SOFT HYPHEN
    "\xD8\x9C",          // U+061C ARABIC LETTER MARK
    "\xE1\xA0\x8E",      // U+180E MONGOLIAN VOWEL SEPARATOR
    "\xE2\x80\x8B",      // U+200B ZERO WIDTH SPACE
    "\xE2\x80\x8D",      // U+200D ZERO WIDTH JOINER
    "\xE2\x80\x8F",      // U+200F RIGHT-TO-LEFT MARK
    "\xE2\x80\xAA",      // U+202A LEFT-TO-RIGHT EMBEDDING
    "\xE2\x80\xAE",      // U+202E RIGHT-TO-LEFT OVERRIDE
    "\xE2\x81\xA0",      // U+2060 WORD JOINER
    "\xE2\x81\xA4",      // U+2064 INVISIBLE PLUS
    "\xE2\x81\xA6",      // U+2066 LEFT-TO-RIGHT ISOLATE
    "\xE2\x81\xAF",      // U+206F NOMINAL DIGIT SHAPES
    "\xEF\xBB\xBF",      // U+FEFF ZERO WIDTH NO-BREAK SPACE
    "\xEF\xBF\xB9",      // U+FFF9 INTERLINEAR ANNOTATION ANCHOR
    "\xEF\xBF\xBB",      // U+FFFB INTERLINEAR ANNOTATION TERMINATOR
    "\xF3\xA0\x80\x81",  // U+E0001 LANGUAGE TAG
    "\xF3\xA0\x80\xA0",  // U+E0020 TAG SPACE
    "\xF3\xA0\x81\xBF",  // U+E007F CANCEL TAG
  };
  for (auto* f : format_chars)
    EXPECT_EQ(check_display_name(std::string("ab") + f + "cd"), "contains invisible formatting characters") << field << f;
  EXPECT_EQ(check_display_name("\xE2\x80\xAE" "evil.exe"), "contains invisible formatting characters");
  EXPECT_EQ(check_display_name("\xEF\xBB\xBF"), "contains invisible formatting characters");  // only a BOM
  // Neighbours of the ranges are not format characters.
  EXPECT_EQ(check_display_name("a\xE2\x80\x8A" "b"), "");  // U+200A HAIR SPACE (a separator)
  EXPECT_EQ(check_display_name("a\xE2\x80\x90" "b"), "");  // U+2010 HYPHEN
  EXPECT_EQ(check_display_name("a\xE2\x80\xAF" "b"), "");  // U+202F NARROW NO-BREAK SPACE
  EXPECT_EQ(check_display_name("a\xEF\xBF\xBC"), "");      // U+FFFC OBJECT REPLACEMENT CHARACTER
  EXPECT_EQ(check_display_name("a\xE2\x80\xA8" "b"), "contains line separators");  // U+2028
  // At least one visible character.
  EXPECT_EQ(check_display_name("   "), "must contain a visible character");
  EXPECT_EQ(check_display_name("\xE3\x80\x80\xC2\xA0\xE2\x80\x83"), "must contain a visible character");  // U+3000 U+00A0 U+2003
  EXPECT_EQ(check_display_name("\xE3\x85\xA4\xE3\x85\xA4"), "must contain a visible character");          // U+3164 HANGUL FILLER
  EXPECT_EQ(check_display_name("\xE2\xA0\x80"), "must contain a visible character");                      // U+2800 BRAILLE BLANK
  EXPECT_EQ(check_display_name(" x "), "");
  // Not UTF-8.
  EXPECT_EQ(check_display_name("\xFF"), "is not valid UTF-8");
  EXPECT_EQ(check_display_name("\xC0\xAF"), "is not valid UTF-8");
}

TEST(Validation, FormatCodePointTableMatchesUnicodeCf) {
  // Every Cf code point of Unicode 15 (DerivedGeneralCategory.txt), listed
  // as ranges, and no other code point: checks the lookup over the whole range.
  std::vector<std::pair<char32_t, char32_t>> cf = {
    {0x00AD, 0x00AD}, {0x0600, 0x0605}, {0x061C, 0x061C}, {0x06DD, 0x06DD}, {0x070F, 0x070F},
    {0x0890, 0x0891}, {0x08E2, 0x08E2}, {0x180E, 0x180E}, {0x200B, 0x200F}, {0x202A, 0x202E},
    {0x2060, 0x2064}, {0x2066, 0x206F}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0x110BD, 0x110BD},
    {0x110CD, 0x110CD}, {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F}};
  auto in_cf = [&](char32_t cp) {
    for (auto [lo, hi] : cf)
      if (cp >= lo && cp <= hi) return true;
    return false;
  };
  size_t count = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    ASSERT_EQ(is_format_code_point(cp), in_cf(cp)) << std::hex << static_cast<uint32_t>(cp);
    count += is_format_code_point(cp);
  }
  EXPECT_EQ(count, 170u);  // Unicode 15.0: 170 code points in Cf
}

TEST(Validation, LogSafeEscapesWhatCouldForgeOrHideALogLine) {
  EXPECT_EQ(log_safe("plain /v1/users/Zoë"), "plain /v1/users/Zoë");
  EXPECT_EQ(log_safe("/x\n2026-11-28 [error] forged"), "/x\\n2026-11-28 [error] forged");
  EXPECT_EQ(log_safe("a\r\tb"), "a\\r\\tb");
  EXPECT_EQ(log_safe(std::string("nul\0esc\x1b[31m", 12)), "nul\\x00esc\\x1b[31m");
  EXPECT_EQ(log_safe("del\x7f"), "del\\x7f");
  EXPECT_EQ(log_safe("nel\xC2\x85"), "nel\\u{0085}");
  EXPECT_EQ(log_safe("\xE2\x80\xAE" "exe.txt"), "\\u{202e}exe.txt");
  EXPECT_EQ(log_safe("a\xE2\x80\xA8" "b"), "a\\u{2028}b");
  EXPECT_EQ(log_safe("tag\xF3\xA0\x80\x81"), "tag\\u{e0001}");
  EXPECT_EQ(log_safe("bad\xFF\xC0\xAF"), "bad\\xff\\xc0\\xaf");
  EXPECT_EQ(log_safe("back\\slash\\n"), "back\\\\slash\\\\n");  // a literal "\n" stays distinguishable
  for (unsigned b = 0; b < 256; ++b) {
    auto out = log_safe(std::string(1, static_cast<char>(b)) + "x");
    for (char c : out) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << b;
  }
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
