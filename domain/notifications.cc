#include "domain/notifications.h"

#include <algorithm>

#include "domain/json_text.h"
#include "domain/validation.h"

namespace roster {

using json = nlohmann::json;

std::string encode_notification(const notification& n) {
  json_text w(128 + n.title.size() + n.body.size());
  w.open_object();
  w.key("body").string(n.body);
  w.key("created_at").number(n.created_at);
  w.key("data").value(n.data);
  w.key("read").boolean(n.read);
  w.key("seq").number(static_cast<int64_t>(n.seq));
  w.key("title").string(n.title);
  w.close_object();
  return w.take();
}

std::optional<notification> decode_notification(std::string_view bytes) {
  auto j = json::parse(bytes, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  notification n;
  auto seq = j.find("seq");
  auto created = j.find("created_at");
  if (seq == j.end() || !seq->is_number_unsigned() || created == j.end() || !created->is_number_integer())
    return std::nullopt;
  n.seq = seq->get<uint64_t>();
  n.created_at = created->get<millis>();
  n.title = j.value("title", std::string());
  n.body = j.value("body", std::string());
  if (auto d = j.find("data"); d != j.end() && d->is_object()) n.data = *d;
  n.read = j.value("read", false);
  return n;
}

json notification_view(const notification& n) {
  return {{"id", std::to_string(n.seq)},
          {"title", n.title},
          {"body", n.body},
          {"data", n.data},
          {"read", n.read},
          {"created_at", format_time(n.created_at)}};
}

result<notification_input> parse_notification_input(const json& body) {
  error e = make_error(errc::invalid_request, "invalid notification");
  notification_input in;
  auto text = [&](const char* name, size_t min, size_t max, std::string& out) {
    auto it = body.find(name);
    if (it == body.end() || !it->is_string()) {
      if (min > 0 || it != body.end()) e.fields[name] = "must be a string";
      return;
    }
    auto s = it->get<std::string>();
    if (s.size() < min || s.size() > max) e.fields[name] = "must be " + std::to_string(min) + "-" + std::to_string(max) + " bytes";
    else if (!valid_utf8(s)) e.fields[name] = "must be UTF-8";
    else out = std::move(s);
  };
  text("title", 1, 200, in.title);
  text("body", 0, 4000, in.body);
  if (auto it = body.find("data"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) e.fields["data"] = "must be an object";
    else if (it->dump().size() > 4096) e.fields["data"] = "must be at most 4 KiB as JSON";
    else in.data = *it;
  }
  if (!e.fields.empty()) return e;
  return in;
}

const std::vector<std::string_view>& stream_event_types() {
  static const std::vector<std::string_view> types = {
    event_type::notification,    event_type::profile_updated, event_type::email_changed, event_type::password_changed,
    event_type::session_revoked, event_type::status_changed,  event_type::deleted,
    event_type::friend_invited,  event_type::friend_added,    event_type::friend_removed,
    event_type::banned};  // unbanned is not: a banned user has no open stream
  return types;
}

bool streamed(std::string_view type) {
  auto& t = stream_event_types();
  return std::find(t.begin(), t.end(), type) != t.end();
}

std::string sse_frame(uint64_t seq, std::string_view type, std::string_view json) {
  std::string out;
  out.reserve(json.size() + type.size() + 40);
  out += "id: ";
  out += std::to_string(seq);
  out += "\nevent: ";
  out += type;
  out += "\ndata: ";
  // JSON text has no raw line breaks; drop any so a frame stays one event.
  for (char c : json)
    if (c != '\n' && c != '\r') out.push_back(c);
  out += "\n\n";
  return out;
}

std::string sse_end_frame(std::string_view reason) {
  json_text w(64);
  w.open_object().key("reason").string(reason).close_object();
  return "event: end\ndata: " + w.take() + "\n\n";
}

std::optional<uint64_t> parse_last_event_id(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

} // namespace roster
