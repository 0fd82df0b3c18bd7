// Admin (X-Admin-Key) and operator (/debug) handlers. Cross-partition reads
// are scatter-gather through the router, merged, sorted and paginated here.
#include <algorithm>

#include "base/crypto.h"
#include "domain/notifications.h"
#include "domain/outbox.h"
#include "domain/validation.h"
#include "http/errors.h"
#include "http/routes.h"

namespace roster::http::handlers {

namespace {

using nlohmann::json;

std::optional<std::string> target(context& c) {
  auto uid16 = c.uuid_param("id");
  if (!uid16) write_error(c.res, errc::not_found, "user not found");
  return uid16;
}

/// An integer query parameter, or nullopt after writing its error.
std::optional<int> int_query(context& c, const char* name, int fallback, int lo, int hi) {
  auto r = c.int_query(name, fallback, lo, hi);
  if (r) return *r;
  write_error(c.res, r.err());
  return std::nullopt;
}

/// Cross-partition results say whether every node answered: `partial` is
/// true (and `unreachable_nodes` names them) when some partitions are missing.
void mark_partial(json& out, const std::vector<std::string>& missing) {
  out["partial"] = !missing.empty();
  if (!missing.empty()) out["unreachable_nodes"] = missing;
}

/// Runs an admin operation on the user named by the path and writes its view.
template <class Op>
void admin_user_op(context& c, Op op) {
  if (!admin_only(c)) return;
  auto uid16 = target(c);
  if (!uid16) return;
  write_view(c.res, c.svc.route.call_user(*uid16, std::move(op), {}, c.client));
}

} // namespace

void admin_search(context& c) {
  if (!admin_only(c)) return;
  auto page = int_query(c, "page", 1, 1, 1'000'000);
  if (!page) return;
  auto page_size = int_query(c, "page_size", 50, 1, 200);
  if (!page_size) return;
  auto q = c.query("q").value_or("");
  if (q.size() > 254 || !valid_utf8(q) || has_control_chars(q)) {
    error e = make_error(errc::invalid_request, "invalid query");
    e.fields["q"] = q.size() > 254 ? "must be at most 254 bytes" : "must be UTF-8 text without control characters";
    write_error(c.res, e);
    return;
  }
  std::vector<std::string> missing;
  std::vector<json> users;
  for (auto& part : c.svc.route.scatter(search_users{q}, &missing))
    for (auto& r : part.items) users.push_back(json::parse(r));
  // Newest first; ties by id so pages are stable.
  std::sort(users.begin(), users.end(), [](const json& a, const json& b) {
    auto ca = a.value("created_at", std::string()), cb = b.value("created_at", std::string());
    return ca != cb ? ca > cb : a.value("id", std::string()) < b.value("id", std::string());
  });
  json items = json::array();
  size_t start = static_cast<size_t>(*page - 1) * static_cast<size_t>(*page_size);
  for (size_t i = start; i < users.size() && i < start + static_cast<size_t>(*page_size); ++i) items.push_back(users[i]);
  json out = {{"items", items}, {"page", *page}, {"page_size", *page_size}, {"total", users.size()}};
  mark_partial(out, missing);
  write_json(c.res, 200, out.dump());
}

void admin_stats(context& c) {
  if (!admin_only(c)) return;
  auto days = int_query(c, "days", 7, 1, 3650);
  if (!days) return;
  auto now = now_ms();
  millis since = now - static_cast<millis>(*days) * 86'400'000;
  user_counts total;
  std::vector<std::string> missing;
  for (auto& part : c.svc.route.scatter(count_users{since, since}, &missing)) total += part.counts;
  // SPEC's keys: the windowed counts keep their names whatever `days` is.
  json out = {{"users", total.users},
              {"online", total.online},
              {"registered_last_7d", total.registered},
              {"active_last_7d", total.active},
              {"with_password", total.with_password},
              {"unactivated", total.unactivated},
              {"by_provider", total.by_provider}};
  mark_partial(out, missing);
  write_json(c.res, 200, out.dump());
}

// POST /v1/admin/notifications {user_ids (≤ 1000), title, body?, data?}: one
// notification per user, each stored in its user's partition and pushed to
// the user's open streams. Unknown ids are listed, not an error.
void admin_notifications(context& c) {
  if (!admin_only(c)) return;
  auto body = c.body();
  if (!body) return write_error(c.res, body.err());
  auto input = parse_notification_input(*body);
  error e = input ? make_error(errc::invalid_request, "invalid notification") : input.err();
  std::vector<std::string> ids;
  auto users = body->find("user_ids");
  if (users == body->end() || !users->is_array() || users->empty() || users->size() > 1000)
    e.fields["user_ids"] = "must be an array of 1 to 1000 user ids";
  else
    for (auto& u : *users)
      if (!u.is_string() || !uuid_from_string(u.get<std::string>())) {
        e.fields["user_ids"] = "must hold user ids";
        break;
      } else {
        ids.push_back(u.get<std::string>());
      }
  for (auto& item : body->items())
    if (item.key() != "user_ids" && item.key() != "title" && item.key() != "body" && item.key() != "data")
      e.fields[item.key()] = "unknown field";
  if (!e.fields.empty()) return write_error(c.res, e);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto data = input->data.dump();
  json sent = json::array(), unknown = json::array(), failed = json::array();
  for (auto& id : ids) {
    auto r = c.svc.route.call_user(*uuid_from_string(id), add_notification{input->title, input->body, data}, {}, c.client);
    if (r) sent.push_back({{"user_id", id}, {"id", json::parse(r->json)["id"]}});
    else if (r.err().code == errc::not_found) unknown.push_back(id);
    else failed.push_back({{"user_id", id}, {"code", errc_name(r.err().code)}});  // retry these only
  }
  write_json(c.res, 200, json{{"sent", sent}, {"not_found", unknown}, {"failed", failed}}.dump());
}

// GET /v1/admin/outbox?state=pending|dead&cursor=&limit=: every partition's
// entries after the cursor, merged oldest first (ids sort by creation time).
void admin_outbox(context& c) {
  if (!admin_only(c)) return;
  auto state = c.query("state").value_or("pending");
  if (state != "pending" && state != "dead") {
    error e = make_error(errc::invalid_request, "invalid query");
    e.fields["state"] = "must be pending or dead";
    write_error(c.res, e);
    return;
  }
  auto limit = int_query(c, "limit", 50, 1, 200);
  if (!limit) return;
  auto cursor = c.cursor();
  if (!cursor) return write_error(c.res, cursor.err());
  std::string after;
  if (!cursor->empty()) {
    auto id = outbox_id_from_text(*cursor);
    if (!id) {
      error e = make_error(errc::invalid_request, "invalid cursor");
      e.fields["cursor"] = "is not a cursor this server handed out";
      return write_error(c.res, e);
    }
    after = *id;
  }
  std::vector<std::string> missing;
  std::vector<json> items;
  for (auto& part : c.svc.route.scatter(list_outbox{state == "dead", after, static_cast<uint32_t>(*limit + 1)}, &missing))
    for (auto& r : part.items) items.push_back(json::parse(r));
  std::sort(items.begin(), items.end(),
            [](const json& a, const json& b) { return a.value("id", std::string()) < b.value("id", std::string()); });
  bool more = items.size() > static_cast<size_t>(*limit);
  if (more) items.resize(static_cast<size_t>(*limit));
  json out = {{"items", items}, {"next_cursor", more ? items.back()["id"] : json(nullptr)}};
  mark_partial(out, missing);
  write_json(c.res, 200, out.dump());
}

// POST /v1/admin/outbox/{id}/retry: the entry becomes pending and due now.
void admin_outbox_retry(context& c) {
  if (!admin_only(c)) return;
  auto id = outbox_id_from_text(c.params["id"]);
  if (!id) return write_error(c.res, errc::not_found, "outbox entry not found");
  std::vector<std::string> missing;
  for (auto& part : c.svc.route.scatter(retry_outbox{*id}, &missing))
    if (!part.items.empty()) return write_json(c.res, 200, part.items.front());
  if (!missing.empty()) return write_error(c.res, errc::partition_unavailable, "the node holding this entry did not answer");
  write_error(c.res, errc::not_found, "outbox entry not found");
}

void admin_get_user(context& c) { admin_user_op(c, admin_get{}); }

void admin_patch_user(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = target(c);
  if (!uid16) return;
  auto body = c.body();
  if (!body) {
    write_error(c.res, body.err());
    return;
  }
  auto patch = parse_profile_patch(*body, true);
  if (!patch) return write_error(c.res, patch.err());
  write_view(c.res, c.svc.account.update_profile(*uid16, {}, *patch, c.client));
}

void admin_delete_user(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = target(c);
  if (!uid16) return;
  write_status(c.res, c.svc.account.admin_delete(*uid16));
}

// Activation and blocking are separate states (domain/user.h): unblock never
// activates, activate never unblocks.
void admin_activate(context& c) { admin_user_op(c, admin_set_status{status_change::activate}); }
void admin_block(context& c) { admin_user_op(c, admin_set_status{status_change::block}); }
void admin_unblock(context& c) { admin_user_op(c, admin_set_status{status_change::unblock}); }

// DELETE /v1/admin/users/{id}/sessions: 204, no body (SPEC §2: delete 204).
// The count is in the user's security log and the session.revoked event.
void admin_revoke_sessions(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = target(c);
  if (!uid16) return;
  auto r = c.svc.route.call_user(*uid16, roster::admin_revoke_sessions{}, {}, c.client);
  write_status(c.res, r ? status{} : status{r.err()});
}

// Bans (domain/user.h ban_record): their own state, beside blocking and
// activation. `by` is the name of the admin key that acted (never the key).

// POST /v1/admin/bans {user_id, reason, expires_at?} → 201 the ban's view.
void admin_ban(context& c) {
  auto by = admin_caller(c);
  if (!by) return;
  auto body = c.body();
  if (!body) return write_error(c.res, body.err());
  auto in = parse_ban_input(*body, now_ms());
  if (!in) return write_error(c.res, in.err());
  auto uid16 = *uuid_from_string(in->user_id);
  write_view(c.res, c.svc.route.call_user(uid16, roster::admin_ban{in->reason, in->expires_at, *by}, {}, c.client), 201);
}

// GET /v1/admin/bans/{user_id} → {banned, reason, created_at, expires_at, by}.
void admin_get_ban(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = c.uuid_param("user_id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  write_view(c.res, c.svc.route.call_user(*uid16, get_ban{}, {}, c.client));
}

// DELETE /v1/admin/bans/{user_id} → 204, also when the user was not banned
// (the state asked for holds).
void admin_unban(context& c) {
  auto by = admin_caller(c);
  if (!by) return;
  auto uid16 = c.uuid_param("user_id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  auto r = c.svc.route.call_user(*uid16, roster::admin_unban{*by}, {}, c.client);
  write_status(c.res, r ? status{} : status{r.err()});
}

void admin_cluster_leave(context& c) {
  if (!admin_only(c)) return;
  write_result(c.res, c.svc.members.leave(), 202, [](const std::string& body) { return body; });
}

void admin_jwt_rotate(context& c) {
  if (!admin_only(c)) return;
  auto r = c.svc.jwt.rotate(now_ms());
  if (!r) return write_error(c.res, r.err());
  write_json(c.res, 200, *r);
}

void admin_backup(context& c) {
  if (!admin_only(c)) return;
  if (c.svc.config.admin.backup_root.empty()) {
    write_error(c.res, errc::forbidden, "online backups are disabled on this node: set admin.backup_root");
    return;
  }
  auto body = c.body();
  if (!body) {
    write_error(c.res, body.err());
    return;
  }
  error e = make_error(errc::invalid_request, "invalid fields");
  for (auto& [k, v] : body->items())
    if (k != "to") e.fields[k] = "unknown field";
  auto to = string_field(*body, "to", e, true);
  if (to && (to->empty() || to->front() != '/' || to->size() > 4096))
    e.fields["to"] = "must be an absolute path on the node";
  else if (to && (has_control_chars(*to) || !valid_utf8(*to)))
    e.fields["to"] = "must not contain control characters";
  if (!e.fields.empty()) {
    write_error(c.res, e);
    return;
  }
  // online_backup resolves `to` against admin.backup_root (resolve_backup_target).
  write_result(c.res, c.svc.backup.take(*to), 201, [](const std::string& body) { return body; });
}

void debug_actors(context& c) {
  if (!admin_only(c)) return;
  write_json(c.res, 200, c.svc.views.debug_actors().dump());
}

void debug_cluster(context& c) {
  if (!admin_only(c)) return;
  write_json(c.res, 200, c.svc.views.debug_cluster().dump());
}

void debug_user(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = target(c);
  if (!uid16) return;
  auto j = c.svc.views.debug_user(*uid16);
  if (j.value("exists", json()) == json(false)) {
    write_error(c.res, errc::not_found, "no such user");
    return;
  }
  write_json(c.res, 200, j.dump());
}

} // namespace roster::http::handlers
