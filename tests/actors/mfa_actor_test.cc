// MFA through the real actors and account workflows (in-memory store): what
// the store holds (the sealed secret, Argon2id recovery hashes) and the
// enrolment rules. The HTTP flows are tests/integration/mfa_test.cc.
#include <gtest/gtest.h>

#include "base/crypto.h"
#include "cluster/membership.h"
#include "cluster/operator_views.h"
#include "cluster/router.h"
#include "cluster/runtime.h"
#include "domain/mfa.h"
#include "domain/user_codec.h"
#include "persistence/keys.h"
#include "service/accounts.h"
#include "tests/support/stored.h"

namespace roster {
namespace {

using nlohmann::json;

struct single_node {
  node_runtime runtime;
  membership members{runtime};
  router route{runtime};
  operator_views views{runtime, members, route};
  single_node(const node_config& cfg, store& db) : runtime(cfg, db) { members.start(); }
};

node_config mfa_config() {
  node_config c;
  c.cluster.partitions = 8;
  c.cluster.secret = "mfa-actor-test-secret-0123";  // seals the TOTP secrets
  c.admin.keys = {"test-admin-key-0123456789"};
  c.auth.argon2_memory_kib = 64;
  c.auth.argon2_iterations = 1;
  return c;
}

class MfaActors : public ::testing::Test {
 protected:
  std::unique_ptr<store> db = make_memory_store();
  node_config cfg = mfa_config();
  single_node node{cfg, *db};
  router& route = node.route;
  accounts acc{route, cfg.auth};
  client_info ci{"1.2.3.4", "test"};

  user_record stored_user(const std::string& uid16) {
    auto raw = testing::stored(db->get(keys::user_record(route.partition_of_user(uid16), uid16)));
    EXPECT_TRUE(raw);
    auto u = decode_user(raw.value_or(""));
    EXPECT_TRUE(u);
    return u.value_or(user_record{});
  }
};

TEST_F(MfaActors, TheSecretIsStoredSealedAndTheRecoveryCodesAsArgon2idHashes) {
  registration in;
  in.email = "mo@example.com";
  in.password = "correct-horse-9";
  auto r = acc.register_account(in, ci);
  ASSERT_TRUE(r);
  std::string token = json::parse(r->session)["token"];
  auto uid16 = *user_id_of_token(token);
  auto th = sha256(token);
  auto e = acc.mfa_enroll(uid16, th, std::nullopt, ci);
  ASSERT_TRUE(e);
  std::string b32 = json::parse(e->json)["secret"];
  auto raw = mfa::base32_decode(b32);
  ASSERT_TRUE(raw);
  auto u = stored_user(uid16);
  EXPECT_EQ(u.totp_pending.rfind("v1:", 0), 0u);
  EXPECT_EQ(u.totp_pending.find(b32), std::string::npos);
  EXPECT_EQ(u.totp_pending.find(base64url_encode(*raw)), std::string::npos);
  EXPECT_TRUE(u.totp_secret.empty());

  auto codes = acc.mfa_confirm(uid16, th, mfa::totp_code(*raw, now_ms() / 1000), std::nullopt, ci);
  ASSERT_TRUE(codes);
  ASSERT_EQ(codes->size(), 10u);
  u = stored_user(uid16);
  EXPECT_TRUE(u.totp_pending.empty());
  EXPECT_EQ(u.totp_secret.rfind("v1:", 0), 0u);
  EXPECT_GT(u.totp_last_step, 0);
  ASSERT_EQ(u.recovery_hashes.size(), 10u);
  for (auto& h : u.recovery_hashes) EXPECT_EQ(h.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password((*codes)[0], u.recovery_hashes[0]));
  for (auto& c : *codes) EXPECT_EQ(encode_user(u).find(c), std::string::npos);

  // A password login now opens a challenge instead of a session.
  auto in2 = acc.password_login("mo@example.com", "correct-horse-9", ci);
  ASSERT_TRUE(in2);
  EXPECT_TRUE(in2->session.empty());
  EXPECT_EQ(user_id_of_token(in2->mfa_challenge), uid16);
  // A recovery code completes it once.
  auto done = acc.mfa_login(in2->mfa_challenge, std::nullopt, (*codes)[4], ci);
  ASSERT_TRUE(done);
  EXPECT_FALSE(done->session.empty());
  EXPECT_EQ(json::parse(done->session)["method"], "password");
  EXPECT_EQ(stored_user(uid16).recovery_hashes.size(), 9u);
  auto in3 = acc.password_login("mo@example.com", "correct-horse-9", ci);
  ASSERT_TRUE(in3);
  auto again = acc.mfa_login(in3->mfa_challenge, std::nullopt, (*codes)[4], ci);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.err().code, errc::invalid_credentials);
}

} // namespace
} // namespace roster
