#include "actors/stream/stream_relay.h"

#include <caf/all.hpp>

namespace roster {

namespace {

struct relay_state {
  static inline const char* name = "roster.stream_relay";
  std::shared_ptr<actor_env> env;
  std::shared_ptr<stream_sink> sink;
};

stream_relay_hdl::behavior_type stream_relay(stream_relay_hdl::stateful_pointer<relay_state> self,
                                             std::shared_ptr<actor_env> env, std::shared_ptr<stream_sink> sink) {
  self->state.env = std::move(env);
  self->state.sink = std::move(sink);
  auto ok = [self](const std::string& credential) {
    return self->state.env->accept(credential, "stream relay", self->current_sender());
  };
  return {
    [self, ok](const stream_push& m) {
      if (ok(m.credential)) self->state.sink->push(m.streams, m.seq, m.frame);
    },
    [self, ok](const stream_end& m) {
      if (ok(m.credential)) self->state.sink->end(m.stream, m.frame);
    },
    [self, ok](const stream_detached& m) {
      if (ok(m.credential)) self->state.sink->detached(m.streams);
    },
  };
}

} // namespace

stream_relay_hdl spawn_stream_relay(caf::actor_system& sys, std::shared_ptr<actor_env> env, std::shared_ptr<stream_sink> sink) {
  return sys.spawn(stream_relay, std::move(env), std::move(sink));
}

} // namespace roster
