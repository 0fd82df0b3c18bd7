#pragma once
// The node's open event streams (GET /v1/events, Server-Sent Events). A
// stream does not hold an HTTP worker: once its request is authenticated and
// subscribed at the user's actor, the edge hands the socket over
// (edge::take_over) and this hub owns it. One thread watches every stream's
// socket (a client that goes away, a slow client's backlog) and sends a
// comment heartbeat every 15 s; events arrive from the node's stream relay
// actor (actors/stream/stream_relay.h) and are written at once, without
// blocking: a client that does not read is cut off past `max_buffered`.
//
// The user's actor may go away with streams open (its partition handed to
// another node, a shutdown): it says so (detached), and the hub's control
// thread subscribes the stream again through the router, wherever the user now
// lives, asking for the events after the last one it wrote. Events arriving
// meanwhile are held and written after that replay, each at most once
// (by sequence number), so the client sees every event in order.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/stream/stream_protocol.h"
#include "base/clock.h"

namespace roster {
class router_port;
}

namespace roster::http {

struct stream_limits {
  int64_t max_streams = 20'000;  // open streams on this node
  int64_t max_per_address = 256;  // open streams from one client address
  millis heartbeat = 15'000;
  size_t max_buffered = 256 * 1024;  // unsent bytes of one stream before it is cut off
};

class event_streams final : public stream_sink {
 public:
  event_streams(stream_limits limits, router_port& route);
  ~event_streams() override;

  /// The relay that user actors send this node's stream events to, and the
  /// member credential the hub's own messages to it carry.
  void set_relay(stream_relay_hdl relay, std::string credential);
  const stream_relay_hdl& relay() const;

  /// A new stream of user `uid16` from client address `ip`: its number, or 0
  /// when the node or that address is at its limit. Events for it are held
  /// until attach().
  uint64_t reserve(const std::string& uid16, const std::string& ip);
  /// The subscription failed: forget the stream.
  void cancel(uint64_t id);
  /// The stream's socket (owned by the hub from now on, closed by it), the
  /// bytes to write first (the response head and the replay), the session
  /// it lives on, the last event in the replay and the user actor it
  /// subscribed at (watched by the relay).
  void attach(uint64_t id, int fd, std::string first, std::string session_id, uint64_t last_seq,
              caf::strong_actor_ptr source);

  // stream_sink (called by the relay actor)
  std::vector<uint64_t> push(const std::vector<uint64_t>& ids, uint64_t seq, const std::string& frame) override;
  void end(uint64_t id, const std::string& frame) override;
  void detached(const std::vector<uint64_t>& ids) override;

  /// Closes every stream (shutdown: clients reconnect elsewhere with Last-Event-ID).
  void stop();
  int64_t open() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace roster::http
