#include "domain/user.h"

#include "base/crypto.h"
#include "domain/user_views.h"

#include <algorithm>

namespace roster {

std::string_view status_name(account_status s) {
  switch (s) {
    case account_status::active: return "active";
    case account_status::pending_activation: return "pending_activation";
    case account_status::blocked: return "blocked";
  }
  return "active";
}

std::optional<account_status> status_from_name(std::string_view s) {
  if (s == "active") return account_status::active;
  if (s == "pending_activation") return account_status::pending_activation;
  if (s == "blocked") return account_status::blocked;
  return std::nullopt;
}

std::string_view status_change_name(status_change c) {
  switch (c) {
    case status_change::activate: return "activate";
    case status_change::block: return "block";
    case status_change::unblock: return "unblock";
  }
  return "activate";
}

account_status shown_status(const user_record& u) {
  if (u.blocked) return account_status::blocked;
  return u.pending_activation ? account_status::pending_activation : account_status::active;
}

bool apply_status_change(user_record& u, status_change c) {
  bool& flag = c == status_change::activate ? u.pending_activation : u.blocked;
  bool want = c == status_change::block;
  if (flag == want) return false;
  flag = want;
  return true;
}

std::vector<std::string> login_methods_of(const user_record& u) {
  if (!u.login_methods.empty()) return u.login_methods;
  std::vector<std::string> out;
  if (!u.password_hash.empty()) out.push_back("password");
  if (!u.device_ids.empty()) out.push_back("device");
  if (u.password_hash.empty() && !u.email.empty()) out.push_back("email_code");
  if (u.password_hash.empty() && !u.phone.empty()) out.push_back("phone_code");
  for (auto& l : u.links) out.push_back(identity_of_key(l).first);
  if (out.empty()) out.push_back("anonymous");
  return out;
}

bool note_login_method(user_record& u, std::string_view method) {
  if (method.empty()) return false;
  bool seeded = false;
  if (u.login_methods.empty()) {
    u.login_methods = login_methods_of(u);
    seeded = true;
  }
  if (std::find(u.login_methods.begin(), u.login_methods.end(), method) != u.login_methods.end()) return seeded;
  u.login_methods.emplace_back(method);
  return true;
}

std::string email_key(std::string_view email) { return "email:" + normalize_email(email); }
std::string username_key(std::string_view username) { return "username:" + username_tag(username); }
std::string device_key(std::string_view device_id) { return "device:" + std::string(device_id); }
std::string phone_key(std::string_view phone) { return "phone:" + std::string(phone); }
std::string provider_key(std::string_view provider, std::string_view subject) {
  return "provider:" + std::string(provider) + ":" + std::string(subject);
}
std::string custom_key(std::string_view custom_id) { return "custom:" + std::string(custom_id); }

bool known_provider(std::string_view p) {
  return p == "google" || p == "apple" || p == "discord" || p == "facebook" || p == "steam";
}

std::pair<std::string, std::string> identity_of_key(std::string_view key) {
  auto colon = key.find(':');
  if (colon == std::string_view::npos) return {std::string(key), {}};
  auto kind = key.substr(0, colon), rest = key.substr(colon + 1);
  if (kind == "provider") {
    auto second = rest.find(':');
    if (second == std::string_view::npos) return {std::string(rest), {}};
    return {std::string(rest.substr(0, second)), std::string(rest.substr(second + 1))};
  }
  return {std::string(kind), std::string(rest)};
}

std::optional<std::string> identity_key_of(const user_record& u, std::string_view kind, std::string_view value) {
  if (kind == "email") return u.email.empty() ? std::nullopt : std::optional(email_key(u.email));
  if (kind == "phone") return u.phone.empty() ? std::nullopt : std::optional(phone_key(u.phone));
  if (kind == "device") {
    // Named by its id or by the fingerprint the views show.
    for (auto& d : u.device_ids)
      if (d == value || device_fingerprint(d) == value) return device_key(d);
    return std::nullopt;
  }
  for (auto& l : u.links) {
    auto [k, v] = identity_of_key(l);
    if (k == kind && (value.empty() || v == value)) return l;
  }
  return std::nullopt;
}

size_t ways_to_log_in(const user_record& u) {
  size_t n = u.device_ids.size() + u.links.size();
  if (!u.password_hash.empty() && (!u.email.empty() || !u.username.empty())) ++n;
  if (!u.email.empty()) ++n;
  if (!u.phone.empty()) ++n;
  return n;
}

status unlink_identity(user_record& u, std::string_view key) {
  user_record after = u;
  auto drop = [&](std::vector<std::string>& v, const std::string& item) {
    auto it = std::find(v.begin(), v.end(), item);
    if (it == v.end()) return false;
    v.erase(it);
    return true;
  };
  bool held = false;
  if (!u.email.empty() && key == email_key(u.email)) {
    after.email.clear();
    after.email_verified = false;
    held = true;
  } else if (!u.phone.empty() && key == phone_key(u.phone)) {
    after.phone.clear();
    held = true;
  } else if (key.rfind("device:", 0) == 0) {
    held = drop(after.device_ids, std::string(key.substr(7)));
  } else {
    held = drop(after.links, std::string(key));
  }
  if (!held) return make_error(errc::not_found, "the account has no such identity");
  if (ways_to_log_in(after) == 0)
    return make_error(errc::last_login_method, "that is the account's last way to log in");
  u = std::move(after);
  return {};
}

status link_identity(user_record& u, std::string_view key) {
  auto kind = identity_of_key(key).first;
  if (key.rfind("device:", 0) == 0) {
    auto id = std::string(key.substr(7));
    if (std::find(u.device_ids.begin(), u.device_ids.end(), id) != u.device_ids.end())
      return make_error(errc::already_exists, "the device is linked already");
    u.device_ids.push_back(std::move(id));
    return {};
  }
  for (auto& l : u.links)
    if (identity_of_key(l).first == kind)
      return make_error(errc::already_exists, "an identity of that kind is linked already; unlink it first");
  u.links.emplace_back(key);
  return {};
}

std::string check_prefs(const json& prefs) {
  if (!prefs.is_object()) return "must be a JSON object";
  if (prefs.dump().size() > 16 * 1024) return "must be at most 16384 bytes of JSON";
  return {};
}

std::vector<std::string> index_keys_of(const user_record& u) {
  std::vector<std::string> keys;
  if (!u.email.empty()) keys.push_back(email_key(u.email));
  if (!u.phone.empty()) keys.push_back(phone_key(u.phone));
  if (!u.username.empty()) keys.push_back(username_key(u.username));
  for (auto& d : u.device_ids) keys.push_back(device_key(d));
  for (auto& l : u.links) keys.push_back(l);
  return keys;
}

errc session_state(const session_record& s, millis now, const session_policy& p) {
  if (now >= s.expires_at) return errc::session_expired;
  if (now >= s.last_used_at + p.idle_ttl) return errc::session_expired;
  return errc::ok;
}

errc status_gate(const user_record& u, millis now) {
  if (ban_active(u, now)) return errc::account_banned;
  if (u.blocked) return errc::account_blocked;
  if (u.pending_activation) return errc::pending_activation;
  return errc::ok;
}

error status_gate_error(errc gate) {
  switch (gate) {
    case errc::account_banned: return make_error(gate, "account is banned");
    case errc::account_blocked: return make_error(gate, "account is blocked");
    default: return make_error(gate, "account is pending activation");
  }
}

error account_gate_error(const user_record& u, errc gate) {
  error e = status_gate_error(gate);
  if (gate != errc::account_banned || !u.ban) return e;
  auto& b = *u.ban;
  e.message = b.expires_at ? "account is banned until " + format_time(b.expires_at) : "account is banned";
  e.details = json{{"reason", b.reason}, {"expires_at", b.expires_at ? json(format_time(b.expires_at)) : json(nullptr)}}
                  .dump();
  return e;
}

bool ban_active(const user_record& u, millis now) {
  return u.ban && (u.ban->expires_at == 0 || now < u.ban->expires_at);
}

bool ban_lapsed(const user_record& u, millis now) { return u.ban && !ban_active(u, now); }

result<ban_input> parse_ban_input(const json& body, millis now) {
  if (!body.is_object()) return make_error(errc::invalid_request, "body must be a JSON object");
  error e = make_error(errc::invalid_request, "invalid ban");
  ban_input in;
  for (auto& [k, v] : body.items()) {
    (void)v;
    if (k != "user_id" && k != "reason" && k != "expires_at") e.fields[k] = "unknown field";
  }
  auto uid = body.find("user_id");
  if (uid == body.end() || !uid->is_string()) e.fields["user_id"] = "is required: a user id";
  else if (!uuid_from_string(uid->get<std::string>())) e.fields["user_id"] = "must be a user id (lowercase UUID)";
  else in.user_id = uid->get<std::string>();
  auto reason = body.find("reason");
  if (reason == body.end() || !reason->is_string()) {
    e.fields["reason"] = "is required: a string";
  } else {
    in.reason = reason->get<std::string>();
    if (in.reason.empty() || in.reason.size() > max_ban_reason)
      e.fields["reason"] = "must be 1 to " + std::to_string(max_ban_reason) + " bytes";
    else if (!valid_utf8(in.reason) || has_control_chars(in.reason))
      e.fields["reason"] = "must be UTF-8 text without control characters";
  }
  if (auto exp = body.find("expires_at"); exp != body.end() && !exp->is_null()) {
    auto t = exp->is_string() ? parse_time(exp->get<std::string>()) : std::nullopt;
    if (!t) e.fields["expires_at"] = "must be an RFC 3339 UTC time (2026-11-25T03:30:00.000Z) or null";
    else if (*t <= now) e.fields["expires_at"] = "must be in the future";
    else in.expires_at = *t;
  }
  if (!e.fields.empty()) return e;
  return in;
}

void apply_ban(user_record& u, ban_record b) { u.ban = std::move(b); }

json ban_view(const user_record& u, millis now) {
  if (!ban_active(u, now))
    return {{"banned", false}, {"by", nullptr}, {"created_at", nullptr}, {"expires_at", nullptr}, {"reason", nullptr}};
  auto& b = *u.ban;
  return {{"banned", true},
          {"by", b.by},
          {"created_at", format_time(b.created_at)},
          {"expires_at", b.expires_at ? json(format_time(b.expires_at)) : json(nullptr)},
          {"reason", b.reason}};
}

std::string check_metadata(const json& m, const limits& l) {
  if (!m.is_object()) return "must be an object";
  if (m.size() > l.metadata_keys_max) return "at most " + std::to_string(l.metadata_keys_max) + " keys";
  for (auto& [k, v] : m.items()) {
    if (auto p = check_metadata_key(k); !p.empty()) return p;
    if (auto p = check_metadata_value(v, l); !p.empty()) return p;
  }
  return {};
}

result<profile_patch> parse_profile_patch(const json& body, bool allow_email, const limits& l) {
  error e = make_error(errc::invalid_request, "invalid fields");
  profile_patch p;
  if (!body.is_object()) return make_error(errc::invalid_request, "body must be a JSON object");
  auto str = [&](const char* name, std::optional<std::string>& out, auto check) {
    auto it = body.find(name);
    if (it == body.end()) return;
    if (!it->is_string()) { e.fields[name] = "must be a string"; return; }
    std::string v = it->get<std::string>();
    if (auto problem = check(v); !problem.empty()) { e.fields[name] = problem; return; }
    out = std::move(v);
  };
  for (auto& [k, v] : body.items()) {
    (void)v;
    if (k != "display_name" && k != "username" && k != "avatar_url" && k != "lang" &&
        k != "metadata" && !(allow_email && k == "email"))
      e.fields[k] = "is not a field that can be changed here";
  }
  str("display_name", p.display_name, [&](const std::string& v) { return check_display_name(v, l); });
  str("username", p.username, [&](const std::string& v) { return check_username(v, l); });
  str("avatar_url", p.avatar_url, [](const std::string& v) { return check_url(v); });
  str("lang", p.lang, [](const std::string& v) { return check_lang(v); });
  if (allow_email) str("email", p.email, [&](const std::string& v) { return check_email(v, l); });
  if (auto it = body.find("metadata"); it != body.end()) {
    if (!it->is_object()) e.fields["metadata"] = "must be an object";
    else if (auto problem = check_metadata(*it, l); !problem.empty()) e.fields["metadata"] = problem;
    else p.metadata = *it;
  }
  if (!e.fields.empty()) return e;
  if (p.empty()) return make_error(errc::invalid_request, "nothing to change");
  return p;
}

status apply_profile_patch(user_record& u, const profile_patch& p, millis now, const limits& l) {
  if (p.display_name) u.display_name = *p.display_name;
  if (p.username) u.username = *p.username;
  if (p.email) {
    if (normalize_email(*p.email) != normalize_email(u.email)) u.email_verified = false;
    u.email = *p.email;
  }
  if (p.phone) u.phone = *p.phone;
  if (p.avatar_url) u.avatar_url = *p.avatar_url;
  if (p.lang) u.lang = *p.lang;
  if (p.metadata) {
    // PATCH's keys are public keys (as before visibility existed); a null
    // removes the user key of that name, whatever its visibility. Applied to
    // a copy: the per-user key limit fails the patch as a whole, and counts
    // the keys the patch leaves (removals first, whatever their order).
    user_record next = u;
    for (auto& [k, v] : p.metadata->items())
      if (v.is_null()) user_metadata_remove(next, k);
    for (auto& [k, v] : p.metadata->items()) {
      if (v.is_null()) continue;
      if (auto st = user_metadata_put(next, k, v, visibility::public_, l); !st) {
        error e = make_error(errc::invalid_request, "invalid fields");
        e.fields["metadata"] = st.err().fields.count("key") ? st.err().fields.at("key") : st.err().message;
        return e;
      }
    }
    u.metadata = std::move(next.metadata);
    u.hidden_metadata = std::move(next.hidden_metadata);
  }
  u.updated_at = now;
  return {};
}

bool mark_verified(user_record& u, std::string_view method, std::string_view via_key) {
  bool by_code = method == "email_code" || method == "magic_link";
  if (!by_code || u.email.empty() || via_key != email_key(u.email) || u.email_verified) return false;
  u.email_verified = true;
  return true;
}

std::vector<std::string> drop_unproven_setup(user_record& u) {
  std::vector<std::string> gone;
  for (auto& d : u.device_ids) gone.push_back(device_key(d));
  gone.insert(gone.end(), u.links.begin(), u.links.end());
  if (!u.phone.empty()) gone.push_back(phone_key(u.phone));
  u.password_hash.clear();
  u.device_ids.clear();
  u.links.clear();
  u.phone.clear();
  u.totp_secret.clear();
  u.totp_pending.clear();
  u.totp_last_step = 0;
  u.recovery_hashes.clear();
  return gone;
}

bool blocked_by_unverified_email(const user_record& u, std::string_view method, bool required) {
  return required && method == "password" && !u.email.empty() && !u.email_verified;
}

} // namespace roster
