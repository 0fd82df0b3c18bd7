#include "domain/metadata.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "domain/user.h"

namespace roster {

std::string_view visibility_name(visibility v) {
  switch (v) {
    case visibility::public_: return "public";
    case visibility::friends: return "friends";
    case visibility::private_: return "private";
    case visibility::internal: return "internal";
  }
  return "private";
}

std::optional<visibility> visibility_from_name(std::string_view name) {
  for (auto v : {visibility::public_, visibility::friends, visibility::private_, visibility::internal})
    if (visibility_name(v) == name) return v;
  return std::nullopt;
}

bool may_see(visibility v, relation r) {
  if (r == relation::admin) return true;
  switch (v) {
    case visibility::public_: return true;
    case visibility::friends: return r == relation::self || r == relation::friend_;
    case visibility::private_: return r == relation::self;
    case visibility::internal: return false;
  }
  return false;
}

std::string check_metadata_key(std::string_view key) {
  const char* problem = "keys must be 1 to 64 characters of [a-z0-9_.-]";
  if (key.empty() || key.size() > 64) return problem;
  for (char c : key)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return problem;
  return {};
}

std::string check_metadata_value(const json& value, const limits& l) {
  if (value.dump().size() > l.metadata_value_max)
    return "values must be at most " + std::to_string(l.metadata_value_max) + " bytes of JSON";
  return {};
}

namespace {
// The stored shape of a hidden key: {"value": v, "visibility": "friends"|"private"}.
std::optional<metadata_entry> hidden_entry(const json& stored) {
  if (!stored.is_object() || !stored.contains("value")) return std::nullopt;
  auto vis = visibility_from_name(stored.value("visibility", std::string()));
  // An unreadable visibility hides the key rather than showing it.
  return metadata_entry{stored["value"], vis && *vis != visibility::internal ? *vis : visibility::private_};
}

/// Every user key with its entry, sorted by key.
std::map<std::string, metadata_entry> user_entries(const user_record& u) {
  std::map<std::string, metadata_entry> all;
  if (u.metadata.is_object())
    for (auto& [k, v] : u.metadata.items()) all[k] = metadata_entry{v, visibility::public_};
  if (u.hidden_metadata.is_object())
    for (auto& [k, v] : u.hidden_metadata.items())
      if (auto e = hidden_entry(v)) all[k] = std::move(*e);
  return all;
}

error too_many_keys(const limits& l) {
  error e = make_error(errc::invalid_request, "too many metadata keys");
  e.fields["key"] = "at most " + std::to_string(l.metadata_keys_max) + " keys per user";
  return e;
}

void ensure_object(json& j) {
  if (!j.is_object()) j = json::object();
}
} // namespace

std::optional<metadata_entry> user_metadata_get(const user_record& u, const std::string& key) {
  if (u.metadata.is_object())
    if (auto it = u.metadata.find(key); it != u.metadata.end()) return metadata_entry{*it, visibility::public_};
  if (u.hidden_metadata.is_object())
    if (auto it = u.hidden_metadata.find(key); it != u.hidden_metadata.end()) return hidden_entry(*it);
  return std::nullopt;
}

size_t user_metadata_count(const user_record& u) {
  return (u.metadata.is_object() ? u.metadata.size() : 0) +
         (u.hidden_metadata.is_object() ? u.hidden_metadata.size() : 0);
}

status user_metadata_put(user_record& u, const std::string& key, json value, visibility vis, const limits& l) {
  assert(vis != visibility::internal);
  bool is_new = !user_metadata_get(u, key);
  if (is_new && user_metadata_count(u) >= l.metadata_keys_max) return too_many_keys(l);
  ensure_object(u.metadata);
  ensure_object(u.hidden_metadata);
  // A key lives in exactly one of the two fields: moving it is a remove + add.
  u.metadata.erase(key);
  u.hidden_metadata.erase(key);
  if (vis == visibility::public_) u.metadata[key] = std::move(value);
  else u.hidden_metadata[key] = json{{"value", std::move(value)}, {"visibility", visibility_name(vis)}};
  return {};
}

bool user_metadata_remove(user_record& u, const std::string& key) {
  size_t n = 0;
  if (u.metadata.is_object()) n += u.metadata.erase(key);
  if (u.hidden_metadata.is_object()) n += u.hidden_metadata.erase(key);
  return n > 0;
}

status internal_metadata_put(user_record& u, const std::string& key, json value, const limits& l) {
  ensure_object(u.internal_metadata);
  if (!u.internal_metadata.contains(key) && u.internal_metadata.size() >= l.metadata_keys_max) return too_many_keys(l);
  u.internal_metadata[key] = std::move(value);
  return {};
}

bool internal_metadata_remove(user_record& u, const std::string& key) {
  return u.internal_metadata.is_object() && u.internal_metadata.erase(key) > 0;
}

json visible_metadata(const user_record& u, relation r, const std::vector<std::string>* keys) {
  // The common case (no hidden keys, every key asked for): the public object as is.
  if (!keys && u.hidden_metadata.empty() && u.metadata.is_object()) return u.metadata;
  json out = json::object();
  for (auto& [k, e] : user_entries(u)) {
    if (!may_see(e.vis, r)) continue;
    if (keys && std::find(keys->begin(), keys->end(), k) == keys->end()) continue;
    out[k] = e.value;
  }
  return out;
}

json metadata_entry_json(const std::string& key, const metadata_entry& e) {
  return {{"key", key}, {"value", e.value}, {"visibility", visibility_name(e.vis)}};
}

json user_metadata_items(const user_record& u) {
  json items = json::array();
  for (auto& [k, e] : user_entries(u)) items.push_back(metadata_entry_json(k, e));
  return items;
}

} // namespace roster
