#include "domain/codes.h"

#include <gtest/gtest.h>

#include <set>

#include "base/crypto.h"

using namespace roster;

namespace {
constexpr millis t0 = 1'800'000'000'000;
code_policy policy() { return code_policy{}; }
}  // namespace

TEST(Codes, AreSixDigitsFromTheWholeRange) {
  std::set<char> first;
  for (int i = 0; i < 300; ++i) {
    auto c = new_code();
    ASSERT_EQ(c.size(), 6u);
    for (char ch : c) ASSERT_TRUE(ch >= '0' && ch <= '9');
    first.insert(c[0]);
  }
  EXPECT_GE(first.size(), 8u);  // leading zeros kept, digits spread
  auto t = new_link_token();
  EXPECT_EQ(t.size(), 43u);
  EXPECT_EQ(base64url_decode(t)->size(), 32u);
  EXPECT_NE(new_link_token(), t);
}

TEST(Codes, StoreOnlyTheHashAndMatchOnce) {
  auto r = issue_code(std::nullopt, t0, policy(), false);
  ASSERT_TRUE(r.ok);
  auto rec = r.ok->record;
  EXPECT_EQ(rec.hash, sha256(r.ok->secret));
  EXPECT_EQ(encode_code_record(rec).find(r.ok->secret), std::string::npos);
  auto back = decode_code_record(encode_code_record(rec));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->hash, rec.hash);
  EXPECT_EQ(back->sends, rec.sends);
  EXPECT_EQ(check_code(*back, r.ok->secret, t0 + 1), code_check::ok);
  EXPECT_EQ(check_code(*back, r.ok->secret, t0 + 2), code_check::none);  // single use
}

TEST(Codes, FiveWrongTriesSpendTheCodeEvenForTheRightOneAfter) {
  auto r = issue_code(std::nullopt, t0, policy(), false);
  auto rec = r.ok->record;
  auto wrong = r.ok->secret == "000000" ? std::string("000001") : std::string("000000");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(check_code(rec, wrong, t0 + i), code_check::wrong);
  EXPECT_EQ(check_code(rec, r.ok->secret, t0 + 10), code_check::none);
}

TEST(Codes, ExpireAfterTheirTtl) {
  auto r = issue_code(std::nullopt, t0, policy(), false);
  auto rec = r.ok->record;
  EXPECT_EQ(check_code(rec, r.ok->secret, t0 + policy().ttl), code_check::none);
}

TEST(Codes, ANewCodeReplacesTheOld) {
  auto p = policy();
  p.per_minute = 5;
  auto first = issue_code(std::nullopt, t0, p, false);
  auto second = issue_code(first.ok->record, t0 + 1000, p, false);
  ASSERT_TRUE(second.ok);
  auto rec = second.ok->record;
  if (first.ok->secret != second.ok->secret) EXPECT_EQ(check_code(rec, first.ok->secret, t0 + 2000), code_check::wrong);
  EXPECT_EQ(check_code(rec, second.ok->secret, t0 + 3000), code_check::ok);
}

TEST(Codes, SendsAreThrottledPerMinuteAndPerHour) {
  auto p = policy();  // 1 per minute, 10 per hour
  auto r = issue_code(std::nullopt, t0, p, false);
  auto again = issue_code(r.ok->record, t0 + 20'000, p, false);
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.retry_after_s, 40);
  std::optional<code_record> rec = r.ok->record;
  for (int i = 1; i < 10; ++i) {
    auto next = issue_code(rec, t0 + i * 61'000, p, false);
    ASSERT_TRUE(next.ok) << i;
    rec = next.ok->record;
  }
  auto eleventh = issue_code(rec, t0 + 10 * 61'000, p, false);
  EXPECT_FALSE(eleventh.ok);
  EXPECT_EQ(eleventh.retry_after_s, (3'600'000 - 10 * 61'000 + 999) / 1000);
  EXPECT_TRUE(issue_code(rec, t0 + 3'600'001, p, false).ok);  // the first send left the hour
  // The throttle outlives a used code; the record is spent only an hour after its last send.
  auto used = *rec;
  check_code(used, "x", t0 + 10 * 61'000);
  EXPECT_FALSE(code_record_spent(used, t0 + 10 * 61'000));
  used.hash.clear();
  EXPECT_FALSE(code_record_spent(used, t0 + 9 * 61'000 + 3'600'001));  // its wrong try counts for a day
  EXPECT_TRUE(code_record_spent(used, t0 + 10 * 61'000 + 86'400'001));
}

TEST(Codes, BadStoredFormsAreRejected) {
  EXPECT_FALSE(decode_code_record("[]"));
  EXPECT_FALSE(decode_code_record(R"({"hash":"abc"})"));
  EXPECT_FALSE(decode_code_record(R"({"hash":"zz"})"));
  EXPECT_FALSE(decode_code_record(R"({"sends":["x"]})"));
}

TEST(Codes, WrongTriesAreCappedPerDayAcrossNewCodes) {
  auto p = policy();
  p.per_minute = p.per_hour = 1000;
  std::optional<code_record> rec;
  int wrong = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = issue_code(rec, t0 + i * 1000, p, false);
    ASSERT_TRUE(r.ok);
    auto next = r.ok->record;
    auto bad = r.ok->secret == "000000" ? "000001" : "000000";
    for (int k = 0; k < 5; ++k) wrong += check_code(next, bad, t0 + i * 1000 + k, p) == code_check::wrong;
    rec = next;
  }
  EXPECT_EQ(wrong, 20);  // not 50: fresh codes do not bring fresh guesses past the day's budget
  auto last = issue_code(rec, t0 + 20'000, p, false);
  auto spent = last.ok->record;
  EXPECT_EQ(check_code(spent, last.ok->secret, t0 + 20'001, p), code_check::none);  // even the right code
  auto back = decode_code_record(encode_code_record(spent));
  EXPECT_EQ(back->failures.size(), 20u);
  auto day_later = issue_code(rec, t0 + 86'400'000 + 10'000, p, false);
  auto fresh = day_later.ok->record;
  EXPECT_EQ(check_code(fresh, day_later.ok->secret, t0 + 86'400'000 + 10'001, p), code_check::ok);
}

TEST(Codes, LinkTokensAreFoundByTheirHashAndRedirectsOnlyByPrefix) {
  auto t = new_link_token();
  EXPECT_EQ(link_key(t), "link:" + hex_encode(sha256(t)));
  EXPECT_EQ(link_key(t).find(t), std::string::npos);  // the key never holds the token
  std::vector<std::string> allow = {"https://game.example.com/", "mygame://"};
  EXPECT_TRUE(redirect_allowed("https://game.example.com/welcome?x=1", allow));
  EXPECT_TRUE(redirect_allowed("mygame://signed-in", allow));
  EXPECT_FALSE(redirect_allowed("https://game.example.com.evil.net/", allow));
  EXPECT_FALSE(redirect_allowed("https://evil.net/?https://game.example.com/", allow));
  EXPECT_FALSE(redirect_allowed("https://game.example.com/a b", allow));
  EXPECT_FALSE(redirect_allowed("https://game.example.com/", {}));
  EXPECT_FALSE(redirect_allowed("anything", {""}));
}
