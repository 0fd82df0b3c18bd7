#include "domain/outbox.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "domain/json_text.h"

namespace roster {

using json = nlohmann::json;

std::string_view outbox_kind_name(outbox_kind k) {
  switch (k) {
    case outbox_kind::email: return "email";
    case outbox_kind::sms: return "sms";
    case outbox_kind::webhook: return "webhook";
  }
  return "webhook";
}

std::optional<outbox_kind> outbox_kind_from_name(std::string_view s) {
  if (s == "email") return outbox_kind::email;
  if (s == "sms") return outbox_kind::sms;
  if (s == "webhook") return outbox_kind::webhook;
  return std::nullopt;
}

std::string new_outbox_id(millis now, uint16_t partition) {
  std::string id;
  auto t = static_cast<uint64_t>(std::max<millis>(now, 0));
  for (int i = 7; i >= 0; --i) id.push_back(static_cast<char>((t >> (8 * i)) & 0xff));
  id.push_back(static_cast<char>(partition >> 8));
  id.push_back(static_cast<char>(partition & 0xff));
  // An id must be unique, not secret (receivers see it): a per-thread
  // generator seeded from the CSPRNG, not RAND_bytes per id (its lock and
  // DRBG cost 4% of a PATCH that writes an entry).
  thread_local std::mt19937_64 gen(random_u64());
  auto r = gen();
  for (int i = 5; i >= 0; --i) id.push_back(static_cast<char>((r >> (8 * i)) & 0xff));
  return id;
}

uint16_t outbox_partition(std::string_view id16) {
  if (id16.size() < 10) return 0;
  return static_cast<uint16_t>((static_cast<unsigned char>(id16[8]) << 8) | static_cast<unsigned char>(id16[9]));
}

millis outbox_time(std::string_view id16) {
  uint64_t t = 0;
  for (size_t i = 0; i < 8 && i < id16.size(); ++i) t = (t << 8) | static_cast<unsigned char>(id16[i]);
  return static_cast<millis>(t);
}

std::string outbox_id_text(std::string_view id16) { return hex_encode(id16); }

std::optional<std::string> outbox_id_from_text(std::string_view text) {
  if (text.size() != 32) return std::nullopt;
  std::string out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

namespace {

// The stored form (docs/storage.md): binary, because an entry rides in the
// write batch of the change that causes it, on the hot path of every write
// with webhooks on — a JSON form escaped the event's JSON body a second time
// and doubled the bytes written. Format 1:
//   0x01 kind:u8 state:u8 attempts:u64be created_at:u64be next_at:u64be id:16
//   then user_id, to, subject, text, html, purpose, last_error, each u32be length + bytes.
constexpr char format_binary = 0x01;

void put_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_text(std::string& out, std::string_view s) {
  auto n = static_cast<uint32_t>(s.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out.append(s);
}

struct reader {
  std::string_view in;
  bool ok = true;
  uint64_t number(size_t bytes) {
    if (in.size() < bytes) return ok = false, 0;
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(bytes);
    return v;
  }
  std::string text(size_t n) {
    if (!ok || in.size() < n) return ok = false, std::string();
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  std::string text() { return text(number(4)); }
};

// Entries written before format 1 (a JSON object); read, never written.
std::optional<outbox_entry> decode_outbox_json(std::string_view bytes) {
  auto j = json::parse(bytes, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  outbox_entry e;
  auto text = [&](const char* k) -> std::optional<std::string> {
    auto it = j.find(k);
    if (it == j.end()) return std::string();
    if (!it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto number = [&](const char* k) -> std::optional<int64_t> {
    auto it = j.find(k);
    if (it == j.end()) return int64_t{0};
    if (!it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  auto id = text("id");
  auto kind = text("kind");
  auto state = text("state");
  if (!id || !kind || !state) return std::nullopt;
  auto raw = outbox_id_from_text(*id);
  auto k = outbox_kind_from_name(*kind);
  if (!raw || !k || (*state != "pending" && *state != "dead")) return std::nullopt;
  e.id = *raw;
  e.kind = *k;
  e.state = *state == "dead" ? outbox_state::dead : outbox_state::pending;
  for (auto [field, out] : {std::pair{"user_id", &e.user_id}, std::pair{"to", &e.to}, std::pair{"subject", &e.subject},
                            std::pair{"text", &e.text}, std::pair{"html", &e.html}, std::pair{"purpose", &e.purpose},
                            std::pair{"last_error", &e.last_error}}) {
    auto v = text(field);
    if (!v) return std::nullopt;
    *out = std::move(*v);
  }
  for (auto [field, out] : {std::pair{"attempts", &e.attempts}, std::pair{"created_at", &e.created_at},
                            std::pair{"next_at", &e.next_at}}) {
    auto v = number(field);
    if (!v) return std::nullopt;
    *out = *v;
  }
  return e;
}

} // namespace

std::string encode_outbox(const outbox_entry& e) {
  std::string out;
  out.reserve(64 + e.id.size() + e.user_id.size() + e.to.size() + e.subject.size() + e.text.size() + e.html.size() +
              e.purpose.size() + e.last_error.size());
  out.push_back(format_binary);
  out.push_back(static_cast<char>(e.kind));
  out.push_back(static_cast<char>(e.state));
  put_u64(out, static_cast<uint64_t>(e.attempts));
  put_u64(out, static_cast<uint64_t>(e.created_at));
  put_u64(out, static_cast<uint64_t>(e.next_at));
  std::string id = e.id;
  id.resize(16, '\0');
  out += id;
  for (auto* s : {&e.user_id, &e.to, &e.subject, &e.text, &e.html, &e.purpose, &e.last_error}) put_text(out, *s);
  return out;
}

std::optional<outbox_entry> decode_outbox(std::string_view bytes) {
  if (!bytes.empty() && bytes.front() == '{') return decode_outbox_json(bytes);
  reader r{bytes};
  if (r.number(1) != static_cast<uint64_t>(format_binary)) return std::nullopt;
  auto kind = r.number(1), state = r.number(1);
  outbox_entry e;
  e.attempts = static_cast<int64_t>(r.number(8));
  e.created_at = static_cast<millis>(r.number(8));
  e.next_at = static_cast<millis>(r.number(8));
  e.id = r.text(16);
  for (auto* s : {&e.user_id, &e.to, &e.subject, &e.text, &e.html, &e.purpose, &e.last_error}) *s = r.text();
  if (!r.ok || !r.in.empty() || kind > static_cast<uint64_t>(outbox_kind::webhook) ||
      state > static_cast<uint64_t>(outbox_state::dead))
    return std::nullopt;
  e.kind = static_cast<outbox_kind>(kind);
  e.state = static_cast<outbox_state>(state);
  return e;
}

std::string redact_url(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "…";
  auto rest = url.substr(scheme + 3);
  auto end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string out(url.substr(0, scheme + 3));
  out.append(authority);
  if (end != std::string_view::npos) out += "/…";
  return out;
}

std::string outbox_admin_view(const outbox_entry& e) {
  json_text w(256);
  w.open_object();
  w.key("attempts").number(e.attempts);
  w.key("created_at").string(format_time(e.created_at));
  w.key("id").string(outbox_id_text(e.id));
  w.key("kind").string(outbox_kind_name(e.kind));
  w.key("last_error").string(e.last_error);
  w.key("next_attempt_at");
  if (e.state == outbox_state::pending) w.string(format_time(e.next_at));
  else w.null();
  w.key("purpose").string(e.purpose);
  w.key("state").string(e.state == outbox_state::dead ? "dead" : "pending");
  w.key("to").string(e.kind == outbox_kind::webhook ? redact_url(e.to) : e.to);
  w.key("user_id").string(e.user_id);
  w.close_object();
  return w.take();
}

std::optional<millis> next_attempt(const outbox_entry& e, millis now, const retry_policy& p, double jitter) {
  if (e.attempts >= p.max_attempts) return std::nullopt;
  // initial × 2^(attempts-1), without overflowing for large counts.
  double delay = static_cast<double>(std::max<millis>(p.initial, 1));
  for (int64_t i = 1; i < e.attempts && delay < static_cast<double>(p.max); ++i) delay *= 2;
  delay = std::min(delay, static_cast<double>(p.max));
  jitter = std::clamp(jitter, 0.0, 1.0);
  return now + static_cast<millis>(std::llround(delay * (0.5 + 0.5 * jitter)));
}

std::string webhook_signature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  auto t = std::to_string(unix_seconds);
  std::string signed_text = t;
  signed_text += '.';
  signed_text.append(body);
  return "t=" + t + ",v1=" + hex_encode(hmac_sha256(secret, signed_text));
}

} // namespace roster
