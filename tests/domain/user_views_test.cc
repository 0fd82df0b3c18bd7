#include "domain/user_views.h"

#include <gtest/gtest.h>

#include "tests/support/sample_user.h"

namespace roster {
namespace {

user_record sample() { return testing::sample_user(); }

TEST(UserViews, ViewsNeverShowSecrets) {
  auto u = sample();
  for (auto& view : {own_view(u), public_view(u, false), admin_view(u, 3, 0)})
    EXPECT_EQ(view.dump().find("argon2"), std::string::npos) << view.dump();
  EXPECT_FALSE(public_view(u, true).contains("email"));
  EXPECT_EQ(public_view(u, true)["online"], true);
  EXPECT_EQ(own_view(u)["created_at"], "2023-11-14T22:13:20.000Z");
}

TEST(UserViews, SessionViewShowsNoTokenHash) {
  session_record s;
  s.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  s.token_hash = std::string(32, 'h');
  s.created_at = s.last_used_at = 1'700'000'000'000;
  s.expires_at = 1'700'000'000'000 + 1000;
  auto v = session_view(s, true);
  EXPECT_EQ(v.dump().find("hhhh"), std::string::npos) << v.dump();
  EXPECT_EQ(v["current"], true);
  EXPECT_EQ(v["expires_at"], "2023-11-14T22:13:21.000Z");
  EXPECT_EQ(session_view(s, false)["current"], false);
}

} // namespace
} // namespace roster
