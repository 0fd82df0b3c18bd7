#include "domain/events.h"

#include <algorithm>

#include "domain/json_text.h"

namespace roster {

const std::vector<std::string_view>& event_types() {
  static const std::vector<std::string_view> all = {
    event_type::registered,       event_type::login,         event_type::login_failed,
    event_type::profile_updated,  event_type::password_changed, event_type::email_changed,
    event_type::session_revoked,  event_type::status_changed,   event_type::deleted,
    event_type::notification,
    event_type::mfa_enabled,      event_type::mfa_disabled,     event_type::mfa_recovery_codes_regenerated,
    event_type::mfa_recovery_code_used, event_type::mfa_failed,
    event_type::friend_invited,   event_type::friend_added,     event_type::friend_removed, event_type::user_blocked,
    event_type::banned,           event_type::unbanned,
    event_type::report_filed,     event_type::moderation_resolved};
  return all;
}

std::string event_json(std::string_view type, std::string_view user_id, uint64_t seq, millis at,
                       const nlohmann::json& data) {
  json_text w(256);
  w.open_object();
  w.key("at").string(format_time(at));
  w.key("data").value(data.is_null() ? nlohmann::json::object() : data);
  w.key("id").string(std::string(user_id) + ":" + std::to_string(seq));
  w.key("seq").number(static_cast<int64_t>(seq));
  w.key("type").string(type);
  w.key("user_id").string(user_id);
  w.close_object();
  return w.take();
}

bool event_wanted(const std::vector<std::string>& filter, std::string_view type) {
  return filter.empty() || std::find(filter.begin(), filter.end(), type) != filter.end();
}

std::vector<outbox_entry> webhook_entries(std::string_view type, std::string_view user_id, uint16_t partition,
                                          const std::string& body, const std::vector<std::string>& urls,
                                          const std::vector<std::string>& filter, millis now) {
  std::vector<outbox_entry> out;
  if (!event_wanted(filter, type)) return out;
  for (auto& url : urls) {
    outbox_entry e;
    e.id = new_outbox_id(now, partition);
    e.kind = outbox_kind::webhook;
    e.user_id = std::string(user_id);
    e.to = url;
    e.text = body;
    e.purpose = std::string(type);
    e.created_at = e.next_at = now;
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace roster
