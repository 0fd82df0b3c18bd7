#include "cluster/operator_views.h"

#include <caf/all.hpp>

#include <algorithm>
#include <mutex>

#include "actors/env.h"
#include "base/crypto.h"
#include "cluster/context.h"
#include "cluster/membership.h"
#include "cluster/router.h"
#include "cluster/runtime.h"

namespace roster {

namespace {
constexpr auto stats_timeout = std::chrono::seconds(5);
constexpr auto host_stats_timeout = std::chrono::seconds(10);
using json = nlohmann::json;
} // namespace

operator_views::operator_views(node_runtime& rt, const membership& members, router& route)
    : rt_(rt), members_(members), route_(route) {}

nlohmann::json operator_views::debug_actors() {
  auto& ctx = *rt_.context();
  auto& env = *ctx.env;
  auto snap = ctx.snapshot();
  caf::scoped_actor self{rt_.system()};
  json nodes = json::array();
  int64_t total = 0, spawns = 0, passivations = 0, cached = 0, outbox = 0, dead = 0, queue = 0, flagged = 0;
  for (auto& m : snap->members) {
    if (!m.up || !m.gateway) {
      nodes.push_back({{"node", m.name}, {"reachable", false}});
      continue;
    }
    self->request(m.gateway, stats_timeout, stats_atom_v, env.credential)
      .receive(
        [&](const node_stats& s) {
          total += s.user_actors;
          spawns += s.user_actor_spawns;
          passivations += s.user_actor_passivations;
          cached += s.reads_answered_from_cache;
          outbox += s.outbox_depth;
          dead += s.outbox_dead;
          queue += s.moderation_depth;
          flagged += s.moderation_flagged;
          nodes.push_back({{"node", s.node},
                           {"reachable", true},
                           {"user_actors", s.user_actors},
                           {"user_actor_spawns", s.user_actor_spawns},
                           {"user_actor_passivations", s.user_actor_passivations},
                           {"read_cache_entries", s.read_cache_entries},
                           {"reads_answered_from_cache", s.reads_answered_from_cache},
                           {"refused_messages", s.refused_messages},
                           {"partitions_served", s.partitions_served},
                           {"scheduler_threads", s.scheduler_threads},
                           {"outbox", {{"depth", s.outbox_depth},
                                       {"in_flight", s.outbox_in_flight},
                                       {"dead_letters", s.outbox_dead},
                                       {"oldest_pending_age_ms", s.outbox_oldest_age_ms}}},
                           {"moderation_queue", {{"depth", s.moderation_depth},
                                                 {"flagged", s.moderation_flagged},
                                                 {"pending_reports", s.moderation_reports}}}});
        },
        [&](caf::error&) { nodes.push_back({{"node", m.name}, {"reachable", false}}); });
  }
  // This node's busy partitions (mailbox figures are local by nature).
  json parts = json::array();
  int64_t mailbox_total = 0;
  for (uint32_t p = 0; p < ctx.hosts.size(); ++p) {
    if (!env.serving(static_cast<uint16_t>(p))) continue;
    self->request(ctx.hosts[p], host_stats_timeout, stats_atom_v)
      .receive(
        [&](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          mailbox_total += j.value("mailbox", 0);
          if (j.value("live_user_actors", 0) > 0 || j.value("mailbox", 0) > 0) parts.push_back(j);
        },
        [&](caf::error&) {});
  }
  return {{"node", env.node_name},
          {"user_actors", total},
          {"user_actor_spawns", spawns},
          {"user_actor_passivations", passivations},
          {"reads_answered_from_cache", cached},
          {"nodes", nodes},
          {"partition_hosts", ctx.hosts.size()},
          {"index_actors", ctx.indexes.size()},
          {"partition_mailbox_total", mailbox_total},
          {"busy_partitions", parts},
          {"moderation_queue_depth", queue},
          {"moderation_flagged", flagged},
          {"outbox_depth", outbox},
          {"outbox_dead_letters", dead},
          {"scheduler_threads", rt_.system().scheduler().num_workers()}};
}

nlohmann::json operator_views::debug_cluster() {
  auto& ctx = *rt_.context();
  auto& env = *ctx.env;
  auto snap = ctx.snapshot();
  auto& view = snap->view;
  json members = json::array();
  for (auto& m : view.members) {
    bool reachable = false;
    for (auto& r : snap->members)
      if (r.name == m.name) reachable = r.up;
    members.push_back({{"name", m.name},
                       {"state", std::string(to_string(m.state))},
                       {"reachable", reachable},
                       {"self", m.name == ctx.self_name()},
                       {"coordinator", m.name == view.coordinator()},
                       {"http_listen", m.http},
                       {"cluster_listen", m.cluster},
                       {"partitions_owned", view.owned_by(m.name)},
                       {"partitions_targeted", std::count(view.targets.begin(), view.targets.end(), m.name)}});
  }
  // The table as runs of consecutive partitions with one owner.
  json ranges = json::array();
  for (uint32_t p = 0; p < view.owners.size();) {
    uint32_t q = p;
    while (q + 1 < view.owners.size() && view.owners[q + 1] == view.owners[p]) ++q;
    ranges.push_back({{"first", p}, {"last", q}, {"owner", view.owners[p]}});
    p = q + 1;
  }
  json handoffs = json::array();
  json recent = json::array();
  {
    std::lock_guard<std::mutex> lock(ctx.progress_mutex);
    for (auto& mv : view.moves()) {
      json h = {{"partition", mv.partition}, {"from", mv.from}, {"to", mv.to}, {"phase", "queued"}};
      if (auto it = ctx.outgoing.find(mv.partition); it != ctx.outgoing.end()) {
        h["phase"] = it->second.phase;
        h["keys_sent"] = it->second.keys;
        h["bytes_sent"] = it->second.bytes;
        h["started_at"] = format_time(it->second.started_at);
      }
      handoffs.push_back(h);
    }
    for (auto& f : ctx.finished) recent.push_back(f);
  }
  return {{"node", ctx.self_name()},
          {"admitted", snap->self >= 0},
          {"epoch", snap->epoch},
          {"members", members},
          {"partitions", env.partitions},
          {"partitions_served_here", env.partitions_served()},
          {"partition_table", {{"epoch", snap->epoch}, {"ranges", ranges}, {"owners", view.owners}}},
          {"handoffs", handoffs},
          {"recent_handoffs", recent},
          {"security",
           {{"links", rt_.clustered() ? (rt_.tls() ? "mutual_tls" : "insecure_loopback") : "none"},
            {"refused_messages", env.counters.refused_messages.load()},
            {"connections_closed_by_door", members_.connections_closed_by_door()}}}};
}

nlohmann::json operator_views::debug_user(std::string_view uid16) {
  auto p = route_.partition_of_user(uid16);
  auto r = route_.call_user(uid16, debug_info{});
  auto snap = rt_.context()->snapshot();
  auto* owner = snap->owner_of(p);
  json j = {{"user_id", uuid_to_string(uid16)}, {"partition", p}, {"owner", owner ? owner->name : std::string()}};
  auto info = r ? json::parse(r->json, nullptr, false) : json();
  if (r && info.is_object()) {
    j.update(info);
  } else {
    j["live"] = false;
    j["exists"] = nullptr;  // the owner did not say
    j["error"] = std::string(errc_name(r ? errc::internal : r.err().code));
  }
  return j;
}

std::map<std::string, uint64_t> operator_views::cluster_stats() const {
  auto& ctx = *rt_.context();
  auto snap = ctx.snapshot();
  uint64_t up = 0, down = 0;
  for (auto& m : snap->members) (m.up ? up : down) += 1;
  std::lock_guard<std::mutex> lock(ctx.progress_mutex);
  return {{"epoch", snap->epoch},
          {"members_up", up},
          {"members_down", down},
          {"partitions_served", ctx.env->partitions_served()},
          {"handoffs_pending", snap->view.moves().size()},
          {"handoffs_outgoing", ctx.outgoing.size()}};
}

std::map<std::string, uint64_t> operator_views::store_stats() const {
  auto& env = *rt_.context()->env;
  return env.db ? env.db->stats() : std::map<std::string, uint64_t>{};
}

std::map<std::string, uint64_t> operator_views::outbox_stats() const {
  auto& c = rt_.context()->env->counters;
  auto u = [](int64_t v) { return static_cast<uint64_t>(std::max<int64_t>(v, 0)); };
  return {{"depth", u(c.outbox_depth.load())},
          {"in_flight", u(c.outbox_in_flight.load())},
          {"dead_letters", u(c.outbox_dead.load())},
          {"oldest_pending_age_seconds", u(outbox_oldest_age(c, now_ms()) / 1000)},
          {"sent_total", u(c.outbox_sent.load())},
          {"failures_total", u(c.outbox_failures.load())}};
}

std::map<std::string, uint64_t> operator_views::moderation_stats() const {
  auto& c = rt_.context()->env->counters;
  auto u = [](int64_t v) { return static_cast<uint64_t>(std::max<int64_t>(v, 0)); };
  return {{"depth", u(c.moderation_depth.load())},
          {"flagged", u(c.moderation_flagged.load())},
          {"pending_reports", u(c.moderation_reports.load())}};
}

int64_t operator_views::live_user_actors() const { return rt_.context()->env->counters.live_user_actors.load(); }
const std::string& operator_views::node_name() const { return rt_.context()->env->node_name; }
uint32_t operator_views::partitions_owned() const { return rt_.context()->env->partitions_served(); }
bool operator_views::ready() const { return !rt_.stopped() && rt_.context()->snapshot()->self >= 0; }

} // namespace roster
