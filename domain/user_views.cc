#include "domain/user_views.h"

#include "base/clock.h"

namespace roster {

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

} // namespace roster
