#include "cluster/membership.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "cluster/context.h"
#include "cluster/door.h"
#include "cluster/node_protocol.h"
#include "cluster/runtime.h"
#include "persistence/keys.h"

namespace roster {

namespace {
constexpr auto join_budget = std::chrono::seconds(60);
constexpr auto leave_timeout = std::chrono::seconds(10);

using json = nlohmann::json;

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
} // namespace

struct membership::impl {
  node_runtime& rt;
  const node_config& config;
  caf::actor_system& sys;
  std::shared_ptr<cluster_context> ctx;
  std::shared_ptr<actor_env> env;
  bool stopped = false;
  uint16_t cluster_port = 0;
  std::thread keeper;
  std::thread door_thread;  // sweeps the cluster port (cluster/door.h)
  std::mutex keeper_mutex;
  std::condition_variable keeper_cv;
  bool keeper_stop = false;
  std::atomic<bool> keeper_done{false};
  std::atomic<int64_t> door_closed{0};

  explicit impl(node_runtime& r)
      : rt(r), config(r.config()), sys(r.system()), ctx(r.context()), env(r.context()->env) {}

  /// This node's entry in a view, as it asks to be admitted.
  member_info me() const { return {config.node_name, config.http.listen, config.cluster.listen, member_state::up, 0}; }

  /// Starts this node's membership: alone, or by joining through seeds.
  void start() {
    auto partitions = env->partitions;
    // The node actor adopts its first view when it first runs (CAF starts
    // actors asynchronously): wait for it, so no request meets an empty table.
    if (!rt.clustered()) {
      ctx->node = spawn_node_actor(sys, ctx, founding_view(me(), partitions));
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
    if (founding) initial = persisted ? *persisted : founding_view(me(), partitions);
    ctx->node = spawn_node_actor(sys, ctx, initial);

    auto [host, port] = host_port(config.cluster.listen, "cluster.listen");
    auto published = rt.tls() ? caf::openssl::publish(ctx->node, port, host.c_str(), true)
                              : sys.middleman().publish(ctx->node, port, host.c_str(), true);
    if (!published)
      throw std::runtime_error("cannot listen for nodes on " + config.cluster.listen + ": " +
                               sys.render(published.error()));
    cluster_port = *published;
    spdlog::info("cluster: node {} listening for nodes on {}:{}{}", config.node_name, host, cluster_port,
                 rt.tls() ? " (TLS)" : "");
    if (founding) {
      if (!wait_admitted()) throw std::runtime_error("the node actor did not start");
      return;
    }
    join(seeds, persisted);
  }

  caf::expected<node_actor_hdl> connect(const std::string& addr) {
    auto [host, port] = host_port(addr, "cluster.seeds");
    return rt.tls() ? caf::openssl::remote_actor<node_actor_hdl>(sys, host, port)
                    : sys.middleman().remote_actor<node_actor_hdl>(host, port);
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
    join_request req{nonce, join_proof(config.cluster.secret, nonce, config.node_name),
                     joiner{me(), env->partitions, ctx->node, ctx->gateway}};
    bool admitted = false;
    error why;
    self->request(*peer, std::chrono::seconds(10), std::move(req))
      .receive([&](join_reply&) { admitted = true; }, [&](caf::error& e) { why = from_caf(e); });
    auto refused = !admitted && (why.code == errc::forbidden || why.code == errc::already_exists ||
                                 why.code == errc::invalid_request);
    if (refused) throw std::runtime_error("the cluster at " + seed + " refused this node: " + why.message);
    return admitted;
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
        self->send(ctx->node, view_update{env->credential, *persisted, {}, {}});
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
    if (!rt.tls()) return;
    auto snap = ctx->snapshot();
    for (auto& m : snap->view.members)
      if (m.name != config.node_name && !m.cluster.empty()) (void)connect(m.cluster);
  }

};

membership::membership(node_runtime& rt) : impl_(std::make_unique<impl>(rt)) {}

membership::~membership() { stop(); }

void membership::start() {
  impl_->start();
  if (impl_->rt.clustered()) {
    impl_->keeper = std::thread([this] { impl_->keep(); });
    impl_->door_thread = std::thread([this] { impl_->guard_door(); });
  }
}

void membership::on_left(std::function<void()> fn) { impl_->ctx->on_left = std::move(fn); }

result<std::string> membership::leave() {
  auto& ctx = *impl_->ctx;
  if (!impl_->rt.clustered()) return make_error(errc::invalid_request, "this node is not in a cluster");
  if (!ctx.node) return unavailable_error();
  caf::scoped_actor self{impl_->sys};
  result<leave_reply> r = unavailable_error();
  self->request(ctx.node, leave_timeout, leave_request{impl_->env->credential, ctx.self_name()})
    .receive([&](leave_reply& x) { r = std::move(x); },
             [&](caf::error& e) {
               if (e.category() != caf::atom("roster")) spdlog::warn("cluster: the leave request failed: {}", caf::to_string(e));
               r = from_caf(e);
             });
  if (!r) return r.err();
  return json{{"leaving", r->leaving}, {"partitions_to_move", r->partitions_to_move}, {"epoch", r->epoch}}.dump();
}

uint16_t membership::cluster_port() const { return impl_->cluster_port; }

int64_t membership::connections_closed_by_door() const { return impl_->door_closed.load(); }

void membership::stop() {
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
}

} // namespace roster
