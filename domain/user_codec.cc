#include "domain/user_codec.h"

#include <type_traits>

#include "base/crypto.h"

namespace roster {

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

} // namespace roster
