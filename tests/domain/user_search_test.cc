// The player search rules: the query's folded prefix and the merge of the
// partitions' sorted hits into one page.
#include "domain/user_search.h"

#include <gtest/gtest.h>

namespace roster {
namespace {

TEST(UserSearch, QueryIsFoldedLikeTags) {
  std::string problem;
  EXPECT_EQ(search_prefix("Tk4", problem), "tk4");
  EXPECT_TRUE(problem.empty());
  EXPECT_EQ(search_prefix("T_i1-5", problem), "tlls");
  EXPECT_EQ(search_prefix("O0", problem), "oo");
}

TEST(UserSearch, QueryLimits) {
  std::string problem;
  EXPECT_EQ(search_prefix("", problem), "");
  EXPECT_FALSE(problem.empty());
  search_prefix("a", problem);  // one folded character: too broad
  EXPECT_FALSE(problem.empty());
  search_prefix("a_.-", problem);
  EXPECT_FALSE(problem.empty());
  search_prefix("an n", problem);
  EXPECT_FALSE(problem.empty());
  search_prefix(std::string(33, 'a'), problem);
  EXPECT_FALSE(problem.empty());
  search_prefix("an", problem);
  EXPECT_TRUE(problem.empty());
}

TEST(UserSearch, MergeSortsAndSaysWhetherMoreFollow) {
  std::vector<username_hit> all = {{"bob", "2"}, {"ann", "1"}, {"anna", "3"}, {"ann2", "4"}};
  auto page = merge_username_hits(all, 3);
  ASSERT_EQ(page.hits.size(), 3u);
  EXPECT_EQ(page.hits[0].tag, "ann");
  EXPECT_EQ(page.hits[1].tag, "ann2");
  EXPECT_EQ(page.hits[2].tag, "anna");
  EXPECT_TRUE(page.more);
  auto last = merge_username_hits(all, 4);
  EXPECT_FALSE(last.more);
  EXPECT_EQ(last.hits.back().user_id, "2");
  EXPECT_TRUE(merge_username_hits({}, 5).hits.empty());
}

} // namespace
} // namespace roster
