#pragma once
// Reports and the moderation queue (issue 12 item 4, SPEC §4), pure: what a
// report and a moderator's decision carry, how they change the queue entry
// of the reported user, the flag rule, and the queue's order.
//
// A report is stored in the reported user's partition (keys::report) and
// folded into that user's queue entry (keys::queue_entry) in the same batch,
// by the reported user's actor. The node's moderation-queue actor
// (actors/moderation/) keeps the entries of the partitions its node serves
// and answers its part of GET /v1/admin/moderation/queue; a decision
// (POST .../resolve) resolves every pending report of the user at once.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/errc.h"

namespace roster::moderation {

using json = nlohmann::json;

/// moderation.flag_distinct_reporters / flag_window: a user reported by at
/// least `distinct_reporters` different users within `window` is flagged
/// (0 reporters: the rule is off).
struct flag_rule {
  uint64_t distinct_reporters = 5;
  millis window = 24 * 3'600'000;
};

inline constexpr size_t max_reason = 1000;    // bytes of a report's or a decision's reason
inline constexpr size_t max_category = 32;    // bytes of a category
/// Distinct categories an entry counts; reports in further ones count as
/// "other" (categories are the reporters' words: they must not grow an
/// entry, and every queue page that shows it, without bound).
inline constexpr size_t max_categories = 16;

/// POST /v1/reports {user_id, category, reason?, block?}, validated:
/// category is a lowercase word ([a-z0-9_], 1..32), reason UTF-8 text
/// without control characters (at most max_reason bytes), block true unless
/// given false. invalid_request with per-field problems (unknown fields too).
struct report_input {
  std::string user_id;  // lowercase UUID text
  std::string category;
  std::string reason;
  bool block = true;
};
result<report_input> parse_report(const json& body);

/// POST /v1/admin/moderation/queue/{user_id}/resolve {action, reason?,
/// duration?}: action ban | warn | clean; duration (ban only) seconds as an
/// integer or a duration text ("24h", "7d"); none: until lifted.
struct resolve_input {
  std::string action;
  std::string reason;
  millis duration = 0;
};
result<resolve_input> parse_resolve(const json& body);

/// One report as the reported user's partition keeps it (keys::report).
struct report {
  std::string reporter_id;  // UUID text
  std::string reporter_username;
  std::string category;
  std::string reason;
  millis at = 0;
};
std::string encode_report(const report& r);
std::optional<report> decode_report(std::string_view text);

/// What a reporter keeps of the last report it made about a user
/// (keys::report_made): the relations view's `reports`.
struct report_made {
  std::string username;  // the reported user's, at the time
  std::string category;
  millis at = 0;
};
std::string encode_report_made(const report_made& r);
std::optional<report_made> decode_report_made(std::string_view text);

/// A moderator's decision on a user's pending reports.
struct decision {
  std::string action;  // ban | warn | clean
  std::string reason;
  std::string by;      // the admin key's name
  millis at = 0;
  uint64_t reports = 0;  // how many pending reports it resolved
};

/// The queue entry of one reported user (keys::queue_entry).
struct entry {
  std::string user_id;  // UUID text
  std::string username;
  uint64_t version = 0;                         // +1 per change
  uint64_t pending = 0;                         // reports not resolved yet
  std::map<std::string, millis> reporters;      // pending: reporter id → their latest report
  std::map<std::string, uint64_t> categories;   // pending: category → reports
  millis first_at = 0, latest_at = 0;           // pending reports' times
  uint64_t resolved = 0;                        // reports resolved so far
  std::optional<decision> last;
};
std::string encode_entry(const entry& e);
std::optional<entry> decode_entry(std::string_view text);

/// Folds one new report into the entry.
void add_report(entry& e, const report& r);
/// Resolves every pending report with `d` (its `reports` is set here).
void resolve(entry& e, decision d);

/// "pending" (reports wait) or "resolved" (none waits, a decision was made).
std::string_view status_of(const entry& e);

/// Distinct reporters of pending reports made at or after now - window.
uint64_t recent_reporters(const entry& e, millis now, const flag_rule& rule);
/// When the rule's N-th most recent reporter last reported (never_flagged:
/// fewer than N reporters, or the rule is off): the entry is flagged while
/// this lies in the window. Computed once per change, so a queue of
/// thousands is ranked without walking every entry's reporters.
inline constexpr millis never_flagged = std::numeric_limits<millis>::min();
millis nth_reporter_at(const entry& e, const flag_rule& rule);
bool flagged(const entry& e, millis now, const flag_rule& rule);
inline bool flagged_by(millis nth_at, uint64_t pending, millis now, const flag_rule& rule) {
  return pending > 0 && nth_at != never_flagged && nth_at >= now - rule.window;
}

/// The order of the queue: flagged first, then more pending reports, then
/// the newest report (or decision), then the user id (stable pages).
struct rank {
  bool flagged = false;
  uint64_t pending = 0;
  millis latest_at = 0;
  std::string_view user_id;
};
/// A resolved entry ranks by its decision's time in place of the newest
/// report: the latest decisions first.
rank rank_of(const entry& e, bool flagged);
bool before(const rank& a, const rank& b);
/// A fixed-width text that sorts (as bytes) in queue order: nodes send it
/// before each item, so the merge of their parts needs no JSON parsing.
std::string sort_key(const rank& r);
inline constexpr size_t sort_key_size = 1 + 16 + 16 + 36;

/// The entry as the queue shows it at `now` (JSON text): {user_id,
/// username, status, flagged, total, distinct_reporters, recent_reporters,
/// categories, first_at, latest_at, resolved, last_decision}.
std::string queue_item(const entry& e, millis now, const flag_rule& rule);

} // namespace roster::moderation
