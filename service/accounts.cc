#include "service/accounts.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "base/crypto.h"
#include "domain/codes.h"
#include "domain/mfa.h"

namespace roster {

namespace {
error taken_error(const std::string& key) {
  if (key.rfind("email:", 0) == 0) return make_error(errc::email_taken, "email is already registered");
  if (key.rfind("username:", 0) == 0) return make_error(errc::username_taken, "username is taken");
  if (key.rfind("phone:", 0) == 0) return make_error(errc::identity_taken, "phone number belongs to another account");
  return make_error(errc::identity_taken, "identity is already linked to another account");
}

/// A send_code operation: a code (or link) for `key` and `p`, its message
/// (template `kind`) to `to` — none when `to` is empty.
send_code code_op(std::string key, code_purpose p, std::string to, std::string kind) {
  send_code op;
  op.key = std::move(key);
  op.purpose = static_cast<uint8_t>(p);
  op.to = std::move(to);
  op.kind = std::move(kind);
  return op;
}

template <class T>
errc code_of(const result<T>& r) {
  return r ? errc::ok : r.err().code;
}
} // namespace

accounts::accounts(router_port& r, const auth_config& auth)
    : router_(r),
      auth_(auth),
      argon2_{static_cast<uint32_t>(auth.argon2_memory_kib), static_cast<uint32_t>(auth.argon2_iterations),
              static_cast<uint32_t>(auth.argon2_parallelism)},
      addresses_(throttle_policy{auth.max_failed_logins, auth.failed_login_window, 30'000}),
      logins_(throttle_policy{auth.max_failed_logins, auth.failed_login_window, 30'000}) {}

errc accounts::claim(const std::string& key, const std::string& uid) {
  return code_of(router_.call_index(claim_key{key, uid}));
}

void accounts::release_all(const std::vector<std::string>& keys, const std::string& uid) {
  for (auto& k : keys) router_.call_index(release_key{k, uid});
}

user_record accounts::new_record() const {
  user_record rec;
  rec.id = uuid_to_string(new_uuid_bytes());
  rec.pending_activation = auth_.require_activation;
  rec.created_at = rec.updated_at = now_ms();
  return rec;
}

result<signed_in> accounts::create_user(user_record rec, const std::string& session_method,
                                        const std::vector<std::string>& keys, const client_info& ci,
                                        const std::function<void(user_record&)>& prepare) {
  auto uid16 = *uuid_from_string(rec.id);
  auto uid = rec.id;
  // 1. claim every unique key on its index partition
  std::vector<std::string> claimed;
  for (auto& k : keys) {
    auto code = claim(k, uid);
    if (code != errc::ok) {
      release_all(claimed, uid);
      if (code == errc::already_exists) return taken_error(k);
      return make_error(code, "could not reserve " + k.substr(0, k.find(':')));
    }
    claimed.push_back(k);
  }
  // 2. the costly part (hashing), only once every key is ours; then write
  // the user (acknowledged only once stored)
  if (prepare) prepare(rec);
  auto created = router_.call_user(uid16, roster::create_user{std::move(rec), session_method}, {}, ci);
  if (!created) {
    release_all(claimed, uid);
    return created;
  }
  // 3. confirm the claims; a claim lost meanwhile (repaired away as stale)
  // means another user now holds the key: undo this registration.
  for (auto& k : claimed) {
    auto r = router_.call_index(confirm_key{k, uid});
    if (!r) {
      spdlog::warn("registration lost its claim during confirm; undoing");
      router_.call_user(uid16, delete_user{true});
      release_all(claimed, uid);
      if (r.err().code == errc::already_exists) return taken_error(k);
      return r.err();
    }
  }
  return created;
}

result<signed_in> accounts::register_account(const registration& in, const client_info& ci) {
  user_record rec = new_record();
  rec.email = in.email.value_or("");
  rec.username = in.username.value_or("");
  rec.display_name = in.display_name.value_or(in.username.value_or(""));
  rec.metadata = in.metadata;
  auto keys = index_keys_of(rec);
  // No password (SPEC `password?`, an account with an email only): no
  // Argon2id work; the player logs in by email code or magic link.
  if (in.password.empty()) return create_user(std::move(rec), "email", keys, ci);
  return create_user(std::move(rec), "password", keys, ci,
                     [&](user_record& r) { r.password_hash = hash_password(in.password, argon2_); });
}

result<accounts::password_ok> accounts::check_password(const std::string& login_key,
                                                       std::optional<std::string> uid16, const std::string& password,
                                                       const char* method, const char* wrong_message,
                                                       const client_info& ci) {
  // 1. reserve on this node: the address, and the login key for logins
  auto now = now_ms();
  if (auto wait = addresses_.reserve(ci.ip, now); wait > 0) return throttled_error(wait);
  bool by_login = !login_key.empty();
  if (by_login)
    if (auto wait = logins_.reserve(login_key, now); wait > 0) {
      addresses_.succeed(ci.ip);
      return throttled_error(wait);
    }
  auto release = [&] {  // the check did not run
    addresses_.succeed(ci.ip);
    if (by_login) logins_.succeed(login_key);
  };
  auto failed = [&]() -> error {
    auto t = now_ms();
    addresses_.fail(ci.ip, t);
    if (by_login) logins_.fail(login_key, t);
    return make_error(errc::invalid_credentials, wrong_message);
  };
  // An unknown login spends the same Argon2id time as a wrong password.
  auto fail_unknown = [&] {
    verify_password(password, dummy_password_hash(argon2_));
    return failed();
  };
  // 2. find the user and reserve on the account
  if (!uid16) {
    auto found = router_.call_index(lookup_key{login_key});
    if (code_of(found) == errc::not_found) return fail_unknown();
    if (!found) {
      release();
      return found.err();
    }
    uid16 = uuid_from_string(found->user_id);
    if (!uid16) return fail_unknown();
  }
  auto begin = router_.call_user(*uid16, login_begin{}, {}, ci);
  if (code_of(begin) == errc::not_found) return fail_unknown();
  if (!begin) {
    release();
    return begin.err();
  }
  password_ok ok{*uid16, begin->password_hash, begin->reservation};
  // 3. verify (an account without a password fails like an unknown login)
  bool match = ok.hash.empty() ? (verify_password(password, dummy_password_hash(argon2_)), false)
                               : verify_password(password, ok.hash);
  if (!match) {
    router_.call_user(*uid16, login_failed{method, ok.reservation}, {}, ci);
    return failed();
  }
  addresses_.succeed(ci.ip);
  if (by_login) logins_.succeed(login_key, /*forget_failures=*/true);
  return ok;
}

result<signed_in> accounts::password_login(const std::string& login, const std::string& password,
                                           const client_info& ci) {
  // The throttle key is the index key: one lock per account whichever way the
  // login is spelled, and the same lock for logins that do not exist.
  std::string key = login.find('@') != std::string::npos ? email_key(login) : username_key(login);
  auto ok = check_password(key, std::nullopt, password, "password", "invalid login or password", ci);
  if (!ok) return ok.err();
  return router_.call_user(ok->uid16, login_finish{"password", ok->hash, ok->reservation, {}}, {}, ci);
}

std::optional<std::string> accounts::key_hints::find(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void accounts::key_hints::remember(const std::string& key, const std::string& uid16) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (map_.size() >= capacity) map_.clear();
  map_[key] = uid16;
}

void accounts::key_hints::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  map_.erase(key);
}

result<device_signed_in> accounts::device_login(const std::string& device_id,
                                                const std::optional<std::string>& display_name,
                                                const client_info& ci) {
  auto key = device_key(device_id);
  // The device's user as this node last found it: one trip instead of two
  // (the user actor checks that it still holds the key).
  if (auto hint = devices_.find(key)) {
    auto r = router_.call_user(*hint, login_finish{"device", std::nullopt, 0, key}, {}, ci);
    if (code_of(r) != errc::not_found) {
      if (!r) return r.err();
      return device_signed_in{std::move(*r), false};
    }
    devices_.forget(key);
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto found = router_.call_index(lookup_key{key});
    if (found) {
      if (auto uid16 = uuid_from_string(found->user_id)) {
        auto r = router_.call_user(*uid16, login_finish{"device", std::nullopt, 0, key}, {}, ci);
        if (code_of(r) != errc::not_found) {
          if (!r) return r.err();
          devices_.remember(key, *uid16);
          return device_signed_in{std::move(*r), false};
        }
      }
    } else if (found.err().code != errc::not_found) {
      return found.err();
    }
    user_record rec = new_record();
    rec.device_ids = {device_id};
    rec.display_name = display_name.value_or("");
    auto uid16 = *uuid_from_string(rec.id);
    auto r = create_user(rec, "device", {key}, ci);
    if (code_of(r) == errc::identity_taken) continue;  // lost a race: log into the winner
    if (!r) return r.err();
    devices_.remember(key, uid16);
    return device_signed_in{std::move(*r), true};
  }
  return make_error(errc::identity_taken, "device id is busy; retry");
}

result<signed_in> accounts::anonymous_login(const std::optional<std::string>& display_name, const client_info& ci) {
  user_record rec = new_record();
  rec.display_name = display_name.value_or("");
  return create_user(rec, "anonymous", {}, ci);
}

result<view> accounts::update_profile(std::string_view uid16, const std::string& token_hash,
                                      const profile_patch& patch, const client_info& ci) {
  bool admin = token_hash.empty();
  // Nothing unique changes: no key to claim or release, one trip.
  if (!patch.username && !patch.email && !patch.phone) {
    auto r = router_.call_user(uid16, roster::update_profile{patch, admin}, token_hash, ci);
    if (!r) return r.err();
    return view{std::move(r->user)};
  }
  // Learn the current account (and authenticate) before claiming anything.
  auto current = admin ? router_.call_user(uid16, admin_get{}) : router_.call_user(uid16, authenticate{}, token_hash, ci);
  if (!current) return current.err();
  auto cur = json::parse(current->json, nullptr, false);
  if (!cur.is_object()) return make_error(errc::internal, "internal error");
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
  for (auto [value, field, fn] : {std::tuple{&patch.username, "username", &username_key},
                                  std::tuple{&patch.email, "email", &email_key},
                                  std::tuple{&patch.phone, "phone", &phone_key}}) {
    auto code = want(*value, field, fn);
    if (code != errc::ok) {
      release_all(claimed, uid);
      if (code == errc::already_exists) return taken_error(fn(**value));
      return make_error(code, "could not reserve the new value");
    }
  }
  auto r = router_.call_user(uid16, roster::update_profile{patch, admin}, token_hash, ci);
  if (!r) {
    release_all(claimed, uid);
    return r.err();
  }
  // Confirm the new keys. One that another user holds now (our claim was
  // repaired away as stale while this change stalled) means the change must
  // not stand: the unique fields go back to their old values, whose keys are
  // still ours (they are released only below), and the caller gets 409.
  std::optional<std::string> lost;
  for (auto& k : claimed) {
    auto c = router_.call_index(confirm_key{k, uid});
    if (!c && c.err().code == errc::already_exists && !lost) lost = k;
  }
  if (lost) {
    spdlog::warn("profile change lost its claim during confirm; putting the unique fields back");
    profile_patch back;
    auto old_text = [&](const char* field) {
      auto v = cur.value(field, json(nullptr));
      return v.is_string() ? v.get<std::string>() : std::string();
    };
    if (patch.username) back.username = old_text("username");
    if (patch.email) back.email = old_text("email");
    if (patch.phone) back.phone = old_text("phone");
    if (auto undo = router_.call_user(uid16, roster::update_profile{back, admin}, token_hash, ci); !undo)
      spdlog::error("profile change: could not put the unique fields back: {}", undo.err().message);
    for (auto& k : claimed)
      if (k != *lost) router_.call_index(release_key{k, uid});
    return taken_error(*lost);
  }
  release_all(r->released_keys, uid);
  return view{std::move(r->user)};
}

result<revoked> accounts::change_password(std::string_view uid16, const std::string& token_hash,
                                          const std::string& current, const std::string& next,
                                          const client_info& ci) {
  auto creds = router_.call_user(uid16, get_credentials{}, token_hash, ci);
  if (!creds) return creds.err();
  set_password change;
  if (creds->password_hash.empty()) {
    // No password yet (device or guest account): the sudo window must be fresh.
    if (!creds->sudo_fresh) return make_error(errc::reauthentication_required, "log in again to set a password");
  } else {
    auto ok = check_password({}, std::string(uid16), current, "password_change", "current_password is wrong", ci);
    if (!ok) return ok.err();
    change.expected_hash = ok->hash;
    change.reservation = ok->reservation;
  }
  change.password_hash = hash_password(next, argon2_);
  return router_.call_user(uid16, std::move(change), token_hash, ci);
}

status accounts::prove_recent(std::string_view uid16, const std::string& token_hash,
                              const std::optional<std::string>& password, const char* method, const char* what,
                              const client_info& ci) {
  auto creds = router_.call_user(uid16, get_credentials{}, token_hash, ci);
  if (!creds) return creds.err();
  if (password) {
    auto ok = check_password({}, std::string(uid16), *password, method, "password is wrong", ci);
    if (!ok) return ok.err();
  } else if (!creds->sudo_fresh) {
    return make_error(errc::reauthentication_required, std::string("log in again or send your password to ") + what);
  }
  return {};
}

status accounts::delete_account(std::string_view uid16, const std::string& token_hash,
                                const std::optional<std::string>& password, const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "account_delete", "delete the account", ci); !ok) return ok;
  // Deleting the user also drops its reservation.
  auto r = router_.call_user(uid16, delete_user{false}, token_hash, ci);
  if (!r) return r.err();
  release_all(r->index_keys, uuid_to_string(uid16));
  return {};
}

status accounts::admin_delete(std::string_view uid16) {
  auto r = router_.call_user(uid16, delete_user{true});
  if (!r) return r.err();
  release_all(r->index_keys, uuid_to_string(uid16));
  return {};
}

status accounts::send_login_code(const std::string& email) {
  auto r = router_.call_index(code_op(email_key(email), code_purpose::login, email, "email_code"));
  if (!r) return r.err();
  return {};
}

result<device_signed_in> accounts::email_code_login(const std::string& email, const std::string& code,
                                                    const client_info& ci) {
  auto used = router_.call_index(use_code{email_key(email), static_cast<uint8_t>(code_purpose::login), code});
  if (!used) return used.err();
  return login_by_email(email, "email_code", ci);
}

status accounts::send_magic_link(const std::string& email, const std::string& link_query) {
  // The address's send budget (and nothing else: the record's own code is
  // never sent) ...
  auto gate = router_.call_index(code_op(email_key(email), code_purpose::magic_link, "", "magic_link"));
  if (!gate) return gate.err();
  // ... then the link: its record is found by the token alone.
  auto token = new_link_token();
  auto op = code_op(link_key(token), code_purpose::magic_link, email, "magic_link");
  op.detail = email;
  op.token = token;
  op.link_query = link_query;
  auto r = router_.call_index(std::move(op));
  if (!r) return r.err();
  return {};
}

result<device_signed_in> accounts::magic_link_login(const std::string& token, const client_info& ci) {
  auto used = router_.call_index(use_code{link_key(token), static_cast<uint8_t>(code_purpose::magic_link), token});
  if (!used) return used.err();
  if (used->detail.empty()) return make_error(errc::invalid_credentials, "invalid or expired link");
  return login_by_email(used->detail, "magic_link", ci);
}

result<device_signed_in> accounts::login_by_email(const std::string& email, const std::string& method,
                                                  const client_info& ci) {
  return login_or_create(email_key(email), method, ci, [&](user_record& rec) {
    rec.email = email;
    rec.email_verified = true;
  });
}

result<device_signed_in> accounts::login_or_create(const std::string& key, const std::string& method,
                                                 const client_info& ci,
                                                 const std::function<void(user_record&)>& fill) {
  auto taken = taken_error(key).code;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto found = router_.call_index(lookup_key{key});
    if (found) {
      if (auto uid16 = uuid_from_string(found->user_id)) {
        auto r = router_.call_user(*uid16, login_finish{method, std::nullopt, 0, key}, {}, ci);
        if (code_of(r) != errc::not_found) {
          if (!r) return r.err();
          release_all(r->released_keys, found->user_id);  // what a first proof of the email dropped
          return device_signed_in{std::move(*r), false};
        }
      }
    } else if (found.err().code != errc::not_found) {
      return found.err();
    }
    user_record rec = new_record();
    fill(rec);
    auto r = create_user(rec, method, index_keys_of(rec), ci);
    if (code_of(r) == taken) {  // lost a race (or a registration is in flight): log into the winner
      std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
      continue;
    }
    if (!r) return r.err();
    return device_signed_in{std::move(*r), true};
  }
  return make_error(taken, "the identity is busy; retry");
}

status accounts::send_phone_code(const std::string& phone) {
  auto r = router_.call_index(code_op(phone_key(phone), code_purpose::login, phone, "phone_code"));
  if (!r) return r.err();
  return {};
}

result<device_signed_in> accounts::phone_code_login(const std::string& phone, const std::string& code,
                                                    const client_info& ci) {
  auto key = phone_key(phone);
  auto used = router_.call_index(use_code{key, static_cast<uint8_t>(code_purpose::login), code});
  if (!used) return used.err();
  return login_or_create(key, "phone_code", ci, [&](user_record& rec) { rec.phone = phone; });
}

status accounts::send_recovery_code(const std::string& email) {
  auto key = email_key(email);
  auto found = router_.call_index(lookup_key{key});
  if (!found && found.err().code != errc::not_found) return found.err();
  auto op = code_op(key, code_purpose::recovery, "", "recovery");
  if (found) {
    op.to = email;
    op.user_id = found->user_id;
  }
  auto r = router_.call_index(std::move(op));
  if (!r) return r.err();
  return {};
}

result<revoked> accounts::recover(const std::string& email, const std::string& code, const std::string& new_password) {
  auto key = email_key(email);
  auto used = router_.call_index(use_code{key, static_cast<uint8_t>(code_purpose::recovery), code});
  if (!used) return used.err();
  auto invalid = [] { return make_error(errc::invalid_credentials, "invalid or expired code"); };
  auto uid16 = uuid_from_string(used->user_id);
  if (!uid16) return invalid();
  auto r = router_.call_user(*uid16, recover_password{hash_password(new_password, argon2_), key}, {}, {});
  if (code_of(r) == errc::not_found) return invalid();  // the address left the account (or the account is gone)
  return r;
}

namespace {
/// The caller's own email and whether it is verified (from its own view).
result<std::pair<std::string, bool>> own_email(router_port& r, std::string_view uid16, const std::string& token_hash,
                                               const client_info& ci) {
  auto me = r.call_user(uid16, authenticate{}, token_hash, ci);
  if (!me) return me.err();
  auto j = json::parse(me->json, nullptr, false);
  std::string email;
  if (j.is_object() && j.contains("email") && j["email"].is_string()) email = j["email"].get<std::string>();
  return std::pair{email, j.is_object() && j.value("email_verified", false)};
}
}  // namespace

status accounts::send_email_verification(std::string_view uid16, const std::string& token_hash, const client_info& ci) {
  auto mine = own_email(router_, uid16, token_hash, ci);
  if (!mine) return mine.err();
  auto& [email, verified] = *mine;
  if (email.empty()) return make_error(errc::invalid_request, "the account has no email");
  if (verified) return make_error(errc::already_exists, "the email is verified already");
  auto op = code_op(email_key(email), code_purpose::verify, email, "verification");
  op.user_id = uuid_to_string(uid16);
  auto r = router_.call_index(std::move(op));
  if (!r) return r.err();
  return {};
}

result<view> accounts::confirm_email_verification(std::string_view uid16, const std::string& token_hash,
                                                  const std::string& code, const client_info& ci) {
  auto mine = own_email(router_, uid16, token_hash, ci);
  if (!mine) return mine.err();
  auto& [email, verified] = *mine;
  auto invalid = [] { return make_error(errc::invalid_credentials, "invalid or expired code"); };
  if (email.empty()) return invalid();
  auto key = email_key(email);
  auto used = router_.call_index(use_code{key, static_cast<uint8_t>(code_purpose::verify), code});
  if (!used) return used.err();
  if (used->user_id != uuid_to_string(uid16)) return invalid();  // sent for another account that had this address
  return router_.call_user(uid16, verify_email{key}, token_hash, ci);
}

namespace {
/// An email change's code is the account's own: keyed by address and user.
std::string email_change_key(const std::string& email, std::string_view uid16) {
  return email_key(email) + "|" + uuid_to_string(uid16);
}
}  // namespace

status accounts::request_email_change(std::string_view uid16, const std::string& token_hash, const std::string& email,
                                      const std::optional<std::string>& password, const client_info& ci) {
  // A right password's reservation on the account is left to expire (30 s):
  // it counts as one check in flight meanwhile, never as a failure.
  if (auto ok = prove_recent(uid16, token_hash, password, "email_change", "change the email", ci); !ok) return ok;
  auto mine = own_email(router_, uid16, token_hash, ci);
  if (!mine) return mine.err();
  auto& old_email = mine->first;
  if (!old_email.empty() && email_key(old_email) == email_key(email))
    return make_error(errc::invalid_request, "that is the account's email already");
  auto holder = router_.call_index(lookup_key{email_key(email)});
  if (holder) return make_error(errc::email_taken, "email is already registered");
  if (holder.err().code != errc::not_found) return holder.err();
  auto op = code_op(email_change_key(email, uid16), code_purpose::email_change, email, "email_change_new");
  op.user_id = uuid_to_string(uid16);
  op.detail = email;
  if (!old_email.empty()) {
    op.notify_to = old_email;
    op.notify_kind = "email_change_old";
  }
  auto r = router_.call_index(std::move(op));
  if (!r) return r.err();
  return {};
}

result<view> accounts::confirm_email_change(std::string_view uid16, const std::string& token_hash,
                                            const std::string& email, const std::string& code, const client_info& ci) {
  auto used = router_.call_index(
      use_code{email_change_key(email, uid16), static_cast<uint8_t>(code_purpose::email_change), code});
  if (!used) return used.err();
  if (used->user_id != uuid_to_string(uid16)) return make_error(errc::invalid_credentials, "invalid or expired code");
  profile_patch patch;
  patch.email = used->detail;
  auto changed = update_profile(uid16, token_hash, patch, ci);
  if (!changed) return changed.err();
  return router_.call_user(uid16, verify_email{email_key(used->detail)}, token_hash, ci);
}

namespace {
/// A phone verification's code is the account's own: keyed by number and user.
std::string phone_change_key(const std::string& phone, std::string_view uid16) {
  return phone_key(phone) + "|" + uuid_to_string(uid16);
}
}  // namespace

status accounts::send_phone_verification(std::string_view uid16, const std::string& token_hash,
                                         const std::string& phone, const std::optional<std::string>& password,
                                         const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "phone_change", "add a phone number", ci); !ok) return ok;
  auto holder = router_.call_index(lookup_key{phone_key(phone)});
  if (holder) {
    if (holder->user_id == uuid_to_string(uid16))
      return make_error(errc::already_exists, "that is the account's phone number already");
    return taken_error(phone_key(phone));
  }
  if (holder.err().code != errc::not_found) return holder.err();
  auto op = code_op(phone_change_key(phone, uid16), code_purpose::verify, phone, "phone_verification");
  op.user_id = uuid_to_string(uid16);
  op.detail = phone;
  auto r = router_.call_index(std::move(op));
  if (!r) return r.err();
  return {};
}

result<view> accounts::confirm_phone_verification(std::string_view uid16, const std::string& token_hash,
                                                  const std::string& phone, const std::string& code,
                                                  const client_info& ci) {
  auto used = router_.call_index(
      use_code{phone_change_key(phone, uid16), static_cast<uint8_t>(code_purpose::verify), code});
  if (!used) return used.err();
  if (used->user_id != uuid_to_string(uid16)) return make_error(errc::invalid_credentials, "invalid or expired code");
  profile_patch patch;
  patch.phone = used->detail;
  return update_profile(uid16, token_hash, patch, ci);
}

result<device_signed_in> accounts::provider_login(const provider_identity& id, const client_info& ci) {
  auto key = provider_key(id.provider, id.subject);
  // The email is imported only if nobody has it: an account of its own
  // keeps it, and the provider's login makes an account of its own.
  bool email_free = false;
  if (!id.email.empty()) {
    auto holder = router_.call_index(lookup_key{email_key(id.email)});
    email_free = !holder && holder.err().code == errc::not_found;
  }
  return login_or_create(key, id.provider, ci, [&](user_record& rec) {
    rec.links = {key};
    rec.display_name = id.display_name;
    rec.avatar_url = id.avatar_url;
    if (email_free) {
      rec.email = id.email;
      rec.email_verified = true;
    }
  });
}

result<device_signed_in> accounts::custom_login(const std::string& custom_id,
                                                const std::optional<std::string>& display_name,
                                                const client_info& ci) {
  auto key = custom_key(custom_id);
  return login_or_create(key, "custom", ci, [&](user_record& rec) {
    rec.links = {key};
    rec.display_name = display_name.value_or("");
  });
}

result<view> accounts::link_identity(std::string_view uid16, const std::string& token_hash, const std::string& key,
                                     const std::optional<std::string>& password, const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "identity_link", "link an identity", ci); !ok) return ok.err();
  auto uid = uuid_to_string(uid16);
  auto holder = router_.call_index(lookup_key{key});
  if (holder) {
    if (holder->user_id == uid) return make_error(errc::already_exists, "the identity is linked to this account already");
    return make_error(errc::identity_taken, "identity is already linked to another account");
  }
  if (holder.err().code != errc::not_found) return holder.err();
  if (auto code = claim(key, uid); code != errc::ok) {
    if (code == errc::already_exists) return make_error(errc::identity_taken, "identity is already linked to another account");
    return make_error(code, "could not reserve the identity");
  }
  auto linked = router_.call_user(uid16, add_identity{key}, token_hash, ci);
  if (!linked) {
    release_all({key}, uid);
    return linked.err();
  }
  if (auto c = router_.call_index(confirm_key{key, uid}); !c) {
    // Another account holds it now (our claim was repaired away as stale):
    // this link must not stand.
    auto [kind, value] = identity_of_key(key);
    if (auto undo = router_.call_user(uid16, remove_identity{kind, value}, token_hash, ci); !undo)
      spdlog::error("identity link: could not undo a lost claim: {}", undo.err().message);
    if (c.err().code == errc::already_exists)
      return make_error(errc::identity_taken, "identity is already linked to another account");
    return c.err();
  }
  return linked;
}

result<view> accounts::unlink_identity(std::string_view uid16, const std::string& token_hash, const std::string& kind,
                                       const std::string& value, const std::optional<std::string>& password,
                                       const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "identity_unlink", "unlink an identity", ci); !ok)
    return ok.err();
  auto r = router_.call_user(uid16, remove_identity{kind, value}, token_hash, ci);
  if (!r) return r.err();
  release_all(r->released_keys, uuid_to_string(uid16));
  return view{std::move(r->user)};
}

// -- MFA ------------------------------------------------------------------------------

std::pair<std::vector<std::string>, std::vector<std::string>> accounts::new_recovery_codes() const {
  auto codes = mfa::new_recovery_codes();
  std::vector<std::string> hashes;
  hashes.reserve(codes.size());
  for (auto& code : codes) hashes.push_back(hash_password(code, argon2_));
  return {std::move(codes), std::move(hashes)};
}

result<view> accounts::mfa_enroll(std::string_view uid16, const std::string& token_hash,
                                  const std::optional<std::string>& password, const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "mfa_enroll", "turn MFA on", ci); !ok) return ok.err();
  return router_.call_user(uid16, roster::mfa_enroll{}, token_hash, ci);
}

result<std::vector<std::string>> accounts::mfa_confirm(std::string_view uid16, const std::string& token_hash,
                                                       const std::string& code,
                                                       const std::optional<std::string>& password,
                                                       const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "mfa_confirm", "turn MFA on", ci); !ok) return ok.err();
  // The codes are hashed before the actor checks the TOTP code, so that
  // turning MFA on and storing its recovery codes are one write.
  auto [codes, hashes] = new_recovery_codes();
  auto r = router_.call_user(uid16, roster::mfa_confirm{code, std::move(hashes)}, token_hash, ci);
  if (!r) return r.err();
  return std::move(codes);
}

status accounts::mfa_disable(std::string_view uid16, const std::string& token_hash,
                             const std::optional<std::string>& password, const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "mfa_disable", "turn MFA off", ci); !ok) return ok;
  auto r = router_.call_user(uid16, roster::mfa_disable{}, token_hash, ci);
  if (!r) return r.err();
  return {};
}

result<std::vector<std::string>> accounts::mfa_regenerate(std::string_view uid16, const std::string& token_hash,
                                                          const std::optional<std::string>& password,
                                                          const client_info& ci) {
  if (auto ok = prove_recent(uid16, token_hash, password, "mfa_recovery_codes", "make new recovery codes", ci); !ok)
    return ok.err();
  // Learn first whether MFA is on (no hashing for nothing).
  auto creds = router_.call_user(uid16, authenticate{}, token_hash, ci);
  if (!creds) return creds.err();
  auto cur = json::parse(creds->json, nullptr, false);
  if (!cur.is_object() || !cur.value("mfa_enabled", false)) return make_error(errc::not_found, "MFA is not on");
  auto [codes, hashes] = new_recovery_codes();
  auto r = router_.call_user(uid16, mfa_set_recovery{std::move(hashes)}, token_hash, ci);
  if (!r) return r.err();
  return std::move(codes);
}

result<signed_in> accounts::mfa_login(const std::string& challenge_id, const std::optional<std::string>& code,
                                      const std::optional<std::string>& recovery_code, const client_info& ci) {
  auto invalid = [] { return make_error(errc::invalid_credentials, "invalid or expired challenge"); };
  auto uid16 = user_id_of_token(challenge_id);
  if (!uid16) return invalid();
  auto hash = sha256(challenge_id);
  // The client address is throttled here (node-local), the account by its actor.
  auto now = now_ms();
  if (auto wait = addresses_.reserve(ci.ip, now); wait > 0) return throttled_error(wait);
  auto settle = [&](result<signed_in> r) {
    if (code_of(r) == errc::not_found) r = invalid();  // no such user
    if (code_of(r) == errc::invalid_credentials) addresses_.fail(ci.ip, now_ms());
    else addresses_.succeed(ci.ip);
    return r;
  };
  if (code) return settle(router_.call_user(*uid16, mfa_finish{hash, *code, false, {}, 0}, {}, ci));
  auto ticket = router_.call_user(*uid16, mfa_begin{hash}, {}, ci);
  if (!ticket) {
    if (code_of(ticket) == errc::not_found) return settle(invalid());
    return settle(ticket.err());
  }
  // Argon2id here, on the HTTP worker (one verification per unused code,
  // at most 10), never in the actor.
  std::string matched;
  if (auto typed = mfa::normalize_recovery_code(recovery_code.value_or("")))
    for (auto& h : ticket->recovery_hashes)
      if (verify_password(*typed, h)) {
        matched = h;
        break;
      }
  return settle(router_.call_user(*uid16, mfa_finish{hash, {}, true, matched, ticket->reservation}, {}, ci));
}

} // namespace roster
