// Reports, the moderation queue and relations (docs/api.md "Reports and
// moderation"; the rule: domain/moderation.h; the cross-user delivery:
// actors/user/user_actor.cc "reports"; the queue: actors/moderation/).
#include <algorithm>

#include "base/crypto.h"
#include "domain/json_text.h"
#include "domain/moderation.h"
#include "domain/social.h"
#include "http/errors.h"
#include "http/routes.h"

namespace roster::http::handlers {

namespace {

using nlohmann::json;

/// Each node's item comes after its sort key (domain/moderation.h
/// sort_key: bytes in queue order) and a newline.
std::string_view key_of(const std::string& item) { return std::string_view(item).substr(0, moderation::sort_key_size); }
std::string_view json_of(const std::string& item) {
  return item.size() > moderation::sort_key_size ? std::string_view(item).substr(moderation::sort_key_size + 1) : "{}";
}

/// The most queue items one request may reach (page × page_size).
constexpr int max_queue_depth = 10'000;

} // namespace

// POST /v1/reports {user_id, category, reason?, block?} → 202 {id, user_id,
// category, created_at}. Blocks the user first unless block is false.
void file_report(context& c) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto body = c.body();
  if (!body) return write_error(c.res, body.err());
  auto in = moderation::parse_report(*body);
  if (!in) return write_error(c.res, in.err());
  auto other = *uuid_from_string(in->user_id);
  if (other == who->uid16) {
    error e = make_error(errc::invalid_request, "invalid report");
    e.fields["user_id"] = "is your own id";
    return write_error(c.res, e);
  }
  auto& route = c.svc.route;
  // The caller's session first (401/403 before anything about the other
  // user); the block also tells whether the user exists; without it, ask.
  if (!in->block)
    if (auto me = route.call_user(who->uid16, authenticate{}, who->token_hash, c.client); !me)
      return write_error(c.res, me.err());
  if (in->block) {
    auto blocked = route.call_user(who->uid16, social_change{other, static_cast<uint8_t>(social::op::block)},
                                   who->token_hash, c.client);
    if (!blocked) return write_error(c.res, blocked.err());
  } else if (auto there = route.call_user(other, get_public{}, {}, c.client); !there) {
    return write_error(c.res, there.err());
  }
  write_view(c.res, route.call_user(who->uid16, roster::file_report{other, in->category, in->reason}, who->token_hash, c.client),
             202);
}

// GET /v1/admin/moderation/queue?status=pending|resolved&page=&page_size=:
// every node's part (its moderation-queue actor), merged in queue order.
void admin_moderation_queue(context& c) {
  if (!admin_only(c)) return;
  auto page = c.int_query("page", 1, 1, max_queue_depth);
  if (!page) return write_error(c.res, page.err());
  auto page_size = c.int_query("page_size", 50, 1, 200);
  if (!page_size) return write_error(c.res, page_size.err());
  auto status = c.query("status").value_or("pending");
  if (status != "pending" && status != "resolved") {
    error e = make_error(errc::invalid_request, "invalid query");
    e.fields["status"] = "must be pending or resolved";
    return write_error(c.res, e);
  }
  if (*page * *page_size > max_queue_depth) {
    error e = make_error(errc::invalid_request, "invalid query");
    e.fields["page"] = "page × page_size must be at most " + std::to_string(max_queue_depth);
    return write_error(c.res, e);
  }
  auto depth = static_cast<uint32_t>(*page * *page_size);
  std::vector<std::string> missing;
  std::vector<std::string> items;
  uint64_t total = 0;
  for (auto& part : c.svc.route.scatter(moderation_queue{status, depth}, &missing)) {
    total += part.matched;
    std::move(part.items.begin(), part.items.end(), std::back_inserter(items));
  }
  auto start = static_cast<size_t>(*page - 1) * static_cast<size_t>(*page_size);
  auto end = std::min(items.size(), start + static_cast<size_t>(*page_size));
  json_text out(512 + 400 * static_cast<size_t>(*page_size));
  out.open_object().key("items").open_array();
  if (start < items.size()) {
    std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(end), items.end(),
                      [](const std::string& a, const std::string& b) { return key_of(a) < key_of(b); });
    for (size_t i = start; i < end; ++i) out.raw(json_of(items[i]));
  }
  out.close_array().key("page").number(*page).key("page_size").number(*page_size).key("partial").boolean(!missing.empty());
  out.key("total").number(static_cast<int64_t>(total));
  if (!missing.empty()) out.key("unreachable_nodes").value(missing);
  write_json(c.res, 200, out.close_object().take());
}

// POST /v1/admin/moderation/queue/{user_id}/resolve {action, reason?,
// duration?} → 200 the user's queue item; 404 without pending reports.
void admin_moderation_resolve(context& c) {
  auto by = admin_caller(c);
  if (!by) return;
  auto uid16 = c.uuid_param("user_id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  auto body = c.body();
  if (!body) return write_error(c.res, body.err());
  auto in = moderation::parse_resolve(*body);
  if (!in) return write_error(c.res, in.err());
  write_view(c.res, c.svc.route.call_user(*uid16, resolve_reports{in->action, in->reason, in->duration, *by}, {}, c.client));
}

// GET /v1/admin/users/{id}/relations → {blocked_by, reported_by, blocks, reports}.
void admin_relations(context& c) {
  if (!admin_only(c)) return;
  auto uid16 = c.uuid_param("id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  write_view(c.res, c.svc.route.call_user(*uid16, get_relations{}, {}, c.client));
}

} // namespace roster::http::handlers
