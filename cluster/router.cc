#include "cluster/router.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "actors/env.h"
#include "actors/index/index_actor.h"
#include "actors/partition/partition_host.h"
#include "cluster/node_protocol.h"
#include "cluster/context.h"
#include "cluster/door.h"
#include "base/crypto.h"
#include "domain/validation.h"
#include "persistence/data_dir.h"
#include "persistence/keys.h"

namespace roster {

namespace {
constexpr auto request_timeout = std::chrono::seconds(10);
// A request that meets a partition in the middle of a handoff is sent again
// (it was not executed) with a short back-off, within this budget.
constexpr auto moving_budget = std::chrono::seconds(5);
constexpr auto join_budget = std::chrono::seconds(60);

using json = nlohmann::json;

bool clustered(const node_config& c) { return !c.cluster.listen.empty(); }
bool tls(const node_config& c) { return !c.cluster.tls_cert.empty() || !c.cluster.tls_key.empty(); }

std::pair<std::string, uint16_t> host_port(const std::string& addr, const char* what) {
  auto colon = addr.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(addr.substr(colon + 1));
    } catch (const std::exception&) {
    }
  }
  if (colon == std::string::npos || colon == 0 || port <= 0 || port > 65535)
    throw std::runtime_error(std::string(what) + ": expected host:port, got \"" + addr + "\"");
  return {addr.substr(0, colon), static_cast<uint16_t>(port)};
}

caf::actor_system_config& configure(caf::actor_system_config& cfg, const node_config& c) {
  register_actor_types(cfg);
  cfg.add_message_types<caf::id_block::roster_node>();
  // The work-sharing scheduler wakes a blocked HTTP thread's reply several
  // times faster than work stealing for our request/response pattern
  // (STACK.md: 8 µs vs 67 µs per in-process round trip).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  if (clustered(c)) {
    cfg.load<caf::io::middleman>();
    // A peer that stops answering (frozen, not just dead) is dropped after
    // the connection timeout; its actors' monitors then fire.
    cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(500)});
    cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
    if (tls(c)) {
      cfg.load<caf::openssl::manager>();
      cfg.set("openssl.certificate", c.cluster.tls_cert);
      cfg.set("openssl.key", c.cluster.tls_key);
      cfg.set("openssl.cafile", c.cluster.tls_ca);
    } else {
      // Members learn each other's handles from the coordinator; let CAF
      // open the direct links (with TLS we connect to each member ourselves).
      cfg.set("middleman.enable-automatic-connections", true);
    }
  }
  return cfg;
}
} // namespace

struct router::impl {
  node_config config;
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::unique_ptr<fenced_store> fence;
  std::shared_ptr<actor_env> env;
  std::shared_ptr<cluster_context> ctx;
  bool stopped = false;
  uint16_t cluster_port = 0;
  std::thread keeper;
  std::thread door_thread;  // sweeps the cluster port (cluster/door.h)
  std::mutex keeper_mutex;
  std::condition_variable keeper_cv;
  bool keeper_stop = false;
  std::atomic<bool> keeper_done{false};
  std::atomic<int64_t> door_closed{0};
  std::mutex backup_mutex;  // one checkpoint at a time

  // A pool of blocking actors for HTTP worker threads (creating one per
  // request costs more than the request itself).
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<caf::scoped_actor>> pool;

  impl(const node_config& c, store& db) : config(c), sys(configure(cfg, c)) {
    auto partitions = static_cast<uint32_t>(c.cluster.partitions);
    fence = std::make_unique<fenced_store>(db, partitions);
    env = std::make_shared<actor_env>();
    env->db = fence.get();
    env->fence = fence.get();
    env->partitions = partitions;
    env->node_name = c.node_name;
    // Every member derives the same credential from the secret; it proves a
    // message came from a member (actor_env::credential).
    env->credential = clustered(c) && !c.cluster.secret.empty()
                          ? hmac_sha256(c.cluster.secret, "roster-member-credential-v1")
                          : random_bytes(32);
    env->sessions = session_policy{c.auth.session_ttl, c.auth.session_idle_ttl, c.auth.sudo_window};
    env->login_throttle = throttle_policy{c.auth.max_failed_logins, c.auth.failed_login_window, 30'000};
    env->idle_passivation = c.actors.idle_passivation;
    ctx = std::make_shared<cluster_context>();
    ctx->config = c;
    ctx->env = env;
    ctx->fence = fence.get();
    for (uint32_t p = 0; p < partitions; ++p) {
      ctx->hosts.push_back(spawn_partition_host(sys, env, static_cast<uint16_t>(p)));
      ctx->indexes.push_back(spawn_index_actor(sys, env, static_cast<uint16_t>(p)));
    }
    // Where an actor sends a user request for partition p: the local host, or
    // the owner's gateway. Only read after the node actor has a view.
    env->host_of = [c = ctx.get()](uint16_t p) -> caf::strong_actor_ptr {
      auto snap = c->snapshot();
      if (snap->mine(p)) return caf::actor_cast<caf::strong_actor_ptr>(c->hosts[p]);
      auto* owner = snap->owner_of(p);
      return owner && owner->up ? caf::actor_cast<caf::strong_actor_ptr>(owner->gateway) : caf::strong_actor_ptr{};
    };
    ctx->gateway = spawn_gateway(sys, ctx);
  }

  /// Starts this node's membership: alone, or by joining through seeds.
  void start() {
    auto partitions = env->partitions;
    member_info me{config.node_name, config.http.listen, config.cluster.listen, member_state::up, 0};
    // The node actor adopts its first view when it first runs (CAF starts
    // actors asynchronously): wait for it, so no request meets an empty table.
    if (!clustered(config)) {
      ctx->node = spawn_node_actor(sys, ctx, founding_view(me, partitions));
      if (!wait_admitted()) throw std::runtime_error("the node actor did not start");
      return;
    }
    if (config.cluster.secret.empty())
      throw std::runtime_error("cluster.secret must be set when cluster.listen is (nodes authenticate with it)");
    std::optional<cluster_view> persisted;
    auto raw = env->db->get(keys::meta("cluster_view"));
    // Starting from no view when the stored one cannot be read could found a
    // second cluster: refuse to start instead.
    if (!raw) throw std::runtime_error("cannot read this node's cluster view: " + raw.err().message);
    if (raw->has_value()) persisted = cluster_view::from_json(json::parse(**raw, nullptr, false));
    if (persisted && persisted->partitions != partitions) persisted.reset();

    std::vector<std::string> seeds;
    for (auto& s : config.cluster.seeds)
      if (s != config.cluster.listen) seeds.push_back(s);
    if (persisted)
      for (auto& m : persisted->members)
        if (m.name != config.node_name && !m.cluster.empty() &&
            std::find(seeds.begin(), seeds.end(), m.cluster) == seeds.end())
          seeds.push_back(m.cluster);

    bool founding = seeds.empty();
    std::optional<cluster_view> initial;
    if (founding) initial = persisted ? *persisted : founding_view(me, partitions);
    ctx->node = spawn_node_actor(sys, ctx, initial);

    auto [host, port] = host_port(config.cluster.listen, "cluster.listen");
    auto published = tls(config) ? caf::openssl::publish(ctx->node, port, host.c_str(), true)
                                 : sys.middleman().publish(ctx->node, port, host.c_str(), true);
    if (!published)
      throw std::runtime_error("cannot listen for nodes on " + config.cluster.listen + ": " +
                               sys.render(published.error()));
    cluster_port = *published;
    spdlog::info("cluster: node {} listening for nodes on {}:{}{}", config.node_name, host, cluster_port,
                 tls(config) ? " (TLS)" : "");
    if (founding) {
      if (!wait_admitted()) throw std::runtime_error("the node actor did not start");
      return;
    }
    join(seeds, persisted);
  }

  caf::expected<caf::actor> connect(const std::string& addr) {
    auto [host, port] = host_port(addr, "cluster.seeds");
    return tls(config) ? caf::openssl::remote_actor(sys, host, port) : sys.middleman().remote_actor(host, port);
  }

  /// One admission attempt through `seed`: true once the cluster accepted
  /// this node. Throws std::runtime_error when the cluster refuses it.
  bool knock(caf::scoped_actor& self, const std::string& seed) {
    auto peer = connect(seed);
    if (!peer) return false;
    std::string nonce;
    self->request(*peer, std::chrono::seconds(5), hello_atom_v)
      .receive([&](std::string& n) { nonce = std::move(n); }, [&](caf::error&) {});
    if (nonce.empty()) return false;
    json info = {{"name", config.node_name},
                 {"http", config.http.listen},
                 {"cluster", config.cluster.listen},
                 {"partitions", env->partitions}};
    reply r = error_reply(unavailable_error());
    self->request(*peer, std::chrono::seconds(10), member_join_atom_v, info.dump(), nonce,
                  join_proof(config.cluster.secret, nonce, config.node_name), ctx->node, ctx->gateway)
      .receive([&](reply& x) { r = std::move(x); }, [&](caf::error&) {});
    auto refused = r.error_code() == errc::forbidden || r.error_code() == errc::already_exists ||
                   r.error_code() == errc::invalid_request;
    if (refused) throw std::runtime_error("the cluster at " + seed + " refused this node: " + error_of(r).message);
    return r.ok();
  }

  void join(const std::vector<std::string>& seeds, const std::optional<cluster_view>& persisted) {
    auto deadline = std::chrono::steady_clock::now() + join_budget;
    // When the whole cluster restarts, nobody can admit anybody: the
    // longest-standing member of the last view resumes from that view after
    // one unanswered round, and the others join it.
    bool resumes = false;
    if (persisted) {
      const member_info* first = nullptr;
      for (auto& m : persisted->members)
        if (!first || m.seq < first->seq) first = &m;
      resumes = first && first->name == config.node_name;
    }
    caf::scoped_actor self{sys};
    while (std::chrono::steady_clock::now() < deadline) {
      for (auto& seed : seeds) {
        if (!knock(self, seed)) continue;
        if (wait_admitted()) {
          connect_members();
          return;
        }
      }
      if (resumes) {
        spdlog::warn("cluster: no member admitted this node; resuming the last view (epoch {}) as its "
                     "longest-standing member", persisted->epoch);
        self->send(ctx->node, view_atom_v, env->credential, persisted->to_json().dump(), std::vector<caf::actor>{},
                   std::vector<caf::actor>{});
        if (wait_admitted()) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    throw std::runtime_error("no seed node admitted this node within 60 s (is cluster.seeds right, and are the seeds up?)");
  }

  /// The keeper: every 2 s, if a member that the view says is up cannot be
  /// reached from here (this node froze, or a link dropped), knock on that
  /// member's door: that opens a new link, and the coordinator admits this
  /// node again (marking it up) and sends it the current view.
  void keep() {
    caf::scoped_actor self{sys};
    std::unique_lock<std::mutex> lock(keeper_mutex);
    while (!keeper_stop) {
      keeper_cv.wait_for(lock, std::chrono::seconds(2));
      if (keeper_stop) break;
      auto snap = ctx->snapshot();
      if (snap->self < 0) continue;
      std::vector<std::string> doors;
      for (auto& r : snap->members) {
        auto* m = snap->view.find(r.name);
        if (!r.up && m && m->state != member_state::down && !m->cluster.empty()) doors.push_back(m->cluster);
      }
      if (doors.empty()) continue;
      lock.unlock();
      for (auto& door : doors) {
        try {
          if (knock(self, door)) {
            spdlog::info("cluster: admitted again through {}", door);
            break;
          }
        } catch (const std::exception& e) {
          spdlog::debug("cluster: {}", e.what());
        }
      }
      lock.lock();
    }
    keeper_done = true;
  }

  /// The door: once a second, close strangers that hold a connection to the
  /// cluster port without talking, and connections beyond the cap.
  void guard_door() {
    cluster_door door(cluster_port, door_policy{config.cluster.max_connections, config.cluster.handshake_timeout});
    std::unique_lock<std::mutex> lock(keeper_mutex);
    while (!keeper_stop) {
      keeper_cv.wait_for(lock, std::chrono::seconds(1));
      if (keeper_stop) break;
      lock.unlock();
      door_closed.fetch_add(door.sweep(), std::memory_order_relaxed);
      lock.lock();
    }
  }

  bool wait_admitted() {
    for (int i = 0; i < 10'000; ++i) {
      if (ctx->snapshot()->self >= 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }

  /// Direct links to every member (with TLS, CAF's automatic connections are
  /// off: see STACK.md).
  void connect_members() {
    if (!tls(config)) return;
    auto snap = ctx->snapshot();
    for (auto& m : snap->view.members)
      if (m.name != config.node_name && !m.cluster.empty()) (void)connect(m.cluster);
  }

  std::unique_ptr<caf::scoped_actor> acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      while (!pool.empty()) {
        auto a = std::move(pool.back());
        pool.pop_back();
        // A request answered by a remote actor leaves its timeout armed in
        // CAF 0.17; it arrives later as a message nobody waits for, and a
        // blocking actor keeps every such message and scans them all on each
        // receive (a pooled actor got 5x slower within a minute). An actor
        // with anything in its mailbox is retired (dropped) instead of reused.
        if ((*a)->mailbox().empty()) return a;
      }
    }
    return std::make_unique<caf::scoped_actor>(sys);
  }

  void release(std::unique_ptr<caf::scoped_actor> a) {
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool.push_back(std::move(a));
  }

  /// Sends `msg` and waits for a `Reply`. With `receiver_down` set, a
  /// terminated receiver is reported there instead of as an error.
  template <class Reply, class Handle, class... Ts>
  result<Reply> ask(const Handle& dest, bool* receiver_down, const Ts&... msg) {
    if (!dest) return unavailable_error();
    auto self = acquire();
    result<Reply> out = unavailable_error();
    (*self)->request(caf::actor_cast<caf::actor>(dest), request_timeout, msg...)
      .receive([&](Reply& r) { out = std::move(r); },
               [&](caf::error& e) {
                 if (receiver_down && e == caf::sec::request_receiver_down) {
                   *receiver_down = true;
                   return;
                 }
                 if (e.category() != caf::atom("roster")) spdlog::warn("router: request failed: {}", caf::to_string(e));
                 out = from_caf(e);
               });
    release(std::move(self));
    return out;
  }

  /// Routes one request for partition `p`: `local` runs it here, otherwise it
  /// goes to the owner's gateway. A partition between owners
  /// (partition_moving: the request was not run) is retried with the newest
  /// table until the budget is spent.
  template <class Reply, class Local, class Msg>
  result<Reply> route(uint16_t p, Local&& local, const Msg& msg) {
    auto deadline = std::chrono::steady_clock::now() + moving_budget;
    for (int attempt = 0;; ++attempt) {
      bool here = false;
      caf::actor remote;  // stays empty when the owner is unknown or down
      {
        const auto& snap = ctx->current();
        here = snap.mine(p);
        if (auto* owner = snap.owner_of(p); owner && !here && owner->up) remote = owner->gateway;
      }
      result<Reply> r = here ? local() : remote ? ask<Reply>(remote, nullptr, msg) : result<Reply>(unavailable_error());
      if (r || r.err().code != errc::partition_moving || std::chrono::steady_clock::now() >= deadline) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10 * (attempt + 1), 100)));
    }
  }
};

router::router(const node_config& cfg, store& db) : impl_(std::make_unique<impl>(cfg, db)) {
  try {
    impl_->start();
    if (clustered(cfg)) {
      impl_->keeper = std::thread([this] { impl_->keep(); });
      impl_->door_thread = std::thread([this] { impl_->guard_door(); });
    }
  } catch (...) {
    stop();
    throw;
  }
}

router::~router() { stop(); }

void router::on_left(std::function<void()> fn) { impl_->ctx->on_left = std::move(fn); }

void router::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  {
    std::lock_guard<std::mutex> lock(impl_->keeper_mutex);
    impl_->keeper_stop = true;
  }
  impl_->keeper_cv.notify_all();
  if (impl_->door_thread.joinable()) impl_->door_thread.join();
  if (impl_->keeper.joinable()) {
    // A knock on a frozen peer can block inside CAF's connect; do not let it
    // hold up a shutdown.
    for (int i = 0; i < 500 && !impl_->keeper_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (impl_->keeper_done) impl_->keeper.join();
    else {
      spdlog::warn("cluster: the membership keeper is blocked on a peer; not waiting for it");
      impl_->keeper.detach();
    }
  }
  {
    std::lock_guard<std::mutex> lock(impl_->pool_mutex);
    impl_->pool.clear();
  }
  auto& ctx = *impl_->ctx;
  for (auto& a : ctx.hosts) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : ctx.indexes) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  if (ctx.gateway) caf::anon_send_exit(ctx.gateway, caf::exit_reason::user_shutdown);
  if (ctx.node) caf::anon_send_exit(ctx.node, caf::exit_reason::user_shutdown);
  impl_->env->host_of = nullptr;
  impl_->env->directory.clear();
  ctx.publish(std::make_shared<const route_snapshot>());
  ctx.hosts.clear();
  ctx.indexes.clear();
  ctx.gateway = caf::actor{};
  ctx.node = caf::actor{};
  impl_->sys.await_all_actors_done();
}

result<user_reply> router::send_user(std::string_view uid16, user_op op, std::string token_hash,
                                     const client_info& ci) {
  if (uid16.size() != 16) return make_error(errc::not_found, "not found");
  user_request req;
  req.user_id = std::string(uid16);
  req.token_hash = std::move(token_hash);
  req.client = ci;
  req.credential = impl_->env->credential;
  req.op = std::move(op);
  auto p = partition_of_user(uid16);
  auto& im = *impl_;
  return im.route<user_reply>(p, [&]() -> result<user_reply> {
    // Fastest path, GET /v1/account: an answer the user's live actor
    // published for this session a moment ago (read_cache says why it is exact).
    if (std::holds_alternative<authenticate>(req.op))
      if (auto hit = im.env->cached_read(req.user_id, req.token_hash, p)) return user_reply{view{hit->body}};
    // Fast path: straight to the live user actor. If it has just retired,
    // the partition host takes over (and spawns a fresh one once the old is
    // gone).
    if (auto live = im.env->directory.find(req.user_id)) {
      bool down = false;
      auto r = im.ask<user_reply>(live, &down, req);
      if (!down) return r;
    }
    return im.ask<user_reply>(im.ctx->hosts.at(p), nullptr, req);
  }, req);
}

result<index_reply> router::call_index(index_op op) {
  index_request req;
  req.credential = impl_->env->credential;
  req.op = std::move(op);
  auto p = partition_of_index_key(key_of(req.op), impl_->env->partitions);
  auto& im = *impl_;
  return im.route<index_reply>(p, [&] { return im.ask<index_reply>(im.ctx->indexes.at(p), nullptr, req); }, req);
}

std::vector<scan_reply> router::scatter(scan_op op, std::vector<std::string>* missing) {
  std::vector<scan_reply> out;
  auto snap = impl_->ctx->snapshot();
  auto self = impl_->acquire();
  scan_request req;
  req.credential = impl_->env->credential;
  req.op = std::move(op);
  // One request per member: each gateway scans the partitions its node serves.
  using handle_t = decltype((*self)->request(caf::actor{}, request_timeout, req));
  std::vector<std::pair<std::string, handle_t>> pending;
  for (auto& m : snap->members) {
    if (m.up && m.gateway) pending.emplace_back(m.name, (*self)->request(m.gateway, std::chrono::seconds(30), req));
    else if (missing) missing->push_back(m.name);
  }
  for (auto& [name, h] : pending)
    h.receive([&](scan_reply& r) { out.push_back(std::move(r)); },
              [&, name = name](caf::error& e) {
                spdlog::warn("router: scan of {} failed: {}", name, caf::to_string(e));
                if (missing) missing->push_back(name);
              });
  impl_->release(std::move(self));
  return out;
}

nlohmann::json router::debug_actors() {
  auto snap = impl_->ctx->snapshot();
  auto self = impl_->acquire();
  json nodes = json::array();
  int64_t total = 0, spawns = 0, passivations = 0, cached = 0;
  for (auto& m : snap->members) {
    if (!m.up || !m.gateway) {
      nodes.push_back({{"node", m.name}, {"reachable", false}});
      continue;
    }
    (*self)->request(m.gateway, std::chrono::seconds(5), stats_atom_v, impl_->env->credential)
      .receive(
        [&](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          if (!j.is_object()) return;
          total += j.value("user_actors", int64_t{0});
          spawns += j.value("user_actor_spawns", int64_t{0});
          passivations += j.value("user_actor_passivations", int64_t{0});
          cached += j.value("reads_answered_from_cache", int64_t{0});
          j["reachable"] = true;
          nodes.push_back(j);
        },
        [&](caf::error&) { nodes.push_back({{"node", m.name}, {"reachable", false}}); });
  }
  // This node's busy partitions (mailbox figures are local by nature).
  json parts = json::array();
  int64_t mailbox_total = 0;
  auto& ctx = *impl_->ctx;
  for (uint32_t p = 0; p < ctx.hosts.size(); ++p) {
    if (!impl_->env->serving(static_cast<uint16_t>(p))) continue;
    (*self)->request(ctx.hosts[p], request_timeout, stats_atom_v)
      .receive(
        [&](const std::string& s) {
          auto j = json::parse(s, nullptr, false);
          mailbox_total += j.value("mailbox", 0);
          if (j.value("live_user_actors", 0) > 0 || j.value("mailbox", 0) > 0) parts.push_back(j);
        },
        [&](caf::error&) {});
  }
  impl_->release(std::move(self));
  auto& env = *impl_->env;
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
          {"moderation_queue_depth", 0},
          {"outbox_depth", 0},
          {"scheduler_threads", impl_->sys.scheduler().num_workers()}};
}

nlohmann::json router::debug_cluster() {
  auto& ctx = *impl_->ctx;
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
          {"partitions", impl_->env->partitions},
          {"partitions_served_here", impl_->env->partitions_served()},
          {"partition_table", {{"epoch", snap->epoch}, {"ranges", ranges}, {"owners", view.owners}}},
          {"handoffs", handoffs},
          {"recent_handoffs", recent},
          {"security",
           {{"links", clustered(impl_->config) ? (tls(impl_->config) ? "mutual_tls" : "insecure_loopback") : "none"},
            {"refused_messages", impl_->env->refused_messages.load()},
            {"connections_closed_by_door", impl_->door_closed.load()}}}};
}

nlohmann::json router::debug_user(std::string_view uid16) {
  auto p = partition_of_user(uid16);
  auto r = call_user(uid16, debug_info{});
  auto snap = impl_->ctx->snapshot();
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

result<std::string> router::leave() {
  auto& ctx = *impl_->ctx;
  if (!clustered(impl_->config)) return make_error(errc::invalid_request, "this node is not in a cluster");
  auto r = impl_->ask<reply>(ctx.node, nullptr, leave_cluster_atom_v, impl_->env->credential, ctx.self_name());
  if (!r) return r.err();
  if (!r->ok()) return error_of(*r);
  return r->body;
}

result<std::string> router::backup(const std::string& to) {
  auto target = resolve_backup_target(impl_->config.admin.backup_root, to);
  if (!target) {
    spdlog::warn("backup: refused target {}: {}", log_safe(to), log_safe(target.err().message));
    return target.err();
  }
  std::lock_guard<std::mutex> lock(impl_->backup_mutex);
  auto snap = impl_->ctx->snapshot();
  auto started = now_ms();
  auto info = write_backup(*impl_->env->db, impl_->config.store.data_dir, *target);
  if (!info) return info.err();
  auto took = now_ms() - started;
  nlohmann::json out = {{"node", impl_->env->node_name},
                        {"path", info->path},
                        {"files", info->files},
                        {"bytes", info->bytes},
                        {"epoch", snap->epoch},
                        {"partitions_owned", impl_->env->partitions_served()},
                        {"handoffs_in_progress", snap->view.moves().size()},
                        {"taken_at", format_time(started)},
                        {"took_ms", took}};
  spdlog::info("backup: {} files, {} bytes written to {} in {} ms", info->files, info->bytes, log_safe(info->path), took);
  return out.dump();
}

std::map<std::string, uint64_t> router::cluster_stats() const {
  auto& ctx = *impl_->ctx;
  auto snap = ctx.snapshot();
  uint64_t up = 0, down = 0;
  for (auto& m : snap->members) (m.up ? up : down) += 1;
  std::lock_guard<std::mutex> lock(ctx.progress_mutex);
  return {{"epoch", snap->epoch},
          {"members_up", up},
          {"members_down", down},
          {"partitions_served", impl_->env->partitions_served()},
          {"handoffs_pending", snap->view.moves().size()},
          {"handoffs_outgoing", ctx.outgoing.size()}};
}

std::map<std::string, uint64_t> router::store_stats() const {
  return impl_->env->db ? impl_->env->db->stats() : std::map<std::string, uint64_t>{};
}

int64_t router::live_user_actors() const { return impl_->env->live_user_actors.load(); }
uint32_t router::partitions() const { return impl_->env->partitions; }
uint16_t router::partition_of_user(std::string_view uid16) const {
  return roster::partition_of_user(uid16, impl_->env->partitions);
}
const std::string& router::node_name() const { return impl_->env->node_name; }
bool router::ready() const { return !impl_->stopped && impl_->ctx->snapshot()->self >= 0; }
uint16_t router::cluster_port() const { return impl_->cluster_port; }

} // namespace roster
