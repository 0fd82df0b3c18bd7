#include "cluster/router.h"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <mutex>
#include <thread>

#include "actors/env.h"
#include "actors/read_path.h"
#include "base/placement.h"
#include "cluster/context.h"
#include "cluster/runtime.h"

namespace roster {

namespace {
constexpr auto request_timeout = std::chrono::seconds(10);
// A request that meets a partition in the middle of a handoff is sent again
// (it was not executed) with a short back-off, within this budget.
constexpr auto moving_budget = std::chrono::seconds(5);
} // namespace

struct router::impl {
  caf::actor_system& sys;
  std::shared_ptr<cluster_context> ctx;
  std::shared_ptr<actor_env> env;

  // A pool of blocking actors for HTTP worker threads (creating one per
  // request costs more than the request itself).
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<caf::scoped_actor>> pool;

  explicit impl(node_runtime& rt) : sys(rt.system()), ctx(rt.context()), env(rt.context()->env) {}

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
  ///
  /// A local actor always answers (or CAF answers request_receiver_down for
  /// it when it terminates), so a request to one sets no timeout: a timeout
  /// is an event on CAF's clock thread for every request, about a tenth of a
  /// write's CPU (docs/performance.md, "Write path"). A remote one may never
  /// answer (its node froze): request_timeout bounds the wait.
  template <class Reply, class Handle, class... Ts>
  result<Reply> ask(const Handle& dest, bool* receiver_down, const Ts&... msg) {
    if (!dest) return unavailable_error();
    auto self = acquire();
    result<Reply> out = unavailable_error();
    auto target = caf::actor_cast<caf::actor>(dest);
    auto timeout = target->node() == sys.node() ? caf::duration{caf::infinite} : caf::duration{request_timeout};
    (*self)->request(target, timeout, msg...)
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
      gateway_hdl remote;  // stays empty when the owner is unknown or down
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

router::router(node_runtime& rt) : impl_(std::make_unique<impl>(rt)) {}

router::~router() { stop(); }

void router::stop() {
  if (!impl_) return;
  std::lock_guard<std::mutex> lock(impl_->pool_mutex);
  impl_->pool.clear();
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
    if (auto cached = cached_answer(*im.env, req, p)) return std::move(*cached);
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
  using handle_t = decltype((*self)->request(gateway_hdl{}, request_timeout, req));
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

uint32_t router::partitions() const { return impl_->env->partitions; }
uint16_t router::partition_of_user(std::string_view uid16) const {
  return roster::partition_of_user(uid16, impl_->env->partitions);
}

} // namespace roster
