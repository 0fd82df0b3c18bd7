#include "domain/user.h"

#include <algorithm>
#include <type_traits>

#include "base/crypto.h"

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

std::string email_key(std::string_view email) { return "email:" + normalize_email(email); }
std::string username_key(std::string_view username) { return "username:" + username_tag(username); }
std::string device_key(std::string_view device_id) { return "device:" + std::string(device_id); }

std::vector<std::string> index_keys_of(const user_record& u) {
  std::vector<std::string> keys;
  if (!u.email.empty()) keys.push_back(email_key(u.email));
  if (!u.username.empty()) keys.push_back(username_key(u.username));
  for (auto& d : u.device_ids) keys.push_back(device_key(d));
  return keys;
}

namespace {
/// Never throws: a stray invalid UTF-8 byte becomes U+FFFD rather than
/// failing the whole write (text that reaches here unvalidated, such as a
/// session's user agent, is cleaned at the HTTP edge, but a codec must not
/// throw out of the actor that owns the record).
std::string dump_record(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// A stored number that is not an integer (nlohmann converts 1e300 to int64_t
/// by a cast whose result is undefined).
struct not_an_integer {};

void require_integer(const json& v) {
  if (!v.is_number_integer()) throw not_an_integer{};
}

template <class T>
void get_to(const json& j, const char* name, T& out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return;
  if constexpr (std::is_same_v<T, millis>) require_integer(*it);
  if constexpr (std::is_same_v<T, std::vector<millis>>)
    if (it->is_array()) for (auto& v : *it) require_integer(v);
  it->get_to(out);
}
} // namespace

std::string encode_user(const user_record& u) {
  json j = {{"id", u.id},
            {"email", u.email},
            {"username", u.username},
            {"display_name", u.display_name},
            {"avatar_url", u.avatar_url},
            {"lang", u.lang},
            {"metadata", u.metadata},
            {"password_hash", u.password_hash},
            {"device_ids", u.device_ids},
            {"email_verified", u.email_verified},
            {"status", status_name(u.status)},
            {"created_at", u.created_at},
            {"updated_at", u.updated_at},
            {"last_login_at", u.last_login_at},
            {"last_seen_at", u.last_seen_at},
            {"failed_logins", u.failed_logins}};
  return dump_record(j);
}

std::optional<user_record> decode_user(std::string_view bytes) {
  auto j = json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    user_record u;
    get_to(j, "id", u.id);
    get_to(j, "email", u.email);
    get_to(j, "username", u.username);
    get_to(j, "display_name", u.display_name);
    get_to(j, "avatar_url", u.avatar_url);
    get_to(j, "lang", u.lang);
    if (j.contains("metadata") && j["metadata"].is_object()) u.metadata = j["metadata"];
    get_to(j, "password_hash", u.password_hash);
    get_to(j, "device_ids", u.device_ids);
    get_to(j, "email_verified", u.email_verified);
    std::string st;
    get_to(j, "status", st);
    u.status = status_from_name(st).value_or(account_status::active);
    get_to(j, "created_at", u.created_at);
    get_to(j, "updated_at", u.updated_at);
    get_to(j, "last_login_at", u.last_login_at);
    get_to(j, "last_seen_at", u.last_seen_at);
    get_to(j, "failed_logins", u.failed_logins);
    return u;
  } catch (const json::exception&) {
    return std::nullopt;
  } catch (const not_an_integer&) {
    return std::nullopt;
  }
}

std::string encode_session(const session_record& s) {
  json j = {{"id", s.id},
            {"token_hash", hex_encode(s.token_hash)},
            {"method", s.method},
            {"created_at", s.created_at},
            {"last_used_at", s.last_used_at},
            {"expires_at", s.expires_at},
            {"authenticated_at", s.authenticated_at},
            {"ip", s.ip},
            {"user_agent", s.user_agent}};
  return dump_record(j);
}

std::optional<session_record> decode_session(std::string_view bytes) {
  auto j = json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    session_record s;
    std::string hex;
    get_to(j, "id", s.id);
    get_to(j, "token_hash", hex);
    s.token_hash.reserve(hex.size() / 2);
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      s.token_hash.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    get_to(j, "method", s.method);
    get_to(j, "created_at", s.created_at);
    get_to(j, "last_used_at", s.last_used_at);
    get_to(j, "expires_at", s.expires_at);
    get_to(j, "authenticated_at", s.authenticated_at);
    get_to(j, "ip", s.ip);
    get_to(j, "user_agent", s.user_agent);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  } catch (const not_an_integer&) {
    return std::nullopt;
  }
}

namespace {
json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json nullable_time(millis t) { return t == 0 ? json(nullptr) : json(format_time(t)); }

json identities_of(const user_record& u) {
  json ids = json::array();
  if (!u.email.empty()) ids.push_back({{"kind", "email"}, {"value", u.email}});
  for (auto& d : u.device_ids) ids.push_back({{"kind", "device"}, {"value", d}});
  return ids;
}
} // namespace

json own_view(const user_record& u) {
  return {{"id", u.id},
          {"email", nullable(u.email)},
          {"email_verified", u.email_verified},
          {"username", nullable(u.username)},
          {"display_name", nullable(u.display_name)},
          {"avatar_url", nullable(u.avatar_url)},
          {"lang", nullable(u.lang)},
          {"metadata", u.metadata},
          {"status", status_name(u.status)},
          {"has_password", !u.password_hash.empty()},
          {"anonymous", u.email.empty() && u.username.empty() && u.device_ids.empty() &&
                            u.password_hash.empty()},
          {"identities", identities_of(u)},
          {"created_at", format_time(u.created_at)},
          {"updated_at", format_time(u.updated_at)},
          {"last_login_at", nullable_time(u.last_login_at)}};
}

json public_view(const user_record& u, bool online) {
  return {{"id", u.id},
          {"username", nullable(u.username)},
          {"display_name", nullable(u.display_name)},
          {"avatar_url", nullable(u.avatar_url)},
          {"online", online},
          {"metadata", u.metadata}};
}

json admin_view(const user_record& u, size_t session_count) {
  json j = own_view(u);
  j["device_ids"] = u.device_ids;
  j["last_seen_at"] = nullable_time(u.last_seen_at);
  j["recent_failed_logins"] = u.failed_logins.size();
  j["sessions"] = session_count;
  return j;
}

json session_view(const session_record& s, bool current) {
  return {{"id", s.id},
          {"method", s.method},
          {"created_at", format_time(s.created_at)},
          {"last_used_at", format_time(s.last_used_at)},
          {"expires_at", format_time(s.expires_at)},
          {"ip", s.ip},
          {"user_agent", s.user_agent},
          {"current", current}};
}

errc session_state(const session_record& s, millis now, const session_policy& p) {
  if (now >= s.expires_at) return errc::session_expired;
  if (now >= s.last_used_at + p.idle_ttl) return errc::session_expired;
  return errc::ok;
}

errc status_gate(const user_record& u) {
  switch (u.status) {
    case account_status::active: return errc::ok;
    case account_status::pending_activation: return errc::pending_activation;
    case account_status::blocked: return errc::account_blocked;
  }
  return errc::ok;
}

std::string check_metadata(const json& m, const limits& l) {
  if (!m.is_object()) return "must be an object";
  if (m.size() > 64) return "at most 64 keys";
  for (auto& [k, v] : m.items()) {
    if (k.empty() || k.size() > 64) return "keys must be 1 to 64 characters of [a-z0-9_.-]";
    for (char c : k)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
        return "keys must be 1 to 64 characters of [a-z0-9_.-]";
    if (v.dump().size() > l.metadata_value_max) return "values must be at most 4096 bytes of JSON";
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
  if (p.avatar_url) u.avatar_url = *p.avatar_url;
  if (p.lang) u.lang = *p.lang;
  if (p.metadata) {
    json merged = u.metadata;
    for (auto& [k, v] : p.metadata->items()) {
      if (v.is_null()) merged.erase(k);
      else merged[k] = v;
    }
    if (auto problem = check_metadata(merged, l); !problem.empty()) {
      error e = make_error(errc::invalid_request, "invalid fields");
      e.fields["metadata"] = problem;
      return e;
    }
    u.metadata = std::move(merged);
  }
  u.updated_at = now;
  return {};
}

} // namespace roster
