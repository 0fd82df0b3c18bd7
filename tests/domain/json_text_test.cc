// json_text writes what nlohmann's dump() writes: the stored records depend
// on it byte for byte (tests/domain/user_codec_test.cc pins them).
#include <gtest/gtest.h>

#include "domain/json_text.h"
#include "domain/user_views.h"
#include "tests/support/sample_user.h"

namespace roster {
namespace {

std::string nlohmann_dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(JsonText, StringsAreEscapedAsNlohmannEscapesThem) {
  std::vector<std::string> cases = {"", "plain", "quote\" backslash\\ slash/", "\b\f\n\r\t", std::string("\x00\x01\x1f\x7f", 4),
                                    "héllo wörld ✓ 😀", "\xff", "ok\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                    "mixed\xe2\x82 tail"};
  for (auto& s : cases) {
    json_text w;
    w.string(s);
    EXPECT_EQ(w.str(), nlohmann_dump(s)) << "for " << s.size() << " bytes";
  }
}

TEST(JsonText, ObjectsArraysAndScalarsMatchADump) {
  nlohmann::json meta = {{"level", 4}, {"tags", {"a", "b"}}, {"nested", {{"x", nullptr}}}};
  json_text w;
  w.open_object();
  w.key("a").open_array().number(-1).number(INT64_MAX).boolean(true).null().open_object().close_object().close_array();
  w.key("b").open_object().key("c").string("d").close_object();
  w.key("e").value(meta);
  w.key("f").open_array().close_array();
  w.close_object();
  nlohmann::json same = {{"a", {-1, INT64_MAX, true, nullptr, nlohmann::json::object()}},
                         {"b", {{"c", "d"}}},
                         {"e", meta},
                         {"f", nlohmann::json::array()}};
  EXPECT_EQ(w.str(), same.dump());
}

TEST(JsonText, TheOwnViewHasEveryFieldAndNoSecret) {
  auto u = testing::sample_user();
  u.last_login_at = 0;
  auto text = own_view_text(u);
  auto v = nlohmann::json::parse(text);
  EXPECT_EQ(v["id"], u.id);
  EXPECT_EQ(v["email"], u.email);
  EXPECT_EQ(v["username"], u.username);
  EXPECT_TRUE(v["avatar_url"].is_null());
  EXPECT_TRUE(v["last_login_at"].is_null());
  EXPECT_EQ(v["has_password"], true);
  EXPECT_EQ(v["anonymous"], false);
  EXPECT_EQ(v["identities"].size(), 2u);
  EXPECT_EQ(v["metadata"]["level"], 4);
  EXPECT_EQ(text, v.dump());  // sorted keys, as a dump prints them
  EXPECT_EQ(text.find("argon2"), std::string::npos);
}

} // namespace
} // namespace roster
