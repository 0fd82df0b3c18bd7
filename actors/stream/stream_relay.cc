#include "actors/stream/stream_relay.h"

#include "actors/user/user_actor.h"

#include <caf/all.hpp>

#include <algorithm>
#include <map>

namespace roster {

namespace {

struct relay_state {
  static inline const char* name = "roster.stream_relay";
  std::shared_ptr<actor_env> env;
  std::shared_ptr<stream_sink> sink;
  std::map<caf::actor_addr, std::vector<uint64_t>> watched;  // user actor → this node's streams subscribed there
};

stream_relay_hdl::behavior_type stream_relay(stream_relay_hdl::stateful_pointer<relay_state> self,
                                             std::shared_ptr<actor_env> env, std::shared_ptr<stream_sink> sink) {
  self->state.env = std::move(env);
  self->state.sink = std::move(sink);
  auto ok = [self](const std::string& credential) {
    return self->state.env->accept(credential, "stream relay", self->current_sender());
  };
  // A watched user actor is gone without saying so (its node died or lost
  // the link): its streams subscribe again wherever the user lives now.
  self->set_down_handler([self](caf::down_msg& dm) {
    auto it = self->state.watched.find(dm.source);
    if (it == self->state.watched.end()) return;
    auto ids = std::move(it->second);
    self->state.watched.erase(it);
    self->state.sink->detached(ids);
  });
  return {
    [self, ok](const stream_push& m) {
      if (!ok(m.credential)) return;
      // A stream this node no longer holds (its subscription outlived a
      // failed or timed-out request): the user's actor forgets it.
      auto gone = self->state.sink->push(m.streams, m.seq, m.frame);
      auto to = caf::actor_cast<user_actor_hdl>(self->current_sender());
      if (gone.empty() || !to) return;
      for (auto id : gone) {
        user_request req;
        req.credential = self->state.env->credential;
        req.op = unsubscribe{self, id};
        self->request(to, std::chrono::seconds(10), std::move(req)).then([](const user_reply&) {}, [](caf::error&) {});
      }
    },
    [self, ok](const stream_end& m) {
      if (ok(m.credential)) self->state.sink->end(m.stream, m.frame);
    },
    [self, ok](const stream_detached& m) {
      if (ok(m.credential)) self->state.sink->detached(m.streams);
    },
    [self, ok](const stream_watch& m) {
      if (!ok(m.credential) || !m.source) return;
      auto addr = caf::actor_cast<caf::actor_addr>(m.source);
      auto& w = self->state.watched;
      auto it = w.find(addr);
      if (m.on) {
        if (it == w.end()) {
          self->monitor(m.source);
          it = w.emplace(addr, std::vector<uint64_t>{}).first;
        }
        it->second.push_back(m.stream);
      } else if (it != w.end()) {
        auto& ids = it->second;
        ids.erase(std::remove(ids.begin(), ids.end(), m.stream), ids.end());
        if (ids.empty()) {
          self->demonitor(addr);
          w.erase(it);
        }
      }
    },
  };
}

} // namespace

stream_relay_hdl spawn_stream_relay(caf::actor_system& sys, std::shared_ptr<actor_env> env, std::shared_ptr<stream_sink> sink) {
  return sys.spawn(stream_relay, std::move(env), std::move(sink));
}

} // namespace roster
