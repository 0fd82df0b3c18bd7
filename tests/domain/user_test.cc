#include "domain/user.h"

#include <gtest/gtest.h>

#include "tests/support/sample_user.h"

#include "domain/password.h"
#include "domain/user_codec.h"
#include "domain/user_views.h"

#include <argon2.h>

#include <cstring>
#include <limits>

namespace roster {
namespace {

user_record sample() { return testing::sample_user(); }

TEST(User, IndexKeysAreNormalised) {
  auto keys = index_keys_of(sample());
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], "email:ann@example.com");
  EXPECT_EQ(keys[1], "username:annl");
  EXPECT_EQ(keys[2], "device:dev-123456");
  auto u = sample();
  u.phone = "+14155550123";
  EXPECT_EQ(index_keys_of(u)[1], "phone:+14155550123");
  EXPECT_EQ(phone_key(u.phone), "phone:+14155550123");
}

TEST(User, APhonePatchSetsTheNumberAndOnlyThat) {
  auto u = sample();
  profile_patch p;
  p.phone = "+14155550123";
  ASSERT_TRUE(apply_profile_patch(u, p, 5));
  EXPECT_EQ(u.phone, "+14155550123");
  EXPECT_TRUE(u.email_verified == sample().email_verified);
  // Clients cannot patch it: only a confirmed code sets it.
  EXPECT_FALSE(parse_profile_patch(json{{"phone", "+14155550123"}}, true));
  user_record phone_only;
  phone_only.phone = "+14155550123";
  EXPECT_EQ(login_methods_of(phone_only), std::vector<std::string>{"phone_code"});
}

TEST(User, LinkedIdentitiesAndTheLastWayIn) {
  user_record guest;
  EXPECT_EQ(ways_to_log_in(guest), 0u);
  ASSERT_TRUE(link_identity(guest, provider_key("google", "g1")));
  EXPECT_EQ(identity_of_key(guest.links[0]), (std::pair<std::string, std::string>{"google", "g1"}));
  EXPECT_EQ(identity_of_key("custom:srv:7"), (std::pair<std::string, std::string>{"custom", "srv:7"}));
  EXPECT_EQ(link_identity(guest, provider_key("google", "g2")).err().code, errc::already_exists);  // one per kind
  ASSERT_TRUE(link_identity(guest, device_key("dev-0001")));
  EXPECT_EQ(link_identity(guest, device_key("dev-0001")).err().code, errc::already_exists);
  EXPECT_EQ(ways_to_log_in(guest), 2u);
  EXPECT_EQ(index_keys_of(guest), (std::vector<std::string>{"device:dev-0001", "provider:google:g1"}));
  EXPECT_EQ(*identity_key_of(guest, "google", ""), "provider:google:g1");
  EXPECT_EQ(*identity_key_of(guest, "device", "dev-0001"), "device:dev-0001");
  EXPECT_FALSE(identity_key_of(guest, "device", "other"));
  EXPECT_FALSE(identity_key_of(guest, "email", ""));
  ASSERT_TRUE(unlink_identity(guest, "device:dev-0001"));
  EXPECT_EQ(unlink_identity(guest, "provider:google:g1").err().code, errc::last_login_method);
  EXPECT_EQ(guest.links.size(), 1u);  // unchanged by the refusal
  EXPECT_EQ(unlink_identity(guest, "provider:steam:1").err().code, errc::not_found);
  // A password counts only with a name to log in by; the email counts on its own.
  user_record u = sample();  // email, username, password, one device
  u.device_ids.clear();
  EXPECT_EQ(ways_to_log_in(u), 2u);
  ASSERT_TRUE(unlink_identity(u, email_key(u.email)));
  EXPECT_TRUE(u.email.empty());
  EXPECT_FALSE(u.email_verified);
  EXPECT_EQ(ways_to_log_in(u), 1u);  // the password, by username
  EXPECT_EQ(login_methods_of(guest).back(), "google");
}

TEST(User, ProvingTheEmailDropsWhatWasSetUpWithoutProof) {
  auto u = sample();  // unverified email, a password, a device
  u.phone = "+14155550123";
  u.links = {provider_key("discord", "d1")};
  u.totp_secret = "sealed";
  u.recovery_hashes = {"h"};
  ASSERT_TRUE(mark_verified(u, "email_code", email_key(u.email)));
  auto dropped = drop_unproven_setup(u);
  EXPECT_EQ(dropped, (std::vector<std::string>{"device:dev-123456", "provider:discord:d1", "phone:+14155550123"}));
  EXPECT_TRUE(u.password_hash.empty() && u.device_ids.empty() && u.links.empty() && u.phone.empty());
  EXPECT_FALSE(mfa_enabled(u));
  EXPECT_TRUE(u.recovery_hashes.empty());
  EXPECT_EQ(index_keys_of(u), (std::vector<std::string>{"email:ann@example.com", "username:annl"}));
  // A device named by the fingerprint the views show.
  user_record d;
  d.device_ids = {"dev-0001"};
  EXPECT_EQ(*identity_key_of(d, "device", device_fingerprint("dev-0001")), "device:dev-0001");
}

TEST(User, PrefsAreAnObjectOfAtMost16KiB) {
  EXPECT_TRUE(check_prefs(json::object()).empty());
  EXPECT_TRUE(check_prefs(json{{"a", std::string(16000, 'x')}}).empty());
  EXPECT_FALSE(check_prefs(json{{"a", std::string(16400, 'x')}}).empty());
  EXPECT_FALSE(check_prefs(json::array()).empty());
}

TEST(User, SessionExpiryAbsoluteAndIdle) {
  session_policy p{1000, 300, 100};
  session_record s;
  s.created_at = s.last_used_at = 0;
  s.expires_at = 1000;
  EXPECT_EQ(session_state(s, 100, p), errc::ok);
  EXPECT_EQ(session_state(s, 300, p), errc::session_expired);  // idle
  s.last_used_at = 900;
  EXPECT_EQ(session_state(s, 999, p), errc::ok);
  EXPECT_EQ(session_state(s, 1000, p), errc::session_expired);  // absolute
  session_record round = *decode_session(encode_session(s));
  EXPECT_EQ(round.expires_at, 1000);
}

TEST(User, ABanIsItsOwnStateAndLiftsItselfAtItsExpiry) {
  auto u = sample();
  u.pending_activation = true;
  u.blocked = true;
  apply_ban(u, ban_record{"cheating", 1000, 5000, "moderator-ana"});
  EXPECT_TRUE(u.blocked);  // a ban changes neither block nor activation
  EXPECT_TRUE(u.pending_activation);
  EXPECT_EQ(status_gate(u, 4999), errc::account_banned);  // banned wins over blocked and pending
  EXPECT_TRUE(ban_active(u, 4999));
  EXPECT_FALSE(ban_lapsed(u, 4999));
  EXPECT_FALSE(ban_active(u, 5000));  // lifts itself at its expiry
  EXPECT_TRUE(ban_lapsed(u, 5000));
  EXPECT_EQ(status_gate(u, 5000), errc::account_blocked);  // the block is still there

  auto v = sample();
  apply_ban(v, ban_record{"spam", 1000, 0, "key-0a1b2c3d"});  // no expiry: until lifted
  EXPECT_EQ(status_gate(v, std::numeric_limits<millis>::max()), errc::account_banned);
  v.ban.reset();
  EXPECT_EQ(status_gate(v, 2000), errc::ok);
}

TEST(User, TheBannedErrorCarriesReasonAndExpiry) {
  auto u = sample();
  apply_ban(u, ban_record{"cheating", 1000, 1'700'000'000'000, "ana"});
  auto e = account_gate_error(u, errc::account_banned);
  EXPECT_EQ(e.code, errc::account_banned);
  auto d = json::parse(e.details);
  EXPECT_EQ(d["reason"], "cheating");
  EXPECT_EQ(d["expires_at"], format_time(1'700'000'000'000));
  EXPECT_EQ(d.size(), 2u);  // never who banned
  u.ban->expires_at = 0;
  EXPECT_TRUE(json::parse(account_gate_error(u, errc::account_banned).details)["expires_at"].is_null());
  EXPECT_TRUE(account_gate_error(u, errc::account_blocked).details.empty());
  EXPECT_EQ(status_gate_error(errc::account_banned).message, "account is banned");
}

TEST(User, BanViewShowsALapsedBanAsNotBanned) {
  auto u = sample();
  EXPECT_EQ(ban_view(u, 0)["banned"], false);
  EXPECT_TRUE(ban_view(u, 0)["reason"].is_null());
  apply_ban(u, ban_record{"cheating", 1000, 3000, "ana"});
  auto on = ban_view(u, 2000);
  EXPECT_EQ(on["banned"], true);
  EXPECT_EQ(on["reason"], "cheating");
  EXPECT_EQ(on["by"], "ana");
  EXPECT_EQ(on["created_at"], format_time(1000));
  EXPECT_EQ(on["expires_at"], format_time(3000));
  auto off = ban_view(u, 3000);
  EXPECT_EQ(off["banned"], false);
  EXPECT_TRUE(off["by"].is_null());
  EXPECT_TRUE(off["expires_at"].is_null());
}

TEST(User, BanInputIsValidated) {
  const millis now = 1'700'000'000'000;
  const std::string id = "0b1e5f2c-7d4a-4c3e-9f00-112233445566";
  auto ok = parse_ban_input({{"user_id", id}, {"reason", "cheating"}}, now);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->expires_at, 0);
  auto until = parse_ban_input({{"user_id", id}, {"reason", "x"}, {"expires_at", format_time(now + 60'000)}}, now);
  ASSERT_TRUE(until);
  EXPECT_EQ(until->expires_at, now + 60'000);
  EXPECT_TRUE(parse_ban_input({{"user_id", id}, {"reason", "x"}, {"expires_at", nullptr}}, now));

  auto fields_of = [&](const json& body) { return parse_ban_input(body, now).err().fields; };
  EXPECT_TRUE(fields_of({{"reason", "x"}}).count("user_id"));
  EXPECT_TRUE(fields_of({{"user_id", "0B1E5F2C-7D4A-4C3E-9F00-112233445566"}, {"reason", "x"}}).count("user_id"));
  EXPECT_TRUE(fields_of({{"user_id", id}}).count("reason"));
  EXPECT_TRUE(fields_of({{"user_id", id}, {"reason", ""}}).count("reason"));
  EXPECT_TRUE(fields_of({{"user_id", id}, {"reason", std::string(max_ban_reason + 1, 'a')}}).count("reason"));
  EXPECT_TRUE(fields_of({{"user_id", id}, {"reason", "line\nbreak"}}).count("reason"));  // control characters
  EXPECT_TRUE(fields_of({{"user_id", id}, {"reason", "x"}, {"expires_at", format_time(now)}}).count("expires_at"));
  EXPECT_TRUE(fields_of({{"user_id", id}, {"reason", "x"}, {"expires_at", "tomorrow"}}).count("expires_at"));
  EXPECT_TRUE(fields_of({{"user_id", id}, {"reason", "x"}, {"expires_at", 123}}).count("expires_at"));
  EXPECT_TRUE(fields_of({{"user_id", id}, {"reason", "x"}, {"by", "me"}}).count("by"));
  EXPECT_FALSE(parse_ban_input(json::array(), now));
}

TEST(User, StatusGate) {
  auto u = sample();
  EXPECT_EQ(status_gate(u, 0), errc::ok);
  u.blocked = true;
  EXPECT_EQ(status_gate(u, 0), errc::account_blocked);
  u.pending_activation = true;  // both: blocked wins
  EXPECT_EQ(status_gate(u, 0), errc::account_blocked);
  u.blocked = false;
  EXPECT_EQ(status_gate(u, 0), errc::pending_activation);
  EXPECT_EQ(status_gate_error(errc::pending_activation).code, errc::pending_activation);
  EXPECT_EQ(status_gate_error(errc::pending_activation).message, "account is pending activation");
  EXPECT_EQ(status_gate_error(errc::account_blocked).code, errc::account_blocked);
  EXPECT_EQ(status_gate_error(errc::account_blocked).message, "account is blocked");
}

TEST(User, ActivationAndBlockingAreSeparateStates) {
  auto u = sample();
  u.pending_activation = true;
  EXPECT_EQ(shown_status(u), account_status::pending_activation);
  EXPECT_TRUE(apply_status_change(u, status_change::block));
  EXPECT_EQ(shown_status(u), account_status::blocked);  // blocked wins in what is shown
  EXPECT_FALSE(apply_status_change(u, status_change::block));  // nothing to change
  EXPECT_TRUE(apply_status_change(u, status_change::unblock));
  EXPECT_EQ(shown_status(u), account_status::pending_activation);  // unblock does not activate
  EXPECT_TRUE(apply_status_change(u, status_change::block));
  EXPECT_TRUE(apply_status_change(u, status_change::activate));
  EXPECT_EQ(shown_status(u), account_status::blocked);  // activate does not unblock
  EXPECT_FALSE(u.pending_activation);
  EXPECT_TRUE(apply_status_change(u, status_change::unblock));
  EXPECT_EQ(shown_status(u), account_status::active);
  EXPECT_EQ(status_change_name(status_change::unblock), "unblock");
}

TEST(User, LoginMethodsAreRecordedOnceAndOlderRecordsDeriveThem) {
  user_record legacy;  // stored before login methods were kept
  EXPECT_EQ(login_methods_of(legacy), std::vector<std::string>{"anonymous"});
  legacy.email = "a@example.com";
  EXPECT_EQ(login_methods_of(legacy), std::vector<std::string>{"email_code"});
  legacy.password_hash = "$argon2id$x";
  legacy.device_ids = {"dev-123456"};
  EXPECT_EQ(login_methods_of(legacy), (std::vector<std::string>{"password", "device"}));
  // The first login seeds the list from what the record holds.
  EXPECT_TRUE(note_login_method(legacy, "magic_link"));
  EXPECT_EQ(legacy.login_methods, (std::vector<std::string>{"password", "device", "magic_link"}));
  EXPECT_FALSE(note_login_method(legacy, "device"));
  legacy.password_hash.clear();  // kept: the list says how the user came in
  EXPECT_EQ(login_methods_of(legacy), (std::vector<std::string>{"password", "device", "magic_link"}));
}

TEST(User, ProfilePatchValidatesAndMergesMetadata) {
  auto bad = parse_profile_patch({{"display_name", ""}, {"email", "x@y.co"}, {"metadata", {{"BAD KEY", 1}}}}, false);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().fields.size(), 3u);
  EXPECT_FALSE(parse_profile_patch(nlohmann::json::object(), false));
  auto ok = parse_profile_patch({{"display_name", "New"}, {"metadata", {{"title", "x"}, {"level", nullptr}}}}, false);
  ASSERT_TRUE(ok);
  auto u = sample();
  ASSERT_TRUE(apply_profile_patch(u, *ok, 5));
  EXPECT_EQ(u.display_name, "New");
  EXPECT_EQ(u.metadata, (nlohmann::json{{"title", "x"}}));
  EXPECT_EQ(u.updated_at, 5);
  auto admin = parse_profile_patch({{"email", "new@y.co"}}, true);
  ASSERT_TRUE(admin);
  u.email_verified = true;
  ASSERT_TRUE(apply_profile_patch(u, *admin, 6));
  EXPECT_FALSE(u.email_verified);
  EXPECT_FALSE(check_metadata({{"k", std::string(5000, 'x')}}).empty());
}

TEST(Password, Argon2idHashesVerifyAndAreSalted) {
  argon2_params p{64, 1, 1};  // tiny for unit tests
  auto h1 = hash_password("correct-horse-9", p);
  auto h2 = hash_password("correct-horse-9", p);
  EXPECT_EQ(h1.rfind("$argon2id$", 0), 0u);
  EXPECT_NE(h1, h2);
  EXPECT_TRUE(verify_password("correct-horse-9", h1));
  EXPECT_FALSE(verify_password("correct-horse-8", h1));
  EXPECT_FALSE(verify_password("x", "garbage"));
  EXPECT_NE(h1.find("m=64,t=1,p=1"), std::string::npos);
}

} // namespace
} // namespace roster

namespace roster {
namespace {

TEST(Password, InteroperatesWithLibargon2Encoding) {
  // A hash made by libargon2's own encoder verifies here, and ours there.
  const char* pwd = "interop-password-1";
  std::string salt = "0123456789abcdef";
  char encoded[256];
  ASSERT_EQ(argon2id_hash_encoded(1, 64, 1, pwd, strlen(pwd), salt.data(), salt.size(), 32, encoded, sizeof encoded),
            ARGON2_OK);
  EXPECT_TRUE(verify_password(pwd, encoded));
  EXPECT_FALSE(verify_password("other-password-1", encoded));
  auto ours = hash_password(pwd, {64, 1, 1});
  EXPECT_EQ(argon2id_verify(ours.c_str(), pwd, strlen(pwd)), ARGON2_OK);
  EXPECT_FALSE(verify_password(pwd, "$argon2id$v=19$m=64,t=1,p=1$!!$!!"));
  EXPECT_FALSE(verify_password(pwd, "$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"));
}

} // namespace
} // namespace roster
