#pragma once
// Live event streams (GET /v1/events) across nodes. Every node runs one
// stream relay actor (actors/stream/stream_relay.h) in front of its open
// streams. A stream subscribes at its user's actor, wherever the user's
// partition lives, naming the relay and a stream number; the user actor then
// sends to that relay:
//
//   stream_push{credential, streams, seq, frame}   an event (Server-Sent Event text) for these streams
//   stream_end{credential, stream, frame}          the last frame; the stream is closed
//   stream_detached{credential, streams}           the user actor is going away (handoff,
//                                                  shutdown): subscribe again at the new one
//
// and the node's own stream hub sends it stream_watch{credential, source,
// stream, on}: the relay monitors each user actor its streams subscribed at,
// so that streams whose user's node dies (no stream_detached then) subscribe
// again too.
//
// CAF keeps the order of messages between two actors, so a stream sees its
// user's events in order.
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/typed_actor.hpp>

#include "actors/wire.h"

namespace roster {

struct stream_push {
  std::string credential;
  std::vector<uint64_t> streams;
  uint64_t seq = 0;
  std::string frame;
};
struct stream_end {
  std::string credential;
  uint64_t stream = 0;
  std::string frame;
};
struct stream_detached {
  std::string credential;
  std::vector<uint64_t> streams;
};

struct stream_watch {
  std::string credential;
  caf::strong_actor_ptr source;
  uint64_t stream = 0;
  bool on = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_watch& x) {
  return f(caf::meta::type_name("stream_watch"), x.credential, x.source, x.stream, x.on);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_push& x) {
  return f(caf::meta::type_name("stream_push"), x.credential, x.streams, x.seq, x.frame);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_end& x) {
  return f(caf::meta::type_name("stream_end"), x.credential, x.stream, x.frame);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_detached& x) {
  return f(caf::meta::type_name("stream_detached"), x.credential, x.streams);
}

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster_stream, 600)
  CAF_ADD_TYPE_ID(roster_stream, (roster::stream_push))
  CAF_ADD_TYPE_ID(roster_stream, (roster::stream_end))
  CAF_ADD_TYPE_ID(roster_stream, (roster::stream_detached))
  CAF_ADD_TYPE_ID(roster_stream, (roster::stream_watch))
CAF_END_TYPE_ID_BLOCK(roster_stream)

namespace roster {

using stream_relay_hdl = caf::typed_actor<caf::reacts_to<stream_push>, caf::reacts_to<stream_end>,
                                          caf::reacts_to<stream_detached>, caf::reacts_to<stream_watch>>;

/// What a relay delivers to: the node's open streams (http/event_streams.h).
class stream_sink {
 public:
  virtual ~stream_sink() = default;
  /// Returns the streams it does not hold (any more): the relay tells the
  /// sending user actor to forget them.
  virtual std::vector<uint64_t> push(const std::vector<uint64_t>& streams, uint64_t seq, const std::string& frame) = 0;
  virtual void end(uint64_t stream, const std::string& frame) = 0;
  virtual void detached(const std::vector<uint64_t>& streams) = 0;
};

} // namespace roster
