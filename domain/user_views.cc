#include "domain/user_views.h"

#include "base/clock.h"
#include "base/crypto.h"
#include "domain/json_text.h"

namespace roster {

namespace {
json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json nullable_time(millis t) { return t == 0 ? json(nullptr) : json(format_time(t)); }
} // namespace

std::string device_fingerprint(std::string_view device_id) {
  return "sha256:" + hex_encode(sha256(device_id)).substr(0, 16);
}

std::string own_view_text(const user_record& u) {
  // Keys in sorted order, as nlohmann prints an object.
  json_text w(512 + user_metadata_count(u) * 32);
  w.open_object();
  w.key("anonymous").boolean(ways_to_log_in(u) == 0);
  w.key("avatar_url").nullable(u.avatar_url);
  w.key("created_at").string(format_time(u.created_at));
  w.key("display_name").nullable(u.display_name);
  w.key("email").nullable(u.email);
  w.key("email_verified").boolean(u.email_verified);
  w.key("has_password").boolean(!u.password_hash.empty());
  w.key("id").string(u.id);
  w.key("identities").open_array();
  if (!u.email.empty()) w.open_object().key("kind").string("email").key("value").string(u.email).close_object();
  if (!u.phone.empty()) w.open_object().key("kind").string("phone").key("value").string(u.phone).close_object();
  // A device id is a credential (it alone logs in): the view shows its
  // fingerprint, so a read — with a game server's JWT, say — never hands one out.
  for (auto& d : u.device_ids)
    w.open_object().key("kind").string("device").key("value").string(device_fingerprint(d)).close_object();
  for (auto& l : u.links) {
    auto [kind, value] = identity_of_key(l);
    w.open_object().key("kind").string(kind).key("value").string(value).close_object();
  }
  w.close_array();
  w.key("lang").nullable(u.lang);
  w.key("last_login_at").nullable(u.last_login_at == 0 ? std::string() : format_time(u.last_login_at));
  // The owner sees every key of theirs (never the admins' internal ones).
  w.key("metadata").value(visible_metadata(u, relation::self));
  w.key("mfa_enabled").boolean(mfa_enabled(u));
  w.key("phone").nullable(u.phone);
  w.key("status").string(status_name(shown_status(u)));
  w.key("updated_at").string(format_time(u.updated_at));
  w.key("username").nullable(u.username);
  w.close_object();
  return w.take();
}

json own_view(const user_record& u) { return json::parse(own_view_text(u)); }

json public_view(const user_record& u, bool online) {
  return {{"id", u.id},
          {"username", nullable(u.username)},
          {"display_name", nullable(u.display_name)},
          {"avatar_url", nullable(u.avatar_url)},
          {"online", online},
          {"metadata", visible_metadata(u, relation::other)}};
}

json admin_view(const user_record& u, size_t session_count, millis now) {
  json j = own_view(u);
  // `status` shows one state (blocked wins); an admin sees both, and the
  // ban, a third state that `status` does not show (GET /v1/admin/bans/{id}
  // has its reason and expiry).
  j["activated"] = !u.pending_activation;
  j["blocked"] = u.blocked;
  j["banned"] = ban_active(u, now);
  j["device_ids"] = u.device_ids;
  j["last_seen_at"] = nullable_time(u.last_seen_at);
  // An admin sees every key: the user's with their visibility, and the internal ones.
  j["metadata"] = visible_metadata(u, relation::admin);
  j["metadata_visibility"] = json::object();
  for (auto& item : user_metadata_items(u)) j["metadata_visibility"][item["key"].get<std::string>()] = item["visibility"];
  j["internal_metadata"] = may_see(visibility::internal, relation::admin) ? u.internal_metadata : json::object();
  j["recent_failed_logins"] = u.failed_logins.size();
  j["sessions"] = session_count;
  return j;
}

std::string session_view_text(const session_record& s, bool current, std::string_view token) {
  json_text w(320 + s.user_agent.size());
  w.open_object();
  w.key("created_at").string(format_time(s.created_at));
  w.key("current").boolean(current);
  w.key("expires_at").string(format_time(s.expires_at));
  w.key("id").string(s.id);
  w.key("ip").string(s.ip);
  w.key("last_used_at").string(format_time(s.last_used_at));
  w.key("method").string(s.method);
  if (!token.empty()) w.key("token").string(token);
  w.key("user_agent").string(s.user_agent);
  w.close_object();
  return w.take();
}

json session_view(const session_record& s, bool current) { return json::parse(session_view_text(s, current)); }

} // namespace roster
