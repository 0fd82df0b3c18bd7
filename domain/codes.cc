#include "domain/codes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "domain/json_text.h"

namespace roster {

namespace {
constexpr millis minute = 60'000;
constexpr millis hour = 60 * minute;
constexpr millis day = 24 * hour;
}  // namespace

std::string_view code_purpose_name(code_purpose p) {
  switch (p) {
    case code_purpose::login: return "login";
    case code_purpose::verify: return "verify";
    case code_purpose::recovery: return "recovery";
    case code_purpose::email_change: return "email_change";
    case code_purpose::magic_link: return "magic_link";
  }
  return "login";
}

std::string new_code() {
  // Rejection sampling: 2^32 is not a multiple of 10^6.
  constexpr uint32_t range = 1'000'000, limit = UINT32_MAX - UINT32_MAX % range;
  for (;;) {
    auto b = random_bytes(4);
    uint32_t v = 0;
    for (unsigned char c : b) v = (v << 8) | c;
    if (v >= limit) continue;
    auto s = std::to_string(v % range);
    return std::string(6 - s.size(), '0') + s;
  }
}

std::string link_key(std::string_view token) { return "link:" + hex_encode(sha256(token)); }

bool redirect_allowed(std::string_view url, const std::vector<std::string>& allowlist) {
  if (url.empty() || url.size() > 2048) return false;
  if (std::any_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return false;
  return std::any_of(allowlist.begin(), allowlist.end(),
                     [&](const std::string& prefix) { return !prefix.empty() && url.rfind(prefix, 0) == 0; });
}

std::string new_link_token() { return base64url_encode(random_bytes(32)); }

issue_result issue_code(const std::optional<code_record>& current, millis now, const code_policy& p, bool link) {
  code_record r;
  if (current) {
    r.sends = current->sends;
    r.failures = current->failures;
  }
  r.sends.erase(std::remove_if(r.sends.begin(), r.sends.end(), [&](millis t) { return t <= now - hour; }), r.sends.end());
  std::sort(r.sends.begin(), r.sends.end());
  auto in_last = [&](millis window) {
    return std::count_if(r.sends.begin(), r.sends.end(), [&](millis t) { return t > now - window; });
  };
  // The earliest time a send is allowed again, when a window is full.
  millis free_at = 0;
  if (p.per_minute > 0 && in_last(minute) >= p.per_minute)
    free_at = std::max(free_at, r.sends[r.sends.size() - static_cast<size_t>(p.per_minute)] + minute);
  if (p.per_hour > 0 && in_last(hour) >= p.per_hour)
    free_at = std::max(free_at, r.sends[r.sends.size() - static_cast<size_t>(p.per_hour)] + hour);
  if (free_at > now) return {std::nullopt, std::max<int64_t>(1, (free_at - now + 999) / 1000)};
  issued out;
  out.secret = link ? new_link_token() : new_code();
  r.hash = sha256(out.secret);
  r.expires_at = now + p.ttl;
  r.attempts_left = std::max<int64_t>(p.max_attempts, 1);
  r.sends.push_back(now);
  out.record = std::move(r);
  return {std::move(out), 0};
}

code_check check_code(code_record& r, std::string_view presented, millis now, const code_policy& p) {
  r.failures.erase(std::remove_if(r.failures.begin(), r.failures.end(), [&](millis t) { return t <= now - day; }),
                   r.failures.end());
  if (r.hash.empty() || r.attempts_left <= 0 || now >= r.expires_at ||
      static_cast<int64_t>(r.failures.size()) >= p.failures_per_day) {
    r.hash.clear();
    return code_check::none;
  }
  if (constant_time_equal(sha256(presented), r.hash)) {
    r.hash.clear();
    r.attempts_left = 0;
    return code_check::ok;
  }
  r.failures.push_back(now);
  if (--r.attempts_left <= 0) r.hash.clear();
  return code_check::wrong;
}

bool code_record_spent(const code_record& r, millis now) {
  bool live = !r.hash.empty() && r.attempts_left > 0 && now < r.expires_at;
  bool recent = std::any_of(r.sends.begin(), r.sends.end(), [&](millis t) { return t > now - hour; }) ||
                std::any_of(r.failures.begin(), r.failures.end(), [&](millis t) { return t > now - day; });
  return !live && !recent;
}

std::string encode_code_record(const code_record& r) {
  json_text w(160);
  w.open_object();
  w.key("attempts_left").number(r.attempts_left);
  w.key("detail").string(r.detail);
  w.key("expires_at").number(r.expires_at);
  w.key("failures").open_array();
  for (auto t : r.failures) w.number(t);
  w.close_array();
  w.key("hash").string(hex_encode(r.hash));
  w.key("sends").open_array();
  for (auto t : r.sends) w.number(t);
  w.close_array();
  w.key("user_id").string(r.user_id);
  w.close_object();
  return w.take();
}

std::optional<code_record> decode_code_record(std::string_view bytes) {
  auto j = nlohmann::json::parse(bytes, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  code_record r;
  try {
    r.attempts_left = j.value("attempts_left", int64_t{0});
    r.expires_at = j.value("expires_at", millis{0});
    r.detail = j.value("detail", std::string());
    r.user_id = j.value("user_id", std::string());
    auto hex = j.value("hash", std::string());
    if (hex.size() % 2) return std::nullopt;
    for (size_t i = 0; i < hex.size(); i += 2) r.hash.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    for (auto& t : j.value("sends", nlohmann::json::array())) r.sends.push_back(t.get<millis>());
    for (auto& t : j.value("failures", nlohmann::json::array())) r.failures.push_back(t.get<millis>());
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return r;
}

} // namespace roster
