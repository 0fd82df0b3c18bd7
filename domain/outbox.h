#pragma once
// The outbox (SPEC §5): messages a change has to send — an email, an SMS, a
// webhook call — stored in the same write batch as the change, under the
// partition of the user they belong to, and drained by the node's
// notification sender. This file holds the pure rules: the entry and its
// stored form, when a failed send is tried again (exponential backoff with
// jitter), when it becomes a dead letter, and the webhook signature.
// No CAF, no store, no network.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace roster {

enum class outbox_kind : uint8_t { email, sms, webhook };
std::string_view outbox_kind_name(outbox_kind k);
std::optional<outbox_kind> outbox_kind_from_name(std::string_view s);

enum class outbox_state : uint8_t { pending, dead };

/// One message to send. `id` is 16 bytes: the creation time in ms (8 bytes,
/// big-endian), the partition that holds it (2 bytes, big-endian) and 6
/// random bytes, so keys sort oldest first and an id names where its entry
/// lives; its text form (outbox_id_text) is the delivery id a receiver
/// de-duplicates on (X-Roster-Delivery-Id, the mail's Message-ID).
struct outbox_entry {
  std::string id;       // 16 bytes
  outbox_kind kind = outbox_kind::webhook;
  std::string user_id;  // uuid text; the user whose partition holds it
  std::string to;       // email address, E.164 number or webhook URL
  std::string subject;  // email only
  std::string text;     // email text part, SMS text, or the webhook's JSON body
  std::string html;     // email HTML part (may be empty)
  std::string purpose;  // what sent it: a message kind (email_code, ...) or an event type
  outbox_state state = outbox_state::pending;
  int64_t attempts = 0;
  millis created_at = 0;
  millis next_at = 0;   // when to try next (pending)
  std::string last_error;
};

/// A new id for an entry of `partition` created at `now`.
std::string new_outbox_id(millis now, uint16_t partition);
/// The partition an id names.
uint16_t outbox_partition(std::string_view id16);
/// The creation time an id names.
millis outbox_time(std::string_view id16);
/// 32 lowercase hex characters.
std::string outbox_id_text(std::string_view id16);
std::optional<std::string> outbox_id_from_text(std::string_view text);

std::string encode_outbox(const outbox_entry& e);
/// A URL without what may be a secret in it (user:password@, path, query):
/// "scheme://host[:port]/…".
std::string redact_url(std::string_view url);

/// What an operator sees of an entry (GET /v1/admin/outbox): id, kind,
/// user, recipient, purpose, state, attempts, times, last error — never the
/// body (it may hold a code or a link).
std::string outbox_admin_view(const outbox_entry& e);
std::optional<outbox_entry> decode_outbox(std::string_view bytes);

struct retry_policy {
  int64_t max_attempts = 12;
  millis initial = 2'000;
  millis max = 600'000;
};

/// What happens after a failed attempt (`e.attempts` already counts it):
/// the time of the next attempt — `now` + min(max, initial × 2^(attempts-1)),
/// scaled by a jitter in [0.5, 1.0] drawn from `jitter` (a uniform [0, 1)
/// value) — or nullopt once `attempts` reaches max_attempts: a dead letter.
std::optional<millis> next_attempt(const outbox_entry& e, millis now, const retry_policy& p, double jitter);

/// The X-Roster-Signature header of a webhook call: "t=<unix seconds>,v1=<hex
/// HMAC-SHA256(secret, "<t>.<body>")>". A receiver recomputes it and rejects
/// a stale t (replay).
std::string webhook_signature(std::string_view secret, int64_t unix_seconds, std::string_view body);

} // namespace roster
