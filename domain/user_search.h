#pragma once
// Player search by username-tag prefix (GET /v1/users/search, SPEC §4): the
// query rule and the merge of the sorted hits every partition returns. Pure;
// the scan itself is the partition host's (search_usernames), the
// scatter-gather the router's.
//
// Each index partition holds its `username:<tag>` entries sorted (RocksDB
// keys), so each returns its first `limit + 1` confirmed tags after the
// cursor; the union of those, sorted, has the true first `limit` tags and
// says whether there are more.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace roster {

/// Shortest folded prefix a search takes: one character matches too much to
/// be worth a scan of every partition.
inline constexpr size_t search_min_tag = 2;

/// One confirmed username entry: its tag and its user's id (uuid text).
struct username_hit {
  std::string tag;
  std::string user_id;
};

/// The folded prefix of a query `q` (username_tag), or empty with `problem`
/// set: q must be 1..32 characters of [A-Za-z0-9_.-] whose tag has at least
/// search_min_tag characters.
std::string search_prefix(std::string_view q, std::string& problem);

/// One page of hits merged from every partition: sorted by tag, the first
/// `limit`, and whether more follow (then the cursor is the last tag).
struct search_page {
  std::vector<username_hit> hits;
  bool more = false;
};
search_page merge_username_hits(std::vector<username_hit> all, size_t limit);

} // namespace roster
