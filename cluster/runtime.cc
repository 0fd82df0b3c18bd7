#include "cluster/runtime.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "actors/env.h"
#include "actors/index/index_actor.h"
#include "actors/moderation/moderation_actor.h"
#include "actors/notify/notify_actor.h"
#include "actors/partition/partition_host.h"
#include "base/crypto.h"
#include "cluster/context.h"
#include "cluster/node_protocol.h"

namespace roster {

namespace {

bool is_clustered(const node_config& c) { return !c.cluster.listen.empty(); }
bool has_tls(const node_config& c) { return !c.cluster.tls_cert.empty() || !c.cluster.tls_key.empty(); }

caf::actor_system_config& configure(caf::actor_system_config& cfg, const node_config& c) {
  register_actor_types(cfg);
  cfg.add_message_types<caf::id_block::roster_node>();
  // The work-sharing scheduler wakes a blocked HTTP thread's reply several
  // times faster than work stealing for our request/response pattern
  // (STACK.md: 8 µs vs 67 µs per in-process round trip).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  // One scheduler thread per core (CAF's default is at least 4): with writes
  // that do not wait for the disk, an actor holds its thread for tens of µs,
  // and more threads than cores only add hand-offs between them (on 2 cores a
  // device login's CPU fell 6-18%, docs/performance.md). With
  // store.sync_writes every commit waits for an fsync: CAF's default stays,
  // so that more writes can wait for the disk at once.
  if (!c.store.sync_writes)
    cfg.set("scheduler.max-threads", static_cast<size_t>(std::max(2u, std::thread::hardware_concurrency())));
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  if (is_clustered(c)) {
    cfg.load<caf::io::middleman>();
    // A peer that stops answering (frozen, not just dead) is dropped after
    // the connection timeout; its actors' monitors then fire.
    cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(500)});
    cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
    if (has_tls(c)) {
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

struct node_runtime::impl {
  node_config config;
  caf::actor_system_config cfg;
  caf::actor_system sys;
  std::unique_ptr<fenced_store> fence;
  std::shared_ptr<actor_env> env;
  std::shared_ptr<cluster_context> ctx;
  std::shared_ptr<sender_pool> senders;
  std::atomic<bool> stopped{false};

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
    env->credential = is_clustered(c) && !c.cluster.secret.empty()
                          ? hmac_sha256(c.cluster.secret, "roster-member-credential-v1")
                          : random_bytes(32);
    env->mfa_key = !c.cluster.secret.empty()
                       ? hmac_sha256(c.cluster.secret, "roster-mfa-secret-key-v1")
                       : std::string();
    env->mfa_challenge_ttl = c.auth.mfa_challenge_ttl;
    env->mfa_issuer = c.auth.mfa_issuer;
    env->sessions = session_policy{c.auth.session_ttl, c.auth.session_idle_ttl, c.auth.sudo_window};
    env->login_throttle = throttle_policy{c.auth.max_failed_logins, c.auth.failed_login_window, 30'000};
    env->idle_passivation = c.actors.idle_passivation;
    env->notifications_kept = static_cast<size_t>(c.notifications.keep_per_user);
    env->max_friends = static_cast<size_t>(c.social.max_friends);
    env->flag_rule = moderation::flag_rule{static_cast<uint64_t>(std::max<int64_t>(0, c.moderation.flag_distinct_reporters)),
                                           c.moderation.flag_window};
    env->reports_per_minute = static_cast<size_t>(std::max<int64_t>(0, c.moderation.reports_per_minute));
    env->codes = code_policy{c.auth.code_ttl, 5, c.auth.code_send_per_minute, c.auth.code_send_per_hour};
    env->link_base_url = c.auth.link_base_url;
    env->require_verified_email = c.auth.require_verified_email;
    env->templates = c.templates;
    env->online = std::make_unique<std::atomic<int64_t>[]>(partitions);
    env->webhook_urls = c.webhooks.urls;
    env->webhook_events = c.webhooks.events;
    // The notification sender and its threads: one per send in flight, at
    // most 4 per core (more only trade CPU for context switches while a
    // local receiver answers in microseconds; a slow receiver is what
    // outbox.in_flight is for); before any actor that writes an outbox entry.
    auto sender_threads = std::min<int64_t>(c.outbox.in_flight, 4 * std::max(1u, std::thread::hardware_concurrency()));
    senders = std::make_shared<sender_pool>(delivery_config_of(c), static_cast<size_t>(sender_threads));
    env->notify = spawn_notify_actor(sys, env, senders,
                                     retry_policy{c.outbox.max_attempts, c.outbox.backoff_initial, c.outbox.backoff_max},
                                     static_cast<size_t>(c.outbox.in_flight));
    env->moderation = spawn_moderation_actor(sys, env);
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
};

node_runtime::node_runtime(const node_config& cfg, store& db) : impl_(std::make_unique<impl>(cfg, db)) {}

node_runtime::~node_runtime() { stop(); }

const node_config& node_runtime::config() const { return impl_->config; }
bool node_runtime::clustered() const { return is_clustered(impl_->config); }
bool node_runtime::tls() const { return has_tls(impl_->config); }
bool node_runtime::stopped() const { return impl_->stopped; }
caf::actor_system& node_runtime::system() { return impl_->sys; }
const std::shared_ptr<cluster_context>& node_runtime::context() const { return impl_->ctx; }

void node_runtime::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  auto& ctx = *impl_->ctx;
  for (auto& a : ctx.hosts) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : ctx.indexes) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  if (ctx.gateway) caf::anon_send_exit(ctx.gateway, caf::exit_reason::user_shutdown);
  if (ctx.node) caf::anon_send_exit(ctx.node, caf::exit_reason::user_shutdown);
  if (impl_->env->notify) caf::anon_send_exit(impl_->env->notify, caf::exit_reason::user_shutdown);
  if (impl_->env->moderation) caf::anon_send_exit(impl_->env->moderation, caf::exit_reason::user_shutdown);
  impl_->env->host_of = nullptr;
  impl_->env->directory.clear();
  ctx.publish(std::make_shared<const route_snapshot>());
  ctx.hosts.clear();
  ctx.indexes.clear();
  ctx.gateway = nullptr;
  ctx.node = nullptr;
  impl_->sys.await_all_actors_done();
  // Sends in progress are aborted; their entries stay pending in the store.
  impl_->senders->stop();
  impl_->env->notify = nullptr;
  impl_->env->moderation = nullptr;
}

} // namespace roster
