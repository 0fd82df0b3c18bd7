#pragma once
// The door of the cluster port: CAF's middleman accepts every TCP connection
// on cluster.listen and keeps it as long as the peer does. The door sweeps
// this process's accepted connections on that port once a second and shuts
// down (a) those that have received nothing for `silent_limit` (members send
// a heartbeat every 500 ms, so only a stranger or a stuck handshake is ever
// that quiet), and (b) the newest ones beyond `max_connections`.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"

namespace roster {

struct door_policy {
  int64_t max_connections = 256;
  millis silent_limit = 10'000;
};

/// One accepted connection as the door sees it.
struct door_connection {
  uint64_t inode = 0;       // identifies the socket
  millis first_seen = 0;    // by the door (older = admitted earlier)
  millis silent_for = 0;    // since it last received data
};

/// Which connections to close (their inodes): the pure rule.
std::vector<uint64_t> door_closes(std::vector<door_connection> open, const door_policy& p);

class cluster_door {
 public:
  cluster_door(uint16_t port, door_policy p) : port_(port), policy_(p) {}
  /// One sweep; returns how many connections it closed.
  size_t sweep();
  size_t closed_total() const { return closed_total_; }

 private:
  uint16_t port_;
  door_policy policy_;
  std::map<uint64_t, millis> first_seen_;  // by socket inode
  size_t closed_total_ = 0;
};

} // namespace roster
