#pragma once
// In-app notifications and live events (SPEC §4): the pure rules.
//
// A notification is an event of type "notification" that is also kept in the
// user's notification list (newest `notifications.keep_per_user`). Its id is
// the user's event sequence number (domain/events.h), so the list, the
// webhook event and the live stream name it the same way.
//
// Live events go to the user's open event streams (GET /v1/events) as
// Server-Sent Events: `id: <seq>`, `event: <type>`, `data: <event JSON>`. The
// streamed types are listed in stream_event_types(); each one is also kept
// in the user's recent-events list (newest stream_replay_kept) so that a
// client reconnecting with Last-Event-ID gets what it missed.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/errc.h"
#include "domain/events.h"

namespace roster {

/// Events kept per user for a reconnecting stream.
inline constexpr size_t stream_replay_kept = 100;

struct notification {
  uint64_t seq = 0;
  std::string title;
  std::string body;
  nlohmann::json data = nlohmann::json::object();
  bool read = false;
  millis created_at = 0;
};

std::string encode_notification(const notification& n);
std::optional<notification> decode_notification(std::string_view bytes);
/// {id, title, body, data, read, created_at}; `id` is the sequence number as text.
nlohmann::json notification_view(const notification& n);

struct notification_input {
  std::string title, body;
  nlohmann::json data = nlohmann::json::object();
};
/// Validates POST /v1/admin/notifications' `title` (1–200 bytes), `body`
/// (≤ 4,000), `data` (object, ≤ 4 KiB as JSON): invalid_request with fields.
result<notification_input> parse_notification_input(const nlohmann::json& body);

/// Whether events of `type` go to the user's live streams.
bool streamed(std::string_view type);
const std::vector<std::string_view>& stream_event_types();

/// One Server-Sent Event: "id: <seq>\nevent: <type>\ndata: <json>\n\n".
/// `json` is one line (it is JSON text without raw newlines).
std::string sse_frame(uint64_t seq, std::string_view type, std::string_view json);
/// The last frame of a stream that the server ends: event "end" with
/// {"reason": reason}; no id (a reconnect resumes after the last real event).
std::string sse_end_frame(std::string_view reason);
/// A Last-Event-ID value: decimal digits (≤ 19) → the sequence number;
/// anything else → nullopt.
std::optional<uint64_t> parse_last_event_id(std::string_view s);

} // namespace roster
