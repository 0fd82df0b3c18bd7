#include "domain/moderation.h"

#include <algorithm>
#include <functional>
#include <type_traits>
#include <vector>

#include "base/crypto.h"
#include "domain/json_text.h"
#include "domain/validation.h"

namespace roster::moderation {

namespace {

bool text_ok(std::string_view s) { return valid_utf8(s) && !has_control_chars(s); }

bool category_ok(std::string_view s) {
  if (s.empty() || s.size() > max_category) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; });
}

/// Reads an optional reason field into `out`, or records its problem.
void read_reason(const json& body, error& e, std::string& out, bool required) {
  auto it = body.find("reason");
  if (it == body.end() || it->is_null()) {
    if (required) e.fields["reason"] = "is required: a string";
    return;
  }
  if (!it->is_string()) {
    e.fields["reason"] = "must be a string";
    return;
  }
  out = it->get<std::string>();
  if (out.size() > max_reason) e.fields["reason"] = "must be at most " + std::to_string(max_reason) + " bytes";
  else if (!text_ok(out)) e.fields["reason"] = "must be UTF-8 text without control characters";
  else if (required && out.empty()) e.fields["reason"] = "must not be empty";
}

/// A stored field of the expected JSON type, else `fallback` (a number
/// stored as a float is not read as an integer: that conversion is UB when
/// it does not fit).
template <class T>
T field(const json& j, const char* k, T fallback) {
  auto it = j.find(k);
  if (it == j.end()) return fallback;
  if constexpr (std::is_integral_v<T>) {
    return it->is_number_integer() ? it->template get<T>() : fallback;
  } else {
    return it->is_string() ? it->template get<T>() : fallback;
  }
}

/// A stored {name: integer} object; other values are skipped.
template <class V>
std::map<std::string, V> int_map(const json& j, const char* k) {
  std::map<std::string, V> out;
  auto it = j.find(k);
  if (it == j.end() || !it->is_object()) return out;
  for (auto& [name, v] : it->items())
    if (v.is_number_integer()) out.emplace(name, v.template get<V>());
  return out;
}

std::optional<json> parse_object(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

} // namespace

result<report_input> parse_report(const json& body) {
  if (!body.is_object()) return make_error(errc::invalid_request, "body must be a JSON object");
  error e = make_error(errc::invalid_request, "invalid report");
  report_input in;
  for (auto& [k, v] : body.items()) {
    (void)v;
    if (k != "user_id" && k != "category" && k != "reason" && k != "block") e.fields[k] = "unknown field";
  }
  auto uid = body.find("user_id");
  if (uid == body.end() || !uid->is_string()) e.fields["user_id"] = "is required: a user id";
  else if (!uuid_from_string(uid->get<std::string>())) e.fields["user_id"] = "must be a user id (lowercase UUID)";
  else in.user_id = uid->get<std::string>();
  auto cat = body.find("category");
  if (cat == body.end() || !cat->is_string()) e.fields["category"] = "is required: a string";
  else if (!category_ok(cat->get<std::string>()))
    e.fields["category"] = "must be 1 to " + std::to_string(max_category) + " of a-z, 0-9 and _";
  else in.category = cat->get<std::string>();
  read_reason(body, e, in.reason, false);
  if (auto b = body.find("block"); b != body.end() && !b->is_null()) {
    if (!b->is_boolean()) e.fields["block"] = "must be true or false";
    else in.block = b->get<bool>();
  }
  if (!e.fields.empty()) return e;
  return in;
}

result<resolve_input> parse_resolve(const json& body) {
  if (!body.is_object()) return make_error(errc::invalid_request, "body must be a JSON object");
  error e = make_error(errc::invalid_request, "invalid decision");
  resolve_input in;
  for (auto& [k, v] : body.items()) {
    (void)v;
    if (k != "action" && k != "reason" && k != "duration") e.fields[k] = "unknown field";
  }
  auto action = body.find("action");
  if (action == body.end() || !action->is_string()) e.fields["action"] = "is required: ban, warn or clean";
  else if (auto a = action->get<std::string>(); a != "ban" && a != "warn" && a != "clean")
    e.fields["action"] = "must be ban, warn or clean";
  else in.action = a;
  // A ban and a warning are shown to the user: they need a reason.
  read_reason(body, e, in.reason, in.action == "ban" || in.action == "warn");
  if (auto d = body.find("duration"); d != body.end() && !d->is_null()) {
    constexpr millis most = 3650LL * 86'400'000;
    std::optional<millis> ms;
    if (d->is_number_integer() && d->get<int64_t>() > 0 && d->get<int64_t>() <= most / 1000) ms = d->get<int64_t>() * 1000;
    else if (d->is_string()) ms = parse_duration(d->get<std::string>());
    if (!ms || *ms <= 0 || *ms > most)
      e.fields["duration"] = "must be seconds (1 to 10 years) or a duration such as \"24h\" or \"7d\"";
    else if (in.action != "ban" && !in.action.empty()) e.fields["duration"] = "applies to a ban only";
    else in.duration = *ms;
  }
  if (!e.fields.empty()) return e;
  return in;
}

std::string encode_report(const report& r) {
  return json{{"by", r.reporter_id}, {"by_name", r.reporter_username}, {"c", r.category}, {"r", r.reason}, {"at", r.at}}
      .dump();
}

std::optional<report> decode_report(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return std::nullopt;
  report r;
  r.reporter_id = field<std::string>(*j, "by", "");
  r.reporter_username = field<std::string>(*j, "by_name", "");
  r.category = field<std::string>(*j, "c", "");
  r.reason = field<std::string>(*j, "r", "");
  r.at = field<millis>(*j, "at", 0);
  if (r.reporter_id.empty()) return std::nullopt;
  return r;
}

std::string encode_report_made(const report_made& r) {
  return json{{"name", r.username}, {"c", r.category}, {"at", r.at}}.dump();
}

std::optional<report_made> decode_report_made(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return std::nullopt;
  return report_made{field<std::string>(*j, "name", ""), field<std::string>(*j, "c", ""), field<millis>(*j, "at", 0)};
}

std::string encode_entry(const entry& e) {
  json j = {{"id", e.user_id},          {"name", e.username},       {"v", e.version},
            {"pending", e.pending},     {"reporters", e.reporters}, {"categories", e.categories},
            {"first_at", e.first_at},   {"latest_at", e.latest_at}, {"resolved", e.resolved}};
  if (e.last)
    j["last"] = {{"action", e.last->action}, {"reason", e.last->reason}, {"by", e.last->by},
                 {"at", e.last->at},         {"reports", e.last->reports}};
  return j.dump();
}

std::optional<entry> decode_entry(std::string_view text) {
  auto j = parse_object(text);
  if (!j) return std::nullopt;
  entry e;
  e.user_id = field<std::string>(*j, "id", "");
  if (e.user_id.empty()) return std::nullopt;
  e.username = field<std::string>(*j, "name", "");
  e.version = field<uint64_t>(*j, "v", 0);
  e.pending = field<uint64_t>(*j, "pending", 0);
  e.reporters = int_map<millis>(*j, "reporters");
  e.categories = int_map<uint64_t>(*j, "categories");
  e.first_at = field<millis>(*j, "first_at", 0);
  e.latest_at = field<millis>(*j, "latest_at", 0);
  e.resolved = field<uint64_t>(*j, "resolved", 0);
  if (auto l = j->find("last"); l != j->end() && l->is_object())
    e.last = decision{field<std::string>(*l, "action", ""), field<std::string>(*l, "reason", ""),
                      field<std::string>(*l, "by", ""), field<millis>(*l, "at", 0), field<uint64_t>(*l, "reports", 0)};
  return e;
}

void add_report(entry& e, const report& r) {
  e.version += 1;
  e.pending += 1;
  auto& latest = e.reporters[r.reporter_id];
  latest = std::max(latest, r.at);
  bool known = e.categories.count(r.category) > 0;
  e.categories[known || e.categories.size() < max_categories ? r.category : "other"] += 1;
  if (e.first_at == 0 || r.at < e.first_at) e.first_at = r.at;
  e.latest_at = std::max(e.latest_at, r.at);
}

void resolve(entry& e, decision d) {
  e.version += 1;
  d.reports = e.pending;
  e.resolved += e.pending;
  e.pending = 0;
  e.reporters.clear();
  e.categories.clear();
  e.first_at = e.latest_at = 0;
  e.last = std::move(d);
}

std::string_view status_of(const entry& e) { return e.pending > 0 ? "pending" : "resolved"; }

uint64_t recent_reporters(const entry& e, millis now, const flag_rule& rule) {
  uint64_t n = 0;
  for (auto& [who, at] : e.reporters) n += at >= now - rule.window ? 1 : 0;
  return n;
}

millis nth_reporter_at(const entry& e, const flag_rule& rule) {
  auto n = rule.distinct_reporters;
  if (n == 0 || e.reporters.size() < n) return never_flagged;
  std::vector<millis> times;
  times.reserve(e.reporters.size());
  for (auto& [who, at] : e.reporters) times.push_back(at);
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(n - 1), times.end(), std::greater<>());
  return times[n - 1];
}

bool flagged(const entry& e, millis now, const flag_rule& rule) {
  return flagged_by(nth_reporter_at(e, rule), e.pending, now, rule);
}

rank rank_of(const entry& e, bool flagged) {
  millis at = e.pending > 0 || !e.last ? e.latest_at : e.last->at;
  return rank{flagged, e.pending, at, e.user_id};
}

bool before(const rank& a, const rank& b) {
  if (a.flagged != b.flagged) return a.flagged;
  if (a.pending != b.pending) return a.pending > b.pending;
  if (a.latest_at != b.latest_at) return a.latest_at > b.latest_at;
  return a.user_id < b.user_id;
}

std::string sort_key(const rank& r) {
  // Larger counts and later times first: their complements, in fixed-width hex.
  static constexpr char hex[] = "0123456789abcdef";
  std::string k;
  k.reserve(sort_key_size);
  k.push_back(r.flagged ? '0' : '1');
  for (uint64_t v : {~r.pending, ~static_cast<uint64_t>(r.latest_at)})
    for (int shift = 60; shift >= 0; shift -= 4) k.push_back(hex[(v >> shift) & 0xf]);
  k.append(r.user_id.substr(0, 36));
  k.resize(sort_key_size, ' ');
  return k;
}

std::string queue_item(const entry& e, millis now, const flag_rule& rule) {
  json_text t(384);
  auto time_or_null = [&](millis at) -> json_text& { return at ? t.string(format_time(at)) : t.null(); };
  t.open_object();
  t.key("categories").open_object();
  for (auto& [c, n] : e.categories) t.key(c).number(static_cast<int64_t>(n));
  t.close_object();
  t.key("distinct_reporters").number(static_cast<int64_t>(e.reporters.size()));
  t.key("first_at");
  time_or_null(e.first_at);
  t.key("flagged").boolean(flagged(e, now, rule));
  t.key("last_decision");
  if (e.last) {
    t.open_object().key("action").string(e.last->action).key("at").string(format_time(e.last->at));
    t.key("by").string(e.last->by).key("reason").string(e.last->reason);
    t.key("reports").number(static_cast<int64_t>(e.last->reports)).close_object();
  } else {
    t.null();
  }
  t.key("latest_at");
  time_or_null(e.latest_at);
  t.key("recent_reporters").number(static_cast<int64_t>(recent_reporters(e, now, rule)));
  t.key("resolved").number(static_cast<int64_t>(e.resolved));
  t.key("status").string(status_of(e));
  t.key("total").number(static_cast<int64_t>(e.pending));
  t.key("user_id").string(e.user_id);
  t.key("username").nullable(e.username);
  return t.close_object().take();
}

} // namespace roster::moderation
