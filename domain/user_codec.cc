#include "domain/user_codec.h"

#include <type_traits>

#include "base/crypto.h"
#include "domain/json_text.h"

namespace roster {

namespace {
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
  if constexpr (std::is_same_v<T, millis> || std::is_same_v<T, uint64_t>) require_integer(*it);
  if constexpr (std::is_same_v<T, std::vector<millis>>)
    if (it->is_array()) for (auto& v : *it) require_integer(v);
  it->get_to(out);
}
} // namespace

// Never throw: a stray invalid UTF-8 byte becomes U+FFFD rather than failing
// the whole write (text that reaches here unvalidated, such as a session's
// user agent, is cleaned at the HTTP edge, but a codec must not throw out of
// the actor that owns the record). Keys in sorted order, as the records were
// first written by nlohmann's dump: the stored bytes are unchanged.
std::string encode_user(const user_record& u) {
  json_text w(384 + u.metadata.size() * 32);
  w.open_object();
  w.key("avatar_url").string(u.avatar_url);
  if (u.ban) {  // absent when none: records without a ban keep their bytes
    w.key("ban").open_object();
    w.key("by").string(u.ban->by);
    w.key("created_at").number(u.ban->created_at);
    w.key("expires_at").number(u.ban->expires_at);
    w.key("reason").string(u.ban->reason);
    w.close_object();
  }
  w.key("created_at").number(u.created_at);
  w.key("device_ids").open_array();
  for (auto& d : u.device_ids) w.string(d);
  w.close_array();
  w.key("display_name").string(u.display_name);
  w.key("email").string(u.email);
  w.key("email_verified").boolean(u.email_verified);
  if (u.event_seq) w.key("event_seq").number(static_cast<int64_t>(u.event_seq));
  w.key("failed_logins").open_array();
  for (auto t : u.failed_logins) w.number(t);
  w.close_array();
  w.key("id").string(u.id);
  w.key("lang").string(u.lang);
  w.key("last_login_at").number(u.last_login_at);
  w.key("last_seen_at").number(u.last_seen_at);
  if (!u.links.empty()) {
    w.key("links").open_array();
    for (auto& l : u.links) w.string(l);
    w.close_array();
  }
  if (!u.login_methods.empty()) {
    w.key("login_methods").open_array();
    for (auto& m : u.login_methods) w.string(m);
    w.close_array();
  }
  // Public keys stay the flat object every earlier record held (an older
  // binary shows exactly these); the others only appear when there are any.
  w.key("metadata").value(u.metadata);
  if (!u.hidden_metadata.empty()) w.key("metadata_hidden").value(u.hidden_metadata);
  if (!u.internal_metadata.empty()) w.key("metadata_internal").value(u.internal_metadata);
  if (!u.totp_secret.empty() || !u.totp_pending.empty()) {
    w.key("mfa").open_object();
    w.key("last_step").number(u.totp_last_step);
    w.key("pending").string(u.totp_pending);
    w.key("recovery").open_array();
    for (auto& h : u.recovery_hashes) w.string(h);
    w.close_array();
    w.key("totp").string(u.totp_secret);
    w.close_object();
  }
  w.key("password_hash").string(u.password_hash);
  if (!u.phone.empty()) w.key("phone").string(u.phone);
  // "status" is the shown status, as every release wrote it (an older binary
  // reading a blocked record sees it blocked); a blocked account that also
  // waits for activation says so apart.
  if (u.blocked && u.pending_activation) w.key("pending_activation").boolean(true);
  w.key("status").string(status_name(shown_status(u)));
  if (u.streams) w.key("streams").boolean(true);
  w.key("updated_at").number(u.updated_at);
  w.key("username").string(u.username);
  w.close_object();
  return w.take();
}

std::optional<user_record> decode_user(std::string_view bytes) {
  auto j = json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    user_record u;
    get_to(j, "id", u.id);
    get_to(j, "email", u.email);
    get_to(j, "phone", u.phone);
    get_to(j, "username", u.username);
    get_to(j, "display_name", u.display_name);
    get_to(j, "avatar_url", u.avatar_url);
    get_to(j, "lang", u.lang);
    // A record from before visibility has only "metadata": its keys are public.
    if (j.contains("metadata") && j["metadata"].is_object()) u.metadata = j["metadata"];
    if (j.contains("metadata_hidden") && j["metadata_hidden"].is_object()) u.hidden_metadata = j["metadata_hidden"];
    if (j.contains("metadata_internal") && j["metadata_internal"].is_object())
      u.internal_metadata = j["metadata_internal"];
    get_to(j, "password_hash", u.password_hash);
    get_to(j, "device_ids", u.device_ids);
    get_to(j, "email_verified", u.email_verified);
    // Records before activation and blocking were separate hold one status;
    // "blocked" then said nothing of activation: such an account is active
    // once unblocked, as it was before.
    std::string st;
    get_to(j, "status", st);
    auto shown = status_from_name(st).value_or(account_status::active);
    bool pending_too = false;
    get_to(j, "pending_activation", pending_too);
    u.blocked = shown == account_status::blocked;
    u.pending_activation = shown == account_status::pending_activation || (u.blocked && pending_too);
    get_to(j, "created_at", u.created_at);
    get_to(j, "updated_at", u.updated_at);
    get_to(j, "last_login_at", u.last_login_at);
    get_to(j, "last_seen_at", u.last_seen_at);
    get_to(j, "failed_logins", u.failed_logins);
    get_to(j, "event_seq", u.event_seq);
    get_to(j, "streams", u.streams);
    get_to(j, "login_methods", u.login_methods);
    get_to(j, "links", u.links);
    if (auto m = j.find("mfa"); m != j.end() && m->is_object()) {
      get_to(*m, "totp", u.totp_secret);
      get_to(*m, "pending", u.totp_pending);
      get_to(*m, "last_step", u.totp_last_step);
      get_to(*m, "recovery", u.recovery_hashes);
    }
    // Records before bans have none.
    if (auto b = j.find("ban"); b != j.end() && b->is_object()) {
      ban_record ban;
      get_to(*b, "reason", ban.reason);
      get_to(*b, "created_at", ban.created_at);
      get_to(*b, "expires_at", ban.expires_at);
      get_to(*b, "by", ban.by);
      u.ban = std::move(ban);
    }
    return u;
  } catch (const json::exception&) {
    return std::nullopt;
  } catch (const not_an_integer&) {
    return std::nullopt;
  }
}

std::string encode_session(const session_record& s) {
  json_text w(256 + s.user_agent.size());
  w.open_object();
  w.key("authenticated_at").number(s.authenticated_at);
  w.key("created_at").number(s.created_at);
  w.key("expires_at").number(s.expires_at);
  w.key("id").string(s.id);
  w.key("ip").string(s.ip);
  w.key("last_used_at").number(s.last_used_at);
  w.key("method").string(s.method);
  w.key("token_hash").string(hex_encode(s.token_hash));
  w.key("user_agent").string(s.user_agent);
  w.close_object();
  return w.take();
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
