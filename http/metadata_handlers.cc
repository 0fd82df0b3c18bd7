// Handlers for per-key metadata with visibility (SPEC §4): the caller's own
// keys, other users' keys as the caller may see them, and the admins'
// internal keys. The visibility rule itself is domain/metadata.h may_see,
// applied in the owner's user actor (read_metadata).
#include "base/crypto.h"
#include "domain/metadata.h"
#include "domain/validation.h"
#include "http/errors.h"
#include "http/routes.h"

namespace roster::http::handlers {

namespace {

using nlohmann::json;

/// The {key} path parameter, or nullopt after a 400 naming it.
std::optional<std::string> key_param(context& c) {
  auto key = c.params["key"];
  if (auto p = check_metadata_key(key); !p.empty()) {
    error e = make_error(errc::invalid_request, "invalid metadata key");
    e.fields["key"] = p;
    write_error(c.res, e);
    return std::nullopt;
  }
  return key;
}

/// A comma-separated query list: empty items dropped.
std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

/// The body of a PUT: {value, visibility?}; `admin_put` allows only
/// visibility "internal" (the default there). nullopt after writing a 400.
std::optional<put_metadata> put_body(context& c, const std::string& key, bool admin_put) {
  auto body = c.body();
  if (!body) {
    write_error(c.res, body.err());
    return std::nullopt;
  }
  error e = make_error(errc::invalid_request, "invalid fields");
  for (auto& item : body->items())
    if (item.key() != "value" && item.key() != "visibility") e.fields[item.key()] = "unknown field";
  put_metadata op{key, {}, admin_put ? visibility::internal : visibility::public_, admin_put};
  auto value = body->find("value");
  if (value == body->end() || value->is_null()) e.fields["value"] = "required (DELETE removes a key)";
  else if (auto p = check_metadata_value(*value); !p.empty()) e.fields["value"] = p;
  else op.value = value->dump();
  if (auto v = body->find("visibility"); v != body->end()) {
    auto vis = v->is_string() ? visibility_from_name(v->get<std::string>()) : std::nullopt;
    if (!vis) e.fields["visibility"] = admin_put ? "must be internal" : "must be public, friends or private";
    else if (admin_put && *vis != visibility::internal) e.fields["visibility"] = "must be internal";
    else if (!admin_put && *vis == visibility::internal)
      e.fields["visibility"] = "internal keys are set by admins only";
    else op.vis = *vis;
  }
  if (!e.fields.empty()) {
    write_error(c.res, e);
    return std::nullopt;
  }
  return op;
}

/// The caller of a read that anyone may make: empty (anonymous) without an
/// Authorization header; else the token's user once its own actor has
/// authenticated it (relation_of trusts this id). nullopt after a 401.
std::optional<std::string> optional_caller(context& c) {
  if (!c.has_authorization()) return std::string();
  auto who = c.auth();
  if (!who) {
    write_error(c.res, who.err());
    return std::nullopt;
  }
  auto me = c.svc.route.call_user(who->uid16, authenticate{}, who->token_hash, c.client);
  if (!me) {
    write_error(c.res, me.err());
    return std::nullopt;
  }
  return who->uid16;
}

} // namespace

void put_own_metadata(context& c) {
  auto who = c.auth();
  if (!who) return write_error(c.res, who.err());
  auto key = key_param(c);
  if (!key) return;
  auto op = put_body(c, *key, false);
  if (!op) return;
  write_view(c.res, c.svc.route.call_user(who->uid16, std::move(*op), who->token_hash, c.client));
}

void get_own_metadata_key(context& c) {
  auto who = c.auth();
  if (!who) return write_error(c.res, who.err());
  auto key = key_param(c);
  if (!key) return;
  write_view(c.res, c.svc.route.call_user(who->uid16, get_own_metadata{*key}, who->token_hash, c.client));
}

void list_own_metadata(context& c) {
  auto who = c.auth();
  if (!who) return write_error(c.res, who.err());
  write_view(c.res, c.svc.route.call_user(who->uid16, get_own_metadata{}, who->token_hash, c.client));
}

void delete_own_metadata(context& c) {
  auto who = c.auth();
  if (!who) return write_error(c.res, who.err());
  auto key = key_param(c);
  if (!key) return;
  auto r = c.svc.route.call_user(who->uid16, delete_metadata{*key, false}, who->token_hash, c.client);
  write_result(c.res, r, 204, [](auto&) { return std::string(); });
}

void get_user_metadata(context& c) {
  auto caller = optional_caller(c);
  if (!caller) return;
  auto uid16 = c.uuid_param("id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  write_view(c.res, c.svc.route.call_user(*uid16, read_metadata{*caller, {}}, {}, c.client));
}

void get_metadata(context& c) {
  auto caller = optional_caller(c);
  if (!caller) return;
  error e = make_error(errc::invalid_request, "invalid query");
  auto ids = split_list(c.query("user_ids").value_or(""));
  if (ids.empty() || ids.size() > 100) e.fields["user_ids"] = "must list 1 to 100 user ids";
  auto keys = split_list(c.query("keys").value_or(""));
  if (keys.size() > limits{}.metadata_keys_max)
    e.fields["keys"] = "at most " + std::to_string(limits{}.metadata_keys_max) + " keys";
  for (auto& k : keys)
    if (auto p = check_metadata_key(k); !p.empty()) e.fields["keys"] = p;
  if (!e.fields.empty()) return write_error(c.res, e);
  json items = json::array();
  for (auto& id : ids) {
    auto uid16 = uuid_from_string(id);
    if (!uid16) continue;  // unknown users are omitted, not errors
    auto r = c.svc.route.call_user(*uid16, read_metadata{*caller, keys}, {}, c.client);
    if (r) items.push_back(json::parse(r->json));
    else if (r.err().code != errc::not_found) return write_error(c.res, r.err());
  }
  write_json(c.res, 200, json{{"items", items}, {"next_cursor", nullptr}}.dump());
}

void admin_put_metadata(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = c.uuid_param("id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  auto key = key_param(c);
  if (!key) return;
  auto op = put_body(c, *key, true);
  if (!op) return;
  write_view(c.res, c.svc.route.call_user(*uid16, std::move(*op), {}, c.client));
}

void admin_delete_metadata(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = c.uuid_param("id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  auto key = key_param(c);
  if (!key) return;
  auto r = c.svc.route.call_user(*uid16, delete_metadata{*key, true}, {}, c.client);
  write_result(c.res, r, 204, [](auto&) { return std::string(); });
}

} // namespace roster::http::handlers
