#include "domain/user_search.h"

#include <algorithm>

#include "domain/validation.h"

namespace roster {

std::string search_prefix(std::string_view q, std::string& problem) {
  problem.clear();
  bool chars_ok = std::all_of(q.begin(), q.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
  if (q.empty() || q.size() > 32 || !chars_ok) {
    problem = "must be 1 to 32 characters of [A-Za-z0-9_.-]";
    return {};
  }
  auto tag = username_tag(q);
  if (tag.size() < search_min_tag) {
    problem = "must hold at least " + std::to_string(search_min_tag) + " characters other than _ . -";
    return {};
  }
  return tag;
}

search_page merge_username_hits(std::vector<username_hit> all, size_t limit) {
  // Tags are unique keys: no two hits share one (a tag is in one partition).
  std::sort(all.begin(), all.end(), [](const username_hit& a, const username_hit& b) { return a.tag < b.tag; });
  search_page page;
  page.more = all.size() > limit;
  if (page.more) all.resize(limit);
  page.hits = std::move(all);
  return page;
}

} // namespace roster
