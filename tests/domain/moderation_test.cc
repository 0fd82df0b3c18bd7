// Reports and the moderation queue's rule (domain/moderation.h): input
// validation, how reports and decisions change a queue entry, the flag
// rule, the queue's order and the stored forms.
#include "domain/moderation.h"

#include <gtest/gtest.h>

namespace roster::moderation {
namespace {

constexpr millis hour = 3'600'000;
const std::string alice = "00000000-0000-4000-8000-00000000000a";

report by(const std::string& who, millis at, std::string category = "cheating") {
  return report{who, "name-" + who, std::move(category), "why", at};
}

std::string reporter(int i) { return "00000000-0000-4000-8000-0000000001" + std::string(i < 10 ? "0" : "") + std::to_string(i); }

TEST(ModerationRule, FiveDistinctReportersWithinTheWindowFlag) {
  flag_rule rule{5, 24 * hour};
  entry e{alice};
  millis now = 100 * hour;
  for (int i = 0; i < 4; ++i) add_report(e, by(reporter(i), now - i * hour));
  EXPECT_FALSE(flagged(e, now, rule));
  add_report(e, by(reporter(4), now - 5 * hour));
  EXPECT_TRUE(flagged(e, now, rule));
  EXPECT_EQ(e.pending, 5u);
  EXPECT_EQ(e.reporters.size(), 5u);
  // 20 h later the report made 5 h before `now` has left the window.
  EXPECT_FALSE(flagged(e, now + 20 * hour, rule));
  EXPECT_EQ(recent_reporters(e, now + 20 * hour, rule), 4u);
}

TEST(ModerationRule, FiveReportsFromOneReporterDoNotFlag) {
  flag_rule rule{5, 24 * hour};
  entry e{alice};
  for (int i = 0; i < 5; ++i) add_report(e, by(reporter(1), 10 * hour + i));
  EXPECT_EQ(e.pending, 5u);
  EXPECT_EQ(e.reporters.size(), 1u);
  EXPECT_FALSE(flagged(e, 10 * hour + 10, rule));
  EXPECT_EQ(e.reporters.at(reporter(1)), 10 * hour + 4);  // the latest report counts
}

TEST(ModerationRule, CategoriesBeyondTheSixteenthCountAsOther) {
  entry e{alice};
  for (int i = 0; i < 40; ++i) add_report(e, by(reporter(1), 5, "made_up_" + std::to_string(i)));
  add_report(e, by(reporter(1), 5, "made_up_3"));  // a known one still counts as itself
  EXPECT_LE(e.categories.size(), max_categories + 1);
  EXPECT_EQ(e.categories.at("made_up_3"), 2u);
  EXPECT_EQ(e.categories.at("other"), 40u - max_categories);
  EXPECT_EQ(e.pending, 41u);
}

TEST(ModerationRule, ARuleOfZeroReportersIsOff) {
  entry e{alice};
  for (int i = 0; i < 10; ++i) add_report(e, by(reporter(i), 5));
  EXPECT_FALSE(flagged(e, 6, flag_rule{0, hour}));
}

TEST(ModerationRule, ResolvingClearsThePendingReportsAndKeepsTheDecision) {
  flag_rule rule;
  entry e{alice};
  for (int i = 0; i < 6; ++i) add_report(e, by(reporter(i), 1000, i % 2 ? "spam" : "cheating"));
  EXPECT_EQ(e.categories.at("spam"), 3u);
  auto v = e.version;
  resolve(e, decision{"warn", "be nice", "ops", 2000});
  EXPECT_GT(e.version, v);
  EXPECT_EQ(e.pending, 0u);
  EXPECT_EQ(e.resolved, 6u);
  EXPECT_TRUE(e.reporters.empty());
  EXPECT_TRUE(e.categories.empty());
  EXPECT_EQ(status_of(e), "resolved");
  EXPECT_FALSE(flagged(e, 2000, rule));
  ASSERT_TRUE(e.last);
  EXPECT_EQ(e.last->reports, 6u);
  EXPECT_EQ(e.last->by, "ops");
  add_report(e, by(reporter(1), 3000));
  EXPECT_EQ(status_of(e), "pending");
  EXPECT_EQ(e.pending, 1u);
}

TEST(ModerationRule, TheQueueOrderIsFlaggedThenTotalThenNewest) {
  rank flagged_few{true, 5, 10, "b"}, many{false, 50, 10, "a"}, newer{false, 50, 20, "c"}, same{false, 50, 20, "d"};
  EXPECT_TRUE(before(flagged_few, many));
  EXPECT_FALSE(before(many, flagged_few));
  EXPECT_TRUE(before(newer, many));
  EXPECT_TRUE(before(newer, same));
  EXPECT_FALSE(before(same, newer));
  EXPECT_FALSE(before(same, same));
}

TEST(ModerationRule, SortKeysSortInQueueOrder) {
  std::vector<rank> ranks = {{true, 5, 10, "b"}, {true, 5, 10, "c"}, {false, 1ull << 40, 10, "a"}, {false, 50, 20, "c"},
                             {false, 50, 20, "d"}, {false, 50, 10, "a"}, {false, 3, 1LL << 45, "a"}, {false, 0, 0, "z"}};
  for (auto& a : ranks)
    for (auto& b : ranks) {
      EXPECT_EQ(sort_key(a) < sort_key(b), before(a, b)) << a.user_id << " " << b.user_id;
      EXPECT_EQ(sort_key(a).size(), sort_key_size);
    }
}

TEST(ModerationRule, ResolvedEntriesRankByTheirDecisionNewestFirst) {
  entry a{alice}, b{reporter(9)};
  add_report(a, by(reporter(1), 100));
  add_report(b, by(reporter(1), 900));
  resolve(a, decision{"clean", "", "ops", 5000});
  resolve(b, decision{"clean", "", "ops", 4000});
  EXPECT_TRUE(before(rank_of(a, false), rank_of(b, false)));
  EXPECT_EQ(rank_of(a, false).latest_at, 5000);
}

TEST(ModerationRule, TheNthReporterDecidesTheFlagWithoutAWalk) {
  flag_rule rule{3, 100};
  entry e{alice};
  add_report(e, by(reporter(1), 1000));
  add_report(e, by(reporter(2), 1050));
  EXPECT_EQ(nth_reporter_at(e, rule), never_flagged);  // two reporters of three
  add_report(e, by(reporter(3), 1020));
  add_report(e, by(reporter(1), 1080));  // reporter 1 again: its latest counts
  EXPECT_EQ(nth_reporter_at(e, rule), 1020);
  for (millis now : {1000, 1100, 1120, 1121, 1200})
    EXPECT_EQ(flagged(e, now, rule), recent_reporters(e, now, rule) >= 3) << now;
  // A report at time 0 is a time like any other (the fuzzer's finding).
  entry early{alice};
  for (int i = 1; i <= 3; ++i) add_report(early, by(reporter(i), 0));
  EXPECT_TRUE(flagged(early, 50, rule));
  EXPECT_EQ(recent_reporters(early, 50, rule), 3u);
}

TEST(ModerationRule, StoredFormsRoundTrip) {
  entry e{alice, "alice"};
  add_report(e, by(reporter(1), 1000, "spam"));
  resolve(e, decision{"ban", "cheats", "ops", 2000});
  add_report(e, by(reporter(2), 3000));
  auto back = decode_entry(encode_entry(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->user_id, e.user_id);
  EXPECT_EQ(back->username, "alice");
  EXPECT_EQ(back->version, e.version);
  EXPECT_EQ(back->pending, 1u);
  EXPECT_EQ(back->reporters, e.reporters);
  EXPECT_EQ(back->categories, e.categories);
  EXPECT_EQ(back->resolved, 1u);
  ASSERT_TRUE(back->last);
  EXPECT_EQ(back->last->action, "ban");
  EXPECT_EQ(back->last->at, 2000);
  // Numbers stored as floats are not integers (converting one that does not fit is UB).
  auto odd = decode_entry(R"({"id":"x","pending":2.5e31,"reporters":{"a":1.5e300,"b":7},"categories":{"c":-1.5}})");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->pending, 0u);
  EXPECT_EQ(odd->reporters.size(), 1u);
  EXPECT_TRUE(odd->categories.empty());
  EXPECT_FALSE(decode_entry("not json"));
  EXPECT_FALSE(decode_entry("{}"));

  auto r = decode_report(encode_report(by(reporter(3), 42, "spam")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reporter_id, reporter(3));
  EXPECT_EQ(r->category, "spam");
  EXPECT_EQ(r->at, 42);
  auto m = decode_report_made(encode_report_made({"bob", "spam", 7}));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->username, "bob");
  EXPECT_EQ(m->at, 7);
}

TEST(ModerationRule, QueueItemShowsPublicFieldsOnly) {
  entry e{alice, "alice"};
  add_report(e, by(reporter(1), 1000));
  auto item = nlohmann::json::parse(queue_item(e, 2000, flag_rule{}));
  EXPECT_EQ(item["user_id"], alice);
  EXPECT_EQ(item["status"], "pending");
  EXPECT_EQ(item["total"], 1);
  EXPECT_EQ(item["distinct_reporters"], 1);
  EXPECT_EQ(item["flagged"], false);
  EXPECT_EQ(item["categories"]["cheating"], 1);
  EXPECT_TRUE(item["last_decision"].is_null());
  EXPECT_FALSE(item.contains("reporters"));  // who reported is for the relations view
}

TEST(ModerationInput, ReportsAreValidated) {
  using nlohmann::json;
  auto ok = parse_report(json{{"user_id", alice}, {"category", "cheating"}, {"reason", "aimbot"}});
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->block);
  auto no_block = parse_report(json{{"user_id", alice}, {"category", "spam"}, {"block", false}});
  ASSERT_TRUE(no_block);
  EXPECT_FALSE(no_block->block);
  EXPECT_EQ(no_block->reason, "");

  auto bad = parse_report(json{{"user_id", "nope"}, {"category", "Bad Category"}, {"reason", std::string(1001, 'x')},
                               {"block", "yes"}, {"extra", 1}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().code, errc::invalid_request);
  for (auto f : {"user_id", "category", "reason", "block", "extra"}) EXPECT_TRUE(bad.err().fields.count(f)) << f;
  EXPECT_FALSE(parse_report(json{{"user_id", alice}}));  // category is required
  EXPECT_FALSE(parse_report(json{{"user_id", alice}, {"category", "spam"}, {"reason", "a\x01z"}}));
  EXPECT_FALSE(parse_report(json::array()));
}

TEST(ModerationInput, DecisionsAreValidated) {
  using nlohmann::json;
  auto ban = parse_resolve(json{{"action", "ban"}, {"reason", "cheats"}, {"duration", "7d"}});
  ASSERT_TRUE(ban);
  EXPECT_EQ(ban->duration, 7 * 24 * hour);
  auto secs = parse_resolve(json{{"action", "ban"}, {"reason", "cheats"}, {"duration", 60}});
  ASSERT_TRUE(secs);
  EXPECT_EQ(secs->duration, 60'000);
  EXPECT_TRUE(parse_resolve(json{{"action", "clean"}}));
  EXPECT_FALSE(parse_resolve(json{{"action", "warn"}}));             // a warning needs a reason
  EXPECT_FALSE(parse_resolve(json{{"action", "nuke"}, {"reason", "x"}}));
  EXPECT_FALSE(parse_resolve(json{{"action", "warn"}, {"reason", "x"}, {"duration", "1h"}}));  // ban only
  EXPECT_FALSE(parse_resolve(json{{"action", "ban"}, {"reason", "x"}, {"duration", -5}}));
  EXPECT_FALSE(parse_resolve(json{{"action", "ban"}, {"reason", "x"}, {"duration", "soon"}}));
}

} // namespace
} // namespace roster::moderation
