#include "cluster/accounts.h"

#include <spdlog/spdlog.h>

#include "domain/crypto.h"

namespace roster {

namespace {
reply taken_reply(const std::string& key) {
  if (key.rfind("email:", 0) == 0) return error_reply(errc::email_taken, "email is already registered");
  if (key.rfind("username:", 0) == 0) return error_reply(errc::username_taken, "username is taken");
  return error_reply(errc::identity_taken, "identity is already linked to another account");
}

reply invalid_credentials() { return error_reply(errc::invalid_credentials, "invalid login or password"); }

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
      ip_throttle_(throttle_policy{auth.max_failed_logins, auth.failed_login_window, 30'000}) {}

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
                            const client_info& ci) {
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
  // 2. write the user (acknowledged only once stored)
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
  rec.password_hash = hash_password(in.password, argon2_);
  auto keys = index_keys_of(rec);
  return create_user(std::move(rec), "password", keys, ci);
}

reply accounts::password_login(const std::string& login, const std::string& password, const client_info& ci) {
  auto now = now_ms();
  if (auto wait = ip_throttle_.check(ci.ip, now); wait > 0) {
    error e = make_error(errc::rate_limited, "too many failed logins from this address; try again later");
    e.retry_after = (wait + 999) / 1000;
    return error_reply(e);
  }
  // An unknown login spends the same Argon2id time as a wrong password.
  auto fail_unknown = [&] {
    verify_password(password, dummy_password_hash(argon2_));
    ip_throttle_.record_failure(ci.ip, now);
    return invalid_credentials();
  };
  std::string key = login.find('@') != std::string::npos ? email_key(login) : username_key(login);
  auto found = router_.call_index(index_op::lookup, key);
  if (found.error_code() == errc::not_found) return fail_unknown();
  if (!found.ok()) return found;
  auto uid16 = uuid_from_string(found.body);
  if (!uid16) return fail_unknown();
  auto begin = router_.call_user(*uid16, user_op::login_begin, {}, {}, ci);
  if (begin.error_code() == errc::not_found) return fail_unknown();
  if (!begin.ok()) return begin;
  auto hash = body_of(begin).value("password_hash", std::string());
  if (hash.empty()) return fail_unknown();
  if (!verify_password(password, hash)) {
    ip_throttle_.record_failure(ci.ip, now);
    router_.call_user(*uid16, user_op::login_failed, {}, json{{"method", "password"}}.dump(), ci);
    return invalid_credentials();
  }
  return router_.call_user(*uid16, user_op::login_finish, {},
                           json{{"method", "password"}, {"password_hash", hash}}.dump(), ci);
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
  auto hash = j.value("password_hash", std::string());
  if (hash.empty()) {
    // No password yet (device or guest account): the sudo window must be fresh.
    if (!j.value("sudo_fresh", false))
      return error_reply(errc::reauthentication_required, "log in again to set a password");
  } else if (!verify_password(current, hash)) {
    router_.call_user(uid16, user_op::login_failed, {}, json{{"method", "password_change"}}.dump(), ci);
    return error_reply(errc::invalid_credentials, "current_password is wrong");
  }
  auto next_hash = hash_password(next, argon2_);
  return router_.call_user(uid16, user_op::set_password, token_hash,
                           json{{"password_hash", next_hash}, {"expected_hash", hash}}.dump(), ci);
}

reply accounts::delete_account(std::string_view uid16, const std::string& token_hash,
                               const std::optional<std::string>& password, const client_info& ci) {
  auto creds = router_.call_user(uid16, user_op::get_credentials, token_hash, {}, ci);
  if (!creds.ok()) return creds;
  auto j = body_of(creds);
  if (password) {
    auto hash = j.value("password_hash", std::string());
    if (hash.empty() || !verify_password(*password, hash)) {
      router_.call_user(uid16, user_op::login_failed, {}, json{{"method", "account_delete"}}.dump(), ci);
      return error_reply(errc::invalid_credentials, "password is wrong");
    }
  } else if (!j.value("sudo_fresh", false)) {
    return error_reply(errc::reauthentication_required, "log in again or send your password to delete the account");
  }
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
