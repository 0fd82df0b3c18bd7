#include "domain/user_codec.h"

#include <gtest/gtest.h>

#include "tests/support/sample_user.h"

#include <string>

namespace roster {
namespace {

user_record sample() { return testing::sample_user(); }

TEST(UserCodec, StorageEncodingRoundTrips) {
  auto u = sample();
  u.failed_logins = {1, 2};
  u.blocked = true;
  u.login_methods = {"password", "email_code"};
  auto back = decode_user(encode_user(u));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->email, u.email);
  EXPECT_EQ(back->password_hash, u.password_hash);
  EXPECT_EQ(back->device_ids, u.device_ids);
  EXPECT_EQ(back->metadata, u.metadata);
  EXPECT_TRUE(back->blocked);
  EXPECT_FALSE(back->pending_activation);
  EXPECT_EQ(back->login_methods, u.login_methods);
  EXPECT_EQ(back->failed_logins.size(), 2u);
  EXPECT_EQ(back->phone, "");
  u.phone = "+14155550123";
  EXPECT_EQ(decode_user(encode_user(u))->phone, "+14155550123");
  EXPECT_FALSE(decode_user("not json"));
  EXPECT_FALSE(decode_user("{\"email\": 5}"));
}

TEST(UserCodec, SessionEncodingNeverThrowsOnInvalidUtf8) {
  // Found by fuzz/user_codec_fuzzer.cc: a User-Agent that is not UTF-8 made
  // encode_session throw json type_error 316.
  session_record s;
  s.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  s.user_agent = "Mozilla/5.0 \xc3";
  std::string bytes;
  ASSERT_NO_THROW(bytes = encode_session(s));
  auto back = decode_session(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->user_agent, "Mozilla/5.0 \xef\xbf\xbd");
}

TEST(UserCodec, DecodingRejectsTimesThatAreNotIntegers) {
  // Found by fuzz/user_codec_fuzzer.cc: 1e300 into an int64_t is undefined
  // behaviour (UBSan: float-cast-overflow).
  EXPECT_FALSE(decode_user(R"({"id":"x","created_at":1e300})"));
  EXPECT_FALSE(decode_user(R"({"id":"x","failed_logins":[1,-1e300]})"));
  EXPECT_FALSE(decode_session(R"({"id":"x","expires_at":1.5})"));
  EXPECT_TRUE(decode_user(R"({"id":"x","created_at":1764300000000,"failed_logins":[1,2]})"));
}

/// The stored bytes of the records below, as written by every release so far.
/// Existing data dirs hold these: a change here needs a migration.
const char* const stored_user =
    R"({"avatar_url":"https://example.com/a.png","created_at":1700000000000,"device_ids":["dev-123456"],)"
    R"("display_name":"Ann é","email":"Ann@Example.com","email_verified":true,"failed_logins":[1700000000004],)"
    R"("id":"0b1e5f2c-7d4a-4c3e-9f00-112233445566","lang":"en","last_login_at":1700000000002,)"
    R"("last_seen_at":1700000000003,"metadata":{"level":4,"title":"x"},)"
    R"("password_hash":"$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA","status":"pending_activation",)"
    R"("updated_at":1700000000001,"username":"Ann_1"})";
const char* const stored_session =
    R"({"authenticated_at":4,"created_at":1,"expires_at":3,"id":"0f8fad5b-d9cb-469f-a165-70867728950e",)"
    R"("ip":"192.0.2.7","last_used_at":2,"method":"device",)"
    R"("token_hash":"0001abff7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a","user_agent":"Mozilla/5.0"})";

TEST(UserCodec, TheStoredFormatIsUnchanged) {
  auto u = sample();
  u.display_name = "Ann é";
  u.avatar_url = "https://example.com/a.png";
  u.lang = "en";
  u.metadata = {{"level", 4}, {"title", "x"}};
  u.email_verified = true;
  u.pending_activation = true;
  u.updated_at = 1'700'000'000'001;
  u.last_login_at = 1'700'000'000'002;
  u.last_seen_at = 1'700'000'000'003;
  u.failed_logins = {1'700'000'000'004};
  EXPECT_EQ(encode_user(u), stored_user);
  auto back = decode_user(stored_user);
  ASSERT_TRUE(back);
  EXPECT_EQ(encode_user(*back), stored_user);
  EXPECT_TRUE(back->pending_activation);
  EXPECT_FALSE(back->blocked);
  EXPECT_TRUE(back->login_methods.empty());  // derived when counted (login_methods_of)
  EXPECT_EQ(back->last_seen_at, 1'700'000'000'003);

  session_record s;
  s.id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  s.token_hash = std::string("\x00\x01\xab\xff", 4) + std::string(28, 'z');
  s.method = "device";
  s.created_at = 1;
  s.last_used_at = 2;
  s.expires_at = 3;
  s.authenticated_at = 4;
  s.ip = "192.0.2.7";
  s.user_agent = "Mozilla/5.0";
  EXPECT_EQ(encode_session(s), stored_session);
  auto sb = decode_session(stored_session);
  ASSERT_TRUE(sb);
  EXPECT_EQ(sb->token_hash, s.token_hash);  // raw bytes in memory, hex on disk
  EXPECT_EQ(encode_session(*sb), stored_session);
}

} // namespace
} // namespace roster

namespace roster {
namespace {

// Fields added with the event streams: written only when set (older
// records' bytes are unchanged), read back, absent means 0 / false.
TEST(UserCodec, EventSequenceAndStreamsFlagRoundTrip) {
  user_record u;
  u.id = "0b1e5f2c-7d4a-4c3e-9f00-112233445566";
  auto plain = encode_user(u);
  EXPECT_EQ(plain.find("event_seq"), std::string::npos);
  EXPECT_EQ(plain.find("streams"), std::string::npos);
  u.event_seq = 42;
  u.streams = true;
  auto back = decode_user(encode_user(u));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->event_seq, 42u);
  EXPECT_TRUE(back->streams);
  auto old = decode_user(plain);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->event_seq, 0u);
  EXPECT_FALSE(old->streams);
  EXPECT_FALSE(decode_user(R"({"id":"x","event_seq":"7"})"));
}

TEST(UserCodec, ABanRoundTripsAndRecordsWithoutOneDecodeUnbanned) {
  auto u = sample();
  u.blocked = true;
  u.ban = ban_record{"cheating \"a lot\" é", 1700000000000, 1700000600000, "moderator-ana"};
  auto back = decode_user(encode_user(u));
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->ban);
  EXPECT_EQ(back->ban->reason, u.ban->reason);
  EXPECT_EQ(back->ban->created_at, 1700000000000);
  EXPECT_EQ(back->ban->expires_at, 1700000600000);
  EXPECT_EQ(back->ban->by, "moderator-ana");
  EXPECT_TRUE(back->blocked);  // its own state: the block is kept beside it
  EXPECT_EQ(encode_user(*back), encode_user(u));

  u.ban->expires_at = 0;  // until lifted
  EXPECT_EQ(decode_user(encode_user(u))->ban->expires_at, 0);

  // Records stored before bans existed decode unbanned and keep their bytes.
  auto old = decode_user(stored_user);
  ASSERT_TRUE(old);
  EXPECT_FALSE(old->ban);
  EXPECT_EQ(encode_user(*old), stored_user);
  // A malformed ban makes the record unreadable rather than silently unbanned.
  std::string bad = stored_user;
  bad.insert(1, R"("ban":{"created_at":"soon"},)");
  EXPECT_FALSE(decode_user(bad));
}

TEST(UserCodec, ActivationAndBlockingAreStoredApartAndOldBlockedRecordsStayBlocked) {
  // Written before the two were separate: "blocked" said nothing of activation.
  std::string old_blocked = stored_user;
  old_blocked.replace(old_blocked.find("\"pending_activation\""), 20, "\"blocked\"");
  auto was_blocked = decode_user(old_blocked);
  ASSERT_TRUE(was_blocked);
  EXPECT_TRUE(was_blocked->blocked);
  EXPECT_FALSE(was_blocked->pending_activation);  // unblocked, it is active, as before
  EXPECT_EQ(status_gate(*was_blocked, 0), errc::account_blocked);
  EXPECT_EQ(encode_user(*was_blocked), old_blocked);  // its bytes are unchanged

  // Blocked and pending: "status" says blocked (what an older release reads),
  // the pending state is kept beside it.
  auto u = sample();
  u.blocked = true;
  u.pending_activation = true;
  auto bytes = encode_user(u);
  EXPECT_NE(bytes.find(R"("pending_activation":true,"status":"blocked")"), std::string::npos) << bytes;
  auto back = decode_user(bytes);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->blocked);
  EXPECT_TRUE(back->pending_activation);
  EXPECT_EQ(shown_status(*back), account_status::blocked);
  EXPECT_EQ(encode_user(*back), bytes);
  // Not blocked: the flag is not written, "status" carries it.
  u.blocked = false;
  EXPECT_EQ(encode_user(u).find("\"pending_activation\":"), std::string::npos);
  EXPECT_TRUE(decode_user(encode_user(u))->pending_activation);
}

} // namespace
} // namespace roster
