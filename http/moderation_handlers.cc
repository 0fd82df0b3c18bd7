// Reports, the moderation queue and relations (docs/api.md "Reports and
// moderation"; the rule: domain/moderation.h; the cross-user delivery:
// actors/user/user_actor.cc "reports"; the queue: actors/moderation/).
#include <algorithm>

#include "base/crypto.h"
#include "domain/moderation.h"
#include "domain/social.h"
#include "http/errors.h"
#include "http/routes.h"

namespace roster::http::handlers {

namespace {

using nlohmann::json;

/// The queue's order on the merged items of every node (domain/moderation.h
/// before: flagged, pending reports, newest report, id). Times are RFC 3339
/// text of one width, so they compare as text.
bool queue_before(const json& a, const json& b) {
  auto fa = a.value("flagged", false), fb = b.value("flagged", false);
  if (fa != fb) return fa;
  auto ta = a.value("total", uint64_t{0}), tb = b.value("total", uint64_t{0});
  if (ta != tb) return ta > tb;
  auto la = a["latest_at"].is_string() ? a["latest_at"].get<std::string>() : std::string();
  auto lb = b["latest_at"].is_string() ? b["latest_at"].get<std::string>() : std::string();
  if (la != lb) return la > lb;
  return a.value("user_id", std::string()) < b.value("user_id", std::string());
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
  // The block also tells whether the user exists; without it, ask.
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
  if (!c.admin_name()) return write_error(c.res, errc::unauthorized, "missing or wrong X-Admin-Key");
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
  std::vector<json> items;
  uint64_t total = 0;
  for (auto& part : c.svc.route.scatter(moderation_queue{status, depth}, &missing)) {
    total += part.matched;
    for (auto& text : part.items) items.push_back(json::parse(text));
  }
  auto start = static_cast<size_t>(*page - 1) * static_cast<size_t>(*page_size);
  auto end = std::min(items.size(), start + static_cast<size_t>(*page_size));
  json page_items = json::array();
  if (start < items.size()) {
    std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(end), items.end(), queue_before);
    for (size_t i = start; i < end; ++i) page_items.push_back(std::move(items[i]));
  }
  json out = {{"items", std::move(page_items)}, {"page", *page}, {"page_size", *page_size}, {"total", total},
              {"partial", !missing.empty()}};
  if (!missing.empty()) out["unreachable_nodes"] = missing;
  write_json(c.res, 200, out.dump());
}

// POST /v1/admin/moderation/queue/{user_id}/resolve {action, reason?,
// duration?} → 200 the user's queue item; 404 without pending reports.
void admin_moderation_resolve(context& c) {
  auto by = c.admin_name();
  if (!by) return write_error(c.res, errc::unauthorized, "missing or wrong X-Admin-Key");
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
  if (!c.admin_name()) return write_error(c.res, errc::unauthorized, "missing or wrong X-Admin-Key");
  auto uid16 = c.uuid_param("id");
  if (!uid16) return write_error(c.res, errc::not_found, "user not found");
  write_view(c.res, c.svc.route.call_user(*uid16, get_relations{}, {}, c.client));
}

} // namespace roster::http::handlers
