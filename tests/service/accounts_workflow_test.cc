// The account workflows (service/accounts) against a scripted router: the
// order of their claims, writes, confirmations and releases, which trips they
// make and what they do when a step fails — without an actor system. The fake
// keeps an index (key -> holder, confirmed or not) and users by id, answers
// each operation as the actors would, and records every call.
#include <gtest/gtest.h>

#include <map>

#include "base/crypto.h"
#include "domain/user_views.h"
#include "service/accounts.h"

namespace roster {
namespace {

class fake_router final : public router_port {
 public:
  struct hold {
    std::string uid;
    bool confirmed = false;
  };
  std::map<std::string, hold> index;
  std::map<std::string, user_record> users;  // by 16-byte id
  std::vector<std::string> sent_to;  // send_code recipients, in order
  std::vector<std::string> calls;           // "claim email:..", "user create_user", ...
  /// Operations (by the name they are logged with) answered with an error
  /// instead of being run.
  std::map<std::string, error> failing;

  result<index_reply> call_index(index_op op) override {
    return std::visit([&](auto& o) { return index_op_(o); }, op);
  }

  result<user_reply> send_user(std::string_view uid16, user_op op, std::string, const client_info&) override {
    std::string name = std::visit([](auto& o) { return op_name(o); }, op);
    calls.push_back("user " + name);
    if (auto it = failing.find(name); it != failing.end()) return it->second;
    auto it = users.find(std::string(uid16));
    if (auto* c = std::get_if<create_user>(&op)) {
      users[std::string(uid16)] = c->record;
      return user_reply{signed_in{own_view(c->record).dump(), "{}"}};
    }
    if (it == users.end()) return make_error(errc::not_found, "no such user");
    auto& u = it->second;
    if (auto* f = std::get_if<login_finish>(&op)) {
      if (!f->via_key.empty() && !holds(u, f->via_key)) return make_error(errc::not_found, "no such user");
      return user_reply{signed_in{own_view(u).dump(), "{}"}};
    }
    if (std::holds_alternative<login_begin>(op)) return user_reply{login_ticket{u.password_hash, 7}};
    if (std::holds_alternative<login_failed>(op)) return user_reply{done{}};
    if (std::holds_alternative<authenticate>(op) || std::holds_alternative<admin_get>(op))
      return user_reply{view{own_view(u).dump()}};
    if (auto* p = std::get_if<update_profile>(&op)) {
      auto before = index_keys_of(u);
      if (auto s = apply_profile_patch(u, p->patch, now_ms()); !s) return s.err();
      auto after = index_keys_of(u);
      profile_updated r{own_view(u).dump(), {}};
      for (auto& k : before)
        if (std::find(after.begin(), after.end(), k) == after.end()) r.released_keys.push_back(k);
      return user_reply{std::move(r)};
    }
    if (std::holds_alternative<get_credentials>(op)) return user_reply{credentials{u.password_hash, sudo_fresh}};
    if (std::holds_alternative<set_password>(op)) return user_reply{revoked{1}};
    if (std::holds_alternative<delete_user>(op)) {
      deleted d{index_keys_of(u)};
      users.erase(it);
      return user_reply{std::move(d)};
    }
    return make_error(errc::internal, "not scripted");
  }

  bool sudo_fresh = false;

  size_t count(const std::string& prefix) const {
    return std::count_if(calls.begin(), calls.end(), [&](auto& c) { return c.rfind(prefix, 0) == 0; });
  }

 private:
  static bool holds(const user_record& u, const std::string& key) {
    auto keys = index_keys_of(u);
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  }

  result<index_reply> logged(const std::string& what, const std::string& key) {
    calls.push_back(what + " " + key);
    if (auto it = failing.find(what); it != failing.end()) return it->second;
    return index_reply{};
  }
  result<index_reply> index_op_(const claim_key& o) {
    auto r = logged("claim", o.key);
    if (!r) return r;
    auto [it, fresh] = index.try_emplace(o.key, hold{o.user_id, false});
    if (!fresh && it->second.uid != o.user_id) return make_error(errc::already_exists, "taken");
    return r;
  }
  result<index_reply> index_op_(const confirm_key& o) {
    auto r = logged("confirm", o.key);
    if (!r) return r;
    auto it = index.find(o.key);
    if (it == index.end() || it->second.uid != o.user_id) return make_error(errc::already_exists, "taken");
    it->second.confirmed = true;
    return r;
  }
  result<index_reply> index_op_(const release_key& o) {
    auto r = logged("release", o.key);
    if (auto it = index.find(o.key); it != index.end() && it->second.uid == o.user_id) index.erase(it);
    return r;
  }
  result<index_reply> index_op_(const send_code& o) {
    sent_to.push_back(o.to);
    return logged("send_code", o.key);
  }
  result<index_reply> index_op_(const use_code& o) { return logged("use_code", o.key); }
  result<index_reply> index_op_(const jwt_keyset& o) { return logged("jwt_keyset", o.key); }
  result<index_reply> index_op_(const lookup_key& o) {
    auto r = logged("lookup", o.key);
    if (!r) return r;
    auto it = index.find(o.key);
    if (it == index.end()) return make_error(errc::not_found, "no such key");
    return index_reply{it->second.uid};
  }

  static std::string op_name(const create_user&) { return "create_user"; }
  static std::string op_name(const login_begin&) { return "login_begin"; }
  static std::string op_name(const login_failed&) { return "login_failed"; }
  static std::string op_name(const login_finish&) { return "login_finish"; }
  static std::string op_name(const update_profile&) { return "update_profile"; }
  static std::string op_name(const authenticate&) { return "authenticate"; }
  static std::string op_name(const admin_get&) { return "admin_get"; }
  static std::string op_name(const get_credentials&) { return "get_credentials"; }
  static std::string op_name(const set_password&) { return "set_password"; }
  static std::string op_name(const delete_user&) { return "delete_user"; }
  template <class T>
  static std::string op_name(const T&) { return "other"; }
};

auth_config fast_auth() {
  auth_config a;
  a.argon2_memory_kib = 8;  // the smallest Argon2id allows: these tests count trips, not hashes
  a.argon2_iterations = 1;
  a.max_failed_logins = 3;
  return a;
}

class AccountWorkflows : public ::testing::Test {
 protected:
  fake_router fake;
  accounts acc{fake, fast_auth()};
  client_info ci{"203.0.113.7", "test"};

  registration ann() {
    registration r;
    r.email = "ann@example.com";
    r.username = "ann";
    r.password = "correct horse";
    return r;
  }
  std::string uid16_of(const signed_in& s) {
    return *uuid_from_string(json::parse(s.user)["id"].get<std::string>());
  }
};

TEST_F(AccountWorkflows, RegistrationClaimsEveryKeyThenWritesThenConfirms) {
  auto r = acc.register_account(ann(), ci);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"claim email:ann@example.com", "claim username:ann",
                                                  "user create_user", "confirm email:ann@example.com",
                                                  "confirm username:ann"}));
  EXPECT_TRUE(fake.index["email:ann@example.com"].confirmed);
  EXPECT_TRUE(fake.index["username:ann"].confirmed);
  auto& stored = fake.users.at(uid16_of(*r));
  EXPECT_TRUE(verify_password("correct horse", stored.password_hash));
}

TEST_F(AccountWorkflows, ATakenUsernameReleasesTheEmailAndWritesNothing) {
  fake.index["username:ann"] = {"someone-else", true};
  auto r = acc.register_account(ann(), ci);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::username_taken);
  EXPECT_EQ(fake.count("user "), 0u);  // no user written (and no password hashed for it)
  EXPECT_EQ(fake.count("release email:ann@example.com"), 1u);
  EXPECT_FALSE(fake.index.count("email:ann@example.com"));
  EXPECT_EQ(fake.index["username:ann"].uid, "someone-else");
}

TEST_F(AccountWorkflows, AFailedWriteReleasesTheClaims) {
  fake.failing["create_user"] = unavailable_error();
  auto r = acc.register_account(ann(), ci);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::partition_unavailable);
  EXPECT_TRUE(fake.index.empty());
  EXPECT_EQ(fake.count("confirm"), 0u);
}

TEST_F(AccountWorkflows, AClaimLostBeforeConfirmUndoesTheRegistration) {
  fake.failing["confirm"] = make_error(errc::already_exists, "taken");
  auto r = acc.register_account(ann(), ci);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::email_taken);
  EXPECT_TRUE(fake.users.empty());  // the written user is deleted again
  EXPECT_EQ(fake.count("user delete_user"), 1u);
  EXPECT_TRUE(fake.index.empty());
}

TEST_F(AccountWorkflows, ADeviceLoginAsksTheIndexOnceThenGoesStraightToTheUser) {
  auto first = acc.device_login("dev-0001", std::nullopt, ci);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->created);
  fake.calls.clear();
  auto second = acc.device_login("dev-0001", std::nullopt, ci);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"user login_finish"}));  // the node remembered the device
  EXPECT_EQ(uid16_of(first->in), uid16_of(second->in));
}

TEST_F(AccountWorkflows, AStaleDeviceHintFallsBackToTheIndex) {
  auto first = acc.device_login("dev-0002", std::nullopt, ci);
  ASSERT_TRUE(first);
  // The device moved to another account behind this node's back.
  auto old_uid = uid16_of(first->in);
  auto other = fake.users.at(old_uid);
  other.id = uuid_to_string(new_uuid_bytes());
  fake.users.at(old_uid).device_ids.clear();
  fake.users[*uuid_from_string(other.id)] = other;
  fake.index["device:dev-0002"] = {other.id, true};
  fake.calls.clear();
  auto second = acc.device_login("dev-0002", std::nullopt, ci);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(json::parse(second->in.user)["id"], other.id);
  EXPECT_EQ(fake.calls,
            (std::vector<std::string>{"user login_finish", "lookup device:dev-0002", "user login_finish"}));
}

TEST_F(AccountWorkflows, APatchWithoutUniqueFieldsIsOneTrip) {
  auto r = acc.register_account(ann(), ci);
  ASSERT_TRUE(r);
  fake.calls.clear();
  profile_patch p;
  p.display_name = "Annie";
  ASSERT_TRUE(acc.update_profile(uid16_of(*r), "token-hash", p, ci));
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"user update_profile"}));
}

TEST_F(AccountWorkflows, ANewUsernameIsClaimedBeforeAndTheOldReleasedAfter) {
  auto r = acc.register_account(ann(), ci);
  ASSERT_TRUE(r);
  fake.calls.clear();
  profile_patch p;
  p.username = "anna";
  auto v = acc.update_profile(uid16_of(*r), "token-hash", p, ci);
  ASSERT_TRUE(v);
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"user authenticate", "claim username:anna", "user update_profile",
                                                  "confirm username:anna", "release username:ann"}));
  EXPECT_FALSE(fake.index.count("username:ann"));
  EXPECT_TRUE(fake.index["username:anna"].confirmed);
}

TEST_F(AccountWorkflows, ATakenNewEmailReleasesTheNewUsernameAndChangesNothing) {
  auto r = acc.register_account(ann(), ci);
  ASSERT_TRUE(r);
  fake.index["email:bob@example.com"] = {"bob-id", true};
  fake.calls.clear();
  profile_patch p;
  p.username = "anna";
  p.email = "bob@example.com";
  auto v = acc.update_profile(uid16_of(*r), "token-hash", p, ci);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.err().code, errc::email_taken);
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"user authenticate", "claim username:anna", "claim email:bob@example.com",
                                                  "release username:anna"}));
  EXPECT_EQ(fake.users.at(uid16_of(*r)).username, "ann");
  EXPECT_FALSE(fake.index.count("username:anna"));
  EXPECT_EQ(fake.index["email:bob@example.com"].uid, "bob-id");
}

TEST_F(AccountWorkflows, ANewUsernameLostBeforeConfirmIsPutBack) {
  auto r = acc.register_account(ann(), ci);
  ASSERT_TRUE(r);
  fake.failing["confirm"] = make_error(errc::already_exists, "taken");
  fake.calls.clear();
  profile_patch p;
  p.username = "anna";
  p.display_name = "Anna";
  auto v = acc.update_profile(uid16_of(*r), "token-hash", p, ci);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.err().code, errc::username_taken);
  EXPECT_EQ(fake.users.at(uid16_of(*r)).username, "ann");  // put back
  EXPECT_EQ(fake.count("user update_profile"), 2u);
  EXPECT_EQ(fake.count("release username:ann"), 0u);  // the old name is still the user's
  EXPECT_TRUE(fake.index["username:ann"].confirmed);
}

TEST_F(AccountWorkflows, UnknownAndWrongLoginsFailAlike) {
  ASSERT_TRUE(acc.register_account(ann(), ci));
  auto unknown = acc.password_login("nobody", "whatever", ci);
  ASSERT_FALSE(unknown);
  auto wrong = acc.password_login("ann", "wrong", ci);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(unknown.err().code, errc::invalid_credentials);
  EXPECT_EQ(wrong.err().code, errc::invalid_credentials);
  EXPECT_EQ(unknown.err().message, wrong.err().message);
  EXPECT_EQ(fake.count("user login_failed"), 1u);  // the account counts its own failure
}

TEST_F(AccountWorkflows, FailuresLockTheLoginFromEveryAddress) {
  ASSERT_TRUE(acc.register_account(ann(), ci));
  // auth.max_failed_logins (3) wrong passwords for "ann", each from its own address...
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(acc.password_login("ann", "wrong", client_info{"198.51.100." + std::to_string(i), "t"}));
  // ...and the login is locked for a fresh address, before anything is asked.
  fake.calls.clear();
  auto locked = acc.password_login("ANN", "correct horse", client_info{"198.51.100.99", "t"});
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.err().code, errc::rate_limited);
  EXPECT_TRUE(fake.calls.empty());
  // Another login from that address still runs.
  EXPECT_EQ(acc.password_login("nobody", "x", client_info{"198.51.100.99", "t"}).err().code,
            errc::invalid_credentials);
}

TEST_F(AccountWorkflows, FailuresLockTheAddressForEveryLogin) {
  ASSERT_TRUE(acc.register_account(ann(), ci));
  for (auto login : {"nobody1", "nobody2", "nobody3"}) ASSERT_FALSE(acc.password_login(login, "x", ci));
  fake.calls.clear();
  auto locked = acc.password_login("ann", "correct horse", ci);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.err().code, errc::rate_limited);
  EXPECT_TRUE(fake.calls.empty());
}

TEST_F(AccountWorkflows, ARightPasswordFinishesTheLoginWithItsReservation) {
  ASSERT_TRUE(acc.register_account(ann(), ci));
  fake.calls.clear();
  auto r = acc.password_login("Ann@Example.com", "correct horse", ci);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"lookup email:ann@example.com", "user login_begin",
                                                  "user login_finish"}));
}

TEST_F(AccountWorkflows, DeletionNeedsTheSudoWindowOrThePasswordAndReleasesEveryKey) {
  auto r = acc.register_account(ann(), ci);
  ASSERT_TRUE(r);
  auto uid16 = uid16_of(*r);
  auto stale = acc.delete_account(uid16, "token-hash", std::nullopt, ci);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.err().code, errc::reauthentication_required);
  EXPECT_EQ(fake.count("user delete_user"), 0u);
  ASSERT_TRUE(acc.delete_account(uid16, "token-hash", std::string("correct horse"), ci));
  EXPECT_TRUE(fake.users.empty());
  EXPECT_TRUE(fake.index.empty());
}

TEST_F(AccountWorkflows, SettingAFirstPasswordNeedsAFreshSession) {
  auto d = acc.device_login("dev-0003", std::nullopt, ci);
  ASSERT_TRUE(d);
  auto uid16 = uid16_of(d->in);
  auto stale = acc.change_password(uid16, "token-hash", "", "a new password", ci);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.err().code, errc::reauthentication_required);
  fake.sudo_fresh = true;
  EXPECT_TRUE(acc.change_password(uid16, "token-hash", "", "a new password", ci));
  EXPECT_EQ(fake.count("user set_password"), 1u);
}

TEST_F(AccountWorkflows, RecoveryLooksUpThenStoresACodeEitherWayButSendsOnlyToAnAccount) {
  ASSERT_TRUE(acc.register_account(ann(), ci));
  fake.calls.clear();
  ASSERT_TRUE(acc.send_recovery_code("ann@example.com").ok());
  ASSERT_TRUE(acc.send_recovery_code("nobody@example.com").ok());
  EXPECT_EQ(fake.calls, (std::vector<std::string>{"lookup email:ann@example.com", "send_code email:ann@example.com",
                                                  "lookup email:nobody@example.com",
                                                  "send_code email:nobody@example.com"}));
  EXPECT_EQ(fake.sent_to, (std::vector<std::string>{"ann@example.com", ""}));
}

} // namespace
} // namespace roster
