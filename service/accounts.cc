#include "service/accounts.h"

#include <spdlog/spdlog.h>

#include "base/crypto.h"

namespace roster {

namespace {
reply taken_reply(const std::string& key) {
  if (key.rfind("email:", 0) == 0) return error_reply(errc::email_taken, "email is already registered");
  if (key.rfind("username:", 0) == 0) return error_reply(errc::username_taken, "username is taken");
  return error_reply(errc::identity_taken, "identity is already linked to another account");
}

json body_of(const reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}
} // namespace

accounts::accounts(router& r, const auth_config& auth)
    : router_(r),
      auth_(auth),
      argon2_{static_cast<uint32_t>(auth.argon2_memory_kib), static_cast<uint32_t>(auth.argon2_iterations),
              static_cast<uint32_t>(auth.argon2_parallelism)},
      addresses_(throttle_policy{auth.max_failed_logins, auth.failed_login_window, 30'000}),
      logins_(throttle_policy{auth.max_failed_logins, auth.failed_login_window, 30'000}) {}

errc accounts::claim(const std::string& key, const std::string& uid) {
  auto r = router_.call_index(index_op::claim, key, uid);
  return r.error_code();
}

void accounts::release_all(const std::vector<std::string>& keys, const std::string& uid) {
  for (auto& k : keys) router_.call_index(index_op::release, k, uid);
}

void accounts::release_from(const reply& r, const char* field, const std::string& uid) {
  auto j = body_of(r);
  if (!j.contains(field) || !j[field].is_array()) return;
  std::vector<std::string> keys;
  for (auto& k : j[field])
    if (k.is_string()) keys.push_back(k.get<std::string>());
  release_all(keys, uid);
}

user_record accounts::new_record() const {
  user_record rec;
  rec.id = uuid_to_string(new_uuid_bytes());
  rec.status = auth_.require_activation ? account_status::pending_activation : account_status::active;
  rec.created_at = rec.updated_at = now_ms();
  return rec;
}

reply accounts::create_user(user_record rec, const std::string& session_method, const std::vector<std::string>& keys,
                            const client_info& ci, const std::function<void(user_record&)>& prepare) {
  auto uid16 = *uuid_from_string(rec.id);
  // 1. claim every unique key on its index partition
  std::vector<std::string> claimed;
  for (auto& k : keys) {
    auto code = claim(k, rec.id);
    if (code != errc::ok) {
      release_all(claimed, rec.id);
      if (code == errc::already_exists) return taken_reply(k);
      return error_reply(code, "could not reserve " + k.substr(0, k.find(':')));
    }
    claimed.push_back(k);
  }
  // 2. the costly part (hashing), only once every key is ours; then write
  // the user (acknowledged only once stored)
  if (prepare) prepare(rec);
  json args = {{"record", json::parse(encode_user(rec))}, {"session_method", session_method}};
  auto created = router_.call_user(uid16, user_op::create, {}, args.dump(), ci);
  if (!created.ok()) {
    release_all(claimed, rec.id);
    return created;
  }
  // 3. confirm the claims; a claim lost meanwhile (repaired away as stale)
  // means another user now holds the key: undo this registration.
  for (auto& k : claimed) {
    auto r = router_.call_index(index_op::confirm, k, rec.id);
    if (!r.ok()) {
      spdlog::warn("registration lost its claim during confirm; undoing");
      router_.call_user(uid16, user_op::admin_delete);
      release_all(claimed, rec.id);
      return r.error_code() == errc::already_exists ? taken_reply(k) : r;
    }
  }
  return created;
}

reply accounts::register_account(const registration& in, const client_info& ci) {
  user_record rec = new_record();
  rec.email = in.email.value_or("");
  rec.username = in.username.value_or("");
  rec.display_name = in.display_name.value_or(in.username.value_or(""));
  rec.metadata = in.metadata;
  auto keys = index_keys_of(rec);
  return create_user(std::move(rec), "password", keys, ci,
                     [&](user_record& r) { r.password_hash = hash_password(in.password, argon2_); });
}

std::variant<accounts::password_ok, reply> accounts::check_password(const std::string& login_key,
                                                                   std::optional<std::string> uid16,
                                                                   const std::string& password, const char* method,
                                                                   const char* wrong_message, const client_info& ci) {
  // 1. reserve on this node: the address, and the login key for logins
  auto now = now_ms();
  if (auto wait = addresses_.reserve(ci.ip, now); wait > 0) return error_reply(throttled_error(wait));
  bool by_login = !login_key.empty();
  if (by_login)
    if (auto wait = logins_.reserve(login_key, now); wait > 0) {
      addresses_.succeed(ci.ip);
      return error_reply(throttled_error(wait));
    }
  auto release = [&] {  // the check did not run
    addresses_.succeed(ci.ip);
    if (by_login) logins_.succeed(login_key);
  };
  auto failed = [&]() -> reply {
    auto t = now_ms();
    addresses_.fail(ci.ip, t);
    if (by_login) logins_.fail(login_key, t);
    return error_reply(errc::invalid_credentials, wrong_message);
  };
  // An unknown login spends the same Argon2id time as a wrong password.
  auto fail_unknown = [&] {
    verify_password(password, dummy_password_hash(argon2_));
    return failed();
  };
  // 2. find the user and reserve on the account
  if (!uid16) {
    auto found = router_.call_index(index_op::lookup, login_key);
    if (found.error_code() == errc::not_found) return fail_unknown();
    if (!found.ok()) {
      release();
      return found;
    }
    uid16 = uuid_from_string(found.body);
    if (!uid16) return fail_unknown();
  }
  auto begin = router_.call_user(*uid16, user_op::login_begin, {}, {}, ci);
  if (begin.error_code() == errc::not_found) return fail_unknown();
  if (!begin.ok()) {
    release();
    return begin;
  }
  auto j = body_of(begin);
  password_ok ok{*uid16, j.value("password_hash", std::string()), j.value("reservation", uint64_t{0})};
  // 3. verify (an account without a password fails like an unknown login)
  bool match = ok.hash.empty() ? (verify_password(password, dummy_password_hash(argon2_)), false)
                               : verify_password(password, ok.hash);
  if (!match) {
    router_.call_user(*uid16, user_op::login_failed, {},
                      json{{"method", method}, {"reservation", ok.reservation}}.dump(), ci);
    return failed();
  }
  addresses_.succeed(ci.ip);
  if (by_login) logins_.succeed(login_key, /*forget_failures=*/true);
  return ok;
}

reply accounts::password_login(const std::string& login, const std::string& password, const client_info& ci) {
  // The throttle key is the index key: one lock per account whichever way the
  // login is spelled, and the same lock for logins that do not exist.
  std::string key = login.find('@') != std::string::npos ? email_key(login) : username_key(login);
  auto checked = check_password(key, std::nullopt, password, "password", "invalid login or password", ci);
  if (auto* refused = std::get_if<reply>(&checked)) return *refused;
  auto& ok = std::get<password_ok>(checked);
  return router_.call_user(ok.uid16, user_op::login_finish, {},
                           json{{"method", "password"}, {"password_hash", ok.hash}, {"reservation", ok.reservation}}.dump(),
                           ci);
}

reply accounts::device_login(const std::string& device_id, const std::optional<std::string>& display_name,
                             const client_info& ci) {
  auto key = device_key(device_id);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto found = router_.call_index(index_op::lookup, key);
    if (found.ok()) {
      if (auto uid16 = uuid_from_string(found.body)) {
        auto r = router_.call_user(*uid16, user_op::login_finish, {}, json{{"method", "device"}}.dump(), ci);
        if (r.error_code() != errc::not_found) {
          if (!r.ok()) return r;
          auto j = body_of(r);
          j["created"] = false;
          return ok_reply(j.dump());
        }
      }
    } else if (found.error_code() != errc::not_found) {
      return found;
    }
    user_record rec = new_record();
    rec.device_ids = {device_id};
    rec.display_name = display_name.value_or("");
    auto r = create_user(rec, "device", {key}, ci);
    if (r.error_code() == errc::identity_taken) continue;  // lost a race: log into the winner
    if (!r.ok()) return r;
    auto j = body_of(r);
    j["created"] = true;
    return ok_reply(j.dump());
  }
  return error_reply(errc::identity_taken, "device id is busy; retry");
}

reply accounts::anonymous_login(const std::optional<std::string>& display_name, const client_info& ci) {
  user_record rec = new_record();
  rec.display_name = display_name.value_or("");
  return create_user(rec, "anonymous", {}, ci);
}

reply accounts::update_profile(std::string_view uid16, const std::string& token_hash, const json& patch,
                               const client_info& ci) {
  bool admin = token_hash.empty();
  auto parsed = parse_profile_patch(patch, admin);
  if (!parsed) return error_reply(parsed.err());
  // Learn the current account (and authenticate) before claiming anything.
  auto current = admin ? router_.call_user(uid16, user_op::admin_get)
                       : router_.call_user(uid16, user_op::authenticate, token_hash, {}, ci);
  if (!current.ok()) return current;
  auto cur = body_of(current);
  std::string uid = cur.value("id", std::string());
  std::vector<std::string> claimed;
  auto want = [&](const std::optional<std::string>& value, const char* field, std::string (*key_of)(std::string_view)) {
    if (!value) return errc::ok;
    auto old = cur.value(field, json(nullptr));
    if (old.is_string() && key_of(old.get<std::string>()) == key_of(*value)) return errc::ok;
    auto k = key_of(*value);
    auto code = claim(k, uid);
    if (code == errc::ok) claimed.push_back(k);
    return code;
  };
  for (auto [value, field, fn] : {std::tuple{&parsed->username, "username", &username_key},
                                  std::tuple{&parsed->email, "email", &email_key}}) {
    auto code = want(*value, field, fn);
    if (code != errc::ok) {
      release_all(claimed, uid);
      if (code == errc::already_exists) return taken_reply(fn(**value));
      return error_reply(code, "could not reserve the new value");
    }
  }
  auto r = admin ? router_.call_user(uid16, user_op::admin_update, {}, json{{"patch", patch}}.dump(), ci)
                 : router_.call_user(uid16, user_op::update_profile, token_hash, json{{"patch", patch}}.dump(), ci);
  if (!r.ok()) {
    release_all(claimed, uid);
    return r;
  }
  for (auto& k : claimed) router_.call_index(index_op::confirm, k, uid);
  release_from(r, "released_keys", uid);
  return ok_reply(body_of(r)["user"].dump());
}

reply accounts::change_password(std::string_view uid16, const std::string& token_hash, const std::string& current,
                                const std::string& next, const client_info& ci) {
  auto creds = router_.call_user(uid16, user_op::get_credentials, token_hash, {}, ci);
  if (!creds.ok()) return creds;
  auto j = body_of(creds);
  json args;
  if (j.value("password_hash", std::string()).empty()) {
    // No password yet (device or guest account): the sudo window must be fresh.
    if (!j.value("sudo_fresh", false))
      return error_reply(errc::reauthentication_required, "log in again to set a password");
    args["expected_hash"] = "";
  } else {
    auto checked = check_password({}, std::string(uid16), current, "password_change", "current_password is wrong", ci);
    if (auto* refused = std::get_if<reply>(&checked)) return *refused;
    auto& ok = std::get<password_ok>(checked);
    args["expected_hash"] = ok.hash;
    args["reservation"] = ok.reservation;
  }
  args["password_hash"] = hash_password(next, argon2_);
  return router_.call_user(uid16, user_op::set_password, token_hash, args.dump(), ci);
}

reply accounts::delete_account(std::string_view uid16, const std::string& token_hash,
                               const std::optional<std::string>& password, const client_info& ci) {
  auto creds = router_.call_user(uid16, user_op::get_credentials, token_hash, {}, ci);
  if (!creds.ok()) return creds;
  auto j = body_of(creds);
  if (password) {
    auto checked = check_password({}, std::string(uid16), *password, "account_delete", "password is wrong", ci);
    if (auto* refused = std::get_if<reply>(&checked)) return *refused;
  } else if (!j.value("sudo_fresh", false)) {
    return error_reply(errc::reauthentication_required, "log in again or send your password to delete the account");
  }
  // Deleting the user also drops its reservation.
  auto r = router_.call_user(uid16, user_op::delete_account, token_hash, {}, ci);
  if (r.ok()) release_from(r, "index_keys", uuid_to_string(uid16));
  return r;
}

reply accounts::admin_delete(std::string_view uid16) {
  auto r = router_.call_user(uid16, user_op::admin_delete);
  if (r.ok()) release_from(r, "index_keys", uuid_to_string(uid16));
  return r;
}

} // namespace roster
